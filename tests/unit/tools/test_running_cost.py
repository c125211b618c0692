"""docs/running-cost.md's tables (tools/running_cost.py): each price as the page writes it is the
price the arithmetic uses, each dollar cell is its quantity times that price, the totals add up,
a few lines recomputed by hand from the benchmarks' counts, and the committed page is current."""

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tools.running_cost import FLEETS, PAGE, PRICES, month, render, run, traced_logins

PER = {"1M": Decimal(1_000_000), "1,000": Decimal(1_000), "10,000": Decimal(10_000)}


def price_in_words(text: str) -> Decimal:
    """'$0.625 per 1M WRU' -> 0.000000625; '$0.25 per GB-month' -> 0.25."""
    match = re.match(r"\$([\d.]+) per (1M|1,000|10,000)?", text)
    assert match, text
    return Decimal(match.group(1)) / PER.get(match.group(2) or "", Decimal(1))


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_every_price_the_page_states_is_the_one_the_arithmetic_uses():
    for price in PRICES.values():
        assert price_in_words(price.text) == price.per_unit, price.key
        assert price.source.startswith("aws.amazon.com/"), price.key


def rows(table: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| Service") and "**" not in line
    ]


def money(cell: str) -> Decimal | None:
    """A dollar cell; None for '< $0.01' (a positive amount under half a cent)."""
    if cell.startswith("<"):
        return None
    return Decimal(cell.strip("*$").replace(",", ""))


def test_each_dollar_cell_is_its_quantity_times_its_unit_price_and_the_totals_add_up():
    body = render().split("By service:")[0]
    sums = [Decimal(0), Decimal(0)]
    for service, item, unit_price, *cells in rows(body):
        price = price_in_words(unit_price)
        for column, (quantity, shown) in enumerate(zip(cells[0::2], cells[1::2], strict=True)):
            exact = Decimal(quantity.replace(",", "")) * price
            sums[column] += exact
            if money(shown) is None:
                assert Decimal(0) < exact < Decimal("0.005"), (service, item)
            else:
                assert money(shown) == cents(exact), (service, item, column)
    totals = re.search(r"\| \*\*Total\*\* \| \| \| \| \*\*(.+?)\*\* \| \| \*\*(.+?)\*\* \|", body)
    assert totals
    assert [money(totals.group(1)), money(totals.group(2))] == [cents(s) for s in sums]


def line(workspaces: int, item: str) -> Decimal:
    fleet = next(f for f in FLEETS if f.workspaces == workspaces)
    return next(x for x in month(fleet) if x.item == item).dollars


def test_the_biggest_line_at_50000_is_reading_usage_one_metric_per_workspace_a_run():
    # 31 runs x (50,000 month-to-date series + 5,776 two-month histories), and the last day's
    # two runs x 50,000 x 2 (CPU and memory, for right-sizing), $0.01 per 1,000.
    assert line(50_000, "GetMetricData, daily runs") == Decimal("17.29056") + Decimal("2.00")
    assert max(month(FLEETS[1]), key=lambda x: x.dollars).item == "GetMetricData, daily runs"


def test_logins_write_five_units_each_and_are_traced_as_xray_samples_them():
    # 50,000 WorkSpaces x 21 working days x 5 WRU at $0.625 per million.
    assert line(50_000, "writes, logins") == Decimal("3.28125")
    # 756,000 seconds with logins (21 days x 10 hours): one traced each, then 5% of 294,000.
    assert traced_logins(FLEETS[1]) == 756_000 + 14_700
    assert traced_logins(FLEETS[0]) == 21_000  # under one a second: every one


@pytest.mark.parametrize(
    ("workspaces", "month_end", "seconds"),
    [
        # month end: 25,848 WorkSpaces calls at 2/s + 800 GetMetricData (usage) and 800 more
        # (right-sizing's CPU and memory) at 1 s + 51,394 other calls at 30 ms + 50,000 x 12 ms of CPU
        (50_000, True, Decimal("12924") + 800 + 800 + Decimal("1541.82") + 600),
        # a normal day: 2,000 pages + 400 connection status + 500 conversions + 1; other calls
        # 500 ledger + 400 last logins + 2,000 user map + 800 tags + 800 S3 + 2 x 500 conversions
        (50_000, False, Decimal("1450.5") + 800 + Decimal("0.03") * 5500 + 600),
        (1_000, True, Decimal("220.5") + 16 + 16 + Decimal("0.03") * (10 + 8 + 40 + 16 + 16 + 782) + 12),
    ],
)
def test_the_optimizers_billed_seconds_follow_the_benchmarks_calls(workspaces, month_end, seconds):
    fleet = next(f for f in FLEETS if f.workspaces == workspaces)
    assert run(fleet, month_end).seconds(fleet) == seconds


def test_the_committed_page_is_what_the_tool_prints():
    assert render() in PAGE.read_text(), "regenerate: .venv/bin/python -m tools.running_cost --write"
