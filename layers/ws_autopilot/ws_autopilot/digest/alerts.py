"""The monthly digest's alert: its alert type, subject and body."""

from __future__ import annotations

from decimal import Decimal

from ws_autopilot.core.models import AlertMessage
from ws_autopilot.digest.content import usd
from ws_autopilot.digest.model import Digest

ALERT_TYPE = "monthly_digest"  # the alert topic's alert_type of the digest


def digest_alert(digest: Digest, location: str) -> AlertMessage:
    """The message announcing `digest`, stored at `location` (an s3:// URL): its summary figures
    and where to read the whole of it."""
    body: dict[str, object] = {"alert_type": ALERT_TYPE, **digest.summary(), "digest": location}
    subject = f"WorkSpaces Autopilot, {digest.title}: {realized_phrase(digest)}, {len(digest.unused)} unused"
    return AlertMessage(ALERT_TYPE, subject, body)


def realized_phrase(digest: Digest) -> str:
    """What the subject says of the month's savings: only what was realized, never a projection."""
    realized = digest.realized
    if not realized.savings:
        return "no savings realized (dry run)" if digest.dry_run else f"realized {usd(Decimal(0))}"
    unknown = len(realized.not_computed)
    if realized.total is None:
        return f"realized savings not computed ({unknown} WorkSpace{'' if unknown == 1 else 's'})"
    more = f" ({unknown} not computed)" if unknown else ""
    return f"realized {usd(realized.total)}{more}"
