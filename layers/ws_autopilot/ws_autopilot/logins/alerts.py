"""The login alerts' subjects and bodies; their alert types are policy's AlertReason."""

from __future__ import annotations

from datetime import datetime, timedelta

from ws_autopilot.core.models import AlertMessage
from ws_autopilot.logins.alert_groups import GroupTurn
from ws_autopilot.logins.policy import AlertReason, AllowList, Login, network_of

ALERT_SUBJECTS = {
    AlertReason.OUTSIDE_ALLOWED_NETWORKS: "WorkSpaces login from outside the allowed networks",
    AlertReason.NO_CLIENT_IP: "WorkSpaces login without a client IP address",
    AlertReason.UNPARSEABLE_CLIENT_IP: "WorkSpaces login with an unreadable client IP address",
    AlertReason.NEW_NETWORK: "WorkSpaces login from a network not used before",
    AlertReason.ALLOW_LIST_INVALID: "WorkSpaces login allow-list: entries ignored",
}


def alert_group(login: Login, reason: AlertReason) -> str:
    """The group a login's alert counts in (alert_groups.py): the client's network (IPv4 /24,
    IPv6 /48), or what stands for it when the login has no readable address."""
    address = login.address
    if address is not None:
        return str(network_of(address))
    return "(no client IP)" if not login.client_ip else "(unreadable client IP)"


def login_alert(
    login: Login, reason: AlertReason, allow_list: AllowList, turn: GroupTurn, cap: int
) -> AlertMessage:
    """The alert `reason` raises about `login`, sent as its group's `turn.number`-th message
    this hour: the login record's fields, the allow-list it was checked against, and how many
    logins of the group were held back before it."""
    address = login.address
    group = alert_group(login, reason)
    hour = datetime.strptime(turn.window, "%Y-%m-%dT%H")
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
        "allowed_networks": [str(n) for n in allow_list.networks],
        "alert_group": {
            "network": group,
            "hour": f"{turn.window}:00 UTC",
            "message": f"{turn.number} of at most {cap} this hour",
        },
    }
    if login.client_platform_reported:
        body["client_platform_reported"] = login.client_platform_reported
    if login.input_notes:
        body["input_notes"] = list(login.input_notes)
    if turn.held_before:
        body["held_back_before"] = {"logins": turn.held_before, "since": turn.held_since}
    if turn.number >= cap:
        until = (hour + timedelta(hours=1)).strftime("%H:00")
        body["held_back_next"] = (
            f"further {reason.value} logins from {group} until {until} UTC are counted, not sent; "
            "the next message about this network says how many"
        )
    return AlertMessage(reason.value, ALERT_SUBJECTS[reason], body)


def allow_list_alert(allow_list: AllowList) -> AlertMessage:
    """The configuration alert: `AllowedClientNetworks` has entries the function ignores."""
    effect = (
        "logins are checked against the networks in use"
        if allow_list.networks
        else "no entry can be used, so every login is alerted on as outside the allowed networks"
    )
    body: dict[str, object] = {
        "alert": AlertReason.ALLOW_LIST_INVALID.value,
        "parameter": "AllowedClientNetworks",
        "ignored_entries": list(allow_list.ignored),
        "networks_in_use": [str(n) for n in allow_list.networks],
        "effect": f"Every login is still recorded. The ignored entries allow nothing; {effect}.",
        "fix": "Correct the parameter and sam deploy. This alert repeats once a day until then.",
    }
    return AlertMessage(
        AlertReason.ALLOW_LIST_INVALID.value, ALERT_SUBJECTS[AlertReason.ALLOW_LIST_INVALID], body
    )
