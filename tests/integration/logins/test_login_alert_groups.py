"""Login alerts in a storm, and a bad allow-list: through the real handler against the simulator.
Alerts are grouped per alert type, network and hour, with a cap (LoginAlertsPerNetworkHour) and
a count of what was held back; every login is recorded whatever was sent."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.support import simulator
from tests.support.lambda_runtime import FakeContext, load_handler_module
from tests.support.logins import access_event
from tools.local_run import FREEZE_IGNORE
from ws_autopilot.core.errors import TransientAwsError
from ws_autopilot.logins.alert_groups import AlertGroups, Turn

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
END = NOW + timedelta(days=1, hours=3)  # after every step of these tests
ALLOWED = "203.0.113.0/24"


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW, ignore=FREEZE_IGNORE):
        yield


@pytest.fixture
def fleet(make_fleet):
    return make_fleet({name: {"mode": "AUTO_STOP"} for name in ("a", "b", "c", "d")}, NOW)


def deliver(handler, event, at):
    with freeze_time(at, ignore=FREEZE_IGNORE):
        return handler(event, FakeContext())


def storm(handler, fleet, prefix, start, count, ip="198.51.100.", step=timedelta(seconds=30)):
    """`count` logins from one network (`ip` and a last byte; empty: no address), a WorkSpace
    after another, `step` apart from `start`."""
    names = sorted(fleet.ids)
    outs = []
    for i in range(count):
        name = names[i % len(names)]
        at = start + i * step
        address = f"{ip}{10 + i}" if ip else ""
        event = access_event(fleet.ids[name], fleet.directory_id, f"{prefix}-{i}", at, ip=address)
        outs.append(deliver(handler, event, at))
    return outs


def stored(aws, stack):
    found = aws["dynamodb"].scan(TableName=stack.refs["LoginTable"])["Items"]
    return [
        {k: next(iter(v.values())) for k, v in i.items()} for i in found if i["sk"]["S"].startswith("LOGIN#")
    ]


def bodies(messages):
    return [json.loads(m["Message"]) for m in messages]


def test_a_storm_from_one_network_sends_one_alert_an_hour_and_counts_the_rest(
    aws, deploy, fleet, alert_inbox
):
    stack = deploy(AllowedClientNetworks=ALLOWED)
    inbox = alert_inbox(stack)
    handler = stack.handlers["LoginEventsFunction"]

    first_hour = storm(handler, fleet, "s", NOW, 40)  # 09:00 to 09:19:30
    (alert,) = bodies(inbox(NOW + timedelta(minutes=30)))
    next_hour = storm(handler, fleet, "t", NOW + timedelta(hours=1, minutes=5), 3)
    later = bodies(inbox(NOW + timedelta(hours=2)))

    assert [o["alerts"] for o in first_hour] == [["outside_allowed_networks"]] * 40
    assert [o["alerts_held_back"] for o in first_hour] == [[]] + [["outside_allowed_networks"]] * 39
    assert alert["alert_group"] == {
        "network": "198.51.100.0/24",
        "hour": "2026-11-30T09:00 UTC",
        "message": "1 of at most 1 this hour",
    }
    assert "10:00 UTC are counted, not sent" in alert["held_back_next"]
    assert "held_back_before" not in alert
    (second,) = later
    assert second["held_back_before"] == {"logins": 39, "since": (NOW + timedelta(seconds=30)).isoformat()}
    assert second["alert_group"]["hour"] == "2026-11-30T10:00 UTC"
    assert [o["alerts_held_back"] for o in next_hour] == [
        [],
        ["outside_allowed_networks"],
        ["outside_allowed_networks"],
    ]
    # every login is recorded, with the alert it raised, sent or not
    records = stored(aws, stack)
    assert len(records) == 43
    assert {tuple(r["alerts"]) for r in records} == {("outside_allowed_networks",)}


def test_networks_and_alert_types_are_grouped_apart_and_the_cap_is_a_parameter(
    aws, deploy, fleet, alert_inbox
):
    stack = deploy(AllowedClientNetworks=ALLOWED, LoginAlertsPerNetworkHour="2")
    inbox = alert_inbox(stack)
    handler = stack.handlers["LoginEventsFunction"]

    storm(handler, fleet, "x", NOW, 5, ip="198.51.100.")
    storm(handler, fleet, "y", NOW, 5, ip="192.0.2.")
    storm(handler, fleet, "z", NOW, 3, ip="")  # no client IP: one group of its own

    received = bodies(inbox(NOW + timedelta(minutes=30)))
    groups = sorted((b["alert"], b["alert_group"]["network"], b["alert_group"]["message"]) for b in received)
    assert groups == [
        ("no_client_ip", "(no client IP)", "1 of at most 2 this hour"),
        ("no_client_ip", "(no client IP)", "2 of at most 2 this hour"),
        ("outside_allowed_networks", "192.0.2.0/24", "1 of at most 2 this hour"),
        ("outside_allowed_networks", "192.0.2.0/24", "2 of at most 2 this hour"),
        ("outside_allowed_networks", "198.51.100.0/24", "1 of at most 2 this hour"),
        ("outside_allowed_networks", "198.51.100.0/24", "2 of at most 2 this hour"),
    ]
    assert len(stored(aws, stack)) == 13


def test_a_retried_event_keeps_its_alert_and_a_duplicate_counts_nothing(aws, deploy, fleet, alert_inbox):
    stack = deploy(AllowedClientNetworks=ALLOWED)
    inbox = alert_inbox(stack)
    handler = stack.handlers["LoginEventsFunction"]
    event = access_event(fleet.ids["a"], fleet.directory_id, "r-1", NOW, ip="198.51.100.7")

    outage = simulator.Fault("sns", "Publish", "InternalError", status=500)
    with simulator.inject(outage), pytest.raises(TransientAwsError, match="Publish"):
        deliver(handler, event, NOW)
    # another container takes the next login of the network meanwhile: held back
    other = load_handler_module("login_events").handler
    held = deliver(
        other,
        access_event(fleet.ids["b"], fleet.directory_id, "r-2", NOW, ip="198.51.100.8"),
        NOW + timedelta(minutes=1),
    )
    retried = deliver(handler, json.loads(json.dumps(event)), NOW + timedelta(minutes=2))
    duplicate = deliver(other, json.loads(json.dumps(event)), NOW + timedelta(minutes=3))

    assert held["alerts_held_back"] == ["outside_allowed_networks"]
    assert retried == duplicate and retried["alerts_held_back"] == []
    (alert,) = bodies(inbox(NOW + timedelta(minutes=5)))
    assert alert["event_id"] == "r-1"
    group = aws["dynamodb"].get_item(
        TableName=stack.refs["LoginTable"],
        Key={"workspace_id": {"S": "ALERTS#outside_allowed_networks#198.51.100.0/24"}, "sk": {"S": "GROUP"}},
    )["Item"]
    assert (group["sent"]["N"], group["held"]["N"], group["senders"]["SS"]) == ("1", "1", ["r-1"])
    assert int(group["expires_at"]["N"]) > int(NOW.timestamp())


def test_a_bad_allow_list_records_every_login_and_raises_one_configuration_alert_a_day(
    aws, deploy, fleet, alert_inbox
):
    stack = deploy(AllowedClientNetworks=f"{ALLOWED}, 10.0.0.7/8, 198.51.100.0/33")
    inbox = alert_inbox(stack)
    handler = stack.handlers["LoginEventsFunction"]
    second_container = load_handler_module("login_events").handler

    inside = storm(handler, fleet, "in", NOW, 4, ip="203.0.113.")
    outside = storm(second_container, fleet, "out", NOW + timedelta(minutes=5), 2, ip="10.0.0.")
    first_day = inbox(NOW + timedelta(hours=1))
    next_day = storm(handler, fleet, "nd", NOW + timedelta(days=1), 2, ip="203.0.113.")

    assert [o["alerts"] for o in inside + next_day] == [[]] * 6
    assert [o["alerts"] for o in outside] == [["outside_allowed_networks"]] * 2
    assert len(stored(aws, stack)) == 8
    configuration = [
        m for m in first_day if m["MessageAttributes"]["alert_type"]["Value"] == "allow_list_invalid"
    ]
    (message,) = configuration
    body = json.loads(message["Message"])
    assert message["Subject"] == "WorkSpaces login allow-list: entries ignored"
    assert body["networks_in_use"] == [ALLOWED]
    assert body["ignored_entries"] == [
        "ALLOWED_CLIENT_NETWORKS (template parameter AllowedClientNetworks): entry '10.0.0.7/8' has host "
        "bits set; did you mean 10.0.0.0/8?",
        "ALLOWED_CLIENT_NETWORKS (template parameter AllowedClientNetworks): entry '198.51.100.0/33' is "
        "not an IP network",
    ]
    assert [m["MessageAttributes"]["alert_type"]["Value"] for m in inbox(END)] == ["allow_list_invalid"]


def test_an_allow_list_with_no_usable_entry_allows_nothing(aws, deploy, fleet, alert_inbox):
    stack = deploy(AllowedClientNetworks="10.0.0.7/8")
    inbox = alert_inbox(stack)
    out = storm(stack.handlers["LoginEventsFunction"], fleet, "n", NOW, 1, ip="10.0.0.")

    assert out[0]["alerts"] == ["outside_allowed_networks"]
    kinds = sorted(m["MessageAttributes"]["alert_type"]["Value"] for m in inbox(NOW + timedelta(minutes=5)))
    assert kinds == ["allow_list_invalid", "outside_allowed_networks"]


def test_a_new_network_login_retried_after_a_failed_publish_still_alerts_once(
    aws, deploy, fleet, alert_inbox
):
    stack = deploy(NewNetworkAlerts="true")
    inbox = alert_inbox(stack)
    handler = stack.handlers["LoginEventsFunction"]
    alice, directory = fleet.ids["a"], fleet.directory_id
    first = deliver(handler, access_event(alice, directory, "home", NOW, ip="198.51.100.7"), NOW)
    event = access_event(alice, directory, "away", NOW + timedelta(minutes=10), ip="192.0.2.7")

    outage = simulator.Fault("sns", "Publish", "InternalError", status=500)
    with simulator.inject(outage), pytest.raises(TransientAwsError, match="Publish"):
        deliver(handler, event, NOW + timedelta(minutes=10))
    retried = deliver(handler, json.loads(json.dumps(event)), NOW + timedelta(minutes=11))
    again = deliver(  # the same network later: learned
        handler,
        access_event(alice, directory, "away-2", NOW + timedelta(minutes=20), ip="192.0.2.8"),
        NOW + timedelta(minutes=20),
    )

    assert (first["alerts"], retried["alerts"], again["alerts"]) == ([], ["new_network"], [])
    (alert,) = bodies(inbox(NOW + timedelta(minutes=30)))
    assert (alert["alert"], alert["event_id"], alert["client_network"]) == (
        "new_network",
        "away",
        "192.0.2.0/24",
    )


def test_a_group_reports_each_hour_only_what_it_held_since_its_last_message(aws, deploy):
    stack = deploy()
    groups = AlertGroups(stack.refs["LoginTable"], aws["dynamodb"])

    def take(event_id, hour):
        return groups.take(
            "new_network", "192.0.2.0/24", event_id, f"2026-11-30T{hour}", 1, f"at-{event_id}", 1
        )

    first, held, opener, quiet_opener = take("e1", "09"), take("e2", "09"), take("e3", "10"), take("e4", "11")
    retried = AlertGroups(stack.refs["LoginTable"], aws["dynamodb"]).take(  # another container
        "new_network", "192.0.2.0/24", "e3", "2026-11-30T10", 1, "later", 1
    )

    assert [t.turn for t in (first, held, opener, quiet_opener)] == [
        Turn.SEND,
        Turn.HOLD,
        Turn.SEND,
        Turn.SEND,
    ]
    assert (opener.held_before, opener.held_since) == (1, "at-e2")
    assert (quiet_opener.held_before, quiet_opener.held_since) == (0, None)
    # e3's retry in a later hour than the group counts: it opened hour 10 and sent; hour 11 is
    # someone else's now, so e3 is counted there and not sent twice
    assert retried.turn is Turn.HOLD
    again = groups.take("new_network", "192.0.2.0/24", "e4", "2026-11-30T11", 1, "later", 1)
    assert (again.turn, again.held_before) == (Turn.SEND, 0)
