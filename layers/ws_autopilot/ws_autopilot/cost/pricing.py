"""WorkSpaces prices from the AWS Price List, and what they mean for one WorkSpace: its break-even
threshold and its dollars this month. Pure: no clock, no AWS call.

A GetProducts answer (service code `AmazonWorkSpaces`) is a list of JSON strings, one product each:
`product.attributes` says what is priced, `terms.OnDemand.*.priceDimensions.*` how much
(`unit`, `pricePerUnit.USD`). The attributes read here, as the offer files name them
(docs/decisions.md, "Break-even from prices"): `regionCode`, `bundle` / `bundleGroup`,
`operatingSystem`, `license`, `runningMode` (`AlwaysOn`, `AutoStop`), `rootVolume`, `userVolume`
(`"80 GB"`). Value spellings are compared without case and punctuation, so `Graphics.g4dn` is the
compute type `GRAPHICS_G4DN`. Whatever the list does not say plainly (a missing price, two prices
for one thing) is a `NoPrice` with its reason: a WorkSpace is never judged on a guessed price.

Every `ComputeTypeName` and `OperatingSystemName` of the WorkSpaces API is mapped to the list's
terms in `price_keys.py`. Only the WorkSpaces Personal product family is read, and only plain
bundles: WorkSpaces
Core products reuse the Personal bundle names at other prices, and Office ("Plus") bundles are
the same bundle with software rows (`softwareIncluded`) (docs/decisions.md, D-172 to D-177).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ws_autopilot.core.models import Workspace
from ws_autopilot.cost.compute_types import BY_NAME
from ws_autopilot.cost.price_keys import (
    Licence,
    OsFamily,
    PriceKey,
    normalize,
    price_key,
)

SERVICE_CODE = "AmazonWorkSpaces"
CENT = Decimal("0.01")


# `operatingSystem` values taken for each family, normalized (see `normalize`). BYOL Windows is
# also listed as `Any` (with a Bring Your Own License `license`).
OS_SPELLINGS: dict[OsFamily, frozenset[str]] = {
    OsFamily.WINDOWS: frozenset({"windows"}),
    OsFamily.AMAZON_LINUX: frozenset({"linux", "amazonlinux", "amazonlinux2"}),
    OsFamily.UBUNTU: frozenset({"ubuntu", "ubuntulinux"}),
    OsFamily.RHEL: frozenset({"redhatenterpriselinux", "rhel"}),
    OsFamily.ROCKY: frozenset({"rockylinux", "rocky"}),
}
ANY_OS = "any"
# `productFamily` of WorkSpaces Personal bundles; "WorkSpaces Core" (same bundle names, other
# prices), Pools, storage and the rest are other families (D-174).
PERSONAL_FAMILIES = frozenset({"workspaces", "workspacespersonal"})
# `softwareIncluded` of a plain bundle; anything else is an Office ("Plus") variant (D-175).
NO_SOFTWARE = frozenset({"", "none", "na"})
CACHE_FORMAT = 2  # a cached book of another format is read again from the Price List


class Role(StrEnum):
    """The three prices a WorkSpace's break-even needs."""

    ALWAYS_ON_MONTHLY = "ALWAYS_ON monthly"
    AUTO_STOP_MONTHLY = "AUTO_STOP monthly"
    AUTO_STOP_HOURLY = "AUTO_STOP hourly"


@dataclass(frozen=True, slots=True)
class BundlePrices:
    """USD: the ALWAYS_ON monthly price, the AUTO_STOP monthly fee and hourly price."""

    always_on_monthly: Decimal
    auto_stop_monthly: Decimal
    auto_stop_hourly: Decimal

    def break_even_hours(self) -> int:
        """floor((ALWAYS_ON monthly - AUTO_STOP monthly) / AUTO_STOP hourly): billable hours above
        which ALWAYS_ON is cheaper. The caller has checked `break_even_problem()`."""
        ratio = (self.always_on_monthly - self.auto_stop_monthly) / self.auto_stop_hourly
        return int(ratio.to_integral_value(rounding=ROUND_FLOOR))

    def break_even_formula(self) -> str:
        """The break-even worked out with these prices, for the report."""
        return (
            f"floor(({self.always_on_monthly.normalize():f} - {self.auto_stop_monthly.normalize():f})"
            f" / {self.auto_stop_hourly.normalize():f}) = {self.break_even_hours()} h"
        )

    def break_even_problem(self) -> str:
        """Why these prices give no break-even ("" when they do)."""
        if self.auto_stop_hourly <= 0:
            return "the AUTO_STOP hourly price is not above 0"
        if self.always_on_monthly <= self.auto_stop_monthly:
            return "the ALWAYS_ON monthly price is not above the AUTO_STOP monthly fee"
        return ""

    def __str__(self) -> str:
        return (
            f"ALWAYS_ON {usd(self.always_on_monthly)}/month, AUTO_STOP {usd(self.auto_stop_monthly)}"
            f"/month + {usd(self.auto_stop_hourly)}/hour"
        )


def usd(amount: Decimal) -> str:
    """`$35.00`, `$0.26`, `$0.0725`: at least two decimals, never a digit of the price lost."""
    return f"${price_digits(amount):f}"


def price_digits(amount: Decimal) -> Decimal:
    """A price with at least two decimals and no trailing zero after them (the Price List writes
    `35.0000000000`): 35.00, 0.26, 0.0725."""
    if amount == amount.quantize(CENT):
        return amount.quantize(CENT)
    return amount.normalize()


@dataclass(frozen=True, slots=True)
class Priced:
    """A WorkSpace's prices as found, and the words that say where they came from."""

    prices: BundlePrices
    where: str  # e.g. "us-east-1 STANDARD Windows (licence included), root 80 GB, user 50 GB"

    def __str__(self) -> str:
        return f"{self.where}: {self.prices}"


@dataclass(frozen=True, slots=True)
class NoPrice:
    """Why a WorkSpace has no usable price."""

    reason: str


class PriceBook:
    """One region's WorkSpaces prices: every price the list gives per key and role. Two
    different prices for one key and role are kept both, so a lookup can say it is ambiguous
    instead of choosing one."""

    def __init__(self, region: str, prices: Mapping[PriceKey, Mapping[Role, Collection[Decimal]]]) -> None:
        self.region = region
        self.prices = {
            key: {role: tuple(sorted(set(values))) for role, values in roles.items()}
            for key, roles in prices.items()
        }

    def __len__(self) -> int:
        return len(self.prices)

    def lookup(self, workspace: Workspace) -> Priced | NoPrice:
        key = price_key(workspace)
        if isinstance(key, str):
            return NoPrice(key)
        where = f"{self.region} {key}"
        roles = self.prices.get(key)
        if roles is None:
            return NoPrice(f"the price list has no price for {where}{self._listed_instead(key)}")
        chosen: dict[Role, Decimal] = {}
        for role in Role:
            values = roles.get(role, ())
            if not values:
                return NoPrice(f"the price list has no {role.value} price for {where}")
            if len(values) > 1:
                listed = ", ".join(usd(v) for v in values)
                return NoPrice(f"the price list has {len(values)} {role.value} prices for {where} ({listed})")
            chosen[role] = values[0]
        return Priced(
            BundlePrices(
                chosen[Role.ALWAYS_ON_MONTHLY], chosen[Role.AUTO_STOP_MONTHLY], chosen[Role.AUTO_STOP_HOURLY]
            ),
            where,
        )

    def _listed_instead(self, key: PriceKey) -> str:
        """What the book lists near `key`, so a missing price says why: no such bundle at all, not
        with this operating system and licence, or only with other volumes."""
        known = BY_NAME.get(key.compute_type)
        bundle = known.bundle if known else key.compute_type
        same_type = [k for k in self.prices if k.compute_type == key.compute_type]
        if not same_type:
            return f"; it lists no {bundle} bundle (Personal, without software)"
        same_os = [k for k in same_type if (k.os, k.licence) == (key.os, key.licence)]
        if not same_os:
            editions = sorted({f"{k.os.value}{_licence_words(k.licence)}" for k in same_type})
            return f"; it lists {bundle} only with {', '.join(editions)}"
        volumes = sorted({f"{k.root_gib}/{k.user_gib}" for k in same_os}, key=_root_then_user)
        return f"; it lists {bundle} {key.os.value} with root/user GB {', '.join(volumes)}"

    def to_json(self) -> str:
        """The book as the daily cache object holds it."""
        entries = [
            {
                "compute_type": key.compute_type,
                "os": key.os.value,
                "licence": key.licence.value,
                "root_gib": key.root_gib,
                "user_gib": key.user_gib,
                "prices": {role.value: [str(v) for v in values] for role, values in roles.items()},
            }
            for key, roles in sorted(self.prices.items())
        ]
        return json.dumps({"format": CACHE_FORMAT, "region": self.region, "entries": entries})

    @classmethod
    def from_json(cls, text: str) -> PriceBook:
        """A book written by `to_json`. Raises ValueError when the text is not one."""
        try:
            data = json.loads(text)
            if data.get("format") != CACHE_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, not {CACHE_FORMAT}")
            prices = {
                PriceKey(
                    str(e["compute_type"]),
                    OsFamily(e["os"]),
                    Licence(e["licence"]),
                    int(e["root_gib"]),
                    int(e["user_gib"]),
                ): {Role(role): [Decimal(v) for v in values] for role, values in e["prices"].items()}
                for e in data["entries"]
            }
            return cls(str(data["region"]), prices)
        except (KeyError, TypeError, AttributeError, ValueError, InvalidOperation) as exc:
            raise ValueError(f"not a cached price book: {exc}") from exc


def _licence_words(licence: Licence) -> str:
    return "" if licence is Licence.NONE else f" ({licence.value})"


def _root_then_user(volumes: str) -> tuple[int, ...]:
    return tuple(int(v) for v in volumes.split("/"))


def parse_price_list(
    region: str, items: Iterable[str | Mapping[str, Any]], compute_types: Collection[str]
) -> PriceBook:
    """The region's book from GetProducts' `PriceList` entries (JSON strings, or their parsed
    form). A product that is not a plain WorkSpaces Personal bundle of a known compute type in
    `region` (another product family such as WorkSpaces Core, a bundle with software included), or
    whose attributes or prices cannot be read, is left out."""
    by_name = {normalize(BY_NAME[c].bundle): c for c in compute_types if c in BY_NAME}
    found: dict[PriceKey, dict[Role, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        product = json.loads(item) if isinstance(item, str) else item
        described = product.get("product", {})
        attributes = described.get("attributes", {})
        if attributes.get("regionCode", region) != region:
            continue
        if normalize(described.get("productFamily", "")) not in PERSONAL_FAMILIES:
            continue
        if normalize(attributes.get("softwareIncluded", "")) not in NO_SOFTWARE:
            continue
        for key, role, price in _priced_roles(attributes, product.get("terms", {}), by_name):
            found[key][role].append(price)
    return PriceBook(region, found)


def _priced_roles(
    attributes: Mapping[str, str], terms: Mapping[str, Any], by_name: Mapping[str, str]
) -> list[tuple[PriceKey, Role, Decimal]]:
    key = _product_key(attributes, by_name)
    mode = normalize(attributes.get("runningMode", ""))
    if key is None:
        return []
    priced = []
    for term in terms.get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            period = _period(dimension.get("unit", ""))
            try:
                price = Decimal(dimension.get("pricePerUnit", {})["USD"])
            except (KeyError, InvalidOperation):
                continue
            role = {
                ("alwayson", "month"): Role.ALWAYS_ON_MONTHLY,
                ("autostop", "month"): Role.AUTO_STOP_MONTHLY,
                ("autostop", "hour"): Role.AUTO_STOP_HOURLY,
            }.get((mode, period))
            if role is not None and price.is_finite():
                priced.append((key, role, price))
    return priced


def _product_key(attributes: Mapping[str, str], by_name: Mapping[str, str]) -> PriceKey | None:
    """The key a product prices, or None when it is no WorkSpace bundle this module can read."""
    # `bundleGroup` only when there is no `bundle`: a variant's own name ("Standard Plus") must not
    # fall back to its group's ("Standard")
    compute_type = by_name.get(normalize(attributes.get("bundle") or attributes.get("bundleGroup") or ""))
    system = normalize(attributes.get("operatingSystem", ""))
    licence = _licence(attributes.get("license", ""))
    os_family = next((f for f, names in OS_SPELLINGS.items() if system in names), None)
    if system == ANY_OS and licence is Licence.BYOL:
        os_family = OsFamily.WINDOWS  # BYOL Windows 10/11 is also listed as `Any`
    root, user = _gib(attributes.get("rootVolume", "")), _gib(attributes.get("userVolume", ""))
    if compute_type is None or os_family is None or licence is None or root is None or user is None:
        return None
    if normalize(attributes.get("runningMode", "")) not in ("alwayson", "autostop"):
        return None
    if os_family is OsFamily.WINDOWS and licence is Licence.NONE:
        return None  # Windows always has a licence, included or yours: an unreadable product
    return PriceKey(compute_type, os_family, licence, root, user)


def _licence(text: str) -> Licence | None:
    """The `license` attribute as a Licence; None when it reads as none of them."""
    words = normalize(text)
    if "byol" in words or "bringyourown" in words:
        return Licence.BYOL
    if "included" in words:
        return Licence.INCLUDED
    if words in ("", "none", "na", "notapplicable"):
        return Licence.NONE
    return None


def _gib(text: str) -> int | None:
    match = re.match(r"\s*(\d+)\s*G", text, re.ASCII)
    return int(match.group(1)) if match else None


def _period(unit: str) -> str:
    unit = normalize(unit)
    if unit.startswith(("hr", "hour")):
        return "hour"
    if unit.startswith(("mo", "month")):
        return "month"
    return ""
