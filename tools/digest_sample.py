"""docs/digest-sample.html: the monthly digest of a made-up month, rendered by the product's own
code (report rows priced by the bill model, cost/bill.py, written as CSV by report.to_csv, read
back, built and rendered by the digest wing).

    .venv/bin/python -m tools.digest_sample > docs/digest-sample.html

November 2026 of 24 WorkSpaces: resets made at the end of October (one switched back to
ALWAYS_ON on the 13th, one whose user came back and cost more, one made after midnight), switches to
ALWAYS_ON on the 9th, month-end resets projected for December (and one held ALWAYS_ON: a GPU
WorkSpace, which does not hibernate), an AUTO_STOP WorkSpace that never stops and two started for
maintenance, and the figures of the months before for the chart. The amounts are illustrative,
not prices from the Price List.
tests/unit/tools/test_digest_sample.py checks that the committed page is what this renders."""

from __future__ import annotations

import io
import random
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ws_autopilot.core.models import RunningMode
from ws_autopilot.cost.bill import SwitchToAlwaysOn, WorkspaceMonth, row_dollars, use_rate
from ws_autopilot.cost.hibernation import NoHibernationTypes, no_hibernation_rule
from ws_autopilot.cost.models import Action, Decision, ReportRow
from ws_autopilot.cost.pricing import BundlePrices
from ws_autopilot.cost.report import to_csv
from ws_autopilot.cost.rightsizing import monthly_saving
from ws_autopilot.digest.chart import MonthFigures, chart_months
from ws_autopilot.digest.content import DigestBuilder, final_run, render
from ws_autopilot.digest.rows import ReportRun, read_rows

GENERATED_AT = datetime(2026, 12, 1, 6, 0, 41, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 1, tzinfo=UTC)
MISSING = {14, 15}  # a weekend the schedule was disabled: the digest names the days
PRICES = {
    "VALUE": BundlePrices(Decimal("25.00"), Decimal("7.25"), Decimal("0.22")),
    "STANDARD": BundlePrices(Decimal("35.00"), Decimal("9.75"), Decimal("0.30")),
    "PERFORMANCE": BundlePrices(Decimal("60.00"), Decimal("11.00"), Decimal("0.57")),
    "POWER": BundlePrices(Decimal("78.00"), Decimal("19.00"), Decimal("0.68")),
    "GRAPHICS_G6F_LARGE": BundlePrices(Decimal("185.00"), Decimal("22.00"), Decimal("1.05")),
}
CHOSEN = ["VALUE", "STANDARD", "PERFORMANCE", "POWER"]  # the compute types drawn at random
PEOPLE = [
    "a.moreau",
    "b.nakamura",
    "c.okafor",
    "d.silva",
    "e.lindqvist",
    "f.haddad",
    "g.kowalski",
    "h.chen",
    "i.rossi",
    "j.murphy",
    "k.patel",
    "l.novak",
    "m.garcia",
    "n.schmidt",
    "o.dubois",
    "p.ivanova",
    "q.tanaka",
    "r.oconnor",
    "s.ahmed",
    "t.larsen",
    "u.costa",
    "v.weber",
    "w.kim",
    "x.fischer",
]
# The story: November's billable hours (and compute type) of the WorkSpaces it is about.
RESET_IN_OCTOBER = {"c.okafor": 12, "h.chen": 40, "o.dubois": 24, "s.ahmed": 120, "w.kim": 150}
LATE_RESET = {"x.fischer": 30}  # made at 00:20 on Nov 1: ALWAYS_ON billing all November
# to ALWAYS_ON on that day of November: s.ahmed, reset in October, came back late in the month
SWITCHED = {"b.nakamura": 9, "k.patel": 9, "w.kim": 13, "s.ahmed": 30}
HEAVY = {"b.nakamura": 210, "k.patel": 160}
RESET_AT_MONTH_END = {"e.lindqvist": 20, "q.tanaka": 35, "g.kowalski": 15}  # g.kowalski opts out
KEPT_ALWAYS_ON = {"q.tanaka": "GRAPHICS_G6F_LARGE"}  # does not hibernate: NoHibernationTypes=KeepAlwaysOn
# AUTO_STOP hours with nobody connected by November 30: i.rossi's WorkSpace never stops (a
# client AutoStop cannot see), the others were started for maintenance
UNATTENDED = {"i.rossi": 468, "f.haddad": 5, "h.chen": 5}
UNUSED = {"j.murphy", "t.larsen", "d.silva", "u.costa"}
# Right-sizing on November 30: the type to consider, CPU and memory p95, and the note.
RIGHTSIZED = {
    "a.moreau": (
        "PERFORMANCE",
        14,
        26,
        "p95 CPU 14%, memory 26% in 151 in-use hours",
    ),
    "n.schmidt": (
        "POWER",
        97,
        94,
        "median CPU 83%, memory 71% in 176 in-use hours",
    ),
}
# The figures earlier digests stored: installed in February, dry run for two months.
HISTORY = {
    "2026-02": ("1184.40", "0.00", True),
    "2026-03": ("1176.95", "0.00", True),
    "2026-04": ("1102.35", "48.20", False),
    "2026-05": ("1061.90", "71.45", False),
    "2026-06": ("1043.15", "66.10", False),
    "2026-07": ("997.80", "92.35", False),
    "2026-08": ("1012.60", "84.90", False),
    "2026-09": ("968.25", "103.40", False),
    "2026-10": ("955.70", "97.15", False),
}


def fleet(rng: random.Random) -> list[dict[str, object]]:
    """Each WorkSpace: who, where, compute type, November's billable hours and its running mode
    on November 1."""
    people = []
    for n, person in enumerate(PEOPLE):
        compute = rng.choice(CHOSEN)
        hours = rng.choice([40, 70, 95, 130, 160, 210])
        hours = {**RESET_IN_OCTOBER, **LATE_RESET, **HEAVY, **RESET_AT_MONTH_END}.get(person, hours)
        hours = 0 if person in UNUSED else hours
        mode = "ALWAYS_ON" if hours > 90 or person in RESET_AT_MONTH_END else "AUTO_STOP"
        if person in RESET_IN_OCTOBER or person in LATE_RESET or person in HEAVY:
            mode = "AUTO_STOP"
        people.append(
            {
                "account_id": "111122223333" if n % 3 else "444455556666",
                "region": "eu-west-1" if n % 4 else "us-east-1",
                "workspace_id": f"ws-{rng.getrandbits(36):09x}",
                "user_name": person,
                "compute_type": KEPT_ALWAYS_ON.get(
                    person, "STANDARD" if person in RESET_IN_OCTOBER else compute
                ),
                "hours": hours,
                "mode": mode,
            }
        )
    return people


def _row(person: dict[str, object], at: datetime, hours: int, mode: str, **changes: object) -> ReportRow:
    made = ReportRow(
        account_id=str(person["account_id"]),
        region=str(person["region"]),
        workspace_id=str(person["workspace_id"]),
        directory_id="d-9067a1b2c3",
        user_name=str(person["user_name"]),
        compute_type=str(person["compute_type"]),
        state="AVAILABLE" if hours else "STOPPED",
        running_mode_before=mode,
        running_mode_after=mode,
        billable_hours=hours,
        threshold=PRICES[str(person["compute_type"])].break_even_hours(),
        action=Action.NONE,
        reason="",
        dry_run=False,
        error_code="",
        evaluated_at=at.isoformat(),
        threshold_source="price_list",
    )
    return ReportRow(**{**made.to_record(), **changes})


def _priced(row: ReportRow, facts: WorkspaceMonth, at: datetime, measured: int) -> ReportRow:
    """The row with its dollars from the bill model and the list prices they come from."""
    prices = PRICES[row.compute_type]
    dollars = row_dollars(prices, facts, row.action, use_rate(row.billable_hours or 0, measured), at)
    return ReportRow(
        **{
            **row.to_record(),
            "month_cost": dollars.month_cost,
            "saving_this_month": dollars.saving_this_month,
            "saving_next_month": dollars.saving_next_month,
            "price_always_on_monthly": prices.always_on_monthly,
            "price_auto_stop_monthly": prices.auto_stop_monthly,
            "price_auto_stop_hourly": prices.auto_stop_hourly,
        }
    )


def november_row(person: dict[str, object], day: int) -> ReportRow:
    """The WorkSpace's row in the run of November `day` at 21:05 UTC."""
    at = datetime(2026, 11, day, 21, 5, tzinfo=UTC)
    measured = (day - 1) * 24 + 21
    total = int(str(person["hours"]))
    hours = round(total * measured / 720)
    name = str(person["user_name"])
    mode = str(person["mode"])
    start = RunningMode.ALWAYS_ON if mode == "ALWAYS_ON" or name in LATE_RESET else RunningMode.AUTO_STOP
    facts = WorkspaceMonth(NOVEMBER, start, hours)
    switch_day = SWITCHED.get(name)
    if switch_day is not None and day >= switch_day:
        switched_at = datetime(2026, 11, switch_day, 21, 5, tzinfo=UTC)
        before = round(total * ((switch_day - 1) * 24 + 21) / 720)
        facts = WorkspaceMonth(NOVEMBER, start, hours, switched_on=SwitchToAlwaysOn(switched_at, before))
        if day == switch_day:
            reason = f"billable {hours} h > threshold; switching pays this month"
            row = _row(person, at, hours, "AUTO_STOP", action=Action.TO_ALWAYS_ON, reason=reason)
            return _priced(
                ReportRow(**{**row.to_record(), "running_mode_after": "ALWAYS_ON"}), facts, at, measured
            )
        mode = "ALWAYS_ON"
    row = _row(person, at, hours, mode)
    if mode == "AUTO_STOP" and total:
        row = ReportRow(
            **{**row.to_record(), "unattended_hours": round(UNATTENDED.get(name, 0) * measured / 717)}
        )
    if day == 30:
        row = _month_end(row)
    return _priced(row, facts, at, measured) if row.action is not Action.ERROR else row


def _month_end(row: ReportRow) -> ReportRow:
    changes: dict[str, object] = {}
    if row.user_name == "e.lindqvist":
        changes = {
            "action": Action.TO_AUTO_STOP,
            "running_mode_after": "AUTO_STOP",
            "reason": "month-end reset",
        }
    elif row.user_name in KEPT_ALWAYS_ON:
        reset = Decision(
            Action.TO_AUTO_STOP,
            f"month-end reset: billable {row.billable_hours} h <= threshold {row.threshold} h",
            billable_hours=row.billable_hours,
            threshold=row.threshold,
            measured_hours=717,
        )
        at = datetime.fromisoformat(row.evaluated_at)
        kept = no_hibernation_rule(
            reset, row.compute_type, NoHibernationTypes.KEEP_ALWAYS_ON, PRICES[row.compute_type], at
        )
        changes = {"action": kept.action, "reason": kept.reason}
    elif row.user_name == "g.kowalski":
        changes = {"action": Action.SKIPPED, "reason": "Skip_Convert tag"}
    elif row.user_name == "m.garcia":
        changes = {
            "action": Action.ERROR,
            "reason": "metrics unavailable: GetMetricData status Forbidden",
            "error_code": "MetricsUnavailable",
            "billable_hours": None,
        }
    elif row.user_name in RIGHTSIZED:
        to, cpu, memory, note = RIGHTSIZED[row.user_name]
        mode = RunningMode(row.running_mode_after)
        rate = use_rate(row.billable_hours or 0, 29 * 24 + 21)
        saving = monthly_saving(PRICES[row.compute_type], PRICES[to], mode, rate, NOVEMBER)
        changes = {
            "rightsize_to": to,
            "rightsize_saving_next_month": saving,
            "rightsize_note": note,
            "cpu_p95": cpu,
            "memory_p95": memory,
        }
    elif row.billable_hours == 0:
        texts = {
            "j.murphy": (
                "",
                "held: creation time unknown: no connection or UserConnected datapoint before "
                "2026-09-30, so it may have been created since",
            ),
            "t.larsen": ("2026-07-02T16:20:45+00:00", "held: Skip_Terminate tag"),
        }
        last, text = texts.get(row.user_name, ("2026-09-11T10:04:00+00:00", "stopped"))
        changes = {"last_connection": last, "unused_action": text}
    return ReportRow(**{**row.to_record(), **changes})


def october_resets(people: list[dict[str, object]]) -> list[ReportRow]:
    """The conversions of the October 31 month-end run: resets of light users, one made late."""
    rows = []
    for person in people:
        name = str(person["user_name"])
        if name not in RESET_IN_OCTOBER and name not in LATE_RESET:
            continue
        late = name in LATE_RESET
        at = datetime(2026, 11, 1, 0, 20, tzinfo=UTC) if late else datetime(2026, 10, 31, 12, 5, tzinfo=UTC)
        hours = 48 if name == "s.ahmed" else 30
        reason = "month-end reset" + (" (late: made after 00:00 UTC on the 1st)" if late else "")
        row = _row(
            person,
            at,
            hours,
            "ALWAYS_ON",
            action=Action.TO_AUTO_STOP,
            running_mode_after="AUTO_STOP",
            reason=reason,
            late=late,
        )
        rows.append(_priced(row, WorkspaceMonth(OCTOBER, RunningMode.ALWAYS_ON, hours), at, 30 * 24 + 12))
    return rows


def october_switches(people: list[dict[str, object]]) -> list[ReportRow]:
    """Two switches to ALWAYS_ON made in October, as October's digest listed them: November is
    their first whole month billed monthly."""
    chosen = [p for p in people if p["mode"] == "ALWAYS_ON" and p["user_name"] not in RESET_AT_MONTH_END]
    rows = []
    for person, day in zip(chosen[:2], (14, 21), strict=False):
        at = datetime(2026, 10, day, 21, 5, tzinfo=UTC)
        row = _row(
            person,
            at,
            90,
            "AUTO_STOP",
            action=Action.TO_ALWAYS_ON,
            running_mode_after="ALWAYS_ON",
            reason="billable 90 h > threshold",
        )
        facts = WorkspaceMonth(OCTOBER, RunningMode.AUTO_STOP, 90, switched_on=SwitchToAlwaysOn(at, 90))
        rows.append(_priced(row, facts, at, int((at - OCTOBER) / timedelta(hours=1))))
    return rows


def _run(day: date, hour: int = 21) -> ReportRun:
    return ReportRun(
        f"reports/{day:%Y/%m/%d}/ws-autopilot-daily-{day:%d}.csv",
        day,
        datetime(day.year, day.month, day.day, hour, 40, tzinfo=UTC),
    )


def month_runs() -> tuple[
    list[ReportRow], dict[ReportRun, list[ReportRow]], dict[ReportRun, list[ReportRow]]
]:
    """October's switches (as its digest listed them), the reports of October 31 and those of
    November."""
    people = fleet(random.Random(2026_11))
    previous = {_run(date(2026, 10, 31), 12): october_resets(people)}
    runs = {
        _run(date(2026, 11, day)): [november_row(p, day) for p in people]
        for day in range(1, 31)
        if day not in MISSING
    }
    return october_switches(people), previous, runs


def history() -> list[tuple[str, MonthFigures | None]]:
    months = chart_months("2026-11")[:-1]
    return [
        (
            m,
            MonthFigures(m, Decimal(HISTORY[m][0]), Decimal(HISTORY[m][1]), HISTORY[m][2])
            if m in HISTORY
            else None,
        )
        for m in months
    ]


def _read(rows: list[ReportRow]) -> io.StringIO:
    return io.StringIO(to_csv(rows), newline="")


def sample() -> str:
    carried, previous, runs = month_runs()
    builder = DigestBuilder("2026-11", final=final_run(runs))
    builder.carry(read_rows(_read(carried)))
    for run, rows in previous.items():
        builder.add_previous(run, read_rows(_read(rows)))
    for run, rows in runs.items():
        builder.add(run, read_rows(_read(rows)))
    return render(builder.digest(GENERATED_AT, history()))


if __name__ == "__main__":
    sys.stdout.write(sample())
