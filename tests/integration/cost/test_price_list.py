"""The Price List: the simulator serves GetProducts as the API documents it, and the adapter looks
a region's prices up once a day, through real boto3 clients."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import ACCOUNT
from tests.support import price_list, simulator
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import Workspace
from ws_autopilot.core.settings import known_compute_types
from ws_autopilot.cost.price_list import PriceList
from ws_autopilot.cost.pricing import NoPrice, Priced

BUCKET = "autopilot-reports"
DAY = date(2026, 11, 30)
IN_IRELAND = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"}]


@pytest.fixture
def pricing(aws):
    aws["s3"].create_bucket(Bucket=BUCKET)
    return boto3.client("pricing", region_name="us-east-1")


def prices(aws, pricing) -> PriceList:
    return PriceList(BUCKET, known_compute_types(), aws["s3"], pricing)


def standard(os: str = "WINDOWS_SERVER_2022") -> Workspace:
    return Workspace(
        "ws-1",
        "d-1",
        "alice",
        "AVAILABLE",
        "AUTO_STOP",
        "STANDARD",
        60,
        operating_system=os,
        root_volume_gib=80,
        user_volume_gib=50,
    )


def test_get_products_answers_in_the_apis_own_shape(pricing):
    response = pricing.get_products(ServiceCode="AmazonWorkSpaces", Filters=IN_IRELAND, MaxResults=3)
    assert response["FormatVersion"] == "aws_v1"
    assert len(response["PriceList"]) == 3 and response["NextToken"]
    item = json.loads(response["PriceList"][0])  # a JSON string per product
    attributes = item["product"]["attributes"]
    assert attributes["servicecode"] == "AmazonWorkSpaces"
    assert attributes["regionCode"] == "eu-west-1"
    assert {"bundle", "operatingSystem", "license", "runningMode", "rootVolume", "userVolume"} <= set(
        attributes
    )
    ((term,),) = [list(item["terms"]["OnDemand"].values())]
    ((dimension,),) = [list(term["priceDimensions"].values())]
    assert dimension["unit"] in ("Month", "Hrs")
    assert float(dimension["pricePerUnit"]["USD"]) > 0


def test_get_products_pages_and_filters_as_documented(pricing):
    pages, request = [], {"ServiceCode": "AmazonWorkSpaces", "Filters": IN_IRELAND, "MaxResults": 100}
    while True:
        response = pricing.get_products(**request)
        pages.append(response["PriceList"])
        if "NextToken" not in response:
            break
        request["NextToken"] = response["NextToken"]
    assert [len(p) for p in pages] == [100, 100, 99]
    modes = {
        json.loads(p)["product"]["attributes"]["runningMode"]
        for p in pricing.get_products(
            ServiceCode="AmazonWorkSpaces",
            Filters=[*IN_IRELAND, {"Type": "ANY_OF", "Field": "runningMode", "Value": "AlwaysOn"}],
        )["PriceList"]
    }
    assert modes == {"AlwaysOn"}


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"ServiceCode": "AmazonEC2"}, "NotFoundException"),
        ({"ServiceCode": "AmazonWorkSpaces", "MaxResults": 101}, "InvalidParameterException"),
        ({"ServiceCode": "AmazonWorkSpaces", "FormatVersion": "aws_v2"}, "InvalidParameterException"),
        ({"ServiceCode": "AmazonWorkSpaces", "NextToken": "not-a-token"}, "InvalidNextTokenException"),
    ],
)
def test_get_products_refuses_what_the_api_refuses(pricing, request_, code):
    with pytest.raises(ClientError) as raised:
        pricing.get_products(**request_)
    assert raised.value.response["Error"]["Code"] == code


def test_a_token_of_another_query_is_refused(pricing):
    token = pricing.get_products(ServiceCode="AmazonWorkSpaces", Filters=IN_IRELAND, MaxResults=1)[
        "NextToken"
    ]
    with pytest.raises(ClientError, match="InvalidNextTokenException"):
        pricing.get_products(ServiceCode="AmazonWorkSpaces", NextToken=token)


def test_a_regions_prices_are_read_once_a_day_then_come_from_the_cache(aws, pricing):
    simulator.CALLS.clear()
    first = prices(aws, pricing)
    book = first.book("eu-west-1", DAY)
    assert first.book("eu-west-1", DAY) is book  # remembered for the invocation
    assert simulator.CALLS[("pricing", "GetProducts")] == 3  # 299 products, 100 a page
    cached = aws["s3"].get_object(Bucket=BUCKET, Key="pricing/2026/11/30/eu-west-1.json")
    assert json.loads(cached["Body"].read())["region"] == "eu-west-1"

    again = prices(aws, pricing).book("eu-west-1", DAY)  # a later invocation that day

    assert simulator.CALLS[("pricing", "GetProducts")] == 3
    assert again.prices == book.prices
    found = again.lookup(standard())
    assert isinstance(found, Priced) and found.prices.break_even_hours() == 83  # Ireland: 106 % of US East
    assert str(found.prices) == "ALWAYS_ON $37.10/month, AUTO_STOP $10.34/month + $0.32/hour"


def test_the_next_day_asks_the_price_list_again(aws, pricing):
    prices(aws, pricing).book("us-east-1", DAY)
    simulator.CALLS.clear()
    price_list.set_price(ACCOUNT, {"regionCode": "us-east-1", "bundle": "Standard"}, "Hrs", "0.31")

    book = prices(aws, pricing).book("us-east-1", date(2026, 12, 1))

    assert simulator.CALLS[("pricing", "GetProducts")] == 3
    found = book.lookup(standard())
    assert isinstance(found, Priced) and found.prices.auto_stop_hourly == Decimal("0.31")


def test_a_denied_price_list_is_an_error_asked_once_per_invocation(aws, pricing):
    simulator.CALLS.clear()
    reader = prices(aws, pricing)
    with simulator.inject(simulator.Fault("pricing", "GetProducts", "AccessDeniedException")):
        for _ in range(3):
            with pytest.raises(AwsCallFailed, match="GetProducts failed: AccessDeniedException"):
                reader.book("us-east-1", DAY)
    assert simulator.CALLS[("pricing", "GetProducts")] == 1
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="pricing/")


def test_an_unusable_cache_object_is_replaced_from_the_price_list(aws, pricing):
    aws["s3"].put_object(Bucket=BUCKET, Key=PriceList.cache_key("us-east-1", DAY), Body=b"{not json")
    simulator.CALLS.clear()
    book = prices(aws, pricing).book("us-east-1", DAY)
    assert isinstance(book.lookup(standard("WINDOWS_11")), Priced)
    assert simulator.CALLS[("pricing", "GetProducts")] == 3


def test_a_region_the_price_list_does_not_price_is_not_cached(aws, pricing):
    book = prices(aws, pricing).book("sa-east-1", DAY)
    assert isinstance(book.lookup(standard()), NoPrice)
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="pricing/")


def test_the_request_asks_for_one_regions_workspaces_products_100_a_page():
    assert PriceList.request("ap-southeast-2", "tok") == {
        "ServiceCode": "AmazonWorkSpaces",
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "ap-southeast-2"}],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
        "NextToken": "tok",
    }
