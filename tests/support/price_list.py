"""The AWS Price List Query API (`pricing`) in the simulator: moto has no backend for it, so this
module adds one, served like moto's own in every mode (in-process `mock_aws`, server), and
registered by `simulator.install()`.

GetProducts answers in the API's own shape (FormatVersion `aws_v1`, `PriceList` as a list of
JSON strings, product `attributes`, `terms.OnDemand.*.priceDimensions.*` with `unit` and
`pricePerUnit.USD`), with the documented Filters types (TERM_MATCH, EQUALS, CONTAINS, ANY_OF,
NONE_OF), MaxResults 1-100 and opaque NextToken paging bound to its query, and the documented
errors (InvalidParameterException, NotFoundException, InvalidNextTokenException).

The catalogue is a realistic sample of the `AmazonWorkSpaces` offer: three regions, the common
bundles, Windows with the licence included or your own (BYOL) and Amazon Linux, the usual
root/user volume pairs; ALWAYS_ON as one monthly product, AUTO_STOP as a monthly-fee product and
an hourly one. US East prices are close to the public ones; other regions apply their usual
premium. Tests change it with `set_price`, `add_product` and `remove_products`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from moto.backend_index import backend_url_patterns
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse

SERVICE_CODE = "AmazonWorkSpaces"
MAX_RESULTS = 100
FILTER_TYPES = frozenset({"TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF"})
PUBLICATION = "2026-11-01T00:00:00Z"
LOCATIONS = {
    "us-east-1": ("US East (N. Virginia)", "USE1", Decimal("1.00")),
    "eu-west-1": ("EU (Ireland)", "EU", Decimal("1.06")),
    "ap-southeast-2": ("Asia Pacific (Sydney)", "APS2", Decimal("1.17")),
}

# Windows with the licence included, US East: bundle -> (vCPU, memory GiB, hardware code,
# [(root GB, user GB)], ALWAYS_ON monthly, AUTO_STOP monthly fee, AUTO_STOP hourly) for the first
# volume pair; a larger pair adds its extra storage to both monthly amounts.
BUNDLES: dict[str, tuple[int, int, int, list[tuple[int, int]], str, str, str]] = {
    "Value": (1, 2, 1, [(80, 10), (80, 50)], "25.00", "7.25", "0.22"),
    "Standard": (2, 4, 2, [(80, 50), (80, 10), (175, 100)], "35.00", "9.75", "0.30"),
    "Performance": (2, 8, 3, [(80, 100), (175, 100)], "56.00", "13.00", "0.53"),
    "Power": (4, 16, 8, [(175, 100), (175, 175)], "80.00", "19.00", "0.66"),
    "PowerPro": (8, 32, 9, [(175, 100)], "124.00", "19.00", "1.35"),
    "Graphics.g4dn": (4, 16, 12, [(100, 100)], "500.00", "66.00", "1.30"),
    "GraphicsPro.g4dn": (16, 64, 13, [(100, 100)], "1049.00", "66.00", "12.15"),
}
STORAGE_PER_GB_MONTH = Decimal("0.055")
# (operatingSystem, license): what changes against Windows with the licence included.
EDITIONS: dict[tuple[str, str], tuple[Decimal, Decimal]] = {
    ("Windows", "Included"): (Decimal(0), Decimal(0)),  # monthly and hourly difference
    ("Windows", "Bring Your Own License"): (Decimal("-4.00"), Decimal("-0.04")),
    ("Linux", "None"): (Decimal("-8.00"), Decimal("-0.09")),
}


class InvalidParameterException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterException", message)


class NotFoundException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("NotFoundException", message)


class InvalidNextTokenException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidNextTokenException", message)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _sku(*parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def product(
    region: str,
    bundle: str,
    operating_system: str,
    licence: str,
    root_gb: int,
    user_gb: int,
    running_mode: str,
    unit: str,
    usd: Decimal | str,
) -> dict[str, Any]:
    """One product as GetProducts returns it (before it is turned into a JSON string)."""
    location, prefix, _factor = LOCATIONS[region]
    vcpu, memory, hardware, *_ = BUNDLES.get(bundle, (0, 0, 0, [], "", "", ""))
    hourly = unit == "Hrs"
    usage = f"{prefix}-AW-HW-{hardware}-{running_mode}{'-Usage' if hourly else ''}"
    sku = _sku(region, bundle, operating_system, licence, root_gb, user_gb, running_mode, unit)
    term, rate = "JRTCKXETXF", "6YS6EN2CT7"
    per = "hour" if hourly else "month"
    return {
        "product": {
            "productFamily": "Workspaces",
            "attributes": {
                "servicecode": SERVICE_CODE,
                "servicename": "Amazon WorkSpaces",
                "location": location,
                "locationType": "AWS Region",
                "regionCode": region,
                "usagetype": usage,
                "operation": "",
                "group": f"{bundle}-{running_mode}",
                "groupDescription": f"{bundle} bundle, {running_mode}",
                "bundle": bundle,
                "bundleGroup": bundle,
                "bundleDescription": f"{vcpu} vCPU, {memory} GiB memory",
                "vcpu": str(vcpu),
                "memory": f"{memory} GB",
                "operatingSystem": operating_system,
                "license": licence,
                "rootVolume": f"{root_gb} GB",
                "userVolume": f"{user_gb} GB",
                "runningMode": running_mode,
                "resourceType": "Hardware",
                "softwareIncluded": "None",
                "pricingUnit": "Hour" if hourly else "Month",
            },
            "sku": sku,
        },
        "serviceCode": SERVICE_CODE,
        "terms": {
            "OnDemand": {
                f"{sku}.{term}": {
                    "priceDimensions": {
                        f"{sku}.{term}.{rate}": {
                            "unit": unit,
                            "endRange": "Inf",
                            "description": f"${usd} per {per} for {bundle} {operating_system} {running_mode}"
                            f" ({root_gb} GB root, {user_gb} GB user) in {location}",
                            "appliesTo": [],
                            "rateCode": f"{sku}.{term}.{rate}",
                            "beginRange": "0",
                            "pricePerUnit": {"USD": f"{Decimal(usd):.10f}"},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": PUBLICATION,
                    "offerTermCode": term,
                    "termAttributes": {},
                }
            }
        },
        "version": "20261101000000",
        "publicationDate": PUBLICATION,
    }


def catalogue() -> list[dict[str, Any]]:
    """The simulated AmazonWorkSpaces offer, every region, bundle, edition and volume pair."""
    products = []
    for region, (_location, _prefix, factor) in LOCATIONS.items():
        for bundle, (_v, _m, _h, volumes, always_on, fee, hourly) in BUNDLES.items():
            base_gb = sum(volumes[0])
            for (os_name, licence), (monthly_delta, hourly_delta) in EDITIONS.items():
                for root_gb, user_gb in volumes:
                    storage = STORAGE_PER_GB_MONTH * (root_gb + user_gb - base_gb)
                    prices = {
                        ("AlwaysOn", "Month"): (Decimal(always_on) + monthly_delta + storage) * factor,
                        ("AutoStop", "Month"): (Decimal(fee) + storage) * factor,
                        ("AutoStop", "Hrs"): (Decimal(hourly) + hourly_delta) * factor,
                    }
                    for (mode, unit), usd in prices.items():
                        products.append(
                            product(
                                region, bundle, os_name, licence, root_gb, user_gb, mode, unit, _cents(usd)
                            )
                        )
    return products


# --------------------------------------------------------------------------------------------
# The backend and its responses
# --------------------------------------------------------------------------------------------
class PriceListBackend(BaseBackend):
    """The Price List of one (account, region) endpoint: the same public catalogue everywhere."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.products: list[dict[str, Any]] = catalogue()

    @property
    def _url_module(self) -> Any:
        return types.SimpleNamespace(
            url_bases=[r"https?://api\.pricing\.(.+)\.amazonaws\.com"],
            url_paths={"{0}/$": PriceListResponse.dispatch},
        )

    def get_products(
        self, service_code: str, filters: list[dict[str, str]], format_version: str
    ) -> list[dict[str, Any]]:
        if service_code != SERVICE_CODE:
            raise NotFoundException(
                f"Service code {service_code} is not found (the simulator serves {SERVICE_CODE})"
            )
        if format_version != "aws_v1":
            raise InvalidParameterException(f"FormatVersion {format_version} is not supported; use aws_v1")
        matches = [_filter(f) for f in filters]
        return [p for p in self.products if all(match(p["product"]["attributes"]) for match in matches)]


def _filter(spec: Mapping[str, str]) -> Callable[[Mapping[str, str]], bool]:
    kind, field, value = spec.get("Type"), spec.get("Field"), spec.get("Value")
    if kind not in FILTER_TYPES or not field or value is None:
        raise InvalidParameterException(f"Invalid filter {dict(spec)}: Type, Field and Value are required")
    wanted = [v.strip() for v in value.split(",")]

    def match(attributes: Mapping[str, str]) -> bool:
        actual = attributes.get(field)
        if kind in ("TERM_MATCH", "EQUALS"):
            return actual == value
        if kind == "CONTAINS":
            return actual is not None and value in actual
        if kind == "ANY_OF":
            return actual in wanted
        return actual not in wanted  # NONE_OF

    return match


class PriceListResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="pricing")

    @property
    def backend(self) -> PriceListBackend:
        return pricing_backends[self.current_account][self.region]  # type: ignore[no-any-return]

    def get_products(self) -> str:
        params = json.loads(self.body or "{}")
        limit = params.get("MaxResults", MAX_RESULTS)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
            raise InvalidParameterException(f"MaxResults must be between 1 and {MAX_RESULTS}")
        filters = params.get("Filters", [])
        query = _sku(params.get("ServiceCode"), json.dumps(filters, sort_keys=True))
        found = self.backend.get_products(
            params.get("ServiceCode", ""), filters, params.get("FormatVersion", "aws_v1")
        )
        start = _offset(params.get("NextToken"), query)
        body: dict[str, Any] = {
            "FormatVersion": "aws_v1",
            "PriceList": [json.dumps(p) for p in found[start : start + limit]],
        }
        if start + limit < len(found):
            body["NextToken"] = base64.urlsafe_b64encode(f"{query}:{start + limit}".encode()).decode()
        return json.dumps(body)


def _offset(token: str | None, query: str) -> int:
    if not token:
        return 0
    try:
        owner, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if owner == query:
            return int(offset)
    except ValueError:
        pass
    raise InvalidNextTokenException("The pagination token is invalid. Try again without a pagination token.")


pricing_backends = BackendDict(PriceListBackend, "pricing")


# --------------------------------------------------------------------------------------------
# Registration and test-side helpers
# --------------------------------------------------------------------------------------------
def register() -> None:
    """Make moto serve `pricing` with this backend: its URL pattern for `mock_aws`, and a
    `moto.pricing` module where moto's server and stubber look the backend up (idempotent;
    before `mock_aws()` starts, which reads the URL patterns)."""
    if "moto.pricing" in sys.modules:
        return
    module = types.ModuleType("moto.pricing")
    module.pricing_backends = pricing_backends  # type: ignore[attr-defined]
    sys.modules["moto.pricing"] = module
    backend_url_patterns.append(("pricing", re.compile(r"https?://api\.pricing\.(.+)\.amazonaws\.com")))
    backend_url_patterns.append(("pricing", re.compile(r"https?://pricing\.(.+)\.amazonaws\.com")))


ENDPOINTS = ("us-east-1", "eu-central-1", "ap-south-1")  # where the Price List Query API is served


def _backends(account_id: str) -> Iterable[PriceListBackend]:
    return [pricing_backends[account_id][region] for region in ENDPOINTS]


def set_price(account_id: str, match: Mapping[str, str], unit: str, usd: str) -> int:
    """Set the USD price of every product whose attributes include `match` and whose dimension
    is in `unit` ("Month" or "Hrs"), at every Price List endpoint; how many products changed."""
    changed = {}
    for backend in _backends(account_id):
        changed[backend.region_name] = 0
        for p in backend.products:
            dimensions = [d for t in p["terms"]["OnDemand"].values() for d in t["priceDimensions"].values()]
            if _includes(p, match) and any(d["unit"] == unit for d in dimensions):
                for dimension in dimensions:
                    dimension["pricePerUnit"]["USD"] = f"{Decimal(usd):.10f}"
                changed[backend.region_name] += 1
    return changed["us-east-1"]


def add_product(account_id: str, item: dict[str, Any]) -> None:
    """Add a product (from `product()`) at every Price List endpoint."""
    for backend in _backends(account_id):
        backend.products.append(json.loads(json.dumps(item)))


def remove_products(account_id: str, match: Mapping[str, str]) -> int:
    """Withdraw every product whose attributes include `match`; how many were removed."""
    removed = {}
    for backend in _backends(account_id):
        before = len(backend.products)
        backend.products = [p for p in backend.products if not _includes(p, match)]
        removed[backend.region_name] = before - len(backend.products)
    return removed["us-east-1"]


def _includes(item: Mapping[str, Any], match: Mapping[str, str]) -> bool:
    attributes = item["product"]["attributes"]
    return all(attributes.get(k) == v for k, v in match.items())
