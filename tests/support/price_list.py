"""The AWS Price List Query API (`pricing`) in the simulator: moto has no backend for it, so this
module adds one, served like moto's own in every mode (in-process `mock_aws`, server), and
registered by `simulator.install()`.

GetProducts answers in the API's own shape (FormatVersion `aws_v1`, `PriceList` as a list of
JSON strings, product `attributes`, `terms.OnDemand.*.priceDimensions.*` with `unit` and
`pricePerUnit.USD`), with the documented Filters types (TERM_MATCH, EQUALS, CONTAINS, ANY_OF,
NONE_OF), MaxResults 1-100 and opaque NextToken paging bound to its query, and the documented
errors (InvalidParameterException, NotFoundException, InvalidNextTokenException).

The catalogue is a realistic sample of the `AmazonWorkSpaces` offer, with the traps people who
query it for WorkSpaces document: three regions; a bundle for every compute type AWS lists today
(the legacy Graphics and GraphicsPro no longer); Windows with the licence included or your own
(BYOL, listed as `Windows` for the classic bundles and as `Any` for the GPU and GeneralPurpose
ones), Amazon Linux and Ubuntu with no licence, RHEL and Rocky Linux with theirs included; the
usual root/user volume pairs, each its own products (storage variants); ALWAYS_ON as one monthly
product, AUTO_STOP as a monthly-fee product and an hourly one. Beside them: Office ("Plus")
variants of the same bundles with `softwareIncluded` and dearer prices, a "WorkSpaces Core" product
family that reuses the Personal bundle names at other prices, and per-GB storage products. A
region holds 299 products: three GetProducts pages of 100. US East prices are close to the public
ones; other regions apply their usual premium. Tests change it with `set_price`, `add_product`
and `remove_products`.
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
# [(root GB, user GB)], ALWAYS_ON monthly, AUTO_STOP monthly fee, AUTO_STOP hourly, editions) for
# the first volume pair; a larger pair adds its extra storage to both monthly amounts.
WINDOWS = (("Windows", "Included"), ("Windows", "Bring Your Own License"))
WINDOWS_ANY = (("Windows", "Included"), ("Any", "Bring Your Own License"))
AMAZON_LINUX = (("Linux", "None"),)
UBUNTU = (("Ubuntu", "None"),)
LINUXES = (*AMAZON_LINUX, *UBUNTU, ("Red Hat Enterprise Linux", "Included"), ("Rocky Linux", "Included"))
Editions = tuple[tuple[str, str], ...]
BUNDLES: dict[str, tuple[int, int, int, list[tuple[int, int]], str, str, str, Editions]] = {
    "Value": (1, 2, 1, [(80, 10), (80, 50)], "25.00", "7.25", "0.22", WINDOWS + AMAZON_LINUX),
    "Standard": (2, 4, 2, [(80, 50), (80, 10), (175, 100)], "35.00", "9.75", "0.30", WINDOWS + LINUXES),
    "Performance": (2, 8, 3, [(80, 100), (175, 100)], "56.00", "13.00", "0.53", WINDOWS + LINUXES),
    "Power": (4, 16, 8, [(175, 100), (175, 175)], "80.00", "19.00", "0.66", WINDOWS + LINUXES),
    "PowerPro": (8, 32, 9, [(175, 100)], "124.00", "19.00", "1.35", WINDOWS + AMAZON_LINUX),
    "Graphics.g4dn": (4, 16, 12, [(100, 100)], "500.00", "66.00", "1.30", WINDOWS),
    "GraphicsPro.g4dn": (16, 64, 13, [(100, 100)], "1049.00", "66.00", "12.15", WINDOWS),
    "GeneralPurpose.4xlarge": (16, 64, 20, [(175, 100)], "250.00", "26.00", "1.70", WINDOWS_ANY + UBUNTU),
    "GeneralPurpose.8xlarge": (32, 128, 21, [(175, 100)], "495.00", "26.00", "3.35", WINDOWS_ANY + UBUNTU),
    "Graphics.g6.xlarge": (4, 16, 30, [(100, 100)], "360.00", "66.00", "1.40", WINDOWS_ANY),
    "Graphics.g6.2xlarge": (8, 32, 31, [(100, 100)], "480.00", "66.00", "1.75", WINDOWS_ANY),
    "Graphics.g6.4xlarge": (16, 64, 32, [(100, 100)], "720.00", "66.00", "2.55", WINDOWS_ANY),
    "Graphics.g6.8xlarge": (32, 128, 33, [(100, 100)], "1150.00", "66.00", "4.05", WINDOWS_ANY),
    "Graphics.g6.16xlarge": (64, 256, 34, [(100, 100)], "1960.00", "66.00", "6.90", WINDOWS_ANY),
    "Graphics.gr6.4xlarge": (16, 128, 35, [(100, 100)], "890.00", "66.00", "3.10", WINDOWS_ANY),
    "Graphics.gr6.8xlarge": (32, 256, 36, [(100, 100)], "1360.00", "66.00", "4.80", WINDOWS_ANY),
    "Graphics.g6f.large": (2, 8, 37, [(100, 100)], "150.00", "30.00", "0.60", WINDOWS_ANY),
    "Graphics.g6f.xlarge": (4, 16, 38, [(100, 100)], "210.00", "35.00", "0.85", WINDOWS_ANY),
    "Graphics.g6f.2xlarge": (8, 32, 39, [(100, 100)], "290.00", "40.00", "1.15", WINDOWS_ANY),
    "Graphics.g6f.4xlarge": (16, 64, 40, [(100, 100)], "430.00", "50.00", "1.65", WINDOWS_ANY),
    "Graphics.gr6f.4xlarge": (16, 128, 41, [(100, 100)], "520.00", "50.00", "1.95", WINDOWS_ANY),
    "Graphics.g7.2xlarge": (8, 32, 50, [(100, 100)], "540.00", "66.00", "1.95", WINDOWS_ANY),
    "Graphics.g7.4xlarge": (16, 64, 51, [(100, 100)], "790.00", "66.00", "2.80", WINDOWS_ANY),
    "Graphics.g7.8xlarge": (32, 128, 52, [(100, 100)], "1290.00", "66.00", "4.55", WINDOWS_ANY),
    "Graphics.g7.12xlarge": (48, 192, 53, [(100, 100)], "1790.00", "66.00", "6.30", WINDOWS_ANY),
}
STORAGE_PER_GB_MONTH = Decimal("0.055")
# (operatingSystem, license): what changes against Windows with the licence included.
EDITIONS: dict[tuple[str, str], tuple[Decimal, Decimal]] = {
    ("Windows", "Included"): (Decimal(0), Decimal(0)),  # monthly and hourly difference
    ("Windows", "Bring Your Own License"): (Decimal("-4.00"), Decimal("-0.04")),
    ("Any", "Bring Your Own License"): (Decimal("-4.00"), Decimal("-0.04")),
    ("Linux", "None"): (Decimal("-8.00"), Decimal("-0.09")),
    ("Ubuntu", "None"): (Decimal("-7.00"), Decimal("-0.08")),
    ("Red Hat Enterprise Linux", "Included"): (Decimal("-5.00"), Decimal("-0.05")),
    ("Rocky Linux", "Included"): (Decimal("-6.00"), Decimal("-0.06")),
}
PERSONAL = "Workspaces"
CORE = "WorkSpaces Core"
OFFICE = "Microsoft Office Professional 2021"
OFFICE_MONTHLY = Decimal("15.00")  # the Plus variant's Office fee, in both modes
OFFICE_BUNDLES = ("Standard", "Performance", "Power")  # Windows (licence included), first volumes
# WorkSpaces Core: the same bundle names, Windows BYOL, other prices (first volume pair)
CORE_PRICES = {"Standard": ("21.00", "6.00", "0.19"), "Performance": ("38.00", "9.00", "0.36")}
CORE_PRICES["Power"] = ("55.00", "12.00", "0.45")


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
    *,
    family: str = PERSONAL,
    software: str = "None",
) -> dict[str, Any]:
    """One product as GetProducts returns it (before it is turned into a JSON string): a bundle
    of the WorkSpaces Personal family without software unless `family` or `software` say
    otherwise."""
    location, prefix, _factor = LOCATIONS[region]
    vcpu, memory, hardware, *_ = BUNDLES.get(bundle, (0, 0, 0, [], "", "", "", ()))
    hourly = unit == "Hrs"
    usage = f"{prefix}-AW-HW-{hardware}-{running_mode}{'-Usage' if hourly else ''}"
    sku = _sku(
        region, bundle, operating_system, licence, root_gb, user_gb, running_mode, unit, family, software
    )
    if family != PERSONAL:
        usage = f"{prefix}-AW-CORE-HW-{hardware}-{running_mode}{'-Usage' if hourly else ''}"
    if software != "None":
        usage += "-Office"
    term, rate = "JRTCKXETXF", "6YS6EN2CT7"
    per = "hour" if hourly else "month"
    return {
        "product": {
            "productFamily": family,
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
                "softwareIncluded": software,
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
    """The simulated AmazonWorkSpaces offer: every region, bundle, edition and volume pair, the
    Office variants, the WorkSpaces Core family and the storage products."""
    products = []
    for region, (_location, _prefix, factor) in LOCATIONS.items():
        for bundle, (_v, _m, _h, volumes, always_on, fee, hourly, editions) in BUNDLES.items():
            base_gb = sum(volumes[0])
            for os_name, licence in editions:
                monthly_delta, hourly_delta = EDITIONS[(os_name, licence)]
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
        products.extend(_traps(region, factor))
    return products


def _traps(region: str, factor: Decimal) -> list[dict[str, Any]]:
    """The products beside the plain Personal bundles that share their names and volumes."""
    found = []
    for bundle in OFFICE_BUNDLES:
        _v, _m, _h, volumes, always_on, fee, hourly, _e = BUNDLES[bundle]
        root_gb, user_gb = volumes[0]
        office = {
            ("AlwaysOn", "Month"): Decimal(always_on) + OFFICE_MONTHLY,
            ("AutoStop", "Month"): Decimal(fee) + OFFICE_MONTHLY,
            ("AutoStop", "Hrs"): Decimal(hourly),
        }
        for (mode, unit), usd in office.items():
            found.append(
                product(
                    region, bundle, "Windows", "Included", root_gb, user_gb, mode, unit,
                    _cents(usd * factor), software=OFFICE,
                )
            )  # fmt: skip
    for bundle, core_prices in CORE_PRICES.items():
        root_gb, user_gb = BUNDLES[bundle][3][0]
        units = (("AlwaysOn", "Month"), ("AutoStop", "Month"), ("AutoStop", "Hrs"))
        for (mode, unit), usd in zip(units, core_prices, strict=True):
            found.append(
                product(
                    region, bundle, "Windows", "Bring Your Own License", root_gb, user_gb, mode, unit,
                    _cents(Decimal(usd) * factor), family=CORE,
                )
            )  # fmt: skip
    found.extend(_storage(region, factor, volume) for volume in ("Root", "User"))
    return found


def _storage(region: str, factor: Decimal, volume: str) -> dict[str, Any]:
    """A per-GB storage product: another family, no bundle, priced per GB-month."""
    location, prefix, _factor = LOCATIONS[region]
    sku = _sku(region, "storage", volume)
    usd = _cents(STORAGE_PER_GB_MONTH * 100 * factor) / 100
    return {
        "product": {
            "productFamily": "Storage",
            "attributes": {
                "servicecode": SERVICE_CODE,
                "location": location,
                "regionCode": region,
                "usagetype": f"{prefix}-AW-{volume}Volume-GB",
                "storage": f"{volume} volume",
                "resourceType": "Storage",
            },
            "sku": sku,
        },
        "serviceCode": SERVICE_CODE,
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "priceDimensions": {
                        f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                            "unit": "GB-Mo",
                            "description": f"${usd} per GB-month of {volume.lower()} volume in {location}",
                            "pricePerUnit": {"USD": f"{usd:.10f}"},
                        }
                    },
                    "sku": sku,
                }
            }
        },
    }


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
