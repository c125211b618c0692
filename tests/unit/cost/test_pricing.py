"""Prices read from the Price List's own shape and the break-even they give (a month's dollars:
test_bill.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.price_list import catalogue, product
from ws_autopilot.core.models import Workspace
from ws_autopilot.core.settings import known_compute_types
from ws_autopilot.cost.price_keys import UNKNOWN_OS, Licence, OsFamily, os_and_licence, price_key
from ws_autopilot.cost.pricing import BundlePrices, NoPrice, PriceBook, Priced, parse_price_list, usd

REGION = "us-east-1"


def workspace(compute="STANDARD", os="WINDOWS_SERVER_2022", root=80, user=50, mode="AUTO_STOP") -> Workspace:
    return Workspace(
        "ws-0123456789",
        "d-0123456789",
        "alice",
        "AVAILABLE",
        mode,
        compute,
        60,
        operating_system=os,
        root_volume_gib=root,
        user_volume_gib=user,
    )


@pytest.fixture(scope="module")
def book() -> PriceBook:
    # GetProducts' PriceList entries are JSON strings
    return parse_price_list(REGION, [json.dumps(p) for p in catalogue()], known_compute_types())


def test_a_standard_windows_workspace_breaks_even_where_its_prices_say(book):
    found = book.lookup(workspace())
    assert isinstance(found, Priced)
    assert found.prices == BundlePrices(Decimal("35.00"), Decimal("9.75"), Decimal("0.30"))
    assert found.prices.break_even_hours() == 84  # floor(25.25 / 0.30) = floor(84.17)
    assert found.prices.break_even_formula() == "floor((35 - 9.75) / 0.3) = 84 h"
    assert str(found) == (
        "us-east-1 STANDARD Windows (licence included), root 80 GB, user 50 GB: "
        "ALWAYS_ON $35.00/month, AUTO_STOP $9.75/month + $0.30/hour"
    )


@pytest.mark.parametrize(
    ("os", "expected"),
    [
        ("WINDOWS_SERVER_2019", (OsFamily.WINDOWS, Licence.INCLUDED)),
        ("WINDOWS_SERVER_2025", (OsFamily.WINDOWS, Licence.INCLUDED)),
        ("WINDOWS_7", (OsFamily.WINDOWS, Licence.BYOL)),
        ("WINDOWS_10", (OsFamily.WINDOWS, Licence.BYOL)),
        ("WINDOWS_11", (OsFamily.WINDOWS, Licence.BYOL)),
        ("AMAZON_LINUX_2", (OsFamily.AMAZON_LINUX, Licence.NONE)),
        ("UBUNTU_22_04", (OsFamily.UBUNTU, Licence.NONE)),
        ("UBUNTU_26_04", (OsFamily.UBUNTU, Licence.NONE)),
        ("RHEL_10", (OsFamily.RHEL, Licence.INCLUDED)),
        ("ROCKY_9", (OsFamily.ROCKY, Licence.INCLUDED)),
        ("UNKNOWN", UNKNOWN_OS),
        ("", "DescribeWorkspaces gives no operating system (none)"),
        (
            "PLAN_9",
            "OperatingSystemName PLAN_9 has no Price List mapping "
            "(OPERATING_SYSTEMS in ws_autopilot/cost/price_keys.py)",
        ),
    ],
)
def test_the_operating_system_gives_the_price_lists_os_and_licence(os, expected):
    assert os_and_licence(os) == expected


def test_licence_os_and_volumes_each_give_their_own_prices(book):
    found = {
        name: book.lookup(ws)
        for name, ws in {
            "included": workspace(),
            "byol": workspace(os="WINDOWS_10"),
            "linux": workspace(os="AMAZON_LINUX_2"),
            "bigger volumes": workspace(root=175, user=100),
        }.items()
    }
    assert all(isinstance(p, Priced) for p in found.values())
    prices = {name: p.prices for name, p in found.items() if isinstance(p, Priced)}
    assert len(set(prices.values())) == 4
    assert prices["byol"].always_on_monthly == Decimal("31.00")
    assert prices["linux"].auto_stop_hourly == Decimal("0.21")
    assert prices["bigger volumes"].always_on_monthly - prices["included"].always_on_monthly == Decimal(
        "7.98"
    )


@pytest.mark.parametrize(
    ("compute", "always_on"),
    [
        ("GRAPHICS_G4DN", "500.00"),
        ("GRAPHICSPRO_G4DN", "1049.00"),
        ("POWERPRO", "124.00"),
        ("VALUE", "25.00"),
    ],
)
def test_bundle_names_match_compute_types_whatever_their_punctuation(book, compute, always_on):
    from tests.support.fleet import VOLUMES

    found = book.lookup(workspace(compute, root=VOLUMES[compute][0], user=VOLUMES[compute][1]))
    assert isinstance(found, Priced)
    assert found.prices.always_on_monthly == Decimal(always_on)


@pytest.mark.parametrize(
    ("ws", "reason"),
    [
        (workspace(os=""), "DescribeWorkspaces gives no operating system (none)"),
        (workspace(os="UNKNOWN"), UNKNOWN_OS),
        (workspace(root=None), "DescribeWorkspaces gives no volume sizes"),
        (
            workspace("GRAPHICS_G9_XLARGE"),
            "ComputeTypeName GRAPHICS_G9_XLARGE has no Price List mapping "
            "(COMPUTE_TYPES in ws_autopilot/cost/compute_types.py)",
        ),
        (
            workspace(root=80, user=77),
            "the price list has no price for us-east-1 STANDARD Windows (licence included), "
            "root 80 GB, user 77 GB; it lists Standard Windows with root/user GB 80/10, 80/50, 175/100",
        ),
        (
            workspace("GRAPHICS", root=100, user=100),
            "the price list has no price for us-east-1 GRAPHICS Windows (licence included), "
            "root 100 GB, user 100 GB; it lists no Graphics bundle (Personal, without software)",
        ),
        (
            workspace("GRAPHICS_G7_2XLARGE", os="UBUNTU_24_04", root=100, user=100),
            "the price list has no price for us-east-1 GRAPHICS_G7_2XLARGE Ubuntu, root 100 GB, user 100 GB; "
            "it lists Graphics.g7.2xlarge only with Windows (BYOL), Windows (licence included)",
        ),
    ],
)
def test_a_workspace_without_a_price_says_why(book, ws, reason):
    assert book.lookup(ws) == NoPrice(reason)


def test_two_prices_for_one_thing_are_ambiguous_not_a_choice():
    items = [p for p in catalogue() if p["product"]["attributes"]["regionCode"] == REGION]
    items.append(product(REGION, "Standard", "Windows", "Included", 80, 50, "AlwaysOn", "Month", "37.00"))
    found = parse_price_list(REGION, items, known_compute_types()).lookup(workspace())
    assert found == NoPrice(
        "the price list has 2 ALWAYS_ON monthly prices for us-east-1 STANDARD Windows (licence included), "
        "root 80 GB, user 50 GB ($35.00, $37.00)"
    )


def test_a_missing_hourly_price_is_no_price():
    items = [
        p
        for p in catalogue()
        if p["product"]["attributes"]["regionCode"] == REGION
        and not (
            p["product"]["attributes"].get("bundle") == "Standard"
            and p["product"]["attributes"]["pricingUnit"] == "Hour"
        )
    ]
    found = parse_price_list(REGION, items, known_compute_types()).lookup(workspace())
    assert isinstance(found, NoPrice) and found.reason.startswith(
        "the price list has no AUTO_STOP hourly price"
    )


def test_products_of_other_regions_and_unreadable_products_are_left_out():
    other = product("eu-west-1", "Standard", "Windows", "Included", 80, 50, "AlwaysOn", "Month", "1.00")
    unreadable = product(REGION, "Standard", "Windows", "Included", 80, 50, "AlwaysOn", "Month", "2.00")
    unreadable["product"]["attributes"]["rootVolume"] = "big"
    no_licence = product(REGION, "Standard", "Windows", "", 80, 50, "AlwaysOn", "Month", "3.00")
    unknown_unit = product(REGION, "Standard", "Windows", "Included", 80, 50, "AlwaysOn", "Quarter", "4.00")
    assert (
        len(parse_price_list(REGION, [other, unreadable, no_licence, unknown_unit], known_compute_types()))
        == 0
    )


def test_the_cached_book_reads_back_the_same(book):
    again = PriceBook.from_json(book.to_json())
    assert again.prices == book.prices
    assert again.lookup(workspace(os="WINDOWS_11")) == book.lookup(workspace(os="WINDOWS_11"))
    with pytest.raises(ValueError, match="not a cached price book"):
        PriceBook.from_json('{"format": 2, "region": "us-east-1", "entries": [{"os": "Plan 9"}]}')


def test_a_cached_book_of_another_format_is_not_read():
    """Books cached before RHEL and Rocky had their licence keyed differently: read again."""
    with pytest.raises(ValueError, match="format None, not 2"):
        PriceBook.from_json('{"region": "us-east-1", "entries": []}')


def test_prices_without_a_break_even_say_so():
    assert BundlePrices(Decimal(35), Decimal("9.75"), Decimal(0)).break_even_problem() == (
        "the AUTO_STOP hourly price is not above 0"
    )
    assert BundlePrices(Decimal(9), Decimal("9.75"), Decimal("0.3")).break_even_problem() == (
        "the ALWAYS_ON monthly price is not above the AUTO_STOP monthly fee"
    )


@given(
    always_on=st.integers(min_value=1, max_value=200_000),
    fee=st.integers(min_value=0, max_value=20_000),
    hourly=st.integers(min_value=1, max_value=5_000),
)
def test_the_break_even_is_the_most_hours_at_which_auto_stop_costs_no_more(always_on, fee, hourly):
    prices = BundlePrices(Decimal(always_on + fee) / 100, Decimal(fee) / 100, Decimal(hourly) / 100)
    hours = prices.break_even_hours()
    assert prices.auto_stop_monthly + prices.auto_stop_hourly * hours <= prices.always_on_monthly
    assert prices.auto_stop_monthly + prices.auto_stop_hourly * (hours + 1) > prices.always_on_monthly


def test_usd_keeps_every_digit_of_a_price():
    assert [usd(Decimal(v)) for v in ("35", "0.3", "0.0725", "12.1500000000")] == [
        "$35.00",
        "$0.30",
        "$0.0725",
        "$12.15",
    ]


def test_price_key_of_a_workspace():
    key = price_key(workspace(os="WINDOWS_11", root=175, user=100))
    assert str(key) == "STANDARD Windows (BYOL), root 175 GB, user 100 GB"
    assert str(price_key(workspace(os="AMAZON_LINUX_2"))) == "STANDARD Amazon Linux, root 80 GB, user 50 GB"


# The Price List's traps (tests/support/price_list.py lists each beside the plain bundles)


def test_workspaces_core_products_of_the_same_bundle_name_are_not_read(book):
    found = book.lookup(workspace(os="WINDOWS_10"))  # Core lists Standard BYOL 80/50 at $21.00
    assert isinstance(found, Priced)
    assert found.prices == BundlePrices(Decimal("31.00"), Decimal("9.75"), Decimal("0.26"))
    core = [p for p in catalogue() if p["product"]["productFamily"] == "WorkSpaces Core"]
    assert core and len(parse_price_list(REGION, core, known_compute_types())) == 0


def test_office_variants_with_software_are_not_the_plain_bundles_price(book):
    found = book.lookup(workspace())  # the Plus variant lists the same attributes at $50.00
    assert isinstance(found, Priced) and found.prices.always_on_monthly == Decimal("35.00")
    office = [p for p in catalogue() if p["product"]["attributes"].get("softwareIncluded", "None") != "None"]
    assert office and len(parse_price_list(REGION, office, known_compute_types())) == 0


def test_a_variant_named_apart_from_its_group_is_not_its_group(book):
    variant = product(REGION, "Standard", "Windows", "Included", 80, 50, "AlwaysOn", "Month", "50.00")
    variant["product"]["attributes"]["bundle"] = "Standard Plus"  # bundleGroup stays "Standard"
    assert len(parse_price_list(REGION, [variant], known_compute_types())) == 0


def test_storage_products_are_not_bundles():
    storage = [p for p in catalogue() if p["product"]["productFamily"] == "Storage"]
    assert storage and len(parse_price_list(REGION, storage, known_compute_types())) == 0


def test_byol_windows_listed_as_any_prices_windows_10_and_11(book):
    found = book.lookup(workspace("GRAPHICS_G7_2XLARGE", os="WINDOWS_11", root=100, user=100))
    assert isinstance(found, Priced)
    assert found.prices == BundlePrices(Decimal("536.00"), Decimal("66.00"), Decimal("1.91"))
    assert found.where == "us-east-1 GRAPHICS_G7_2XLARGE Windows (BYOL), root 100 GB, user 100 GB"


@pytest.mark.parametrize(
    ("os", "always_on", "where"),
    [
        ("RHEL_9", "30.00", "STANDARD Red Hat Enterprise Linux (licence included)"),
        ("ROCKY_8", "29.00", "STANDARD Rocky Linux (licence included)"),
        ("UBUNTU_24_04", "28.00", "STANDARD Ubuntu,"),
        ("AMAZON_LINUX_2", "27.00", "STANDARD Amazon Linux,"),
    ],
)
def test_linux_workspaces_are_priced_with_their_licence(book, os, always_on, where):
    found = book.lookup(workspace(os=os))
    assert isinstance(found, Priced) and found.prices.always_on_monthly == Decimal(always_on)
    assert where in found.where


def test_rhel_listed_without_its_licence_is_not_rhels_price():
    items = [
        product(REGION, "Standard", "Red Hat Enterprise Linux", "None", 80, 50, mode, unit, usd)
        for mode, unit, usd in (
            ("AlwaysOn", "Month", "30"),
            ("AutoStop", "Month", "9.75"),
            ("AutoStop", "Hrs", "0.25"),
        )
    ]
    found = parse_price_list(REGION, items, known_compute_types()).lookup(workspace(os="RHEL_8"))
    assert found == NoPrice(
        "the price list has no price for us-east-1 STANDARD Red Hat Enterprise Linux (licence included), "
        "root 80 GB, user 50 GB; it lists Standard only with Red Hat Enterprise Linux"
    )
