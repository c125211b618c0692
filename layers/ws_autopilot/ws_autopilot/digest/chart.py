"""The digest's chart of the last twelve months, as pure functions: each month's figures as the
digest of that month stored them (`digests/YYYY-MM.json`), drawn as one inline SVG (no script,
no remote content, no font or image to load) that a mail client shows as it is.

Two panels over the same months: the fleet's modelled bill (the sum of `month_cost` in each
month's final view) and the savings realized in it, each with its own dollar axis (a bill of
thousands would flatten savings of tens). A month without figures is a labelled gap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from markupsafe import Markup, escape

CHART_MONTHS = 12
WIDTH, LEFT, RIGHT = 700, 64, 8
BAR = 30
FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
BILL, SAVED, COST_MORE = "#54aeff", "#2da44e", "#cf222e"
MUTED, GRID, INK = "#57606a", "#d8dee4", "#1f2328"


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One month's figures for the chart, written beside its digest: the fleet's modelled bill,
    the savings realized (None: not known) and whether the month was a dry run."""

    month: str  # YYYY-MM
    fleet_cost: Decimal | None
    realized: Decimal | None
    dry_run: bool

    def to_json(self) -> str:
        return json.dumps(
            {
                "month": self.month,
                "fleet_cost_usd": _text(self.fleet_cost),
                "realized_saving_usd": _text(self.realized),
                "dry_run": self.dry_run,
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> MonthFigures:
        """What `to_json` wrote. Raises ValueError for anything else."""
        try:
            data = json.loads(text)
            figures = cls(
                month=str(data["month"]),
                fleet_cost=_amount(data["fleet_cost_usd"]),
                realized=_amount(data["realized_saving_usd"]),
                dry_run=bool(data["dry_run"]),
            )
        except (KeyError, TypeError, InvalidOperation, UnicodeDecodeError) as exc:
            raise ValueError(f"not a digest's month figures: {exc}") from exc
        datetime.strptime(figures.month, "%Y-%m")  # ValueError when it is no month
        return figures


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _amount(value: object) -> Decimal | None:
    if value is None:
        return None
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise InvalidOperation(f"{value!r}")
    return amount


def chart_months(month: str) -> list[str]:
    """The twelve months (YYYY-MM) ending with `month`, oldest first."""
    first = datetime.strptime(month, "%Y-%m")
    index = first.year * 12 + first.month - 1
    return [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(index - CHART_MONTHS + 1, index + 1)]


def _ticks(values: Sequence[float]) -> list[float]:
    """About four round gridline values (steps of 1, 2, 2.5 or 5 times a power of ten) covering
    `values` and 0."""
    low, high = min([0.0, *values]), max([0.0, *values])
    if high - low <= 0:
        high = 1.0
    raw = (high - low) / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [n * step for n in range(first, last + 1)]


def short_usd(amount: float) -> str:
    """A chart label: $0, $7.50, $420, $1,250, $12.5k, $1.75M."""
    size = abs(amount)
    if size >= 1_000_000:
        text = f"{size / 1_000_000:,.2f}".rstrip("0").rstrip(".") + "M"
    elif size >= 10_000:
        text = f"{size / 1000:,.1f}".rstrip("0").rstrip(".") + "k"
    elif size >= 100 or size == int(size):
        text = f"{size:,.0f}"
    else:
        text = f"{size:,.2f}"
    return f"{'-' if amount < 0 and text.strip('0.$') else ''}${text}"


def _text_at(
    x: float, y: float, text: str, size: int = 10, anchor: str = "middle", fill: str = MUTED, **style: str
) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in style.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{extra}>'
        f"{escape(text)}</text>"
    )


@dataclass(frozen=True, slots=True)
class _Panel:
    """One panel of the chart: its title, top and height in pixels, and how to read a month."""

    title: str
    top: float
    height: float
    colour: str
    value: Callable[[MonthFigures], Decimal | None]
    gap: Callable[[MonthFigures], str]  # why a month with figures has no bar ("" when it has one)


def _panel(panel: _Panel, history: Sequence[tuple[str, MonthFigures | None]], slot: float) -> list[str]:
    amounts = {m: panel.value(f) for m, f in history if f is not None and not panel.gap(f)}
    known = [float(a) for a in amounts.values() if a is not None]
    ticks = _ticks(known)
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return panel.top + panel.height * (high - value) / (high - low)

    parts = [_text_at(LEFT, panel.top - 18, panel.title, 12, "start", fill=INK, font_weight="600")]
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{INK if tick == 0 else GRID}" stroke-width="1"/>'
        )
        parts.append(_text_at(LEFT - 6, y(tick) + 3.5, short_usd(tick), anchor="end"))
    for n, (month, figures) in enumerate(history):
        centre = LEFT + slot * (n + 0.5)
        amount = amounts.get(month)
        if amount is None:
            why = "no digest" if figures is None else panel.gap(figures)
            parts.append(_text_at(centre, panel.top + panel.height / 2, why, 9, font_style="italic"))
            continue
        top, bottom = sorted((y(float(amount)), y(0)))
        colour = COST_MORE if amount < 0 else panel.colour
        height = max(bottom - top, 1)
        parts.append(
            f'<rect x="{centre - BAR / 2:.1f}" y="{top:.1f}" width="{BAR}" height="{height:.1f}" '
            f'fill="{colour}"/>'
        )
        label_y = bottom + 11 if amount < 0 else top - 3
        parts.append(_text_at(centre, label_y, short_usd(float(amount)), 10, fill=INK))
    return parts


def chart_svg(history: Sequence[tuple[str, MonthFigures | None]]) -> Markup:
    """The chart of `history` (month YYYY-MM and its figures, None when absent, oldest first) as
    one inline SVG element."""
    bill = _Panel("Modelled bill of the fleet", 40, 120, BILL, lambda f: f.fleet_cost, _no_bill)
    saved = _Panel("Realized savings", 212, 80, SAVED, lambda f: f.realized, _no_saving)
    height = saved.top + saved.height + 46
    slot = (WIDTH - LEFT - RIGHT) / max(len(history), 1)
    first = history[0][0] if history else ""
    last = history[-1][0] if history else ""
    parts = [*_panel(bill, history, slot), *_panel(saved, history, slot)]
    for n, (month, _) in enumerate(history):
        when = datetime.strptime(month, "%Y-%m")
        centre = LEFT + slot * (n + 0.5)
        bold = {"font_weight": "600", "fill": INK} if month == last else {}
        parts.append(_text_at(centre, saved.top + saved.height + 24, when.strftime("%b"), 11, **bold))
        if n == 0 or when.month == 1:
            parts.append(_text_at(centre, saved.top + saved.height + 38, when.strftime("%Y"), 10))
    title = f"Modelled bill and realized savings, {_label(first)} to {_label(last)}"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" style="max-width:100%;height:auto;{FONT}">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )


def _no_bill(figures: MonthFigures) -> str:
    return "no prices" if figures.fleet_cost is None else ""


def _no_saving(figures: MonthFigures) -> str:
    if figures.dry_run and not figures.realized:
        return "dry run"
    return "unknown" if figures.realized is None else ""


def _label(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y") if month else ""
