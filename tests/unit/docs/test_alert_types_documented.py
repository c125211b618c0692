"""The alert table of docs/operations.md lists every `alert_type` the product publishes."""

import re

from tests.support.lambda_runtime import ROOT
from ws_autopilot.digest import alerts as monthly_digest
from ws_autopilot.logins.policy import AlertReason
from ws_autopilot.remediation.alerts import Alert
from ws_autopilot.unused import alerts as unused_actor


def documented() -> set[str]:
    operations = (ROOT / "docs" / "operations.md").read_text()
    table = operations.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")][1:]  # under the header
    return {name for row in rows for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def test_every_alert_type_is_in_the_operations_alert_table():
    sent = {a.value for a in Alert} | {r.value for r in AlertReason}
    sent |= unused_actor.ALERT_TYPES | {monthly_digest.ALERT_TYPE}
    assert sent - documented() == set()
    assert documented() - sent == set(), "the table lists only what is sent"
