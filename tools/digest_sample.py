"""docs/digest-sample.html: the monthly digest of a made-up month, rendered by the product's own
code (report rows written as CSV by report.to_csv, read back, built and rendered by digest.py).

    .venv/bin/python -m tools.digest_sample > docs/digest-sample.html

The amounts are illustrative, not prices from the Price List. tests/unit/tools/test_digest_sample.py
checks that the committed page is what this renders."""

from __future__ import annotations

import io
import random
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from ws_autopilot.cost.models import Action, ReportRow
from ws_autopilot.cost.report import to_csv
from ws_autopilot.digest.content import DigestBuilder, ReportRun, final_run, read_rows, render

GENERATED_AT = datetime(2026, 12, 1, 6, 0, 41, tzinfo=UTC)
MISSING = {14, 15}  # a weekend the schedule was disabled: the digest names the days
MONTHLY = {
    "VALUE": Decimal("25.00"),
    "STANDARD": Decimal("35.00"),
    "PERFORMANCE": Decimal("60.00"),
    "POWER": Decimal("78.00"),
}
FEE = {
    "VALUE": Decimal("7.25"),
    "STANDARD": Decimal("9.75"),
    "PERFORMANCE": Decimal("11.00"),
    "POWER": Decimal("19.00"),
}
HOURLY = {
    "VALUE": Decimal("0.22"),
    "STANDARD": Decimal("0.30"),
    "PERFORMANCE": Decimal("0.57"),
    "POWER": Decimal("0.68"),
}
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


def fleet(rng: random.Random) -> list[ReportRow]:
    rows = []
    for n, person in enumerate(PEOPLE):
        compute = rng.choice(list(MONTHLY))
        hours = rng.choice([0, 12, 40, 70, 95, 130, 160, 210])
        mode = "ALWAYS_ON" if hours > 90 else "AUTO_STOP"
        hourly_cost = FEE[compute] + HOURLY[compute] * hours
        cost = MONTHLY[compute] if mode == "ALWAYS_ON" else hourly_cost
        other = hourly_cost if mode == "ALWAYS_ON" else MONTHLY[compute]
        rows.append(
            ReportRow(
                account_id="111122223333" if n % 3 else "444455556666",
                region="eu-west-1" if n % 4 else "us-east-1",
                workspace_id=f"ws-{rng.getrandbits(36):09x}",
                directory_id="d-9067a1b2c3",
                user_name=person,
                compute_type=compute,
                state="AVAILABLE" if hours or n % 2 else "STOPPED",
                running_mode_before=mode,
                running_mode_after=mode,
                billable_hours=hours,
                threshold=85,
                action=Action.NONE,
                reason="",
                dry_run=False,
                error_code="",
                evaluated_at="",
                threshold_source="price_list",
                month_cost=cost.quantize(Decimal("0.01")),
                other_mode_cost=other.quantize(Decimal("0.01")),
                month_saving=Decimal("0.00"),
            )
        )
    return rows


def month_runs() -> dict[ReportRun, list[ReportRow]]:
    rng = random.Random(2026_11)
    base = fleet(rng)
    by_user = {r.user_name: r for r in base}
    runs: dict[ReportRun, list[ReportRow]] = {}
    for day in range(1, 31):
        if day in MISSING:
            continue
        rows = list(base)
        if day == 9:  # heavy users switched to monthly billing mid-month
            for person, saving in (("b.nakamura", "14.60"), ("k.patel", "22.35")):
                converted = by_user[person]
                rows[rows.index(converted)] = replace(
                    converted,
                    action=Action.TO_ALWAYS_ON,
                    running_mode_after="ALWAYS_ON",
                    month_saving=Decimal(saving),
                )
        if day == 30:
            rows = [_month_end(r) for r in rows]
        runs[_run(day)] = rows
    return runs


def _month_end(row: ReportRow) -> ReportRow:
    if row.user_name in ("e.lindqvist", "q.tanaka"):
        return replace(
            row, action=Action.TO_AUTO_STOP, running_mode_after="AUTO_STOP", reason="month-end reset"
        )
    if row.user_name == "g.kowalski":
        return replace(row, action=Action.SKIPPED, reason="Skip_Convert tag")
    if row.user_name == "m.garcia":
        return replace(
            row,
            action=Action.ERROR,
            reason="metrics unavailable: GetMetricData status Forbidden",
            error_code="MetricsUnavailable",
        )
    if row.billable_hours == 0:
        texts = {
            "j.murphy": (
                "",
                "held: creation time unknown: no connection or UserConnected datapoint before "
                "2026-09-30, so it may have been created since",
            ),
            "t.larsen": ("2026-07-02T16:20:45+00:00", "held: Skip_Terminate tag"),
        }
        last, text = texts.get(row.user_name, ("2026-09-11T10:04:00+00:00", "stopped"))
        return replace(row, last_connection=last, unused_action=text)
    return row


def _run(day: int) -> ReportRun:
    return ReportRun(
        f"reports/2026/11/{day:02d}/ws-autopilot-daily-{day:02d}.csv",
        date(2026, 11, day),
        datetime(2026, 11, day, 21, 40, tzinfo=UTC),
    )


def sample() -> str:
    runs = month_runs()
    builder = DigestBuilder("2026-11", final=final_run(runs))
    for run, rows in runs.items():
        builder.add(run, read_rows(io.StringIO(to_csv(rows), newline="")))
    return render(builder.digest(GENERATED_AT))


if __name__ == "__main__":
    sys.stdout.write(sample())
