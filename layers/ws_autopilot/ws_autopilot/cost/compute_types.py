"""Every `ComputeTypeName` of the WorkSpaces API, in one table: its bundle in the AWS Price List,
its right-sizing family, and whether AUTO_STOP hibernates it. Pure: no clock, no AWS call.

The table is the only place that knows a compute type (docs/decisions.md D-217). Pricing
(cost/price_keys.py), the month-end reset of types that do not hibernate (cost/hibernation.py)
and right-sizing's ladder (cost/rightsizing.py) read it. A unit test walks botocore's `Compute`
enum, so a value AWS adds fails until it has its row here; at run time an unknown type has no
price, is not known to hibernate, and has no neighbour on the ladder, and each says so.

- `bundle`: the Price List's `bundle` attribute (compared after `price_keys.normalize`, so
  `Graphics.g6.xlarge`, `Graphics G6 XLarge` and `GRAPHICS_G6_XLARGE` all match).
- `family`: right-sizing moves one type down or up within a family only; the rows of a family are
  listed smallest first, so the neighbours in the table are the neighbours on the ladder (D-188).
- `hibernates`: AWS admin guide, "Manage the running mode": "AutoStop GPU-enabled WorkSpaces and
  GeneralPurpose.4xlarge or GeneralPurpose.8xlarge do not support hibernation. The state of
  applications/data is not preserved." (D-178).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class ComputeType:
    name: str  # WorkspaceProperties.ComputeTypeName
    bundle: str  # the Price List's `bundle`
    family: str  # right-sizing's family, as the report names it
    hibernates: bool


_GP = "general purpose"

COMPUTE_TYPES: tuple[ComputeType, ...] = (
    ComputeType("VALUE", "Value", _GP, hibernates=True),
    ComputeType("STANDARD", "Standard", _GP, hibernates=True),
    ComputeType("PERFORMANCE", "Performance", _GP, hibernates=True),
    ComputeType("POWER", "Power", _GP, hibernates=True),
    ComputeType("POWERPRO", "PowerPro", _GP, hibernates=True),
    ComputeType("GENERALPURPOSE_4XLARGE", "GeneralPurpose.4xlarge", _GP, hibernates=False),
    ComputeType("GENERALPURPOSE_8XLARGE", "GeneralPurpose.8xlarge", _GP, hibernates=False),
    ComputeType("GRAPHICS_G4DN", "Graphics.g4dn", "Graphics.g4dn", hibernates=False),
    ComputeType("GRAPHICSPRO_G4DN", "GraphicsPro.g4dn", "Graphics.g4dn", hibernates=False),
    ComputeType("GRAPHICS_G6_XLARGE", "Graphics.g6.xlarge", "Graphics.g6", hibernates=False),
    ComputeType("GRAPHICS_G6_2XLARGE", "Graphics.g6.2xlarge", "Graphics.g6", hibernates=False),
    ComputeType("GRAPHICS_G6_4XLARGE", "Graphics.g6.4xlarge", "Graphics.g6", hibernates=False),
    ComputeType("GRAPHICS_G6_8XLARGE", "Graphics.g6.8xlarge", "Graphics.g6", hibernates=False),
    ComputeType("GRAPHICS_G6_16XLARGE", "Graphics.g6.16xlarge", "Graphics.g6", hibernates=False),
    ComputeType("GRAPHICS_GR6_4XLARGE", "Graphics.gr6.4xlarge", "Graphics.gr6", hibernates=False),
    ComputeType("GRAPHICS_GR6_8XLARGE", "Graphics.gr6.8xlarge", "Graphics.gr6", hibernates=False),
    ComputeType("GRAPHICS_G6F_LARGE", "Graphics.g6f.large", "Graphics.g6f", hibernates=False),
    ComputeType("GRAPHICS_G6F_XLARGE", "Graphics.g6f.xlarge", "Graphics.g6f", hibernates=False),
    ComputeType("GRAPHICS_G6F_2XLARGE", "Graphics.g6f.2xlarge", "Graphics.g6f", hibernates=False),
    ComputeType("GRAPHICS_G6F_4XLARGE", "Graphics.g6f.4xlarge", "Graphics.g6f", hibernates=False),
    ComputeType("GRAPHICS_GR6F_4XLARGE", "Graphics.gr6f.4xlarge", "Graphics.gr6f", hibernates=False),
    ComputeType("GRAPHICS_G7_2XLARGE", "Graphics.g7.2xlarge", "Graphics.g7", hibernates=False),
    ComputeType("GRAPHICS_G7_4XLARGE", "Graphics.g7.4xlarge", "Graphics.g7", hibernates=False),
    ComputeType("GRAPHICS_G7_8XLARGE", "Graphics.g7.8xlarge", "Graphics.g7", hibernates=False),
    ComputeType("GRAPHICS_G7_12XLARGE", "Graphics.g7.12xlarge", "Graphics.g7", hibernates=False),
    # legacy GPU types, retired: no longer listed in most regions, and nothing to move to
    ComputeType("GRAPHICS", "Graphics", "legacy Graphics (retired)", hibernates=False),
    ComputeType("GRAPHICSPRO", "GraphicsPro", "legacy GraphicsPro (retired)", hibernates=False),
)

BY_NAME: dict[str, ComputeType] = {c.name: c for c in COMPUTE_TYPES}


@cache
def family_of(name: str) -> tuple[str, ...]:
    """The compute types of `name`'s family, smallest first; empty for a type not in the table."""
    known = BY_NAME.get(name)
    if known is None:
        return ()
    return tuple(c.name for c in COMPUTE_TYPES if c.family == known.family)
