"""What a WorkSpace's price depends on, in the AWS Price List's terms: the mapping of every
`ComputeTypeName` and `OperatingSystemName` of the WorkSpaces API to the Price List's bundle,
operating system and licence (or the reason it has none), and the key a WorkSpace's prices are
looked up by. Pure: no clock, no AWS call.

Compute types come from the one table of them (cost/compute_types.py). A unit test walks
botocore's two enums, so a value AWS adds fails until it is mapped; at run time an unmapped value
has no price, and the row names the table that lacks it (docs/decisions.md, D-172, D-173, D-217).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ws_autopilot.core.models import Workspace
from ws_autopilot.cost.compute_types import BY_NAME


class OsFamily(StrEnum):
    WINDOWS = "Windows"
    AMAZON_LINUX = "Amazon Linux"
    UBUNTU = "Ubuntu"
    RHEL = "Red Hat Enterprise Linux"
    ROCKY = "Rocky Linux"


class Licence(StrEnum):
    INCLUDED = "licence included"
    BYOL = "BYOL"
    NONE = "no licence"  # Amazon Linux and Ubuntu: nothing to license


# `OperatingSystemName` -> the Price List's operating system and licence, or why it has none.
# Windows client editions (7, 10, 11) run on WorkSpaces only with your own licence (BYOL); the
# licence-included Windows desktops are Windows Server based. RHEL and Rocky Linux bundles include
# their licence (subscription) in the price; Amazon Linux and Ubuntu carry none (D-173).
UNKNOWN_OS = "DescribeWorkspaces gives the operating system as UNKNOWN: its licence and price are not known"
OPERATING_SYSTEMS: dict[str, tuple[OsFamily, Licence] | str] = {
    "WINDOWS_7": (OsFamily.WINDOWS, Licence.BYOL),
    "WINDOWS_10": (OsFamily.WINDOWS, Licence.BYOL),
    "WINDOWS_11": (OsFamily.WINDOWS, Licence.BYOL),
    "WINDOWS_SERVER_2016": (OsFamily.WINDOWS, Licence.INCLUDED),
    "WINDOWS_SERVER_2019": (OsFamily.WINDOWS, Licence.INCLUDED),
    "WINDOWS_SERVER_2022": (OsFamily.WINDOWS, Licence.INCLUDED),
    "WINDOWS_SERVER_2025": (OsFamily.WINDOWS, Licence.INCLUDED),
    "AMAZON_LINUX_2": (OsFamily.AMAZON_LINUX, Licence.NONE),
    "UBUNTU_18_04": (OsFamily.UBUNTU, Licence.NONE),
    "UBUNTU_20_04": (OsFamily.UBUNTU, Licence.NONE),
    "UBUNTU_22_04": (OsFamily.UBUNTU, Licence.NONE),
    "UBUNTU_24_04": (OsFamily.UBUNTU, Licence.NONE),
    "UBUNTU_26_04": (OsFamily.UBUNTU, Licence.NONE),
    "RHEL_8": (OsFamily.RHEL, Licence.INCLUDED),
    "RHEL_9": (OsFamily.RHEL, Licence.INCLUDED),
    "RHEL_10": (OsFamily.RHEL, Licence.INCLUDED),
    "ROCKY_8": (OsFamily.ROCKY, Licence.INCLUDED),
    "ROCKY_9": (OsFamily.ROCKY, Licence.INCLUDED),
    "ROCKY_10": (OsFamily.ROCKY, Licence.INCLUDED),
    "UNKNOWN": UNKNOWN_OS,
}


def normalize(text: str) -> str:
    """`text` lower-cased with everything but letters and digits removed: `Graphics.g4dn`,
    `GRAPHICS_G4DN` and `graphics g4dn` all read `graphicsg4dn`."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def os_and_licence(operating_system: str) -> tuple[OsFamily, Licence] | str:
    """The price list's operating system and licence of a WorkSpace, from DescribeWorkspaces'
    `OperatingSystemName`, or why it has none (missing, UNKNOWN, or not mapped here)."""
    if not operating_system:
        return "DescribeWorkspaces gives no operating system (none)"
    found = OPERATING_SYSTEMS.get(operating_system.upper())
    if found is None:
        return (
            f"OperatingSystemName {operating_system} has no Price List mapping"
            " (OPERATING_SYSTEMS in ws_autopilot/cost/price_keys.py)"
        )
    return found


@dataclass(frozen=True, slots=True, order=True)
class PriceKey:
    """What a WorkSpace's price depends on, besides its region."""

    compute_type: str
    os: OsFamily
    licence: Licence
    root_gib: int
    user_gib: int

    def __str__(self) -> str:
        licence = "" if self.licence is Licence.NONE else f" ({self.licence.value})"
        volumes = f"root {self.root_gib} GB, user {self.user_gib} GB"
        return f"{self.compute_type} {self.os.value}{licence}, {volumes}"


def price_key(workspace: Workspace) -> PriceKey | str:
    """The key of a WorkSpace's prices, or why it has none: what DescribeWorkspaces left out, or a
    compute type or operating system not mapped here."""
    if workspace.compute_type not in BY_NAME:
        return (
            f"ComputeTypeName {workspace.compute_type} has no Price List mapping"
            " (COMPUTE_TYPES in ws_autopilot/cost/compute_types.py)"
        )
    found = os_and_licence(workspace.operating_system)
    if isinstance(found, str):
        return found
    if workspace.root_volume_gib is None or workspace.user_volume_gib is None:
        return "DescribeWorkspaces gives no volume sizes"
    return PriceKey(workspace.compute_type, *found, workspace.root_volume_gib, workspace.user_volume_gib)
