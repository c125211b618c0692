"""Today's compute types and operating systems priced end to end: the state machine runs the real
handlers against the simulator's Price List, which lists, beside the plain bundles, the traps of
the real one (a WorkSpaces Core family reusing the bundle names, Office "Plus" variants, storage
variants and storage products, three pages)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3

from tests.conftest import REGION
from tests.integration.conftest import read_report
from tests.integration.cost.test_daily_optimization import by_name
from tests.support import simulator
from tools.local_run import run_daily
from ws_autopilot.cost.price_keys import UNKNOWN_OS

MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)
SERVER = "WINDOWS_SERVER_2022"
G7 = {"compute": "GRAPHICS_G7_4XLARGE", "root_gib": 100, "user_gib": 100}
GP8 = {"compute": "GENERALPURPOSE_8XLARGE", "root_gib": 175, "user_gib": 100}
FLEET = {
    "g7": {"mode": "AUTO_STOP", "profile": "part_time", "os": SERVER, **G7},
    "gp8": {"mode": "AUTO_STOP", "profile": "part_time", "os": "WINDOWS_11", **GP8},
    "plain": {"mode": "AUTO_STOP", "profile": "part_time", "os": SERVER},
    "plain_byol": {"mode": "AUTO_STOP", "profile": "part_time", "os": "WINDOWS_10"},
    "rhel": {"mode": "AUTO_STOP", "profile": "part_time", "os": "RHEL_9"},
    "unknown_os": {"mode": "AUTO_STOP", "profile": "part_time", "os": "UNKNOWN"},
}


def listed_standard_variants() -> set[tuple[str, str, str, str]]:
    """What the simulator's US East list holds under the bundle name Standard (read as the
    product reads it, through a boto3 client): family, software, licence and volumes."""
    pricing = boto3.client("pricing", region_name="us-east-1")
    request = {
        "ServiceCode": "AmazonWorkSpaces",
        "Filters": [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
            {"Type": "TERM_MATCH", "Field": "bundle", "Value": "Standard"},
            {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Windows"},
        ],
    }
    found = set()
    for item in pricing.get_products(**request)["PriceList"]:
        product = json.loads(item)["product"]
        a = product["attributes"]
        found.add(
            (
                product["productFamily"],
                a["softwareIncluded"],
                a["license"],
                f"{a['rootVolume']}/{a['userVolume']}",
            )
        )
    return found


def test_new_compute_types_and_operating_systems_are_priced_from_the_price_list(aws, make_fleet, deploy):
    fleet = make_fleet(FLEET, MID_MONTH)
    stack = deploy(DryRun="true")
    traps = listed_standard_variants()
    assert ("WorkSpaces Core", "None", "Bring Your Own License", "80 GB/50 GB") in traps
    assert ("Workspaces", "Microsoft Office Professional 2021", "Included", "80 GB/50 GB") in traps
    assert {v for f, s, lic, v in traps if f == "Workspaces" and s == "None" and lic == "Included"} == {
        "80 GB/50 GB", "80 GB/10 GB", "175 GB/100 GB"
    }  # fmt: skip
    simulator.CALLS.clear()

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    rows, _summary = read_report(aws["s3"], output)
    report = by_name(fleet, rows)
    seen = {n: (r["threshold"], r["threshold_source"]) for n, r in report.items()}
    assert seen == {
        "g7": ("258", "price_list"),  # floor((790 - 66) / 2.80)
        "gp8": ("140", "price_list"),  # BYOL listed as Any: floor((491 - 26) / 3.31)
        "plain": ("84", "price_list"),  # not Core's, not the Office variant's, not 80/10's
        "plain_byol": ("81", "price_list"),  # Personal BYOL, not Core's $21.00
        "rhel": ("81", "price_list"),  # licence included: floor((30 - 9.75) / 0.25)
        "unknown_os": ("85", "parameter"),
    }
    assert report["g7"]["prices"] == (
        "us-east-1 GRAPHICS_G7_4XLARGE Windows (licence included), root 100 GB, user 100 GB: ALWAYS_ON "
        "$790.00/month, AUTO_STOP $66.00/month + $2.80/hour -> floor((790 - 66) / 2.8) = 258 h"
    )
    assert report["gp8"]["prices"].startswith(
        "us-east-1 GENERALPURPOSE_8XLARGE Windows (BYOL), root 175 GB, user 100 GB: ALWAYS_ON $491.00/month"
    )
    assert report["plain"]["prices"] == (
        "us-east-1 STANDARD Windows (licence included), root 80 GB, user 50 GB: ALWAYS_ON $35.00/month, "
        "AUTO_STOP $9.75/month + $0.30/hour -> floor((35 - 9.75) / 0.3) = 84 h"
    )
    assert report["rhel"]["prices"].startswith(
        "us-east-1 STANDARD Red Hat Enterprise Linux (licence included)"
    )
    assert report["unknown_os"]["prices"] == f"price list not used: {UNKNOWN_OS}"
    assert {report[n]["price_always_on_monthly"] for n in ("g7", "gp8", "plain")} == {
        "790.00",
        "491.00",
        "35.00",
    }
    assert simulator.CALLS[("pricing", "GetProducts")] == 3  # 299 products, 100 a page, once
