import ipaddress
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.lambda_runtime import load_event
from ws_autopilot.core.errors import InvalidLoginEvent
from ws_autopilot.logins.events import WorkSpacesAccessEvent, parse_access_event
from ws_autopilot.logins.inputs import parse_client_ip
from ws_autopilot.logins.policy import (
    AlertReason,
    allow_list_violation,
    is_new_network,
    network_of,
    parse_allow_list,
)


@pytest.mark.parametrize(
    "name", ["login_current", "login_older_format", "login_ipv6", "login_empty_ip", "login_unknown_client"]
)
def test_every_sample_variant_parses_with_the_directory_prefix_removed(name):
    event = parse_access_event(load_event(name))
    assert event.detail.directory_id == "d-0123456789"
    assert event.detail.workspace_id == "ws-a1b2c3d4e"
    assert event.detail.login_time.tzinfo is not None


def test_older_events_have_no_client_version_and_empty_ips_stay_empty():
    assert parse_access_event(load_event("login_older_format")).detail.client_version is None
    assert parse_access_event(load_event("login_empty_ip")).detail.client_ip == ""


def test_a_malformed_event_is_rejected_naming_its_fields():
    with pytest.raises(InvalidLoginEvent) as raised:
        parse_access_event(load_event("login_malformed"))
    assert "detail.workspaceId: Field required" in raised.value.reason
    assert "detail.loginTime" in raised.value.reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "aws.ec2"}, "source"),
        ({"detail-type": "WorkSpaces Logout"}, "detail-type"),
        (
            {"detail": {**load_event("login_current")["detail"], "directoryId": "domain/corp"}},
            "detail.directoryId",
        ),
        (
            {"detail": {**load_event("login_current")["detail"], "loginTime": "2026-11-30T08:59:51"}},
            "detail.loginTime",
        ),
    ],
)
def test_events_of_the_wrong_kind_are_rejected(change, field):
    with pytest.raises(InvalidLoginEvent, match=field):
        parse_access_event({**load_event("login_current"), **change})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


def outcome(raw):
    """The parsed event, or the InvalidLoginEvent it raised; any other exception fails the test."""
    try:
        return parse_access_event(raw)
    except InvalidLoginEvent as exc:
        return exc


def parsed_or_explained(result) -> bool:
    return isinstance(result, WorkSpacesAccessEvent) or bool(
        isinstance(result, InvalidLoginEvent) and result.reason
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_raises_nothing_but_the_documented_validation_error(value):
    assert parsed_or_explained(outcome(json.loads(json.dumps(value))))


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(list(load_event("login_current")["detail"])), json_values, max_size=8))
def test_arbitrary_details_raise_nothing_but_the_documented_validation_error(detail):
    assert parsed_or_explained(outcome({**load_event("login_current"), "detail": detail}))


def test_allow_list_takes_ipv4_ipv6_and_bare_addresses():
    allow_list = parse_allow_list(" 203.0.113.0/24, 2001:db8::/32,198.51.100.7 ,")
    assert [str(n) for n in allow_list.networks] == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]
    assert (allow_list.ignored, allow_list.is_set) == ((), True)


@pytest.mark.parametrize("entry", ["203.0.113.0/33", "corp-vpn", "2001:db8::/129", "300.1.1.1"])
def test_an_invalid_allow_list_entry_is_ignored_and_named_while_the_good_ones_apply(entry):
    allow_list = parse_allow_list(f"10.0.0.0/8,{entry}")
    (message,) = allow_list.ignored
    assert f"entry {entry!r}" in message
    assert "AllowedClientNetworks" in message
    assert [str(n) for n in allow_list.networks] == ["10.0.0.0/8"]
    assert allow_list_violation("10.1.2.3", allow_list) is None


def test_an_allow_list_of_only_bad_entries_allows_nothing_rather_than_everything():
    allow_list = parse_allow_list("10.0.0.7/8, 0.0.0.0/0")
    assert (allow_list.networks, len(allow_list.ignored), allow_list.is_set) == ((), 2, True)
    assert allow_list_violation("10.0.0.7", allow_list) is AlertReason.OUTSIDE_ALLOWED_NETWORKS
    assert allow_list_violation("", allow_list) is AlertReason.NO_CLIENT_IP


def refusal(text: str) -> str:
    (message,) = parse_allow_list(text).ignored
    assert message.startswith("ALLOWED_CLIENT_NETWORKS (template parameter AllowedClientNetworks): ")
    return message.partition("): ")[2]


@pytest.mark.parametrize(
    ("entry", "meant"),
    [
        ("10.0.0.7/8", "10.0.0.0/8"),
        ("203.0.113.77/24", "203.0.113.0/24"),
        ("198.51.100.1/255.255.255.0", "198.51.100.0/24"),
        ("2001:db8::1/32", "2001:db8::/32"),
    ],
)
def test_an_entry_with_host_bits_is_refused_naming_the_network_it_would_mean(entry, meant):
    assert refusal(f"192.0.2.0/24, {entry}") == f"entry {entry!r} has host bits set; did you mean {meant}?"


@pytest.mark.parametrize(
    ("entry", "version"),
    [("0.0.0.0/0", 4), ("::/0", 6), ("203.0.113.7/0", 4), ("0.0.0.0/0.0.0.0", 4)],
)
def test_an_entry_that_allows_every_address_is_refused(entry, version):
    assert refusal(f"2001:db8::/32,{entry}") == (
        f"entry {entry!r} allows every IPv{version} address; to have no allow-list, leave the parameter empty"
    )


@pytest.mark.parametrize(
    "entry",
    [
        "fe80::1%eth0/64",  # a zone index names a host's interface, not a network
        "203.0.113.0/24\u00a0",  # non-ASCII space
        "\u0662\u0660\u0663.0.113.0/24",  # Arabic-Indic digits
        "203.0.113.0/2\u00b2",  # superscript digit in the prefix
        "203.0.113.0 /24",
    ],
)
def test_an_entry_in_anything_but_ascii_cidr_notation_is_refused(entry):
    assert refusal(entry).startswith(f"entry {entry!r} is not an IP network")


def test_a_long_entry_is_cut_in_the_message():
    message = refusal("10.0.0.0/8," + "f" * 100_000)
    assert (
        message
        == f"entry {'f' * 80 + '…'!r} is not an IP network (entry cut to 80 of its 100,000 characters)"
    )


def test_networks_written_as_networks_and_bare_addresses_are_kept():
    networks = parse_allow_list(
        "10.0.0.0/8,10.0.0.7,10.0.0.7/32,2001:db8::/32,192.0.2.0/255.255.255.0"
    ).networks
    assert [str(n) for n in networks] == [
        "10.0.0.0/8",
        "10.0.0.7/32",
        "10.0.0.7/32",
        "2001:db8::/32",
        "192.0.2.0/24",
    ]


MIXED = parse_allow_list("203.0.113.0/24,2001:db8::/32")


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.77", None),
        ("2001:db8:1:2::5", None),
        ("::ffff:203.0.113.9", None),  # IPv4-mapped IPv6 is the IPv4 address
        ("[2001:db8::1]", None),
        ("198.51.100.1", AlertReason.OUTSIDE_ALLOWED_NETWORKS),
        ("2001:db9::1", AlertReason.OUTSIDE_ALLOWED_NETWORKS),
        ("", AlertReason.NO_CLIENT_IP),
        ("  ", AlertReason.NO_CLIENT_IP),
        ("not-an-ip", AlertReason.UNPARSEABLE_CLIENT_IP),
    ],
)
def test_allow_list_check(ip, expected):
    assert allow_list_violation(ip, MIXED) is expected


def test_no_allow_list_allows_everything_even_without_an_ip():
    assert allow_list_violation("", parse_allow_list("")) is None
    assert allow_list_violation("garbage", parse_allow_list(" , ")) is None


def test_networks_are_ipv4_slash_24_and_ipv6_slash_48():
    assert str(network_of(ipaddress.ip_address("198.51.100.23"))) == "198.51.100.0/24"
    assert str(network_of(ipaddress.ip_address("2001:db8:85a3:1::1"))) == "2001:db8:85a3::/48"
    assert parse_client_ip("::ffff:10.1.2.3") == ipaddress.ip_address("10.1.2.3")


@pytest.mark.parametrize(
    ("seen_before", "history", "expected"),
    [(False, True, True), (True, True, False), (False, False, False), (True, False, False)],
)
def test_a_network_is_new_only_for_a_workspace_with_earlier_logins(seen_before, history, expected):
    assert is_new_network(seen_before, history) is expected
