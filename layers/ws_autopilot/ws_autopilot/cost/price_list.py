"""WorkSpaces list prices from the AWS Price List Query API (`pricing:GetProducts`), looked up once
per region and day and kept in the report bucket, so a run makes a handful of pricing calls
whatever the size of its fleet.

The Price List Query API is served from a few regions only (us-east-1, eu-central-1, ap-south-1
in the `aws` partition); prices are public, so the function's own credentials ask for them, never
a member account's. One day's prices of one region are one S3 object,
`pricing/YYYY/MM/DD/<region>.json`, written by the first invocation that needs them and read by
every later one that day (encrypted by the bucket's default key, expired after 7 days).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.aws.tags import partition
from ws_autopilot.core.errors import AwsCallFailed, PermanentAwsError
from ws_autopilot.cost.pricing import SERVICE_CODE, PriceBook, parse_price_list

logger = Logger(child=True)

PRICE_LIST_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-northwest-1"}
CACHE_PREFIX = "pricing"
PAGE_SIZE = 100  # the most GetProducts returns per call
MAX_PAGES = 500  # a bound on a paging loop that would otherwise trust the API not to cycle
NOT_CACHED = frozenset({"NoSuchKey", "404", "AccessDenied"})  # without s3:ListBucket a miss is 403


class PriceList:
    """One region's WorkSpaces prices for one day: from memory, else the day's cache object, else
    GetProducts (then cached). Lookups of one invocation are remembered, failures included, so a
    region whose prices cannot be had costs one attempt per invocation, not one per batch."""

    def __init__(
        self,
        bucket: str,
        compute_types: Collection[str],
        s3_client: Any | None = None,
        pricing_client: Any | None = None,
    ) -> None:
        self.bucket = bucket
        self.compute_types = frozenset(compute_types)
        self._s3 = s3_client or client("s3")
        self._pricing = pricing_client
        self._books: dict[tuple[str, date], PriceBook | AwsCallFailed] = {}

    @staticmethod
    def cache_key(region: str, day: date) -> str:
        return f"{CACHE_PREFIX}/{day:%Y/%m/%d}/{region}.json"

    @staticmethod
    def request(region: str, next_token: str | None = None) -> dict[str, Any]:
        """GetProducts for every WorkSpaces product of one region, 100 a page."""
        request: dict[str, Any] = {
            "ServiceCode": SERVICE_CODE,
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
            "FormatVersion": "aws_v1",
            "MaxResults": PAGE_SIZE,
        }
        if next_token:
            request["NextToken"] = next_token
        return request

    def book(self, region: str, day: date) -> PriceBook:
        """The prices of `region` on `day`. Raises AwsCallFailed when the Price List cannot be read
        (the same failure again for the rest of this object's life)."""
        found = self._books.get((region, day))
        if found is None:
            try:
                found = self._cached(region, day) or self._fetch(region, day)
            except AwsCallFailed as exc:
                logger.warning("WorkSpaces prices unavailable", extra={"region": region, "error": str(exc)})
                found = exc
            self._books[(region, day)] = found
        if isinstance(found, AwsCallFailed):
            raise found
        return found

    def _cached(self, region: str, day: date) -> PriceBook | None:
        try:
            with aws_call("GetObject"):
                body = self._s3.get_object(Bucket=self.bucket, Key=self.cache_key(region, day))["Body"].read()
        except AwsCallFailed as exc:
            if exc.error_code not in NOT_CACHED:
                logger.warning("price cache unreadable; asking the Price List", extra={"error": str(exc)})
            return None
        try:
            return PriceBook.from_json(body.decode())
        except (ValueError, UnicodeDecodeError) as exc:
            logger.warning("price cache object unusable; asking the Price List", extra={"error": str(exc)})
            return None

    def _fetch(self, region: str, day: date) -> PriceBook:
        where = PRICE_LIST_REGIONS.get(partition(region))
        if where is None:
            raise PermanentAwsError("GetProducts", f"NoPriceListIn-{partition(region)}")
        if self._pricing is None:
            self._pricing = client("pricing", region_name=where)
        items: list[str] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            with aws_call("GetProducts"):
                response = self._pricing.get_products(**self.request(region, token))
            items.extend(response.get("PriceList", []))
            token = response.get("NextToken")
            if not token:
                break
        book = parse_price_list(region, items, self.compute_types)
        logger.info(
            "WorkSpaces prices read", extra={"region": region, "products": len(items), "keys": len(book)}
        )
        if not len(book):
            return book  # not cached: nothing to keep, and the next invocation asks again
        try:
            with aws_call("PutObject"):
                self._s3.put_object(
                    Bucket=self.bucket,
                    Key=self.cache_key(region, day),
                    Body=book.to_json().encode(),
                    ContentType="application/json",
                )
        except AwsCallFailed as exc:
            logger.warning("prices not cached; later invocations ask again", extra={"error": str(exc)})
        return book
