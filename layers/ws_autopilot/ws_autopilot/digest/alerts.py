"""The monthly digest's alert: its alert type, subject and body."""

from __future__ import annotations

from ws_autopilot.core.models import AlertMessage
from ws_autopilot.digest.content import Digest, usd

ALERT_TYPE = "monthly_digest"  # the alert topic's alert_type of the digest


def digest_alert(digest: Digest, location: str) -> AlertMessage:
    """The message announcing `digest`, stored at `location` (an s3:// URL): its summary figures
    and where to read the whole of it."""
    body: dict[str, object] = {"alert_type": ALERT_TYPE, **digest.summary(), "digest": location}
    subject = f"WorkSpaces Autopilot, {digest.title}: saved {usd(digest.saving)}, {len(digest.unused)} unused"
    return AlertMessage(ALERT_TYPE, subject, body)
