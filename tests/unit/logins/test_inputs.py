"""The event's free text bounded before it is stored, alerted on, logged or counted."""

import ipaddress

import pytest

from tests.support.lambda_runtime import load_event
from ws_autopilot.logins.events import parse_access_event
from ws_autopilot.logins.inputs import (
    MAX_CLIENT_IP,
    Platform,
    bound,
    client_ip_of,
    parse_client_ip,
    platform_of,
)
from ws_autopilot.logins.policy import Login


@pytest.mark.parametrize(
    ("reported", "platform"),
    [
        ("Windows", Platform.WINDOWS),
        ("windows", Platform.WINDOWS),
        (" OSX ", Platform.OSX),
        ("IOS", Platform.IOS),
        ("zero  client", Platform.ZERO_CLIENT),
        ("Zero Client", Platform.ZERO_CLIENT),
        ("Chrome", Platform.CHROME),
        ("Web", Platform.WEB),
        ("Android", Platform.ANDROID),
        ("Linux", Platform.LINUX),
        ("", Platform.OTHER),
        ("Windows\x00", Platform.OTHER),
        ("TempleOS", Platform.OTHER),
        ("x" * 10_000, Platform.OTHER),
    ],
)
def test_a_platform_is_one_of_the_documented_values_or_other(reported, platform):
    assert platform_of(reported) is platform


def test_control_and_formatting_characters_are_escaped_and_noted():
    kept = bound("Work\x1b[2J\nSpaces\u202eexe.txt\x7f", 128, "client_product")
    assert kept.value == "Work\\x1b[2J\\x0aSpaces\\u202eexe.txt\\x7f"
    assert kept.note == "client_product: control or formatting characters escaped"


def test_a_long_text_is_cut_without_cutting_an_escape_in_half_and_noted():
    kept = bound("ab\x1bcd" * 1000, 11, "client_version")
    assert kept.value == "ab\\x1bcdab"  # the next escape would pass 11 characters
    assert (
        kept.note
        == "client_version: control or formatting characters escaped; cut to 10 of its 5,000 characters"
    )
    assert bound("plain", 9, "f").note is None


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("198.51.100.23", "198.51.100.23"),
        (" [2001:db8::1] ", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("fe80::1%eth0", None),  # scoped to an interface: never a WAN address
        ("1" * (MAX_CLIENT_IP + 1), None),
        ("not-an-ip", None),
        ("", None),
    ],
)
def test_client_ips_are_parsed_within_a_bound(text, address):
    parsed = parse_client_ip(text)
    assert parsed == (ipaddress.ip_address(address) if address else None)


def test_an_unreadable_client_ip_is_kept_cut_and_marked():
    kept = client_ip_of("10.0.0.1\r\nX-Injected: yes" + "9" * 200_000)
    assert len(kept.value) <= MAX_CLIENT_IP
    assert kept.value.startswith("10.0.0.1\\x0d\\x0aX-Injected: yes")
    assert kept.note is not None
    assert kept.note.startswith(
        "client_ip: not an IP address; control or formatting characters escaped; cut to "
    )
    assert client_ip_of("garbage").note == "client_ip: not an IP address"
    assert client_ip_of(" 198.51.100.23 ") == type(kept)("198.51.100.23")
    assert client_ip_of("").note is None


def test_a_login_from_a_hostile_event_is_bounded_and_says_what_was_changed():
    raw = load_event("login_current")
    raw["detail"].update(
        {
            "clientIpAddress": "1" * 200_000,
            "clientPlatform": "Evil\x1bOS " * 50,
            "workspacesClientProductName": "P" * 5_000,
            "clientVersion": "5.0\u200b",
        }
    )
    login = Login.from_event(parse_access_event(raw), "alice\x07" + "x" * 500)

    assert login.client_platform == "other"
    assert login.client_platform_reported is not None and len(login.client_platform_reported) <= 128
    assert len(login.client_ip) == MAX_CLIENT_IP and login.address is None
    assert (len(login.client_product), login.client_version) == (128, "5.0\\u200b")
    assert login.user_name is not None and len(login.user_name) == 128 and "\x07" not in login.user_name
    assert [n.partition(":")[0] for n in login.input_notes] == [
        "client_ip",
        "client_product",
        "client_version",
        "client_platform",
        "user_name",
        "client_platform",
    ]


def test_the_hostile_sample_event_parses_and_its_login_is_bounded_and_marked():
    login = Login.from_event(parse_access_event(load_event("login_hostile")), "alice")
    assert (login.address, len(login.client_ip)) == (None, MAX_CLIENT_IP)
    assert login.client_platform == "other"
    assert login.client_platform_reported == "Evil\\x1b]0;owned\\x07OS"
    assert login.client_product == "WorkSpaces\\u202e txt.exe client"
    assert [n.partition(":")[0] for n in login.input_notes] == [
        "client_ip",
        "client_product",
        "client_platform",
        "client_platform",
    ]
