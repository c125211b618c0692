"""The one table of compute types (cost/compute_types.py) against the installed WorkSpaces API
model: a `ComputeTypeName` botocore adds fails here, by name, until it has its row (its Price List
bundle, its right-sizing family, whether it hibernates)."""

from __future__ import annotations

import pytest

from ws_autopilot.core.settings import known_compute_types
from ws_autopilot.cost.compute_types import BY_NAME, COMPUTE_TYPES, family_of
from ws_autopilot.cost.price_keys import normalize

MODEL_TYPES = sorted(known_compute_types())


def test_the_installed_model_has_the_types_the_issue_names():
    assert len(MODEL_TYPES) >= 27
    assert {"GRAPHICS_G7_12XLARGE", "GENERALPURPOSE_8XLARGE"} <= set(MODEL_TYPES)


@pytest.mark.parametrize("compute_type", MODEL_TYPES)
def test_every_compute_type_of_the_model_has_its_row(compute_type):
    assert compute_type in BY_NAME, (
        f"ComputeTypeName {compute_type} is new in botocore: give it its row (Price List bundle,"
        " right-sizing family, hibernates or not) in COMPUTE_TYPES"
        " (layers/ws_autopilot/ws_autopilot/cost/compute_types.py)"
    )
    # the bundle name must read as this compute type whatever its punctuation
    assert normalize(BY_NAME[compute_type].bundle) == normalize(compute_type)


def test_the_table_names_each_type_of_the_model_once():
    names = [c.name for c in COMPUTE_TYPES]
    assert len(names) == len(set(names)) == len(BY_NAME)
    assert set(names) <= set(MODEL_TYPES)
    assert len({normalize(c.bundle) for c in COMPUTE_TYPES}) == len(COMPUTE_TYPES)


def test_a_family_is_listed_in_one_run_so_its_order_is_the_ladder():
    families = [c.family for c in COMPUTE_TYPES]
    runs = [f for i, f in enumerate(families) if i == 0 or families[i - 1] != f]
    assert len(runs) == len(set(runs)), f"a family is split in COMPUTE_TYPES: {runs}"
    assert family_of("STANDARD") == (
        "VALUE",
        "STANDARD",
        "PERFORMANCE",
        "POWER",
        "POWERPRO",
        "GENERALPURPOSE_4XLARGE",
        "GENERALPURPOSE_8XLARGE",
    )
    assert family_of("NOT_A_TYPE") == ()


def test_only_the_general_purpose_types_up_to_powerpro_hibernate():
    """AWS admin guide: AutoStop GPU WorkSpaces and GeneralPurpose 4xlarge/8xlarge do not."""
    assert {c.name for c in COMPUTE_TYPES if c.hibernates} == {
        "VALUE",
        "STANDARD",
        "PERFORMANCE",
        "POWER",
        "POWERPRO",
    }
