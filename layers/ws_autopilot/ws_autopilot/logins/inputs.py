"""The free-text fields of a `WorkSpaces Access` event, bounded before anything stores, alerts
on, logs or counts them, as pure functions.

An event is sent by a client on a user's device, so its text fields are whatever that client
wrote: a 200,000-character `clientIpAddress`, a platform nobody documented, escape sequences
meant for a terminal. Each field is kept (nothing about a login is dropped) but cut to a bound,
with its control and invisible formatting characters written as escapes (`\\x1b`, `\\u202e`), and
every change is noted on the login record (`input_notes`), so a reader knows the value was
altered and how. `clientPlatform` becomes one of the documented values or `other` (it is a
metric dimension, and each new value would be a paid metric).
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The longest address text a client can mean: a bracketed IPv6 address with an IPv4 tail.
MAX_CLIENT_IP = 64
MAX_TEXT = 128  # client product, version, the platform as reported
MAX_USER_NAME = 128  # DescribeWorkspaces allows 63


class Platform(StrEnum):
    """`clientPlatform` as the WorkSpaces Access event documents it, plus `other`."""

    ANDROID = "Android"
    CHROME = "Chrome"
    IOS = "iOS"
    LINUX = "Linux"
    OSX = "OSX"
    WINDOWS = "Windows"
    WEB = "Web"
    ZERO_CLIENT = "zero client"
    OTHER = "other"


_PLATFORMS = {p.value.casefold(): p for p in Platform if p is not Platform.OTHER}


@dataclass(frozen=True, slots=True)
class Bounded:
    """A text made safe to store and show: `value`, and what was done to it (`note`, or None)."""

    value: str
    note: str | None = None


def _escaped(char: str) -> str:
    # C0/C1 controls, DEL, and format characters (bidirectional overrides, zero-width ones):
    # they can rewrite a terminal line or reorder what a mail reader shows.
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def bound(text: str, limit: int, field: str) -> Bounded:
    """`text` with its control and formatting characters escaped, cut to `limit` characters
    (an escape is never cut in half); `note` names `field` and says what was changed."""
    pieces: list[str] = []
    length, escaped = 0, False
    for char in text:
        piece = _escaped(char)
        escaped = escaped or piece != char
        if length + len(piece) > limit:
            break
        pieces.append(piece)
        length += len(piece)
    value = "".join(pieces)
    consumed = len(pieces)
    changes = []
    if escaped:
        changes.append("control or formatting characters escaped")
    if consumed < len(text):
        changes.append(f"cut to {length} of its {len(text):,} characters")
    return Bounded(value, f"{field}: {'; '.join(changes)}" if changes else None)


def platform_of(reported: str) -> Platform:
    """The documented platform `reported` names (case and surrounding spaces ignored), else OTHER."""
    return _PLATFORMS.get(" ".join(reported.split()).casefold(), Platform.OTHER)


def parse_client_ip(text: str) -> IPAddress | None:
    """The client address, or None when empty, unparseable, longer than any address can be, or
    scoped to an interface (`%eth0`: never a WAN address). IPv4-mapped IPv6 becomes IPv4."""
    if len(text) > MAX_CLIENT_IP:
        return None
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped:
            return address.ipv4_mapped
    return address


def client_ip_of(reported: str) -> Bounded:
    """The client IP as stored: the reported text when it is an address or empty; otherwise
    bounded, with a note saying it could not be read."""
    text = reported.strip()
    if not text or parse_client_ip(text) is not None:
        return Bounded(text)
    kept = bound(text, MAX_CLIENT_IP, "client_ip")
    detail = kept.note.partition(": ")[2] if kept.note else ""
    return Bounded(kept.value, f"client_ip: not an IP address{'; ' + detail if detail else ''}")
