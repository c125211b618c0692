"""`make demo` tells a newcomer what really happened: its labels are counted from what the
handlers did, a dry run says what it would do, and no raw metric line gets in the way."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.lambda_runtime import ROOT
from tools.demo import parse_args

# The demo runs in its own process: it sets its own environment, and its metrics stay its own.
slow = pytest.mark.slow


def run_demo(out: Path) -> dict[str, str]:
    """What the demo prints for a small fleet, for real and in a dry run (run side by side)."""
    runs = {
        mode: subprocess.Popen(
            [sys.executable, "-m", "tools.demo", "--size", "30", "--directories", "1"]
            + ["--out", str(out / mode)]
            + (["--dry-run"] if mode == "dry" else []),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("real", "dry")
    }
    printed = {}
    for mode, process in runs.items():
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        printed[mode] = stdout
    return printed


def section(text: str, title: str) -> str:
    return text.split(f"\n{title}", 1)[1].split("\n\n", 1)[0]


def scans(text: str) -> list[tuple[int, str, list[tuple[str, str]]]]:
    """The remediation timeline: (minutes, label, [(name, action)])."""
    timeline: list[tuple[int, str, list[tuple[str, str]]]] = []
    for line in section(text, "Remediation scans").splitlines():
        step = re.match(r"  t\+\s*(\d+) min  (.+)", line)
        if step:
            timeline.append((int(step[1]), step[2], []))
        elif timeline and line.startswith(" " * 13):
            name, action = line.split()[:2]
            timeline[-1][2].append((name, "would " + line.split()[2] if action == "would" else action))
    return timeline


@slow  # one test, both runs at once: under pytest-xdist, a fixture would run again on each worker
def test_the_demo_prints_what_happened(tmp_path):
    printed = run_demo(tmp_path)
    readable(printed)
    conversions_titled(printed)
    dollars_name_their_month(printed["real"])
    repeated_login_sends_nothing(printed["real"])
    remediation_labels_counted(printed["real"])
    dry_run_changes_nothing(printed["dry"])


def readable(printed: dict[str, str]) -> None:
    """No metric JSON, and a readable fleet line."""
    for text in printed.values():
        assert '"_aws"' not in text
        assert re.search(r"fleet: 30 WorkSpaces in 1 directory \(\d+ AUTO_STOP, \d+ ALWAYS_ON", text)
        assert "[(" not in text and "{'" not in text


def dollars_name_their_month(text: str) -> None:
    """Each total names the month it concerns, and nothing projected is called saved."""
    for label in (
        "November 2026: the fleet's bill so far",
        "November 2026: what today's decisions take off it, projected",
        "December 2026: what they take off that month's bill, projected",
    ):
        assert re.search(rf"\n  {re.escape(label)}[^\n]* +-?\d+\.\d\d\n", text), label
    assert re.search(
        r"\n  with prices: \d+; in December 2026, projected, smaller types would save \d+\.\d\d", text
    )
    assert "saved" not in text.split("\nDollars", 1)[1].split("\nRun\n", 1)[0].replace("what was saved", "")


def conversions_titled(printed: dict[str, str]) -> None:
    assert re.search(r"\nConversions made: \d+", printed["real"])
    assert re.search(r"\nConversions that would be made \(dry run\): \d+", printed["dry"])
    assert "Conversions made" not in printed["dry"]


def repeated_login_sends_nothing(text: str) -> None:
    """The repeated delivery returns the first one's result and sends and stores nothing."""
    logins = section(text, "Login events")
    first = re.search(r"same WorkSpace, from outside the allow-list +(\d+) +(\d+)  (.+)", logins)
    again = re.search(r"the same event delivered again \(same id\) +(\d+) +(\d+)  (.+)", logins)
    assert first and again
    assert (first[1], first[2]) == ("2", "1")
    assert (again[1], again[2]) == ("0", "0")  # alerts the inbox got, logins stored
    assert again[3] == first[3] == "alerts: outside_allowed_networks, new_network"
    assert "nothing new was sent or stored" in logins
    assert "alerts received by the inbox: 3" in text


def remediation_labels_counted(text: str) -> None:
    (start, unhealthy, first), (_, _, second), (_, rebooted, third), (_, rebuilt, fourth) = scans(text)
    assert start == 0
    assert unhealthy == f"{len(first)} WorkSpaces UNHEALTHY"
    reboots = [name for name, action in second if action == "reboot"]
    back = [name for name, action in third if action == "recovered"]
    assert rebooted == (
        f"{len(reboots)} reboots finished: {len(back)} back to AVAILABLE, "
        f"{len(reboots) - len(back)} still UNHEALTHY"
    )
    assert [name for name, action in third if action == "rebuild"] == ["stubborn"]
    assert rebuilt == "1 rebuild finished: 1 back to AVAILABLE"
    assert ("stubborn", "recovered") in fourth
    assert ("tagged", "skip") in fourth


def dry_run_changes_nothing(text: str) -> None:
    """No state changes between the scans of a dry run, and its labels say so."""
    timeline = scans(text)
    assert "nothing is\n  rebooted or rebuilt" in text
    outcomes = [action for _, _, acted in timeline for _, action in acted]
    assert "recovered" not in outcomes  # nothing was rebooted or rebuilt, so nothing recovers
    assert "reboot" not in outcomes and "rebuild" not in outcomes
    assert "would reboot" in outcomes and "would rebuild" in outcomes
    labels = [label for _, label, _ in timeline]
    assert not any("finished" in label for label in labels)
    assert re.fullmatch(r"\d+ reboots decided but not done \(dry run\), still UNHEALTHY", labels[2])


def test_help_describes_every_part_with_defaults_and_limits(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for part in ("Daily optimization", "Login events", "Remediation"):
        assert part in text
    assert "10 to 5,000 (default: 300)" in text
    assert "(default: 2026-11-30T21:00:00Z)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--size", "5"], "argument --size: must be from 10 to 5,000, not 5"),
        (["--size", "5001"], "argument --size: must be from 10 to 5,000, not 5,001"),
        (["--size", "many"], "argument --size: 'many' is not a whole number"),
        (["--date", "30/11/2026"], "argument --date: '30/11/2026' is not an ISO 8601 date and time"),
        (["--parameter", "oops"], "argument --parameter: 'oops' is not NAME=VALUE"),
        (["--parameter", "NoSuch=1"], "--parameter the template has no parameter NoSuch"),
        (
            ["--parameter", "Remediation=on"],
            "--parameter Remediation='on' is not one of its allowed values (Off, DryRun, On)",
        ),
        (["--parameter", "AutoStopTimeoutMinutes=90"], "AutoStopTimeoutMinutes='90' is not one of its"),
        (
            ["--parameter", "NotificationEmail="],
            "CloudFormation would refuse these parameters: LiveDeploymentsNeedAnAlertDestination",
        ),
        (["--dry-run", "--parameter", "DryRun=false"], "--dry-run and --parameter DryRun=false contradict"),
    ],
)
def test_bad_options_are_named(capsys, argv, message):
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err


def test_a_date_without_an_offset_is_utc():
    assert parse_args(["--date", "2026-11-30T21:00"]).now.isoformat() == "2026-11-30T21:00:00+00:00"


def test_parameters_are_deployed_over_the_demos_own_settings():
    args = parse_args(["--parameter", "ThresholdSource=Parameters", "--parameter", "RebuildPolicy=Never"])
    assert args.overrides["ThresholdSource"] == "Parameters"
    assert args.overrides["RebuildPolicy"] == "Never"  # the demo's own Auto, overridden
    assert args.overrides["DryRun"] == "false" and not args.dry_run
    assert parse_args(["--parameter", "DryRun=true"]).dry_run


@slow
@pytest.mark.parametrize(
    ("switch", "left_out", "shown"),
    [
        ("EnableOptimizer=false", "Daily optimization: not deployed", ("Login events", "Remediation scans")),
        ("EnableLoginEvents=false", "Login events: not deployed", ("Decisions", "Remediation scans")),
        ("Remediation=Off", "Remediation: not deployed", ("Decisions", "Login events")),
    ],
)
def test_the_demo_runs_with_any_one_feature_off(tmp_path, switch, left_out, shown):
    command = [
        sys.executable,
        "-m",
        "tools.demo",
        "--size",
        "30",
        "--directories",
        "1",
        "--out",
        str(tmp_path),
    ]
    # a threshold preview on the way: the hours parameters only
    command += ["--parameter", switch, "--parameter", "ThresholdSource=Parameters"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert left_out in done.stdout
    for part in shown:
        assert f"\n{part}" in done.stdout, part
    assert f"  {switch}\n" in done.stdout and "  ThresholdSource=Parameters\n" in done.stdout
    if "Decisions" in shown:
        assert re.search(r"thresholds from: \d+ parameter", done.stdout), "a preview of the hours parameters"
