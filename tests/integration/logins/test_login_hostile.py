"""Hostile login events through the real handler: oversized fields, control characters, unknown
platforms, bad IPs. Each is stored bounded and marked, or refused with a clear reason; no login
is lost and nothing unbounded reaches a record, an alert, a log line or a metric dimension."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.support.lambda_runtime import FakeContext
from tests.support.logins import access_event
from tools.local_run import FREEZE_IGNORE
from ws_autopilot.core.errors import InvalidLoginEvent

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(LATER, ignore=FREEZE_IGNORE):
        yield


@pytest.fixture
def workspace(make_fleet):
    fleet = make_fleet({"alice": {"mode": "AUTO_STOP"}}, NOW)
    return fleet.ids["alice"], fleet.directory_id


def hostile(workspace, event_id, **detail):
    event = access_event(*workspace, event_id, NOW)
    event["detail"].update(detail)
    return event


def stored(aws, stack, event_id):
    (item,) = [
        i
        for i in aws["dynamodb"].scan(TableName=stack.refs["LoginTable"])["Items"]
        if i.get("event_id", {}).get("S") == event_id
    ]
    return item


def test_a_200000_character_client_ip_is_stored_cut_and_marked_and_alerted_on_bounded(
    aws, deploy, workspace, alert_inbox, capsys
):
    stack = deploy(AllowedClientNetworks="203.0.113.0/24")
    inbox = alert_inbox(stack)
    event = hostile(workspace, "big-ip", clientIpAddress="203.0.113.9\x1b[31m" + "A" * 200_000)

    out = stack.handlers["LoginEventsFunction"](event, FakeContext())

    item = stored(aws, stack, "big-ip")
    assert out["alerts"] == ["unparseable_client_ip"]
    assert len(item["client_ip"]["S"]) <= 64 and item["client_ip"]["S"].startswith("203.0.113.9\\x1b[31m")
    assert [n["S"] for n in item["input_notes"]["L"]] == [
        "client_ip: not an IP address; control or formatting characters escaped; cut to 64 of its "
        "200,016 characters"
    ]
    (alert,) = inbox(LATER)
    body = json.loads(alert["Message"])
    assert body["client_ip"] == item["client_ip"]["S"]
    assert body["input_notes"] == [n["S"] for n in item["input_notes"]["L"]]
    assert len(alert["Message"]) < 4000
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) < 4000


def test_control_characters_and_an_unknown_platform_are_escaped_and_counted_as_other(
    aws, deploy, workspace, capsys
):
    stack = deploy()
    event = hostile(
        workspace,
        "odd-client",
        clientPlatform="Evil\x1b]0;owned\x07OS",
        workspacesClientProductName="Desktop\r\nBcc: someone@example.com" + "x" * 5_000,
        clientVersion="5.\u202e1",
    )

    stack.handlers["LoginEventsFunction"](event, FakeContext())

    item = stored(aws, stack, "odd-client")
    assert item["client_platform"]["S"] == "other"
    assert item["client_platform_reported"]["S"] == "Evil\\x1b]0;owned\\x07OS"
    assert item["client_product"]["S"].startswith("Desktop\\x0d\\x0aBcc: someone@example.com")
    assert len(item["client_product"]["S"]) == 128
    assert item["client_version"]["S"] == "5.\\u202e1"
    assert [n["S"].partition(":")[0] for n in item["input_notes"]["L"]] == [
        "client_product",
        "client_version",
        "client_platform",
        "client_platform",
    ]
    platforms = [
        json.loads(line)["Platform"] for line in capsys.readouterr().out.splitlines() if '"Platform"' in line
    ]
    assert platforms == ["other"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"account": "1" * 100_000}, "account: String should match pattern"),
        ({"region": "us-east-1\x00" + "x" * 1000}, "region: String should match pattern"),
        ({"id": "e" * 100_000}, "id: String should match pattern"),
        ({"detail-type": "WorkSpaces Access\x1b"}, "detail-type"),
    ],
)
def test_an_event_whose_keys_are_not_in_their_documented_format_is_refused_with_the_reason(
    aws, deploy, workspace, capsys, change, reason
):
    stack = deploy()
    event = {**access_event(*workspace, "keys", NOW), **change}

    with pytest.raises(InvalidLoginEvent) as raised:
        stack.handlers["LoginEventsFunction"](event, FakeContext())

    assert reason in raised.value.reason and len(raised.value.reason) < 500
    assert aws["dynamodb"].scan(TableName=stack.refs["LoginTable"])["Count"] == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) < 2000
