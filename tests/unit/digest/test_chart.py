"""The digest's twelve-month chart (digest/chart.py): the figures each digest stores for the months
after it, and the inline SVG drawn from them."""

import re
from decimal import Decimal

import pytest

from ws_autopilot.digest.chart import MonthFigures, chart_months, chart_svg, short_usd


def test_a_months_figures_read_back_as_written():
    figures = MonthFigures("2026-11", Decimal("954.75"), Decimal("-3.20"), False)
    assert MonthFigures.from_json(figures.to_json()) == figures
    unknown = MonthFigures("2026-02", None, None, True)
    assert MonthFigures.from_json(unknown.to_json().encode()) == unknown


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"month": "2026-11"}',
        '{"month": "November", "fleet_cost_usd": null, "realized_saving_usd": null, "dry_run": false}',
        '{"month": "2026-11", "fleet_cost_usd": "NaN", "realized_saving_usd": null, "dry_run": false}',
        '{"month": "2026-11", "fleet_cost_usd": "lots", "realized_saving_usd": null, "dry_run": false}',
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        MonthFigures.from_json(text)


def test_the_chart_covers_the_twelve_months_ending_with_the_digests():
    assert chart_months("2026-11") == ["2025-12", *(f"2026-{m:02d}" for m in range(1, 12))]
    assert chart_months("2026-03")[:2] == ["2025-04", "2025-05"] and chart_months("2026-03")[-1] == "2026-03"


@pytest.mark.parametrize(
    ("amount", "label"),
    [(0, "$0"), (7.5, "$7.50"), (50, "$50"), (420.4, "$420"), (1250, "$1,250"), (12500, "$12.5k"),
     (1_750_000, "$1.75M"), (-3.2, "-$3.20")],
)  # fmt: skip
def test_chart_labels_are_short_dollars(amount, label):
    assert short_usd(amount) == label


def history() -> list[tuple[str, MonthFigures | None]]:
    months = chart_months("2026-11")
    figures: dict[str, MonthFigures | None] = {m: None for m in months}
    figures["2026-08"] = MonthFigures("2026-08", Decimal("1184.40"), Decimal("0.00"), True)
    figures["2026-09"] = MonthFigures("2026-09", Decimal("1043.15"), Decimal("66.10"), False)
    figures["2026-11"] = MonthFigures("2026-11", Decimal("954.75"), Decimal("-12.00"), False)
    return list(figures.items())


def test_the_chart_is_inline_svg_with_months_dollar_axes_and_gaps_named():
    svg = str(chart_svg(history()))
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert not re.search(r"<script|(src|href)=|url\(", svg), "nothing a mail client would block"
    for month in ("Dec", "Jan", "Aug", "Sep", "Oct", "Nov"):
        assert f">{month}</text>" in svg
    assert ">2025</text>" in svg and ">2026</text>" in svg  # under the first month and under January
    assert svg.count(">no digest</text>") == 2 * 9, "each month without figures, in both panels"
    assert ">dry run</text>" in svg
    assert ">$1,184</text>" in svg and ">$66.10</text>" in svg and ">-$12</text>" in svg
    assert re.findall(r">\$1,[05]00</text>", svg), "the bill's dollar axis"
    assert "#cf222e" in svg, "a month whose conversions cost more is drawn below zero, in red"
    assert "<title>Modelled bill and realized savings, December 2025 to November 2026</title>" in svg


def test_a_chart_without_any_figures_still_draws_its_axes():
    svg = str(chart_svg([(m, None) for m in chart_months("2026-11")]))
    assert svg.count(">no digest</text>") == 24 and ">$0</text>" in svg
