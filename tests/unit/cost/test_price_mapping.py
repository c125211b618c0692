"""Every operating system of the installed WorkSpaces API model is mapped to the Price List: a
value botocore adds fails here, by name, until cost/price_keys.py maps it. (Compute types have
their own table and test: cost/compute_types.py, test_compute_types.py.)"""

from __future__ import annotations

import json

import botocore.session
import pytest

from tests.support.price_list import catalogue
from ws_autopilot.core.models import Workspace
from ws_autopilot.core.settings import known_compute_types
from ws_autopilot.cost.price_keys import OPERATING_SYSTEMS
from ws_autopilot.cost.pricing import NoPrice, Priced, parse_price_list
from ws_autopilot.cost.settings import parse_thresholds

MODEL = botocore.session.get_session().get_service_model("workspaces")
MODEL_COMPUTE_TYPES = list(MODEL.shape_for("Compute").enum)
OPERATING_SYSTEM_NAMES = list(MODEL.shape_for("OperatingSystemName").enum)
# The legacy GPU bundles AWS no longer lists; every other type has a bundle in the simulated list.
RETIRED = {"GRAPHICS", "GRAPHICSPRO"}


def test_the_installed_model_has_the_values_the_issue_names():
    assert len(OPERATING_SYSTEM_NAMES) >= 20
    assert {"RHEL_10", "ROCKY_10", "UBUNTU_26_04"} <= set(OPERATING_SYSTEM_NAMES)


@pytest.mark.parametrize("operating_system", OPERATING_SYSTEM_NAMES)
def test_every_operating_system_of_the_model_has_a_price_list_os_and_licence(operating_system):
    assert operating_system in OPERATING_SYSTEMS, (
        f"OperatingSystemName {operating_system} is new in botocore: map it to its Price List "
        "operating system and licence, or the reason it has none, in OPERATING_SYSTEMS "
        "(layers/ws_autopilot/ws_autopilot/cost/price_keys.py)"
    )


def test_the_mapping_names_only_values_of_the_model():
    assert set(OPERATING_SYSTEMS) <= set(OPERATING_SYSTEM_NAMES)


def test_every_compute_type_can_have_an_hour_threshold():
    text = ",".join(f"{c}=100" for c in MODEL_COMPUTE_TYPES)
    assert set(parse_thresholds(text, "EXTRA_THRESHOLDS", "ExtraThresholds")) == set(MODEL_COMPUTE_TYPES)


@pytest.fixture(scope="module")
def book():
    items = [json.dumps(p) for p in catalogue() if p["product"]["attributes"]["regionCode"] == "us-east-1"]
    return parse_price_list("us-east-1", items, known_compute_types())


def volumes_of(book, compute_type) -> tuple[int, int]:
    listed = sorted((k.root_gib, k.user_gib) for k in book.prices if k.compute_type == compute_type)
    return listed[0] if listed else (100, 100)


@pytest.mark.parametrize("compute_type", MODEL_COMPUTE_TYPES)
def test_every_compute_type_and_os_is_priced_or_says_why(book, compute_type):
    """Walks every pair of the two enums through the simulated US East list: each is priced, or
    has a reason that names what is missing (never a silent default)."""
    root, user = volumes_of(book, compute_type)
    for operating_system in OPERATING_SYSTEM_NAMES:
        ws = Workspace(
            "ws-1", "d-1", "u", "AVAILABLE", "AUTO_STOP", compute_type, 60,
            operating_system=operating_system, root_volume_gib=root, user_volume_gib=user,
        )  # fmt: skip
        found = book.lookup(ws)
        if isinstance(found, NoPrice):
            assert found.reason.startswith(
                ("the price list has no price for us-east-1", "DescribeWorkspaces")
            ), found.reason
            assert operating_system == "UNKNOWN" or compute_type in found.reason
        else:
            assert isinstance(found, Priced) and found.prices.break_even_problem() == ""
    windows = Workspace(
        "ws-1", "d-1", "u", "AVAILABLE", "AUTO_STOP", compute_type, 60,
        operating_system="WINDOWS_SERVER_2022", root_volume_gib=root, user_volume_gib=user,
    )  # fmt: skip
    assert isinstance(book.lookup(windows), Priced) == (compute_type not in RETIRED)
