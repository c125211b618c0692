"""Login checks, as pure functions: where a login came from, and whether that was allowed."""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.models import Target
from ws_autopilot.logins.events import WorkSpacesAccessEvent
from ws_autopilot.logins.inputs import (
    MAX_TEXT,
    MAX_USER_NAME,
    IPAddress,
    Platform,
    bound,
    client_ip_of,
    parse_client_ip,
    platform_of,
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV4_PREFIX = 24
IPV6_PREFIX = 48


class AlertReason(StrEnum):
    OUTSIDE_ALLOWED_NETWORKS = "outside_allowed_networks"
    NO_CLIENT_IP = "no_client_ip"
    UNPARSEABLE_CLIENT_IP = "unparseable_client_ip"
    NEW_NETWORK = "new_network"
    ALLOW_LIST_INVALID = "allow_list_invalid"


@dataclass(frozen=True, slots=True)
class Login:
    """One successful login, normalised and bounded (inputs.py): what is stored and what alerts
    describe. `input_notes` says which of the event's fields were cut, escaped or unreadable;
    `client_platform_reported` keeps what the client said when the platform is `other`."""

    event_id: str
    account_id: str
    region: str
    workspace_id: str
    directory_id: str
    user_name: str | None
    client_ip: str
    client_platform: str
    client_product: str
    client_version: str | None
    login_time: datetime
    client_platform_reported: str | None = None
    input_notes: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: WorkSpacesAccessEvent, user_name: str | None) -> Login:
        detail = event.detail
        platform = platform_of(detail.client_platform)
        fields = {
            "client_ip": client_ip_of(detail.client_ip),
            "client_product": bound(detail.client_product, MAX_TEXT, "client_product"),
            "client_version": bound(detail.client_version or "", MAX_TEXT, "client_version"),
            "client_platform_reported": bound(detail.client_platform, MAX_TEXT, "client_platform"),
            "user_name": bound(user_name or "", MAX_USER_NAME, "user_name"),
        }
        notes = [b.note for b in fields.values() if b.note]
        if platform is Platform.OTHER and detail.client_platform:
            notes.append("client_platform: not a documented platform, counted as other")
        return cls(
            event_id=event.id,
            account_id=event.account,
            region=event.region,
            workspace_id=detail.workspace_id,
            directory_id=detail.directory_id,
            user_name=fields["user_name"].value or None,
            client_ip=fields["client_ip"].value,
            client_platform=platform.value,
            client_product=fields["client_product"].value,
            client_version=fields["client_version"].value or None,
            login_time=detail.login_time,
            client_platform_reported=(
                fields["client_platform_reported"].value
                if platform is Platform.OTHER and detail.client_platform
                else None
            ),
            input_notes=tuple(notes),
        )

    @property
    def address(self) -> IPAddress | None:
        return parse_client_ip(self.client_ip)

    @property
    def target(self) -> Target:
        return Target(self.account_id, self.region)


def coverage_refusal(
    account_id: str, region: str, accounts: frozenset[str], regions: frozenset[str]
) -> str | None:
    """Why a login event from `account_id`/`region` is not taken, or None when it is: both must
    be among those the product covers (the deployment account, the member accounts, the regions)."""
    if account_id not in accounts:
        return f"account {account_id} is not covered (MemberAccounts, OrganizationParentIds)"
    if region not in regions:
        return f"region {region} is not covered (Regions: {', '.join(sorted(regions))})"
    return None


@dataclass(frozen=True, slots=True)
class AllowList:
    """`AllowedClientNetworks` as read: the networks it allows, and why each other entry was
    ignored. A list with entries, even only ignored ones, is set: an ignored entry allows
    nothing, so a typo can narrow the list but never turn it into "allow all"."""

    networks: tuple[IPNetwork, ...] = ()
    ignored: tuple[str, ...] = ()
    text: str = ""

    @property
    def is_set(self) -> bool:
        return bool(self.networks or self.ignored)


def parse_allow_list(
    text: str, variable: str = "ALLOWED_CLIENT_NETWORKS", parameter: str = "AllowedClientNetworks"
) -> AllowList:
    """Comma-separated CIDRs (IPv4 and IPv6; a bare address is a /32 or /128). Empty: no list.

    Never raises: an entry that is not an IP network, or one an operator cannot have meant, is
    ignored, and `ignored` holds a message for it naming the variable, the parameter and the
    entry (the text of a ConfigurationError):
    - host bits set (`10.0.0.7/8`): most likely a typo; the message names the network it would
      mean (10.0.0.0/8), to be written as such if that is the intent;
    - a /0 (`0.0.0.0/0`, `::/0`): it allows every address of its version, so it checks nothing
      there; an empty parameter is how to have no allow-list.
    """
    networks: list[IPNetwork] = []
    ignored: list[str] = []
    for raw in text.split(","):
        entry = raw.strip(string.whitespace)
        if not entry:
            continue
        problem = _entry_problem(entry, variable, parameter)
        if problem is None:
            networks.append(ipaddress.ip_network(entry, strict=False))
        else:
            ignored.append(str(problem))
    return AllowList(tuple(networks), tuple(ignored), text.strip(string.whitespace))


def _entry_problem(entry: str, variable: str, parameter: str) -> ConfigurationError | None:
    try:
        network: IPNetwork | None = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        network = None
    # A zone index (fe80::1%eth0) names an interface of one host, not a network.
    if network is None or "%" in entry:
        return ConfigurationError(variable, parameter, "entry {entry!r} is not an IP network", entry=entry)
    if network.prefixlen == 0:
        return ConfigurationError(
            variable,
            parameter,
            "entry {entry!r} allows every IPv{version} address; "
            "to have no allow-list, leave the parameter empty",
            entry=entry,
            version=network.version,
        )
    if ipaddress.ip_interface(entry).ip != network.network_address:
        return ConfigurationError(
            variable,
            parameter,
            "entry {entry!r} has host bits set; did you mean {network}?",
            entry=entry,
            network=str(network),
        )
    return None


def network_of(address: IPAddress) -> IPNetwork:
    """The network a login is attributed to: the /24 of an IPv4 address, the /48 of an IPv6 one."""
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def allow_list_violation(client_ip: str, allowed: AllowList) -> AlertReason | None:
    """Why a login breaks the allow-list, or None. No allow-list allows everything; while one is
    set, a login with an empty or unparseable address is a violation too, and so is every login
    when none of its entries could be read."""
    if not allowed.is_set:
        return None
    if not client_ip.strip():
        return AlertReason.NO_CLIENT_IP
    address = parse_client_ip(client_ip)
    if address is None:
        return AlertReason.UNPARSEABLE_CLIENT_IP
    if any(address.version == network.version and address in network for network in allowed.networks):
        return None
    return AlertReason.OUTSIDE_ALLOWED_NETWORKS


def is_new_network(network_seen_before: bool, workspace_has_history: bool) -> bool:
    """A network counts as new only for a WorkSpace with earlier logins in the retention window:
    a WorkSpace's first login teaches its network rather than alerting on it."""
    return workspace_has_history and not network_seen_before
