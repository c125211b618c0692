"""The login alerts' subjects and bodies; their alert types are policy's AlertReason."""

from __future__ import annotations

from collections.abc import Iterable

from ws_autopilot.core.models import AlertMessage
from ws_autopilot.logins.policy import AlertReason, IPNetwork, Login, network_of, parse_client_ip

ALERT_SUBJECTS = {
    AlertReason.OUTSIDE_ALLOWED_NETWORKS: "WorkSpaces login from outside the allowed networks",
    AlertReason.NO_CLIENT_IP: "WorkSpaces login without a client IP address",
    AlertReason.UNPARSEABLE_CLIENT_IP: "WorkSpaces login with an unreadable client IP address",
    AlertReason.NEW_NETWORK: "WorkSpaces login from a network not used before",
}


def login_alert(login: Login, reason: AlertReason, allowed_networks: Iterable[IPNetwork]) -> AlertMessage:
    """The alert `reason` raises about `login`; the body carries the login record's fields and
    the allow-list it was checked against."""
    address = parse_client_ip(login.client_ip)
    body: dict[str, object] = {
        "alert": reason.value,
        "user_name": login.user_name or "(not resolved)",
        "account_id": login.account_id,
        "region": login.region,
        "workspace_id": login.workspace_id,
        "directory_id": login.directory_id,
        "client_ip": login.client_ip or "(empty)",
        "client_network": str(network_of(address)) if address else None,
        "client_platform": login.client_platform,
        "client_product": login.client_product,
        "client_version": login.client_version,
        "login_time": login.login_time.isoformat(),
        "event_id": login.event_id,
        "allowed_networks": [str(n) for n in allowed_networks],
    }
    return AlertMessage(reason.value, ALERT_SUBJECTS[reason], body)
