"""A synthetic WorkSpaces fleet in the simulator: directories, WorkSpaces of several compute
types, running modes and states, tags, and month-to-date hourly `UserConnected` series drawn
from usage profiles (office workers, part-timers, night shifts, idle desktops...)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from tests.support import simulator

HOUR = timedelta(hours=1)


def _office(ts: datetime) -> bool:
    return ts.weekday() < 5 and 9 <= ts.hour < 17


def _part_time(ts: datetime) -> bool:
    return ts.weekday() in (0, 2) and 9 <= ts.hour < 13


def _night_shift(ts: datetime) -> bool:
    # 22:00-06:00, Monday night to Saturday morning: sessions cross midnight
    return (ts.hour >= 22 and ts.weekday() < 5) or (ts.hour < 6 and 0 < ts.weekday() <= 5)


def _occasional(ts: datetime) -> bool:
    return ts.weekday() == 3 and 14 <= ts.hour < 16


def _around_the_clock(ts: datetime) -> bool:
    return True


def _idle(ts: datetime) -> bool:
    return False


def _two_short_sessions(ts: datetime) -> bool:
    # one hour at 10:00 and one at 15:00 on weekdays: 2 sessions a day, each billed 1 + G hours,
    # so the AutoStop timeout decides which side of a threshold the WorkSpace falls on
    return ts.weekday() < 5 and ts.hour in (10, 15)


def _third_monday_night(ts: datetime) -> bool:
    # a night of the monthly maintenance AWS starts AUTO_STOP WorkSpaces for (from the third
    # Monday of the month, 00:00-05:00)
    return ts.weekday() == 0 and 15 <= ts.day <= 21 and ts.hour < 5


PROFILES: dict[str, Callable[[datetime], bool]] = {
    "office": _office,
    "part_time": _part_time,
    "night_shift": _night_shift,
    "occasional": _occasional,
    "around_the_clock": _around_the_clock,
    "idle": _idle,
    "two_short_sessions": _two_short_sessions,
    # an office worker on a client AutoStop cannot see: connected office hours, and the
    # WorkSpace never stops (it runs every hour with nobody connected in between)
    "never_stops": _office,
    # an office worker whose AUTO_STOP WorkSpace is started for its monthly maintenance
    "office_with_maintenance": _office,
}
# When an AUTO_STOP WorkSpace of these profiles runs with nobody connected, beyond the AutoStop
# timeout after a connection (it reports UserConnected 0 then)
RUNS_UNCONNECTED: dict[str, Callable[[datetime], bool]] = {
    "never_stops": _around_the_clock,
    "office_with_maintenance": _third_monday_night,
}


@dataclass
class SeededWorkspace:
    workspace_id: str
    directory_id: str
    user_name: str
    compute_type: str
    running_mode: str
    profile: str
    state: str = "AVAILABLE"
    tags: dict[str, str] = field(default_factory=dict)
    os: str = "WINDOWS_SERVER_2022"
    load: str = ""  # a LOADS name: its CPUUsage and MemoryUsage ("" none seeded)


def usage_series(
    profile: str, running_mode: str, month_start: datetime, end: datetime, timeout_hours: int = 1
) -> list[tuple[datetime, float]]:
    """Hourly UserConnected Maximum as WorkSpaces reports it: every hour for an ALWAYS_ON
    WorkSpace (0 or 1); for AUTO_STOP only while it runs (connected hours, then 0 for the
    AutoStop timeout after the last one, and 0 while it runs with nobody connected: the hours of
    `RUNS_UNCONNECTED`)."""
    connected = PROFILES[profile]
    unconnected = RUNS_UNCONNECTED.get(profile, _idle)
    points = []
    idle_left = 0
    ts = month_start
    while ts < end:
        if connected(ts):
            points.append((ts, 1.0))
            idle_left = timeout_hours
        elif running_mode == "ALWAYS_ON" or unconnected(ts):
            points.append((ts, 0.0))
        elif idle_left > 0:
            points.append((ts, 0.0))
            idle_left -= 1
        ts += HOUR
    return points


# Hourly CPUUsage and MemoryUsage Averages (percent) of a WorkSpace while a person is connected
# and while it runs with nobody connected.
LOADS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    # name: ((CPU, memory) connected, (CPU, memory) running idle)
    "light": ((12.0, 22.0), (2.0, 15.0)),  # one type down
    "moderate": ((45.0, 60.0), (3.0, 30.0)),  # well sized
    "heavy": ((88.0, 91.0), (10.0, 60.0)),  # one type up
}


def load_series(
    profile: str, running_mode: str, load: str, month_start: datetime, end: datetime, timeout_hours: int = 1
) -> tuple[list[tuple[datetime, float]], list[tuple[datetime, float]]]:
    """Hourly CPUUsage and MemoryUsage Averages as WorkSpaces reports them: every hour it runs
    (the hours `usage_series` reports), at the `load`'s connected or idle level."""
    busy, idle = LOADS[load]
    cpu, memory = [], []
    for ts, connected in usage_series(profile, running_mode, month_start, end, timeout_hours):
        level = busy if connected >= 1 else idle
        cpu.append((ts, level[0]))
        memory.append((ts, level[1]))
    return cpu, memory


def seed_load(
    account_id: str,
    region: str,
    workspace_id: str,
    profile: str,
    running_mode: str,
    load: str,
    now: datetime,
    timeout_hours: int = 1,
) -> None:
    """The month-to-date CPUUsage and MemoryUsage of a WorkSpace seeded with `seed_usage`."""
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = now.replace(minute=0, second=0, microsecond=0)
    cpu, memory = _shared_load(profile, running_mode, load, month_start, end, timeout_hours)
    for metric, series in (("CPUUsage", cpu), ("MemoryUsage", memory)):
        simulator.share_hourly_series(
            account_id,
            region,
            "AWS/WorkSpaces",
            metric,
            [{"Name": "WorkspaceId", "Value": workspace_id}],
            series,
        )


@cache
def _shared_load(
    profile: str, running_mode: str, load: str, month_start: datetime, end: datetime, timeout_hours: int
) -> tuple[tuple[list[datetime], list[float]], tuple[list[datetime], list[float]]]:
    cpu, memory = load_series(profile, running_mode, load, month_start, end, timeout_hours)
    return ([t for t, _ in cpu], [v for _, v in cpu]), ([t for t, _ in memory], [v for _, v in memory])


def create_directory(clients: dict[str, Any], name: str) -> str:
    """A registered WorkSpaces directory (SimpleAD in a fresh VPC with two subnets)."""
    ec2, ds, workspaces = clients["ec2"], clients["ds"], clients["workspaces"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"][:2]]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(zones)
    ]
    directory_id = ds.create_directory(
        Name=f"{name}.example.com",
        Password="Passw0rd!Simulated",
        Size="Small",
        VpcSettings={"VpcId": vpc, "SubnetIds": subnets},
    )["DirectoryId"]
    workspaces.register_workspace_directory(DirectoryId=directory_id)
    return directory_id


# The volumes of the bundles AWS offers for each compute type (root GB, user GB), as
# DescribeWorkspaces reports them; the simulated price list has prices for these.
VOLUMES = {
    "VALUE": (80, 10),
    "STANDARD": (80, 50),
    "PERFORMANCE": (80, 100),
    "POWER": (175, 100),
    "POWERPRO": (175, 100),
    "GRAPHICS_G4DN": (100, 100),
    "GRAPHICSPRO_G4DN": (100, 100),
    "GENERALPURPOSE_4XLARGE": (175, 100),
}


def create_workspaces(clients: dict[str, Any], directory_id: str, specs: list[dict[str, Any]]) -> list[str]:
    """Create WorkSpaces from specs: user, compute_type, running_mode, timeout_minutes, tags, and
    os (OperatingSystemName, e.g. WINDOWS_SERVER_2022) with root_gib and user_gib (default: the
    compute type's usual volumes); without os, DescribeWorkspaces reports no OS or volumes. With
    persona (an id from create_persona), the WorkSpace is agentic (its bundle must allow it: os
    WINDOWS_SERVER_2025, a compute type other than VALUE, STANDARD or PERFORMANCE)."""
    ids: list[str] = []
    for offset in range(0, len(specs), 25):
        requests = []
        for spec in specs[offset : offset + 25]:
            properties: dict[str, Any] = {
                "RunningMode": spec["running_mode"],
                "ComputeTypeName": spec["compute_type"],
            }
            if spec["running_mode"] == "AUTO_STOP":
                properties["RunningModeAutoStopTimeoutInMinutes"] = spec.get("timeout_minutes", 60)
            if spec.get("os"):
                root, user = VOLUMES.get(spec["compute_type"], (80, 50))
                properties["OperatingSystemName"] = spec["os"]
                properties["RootVolumeSizeGib"] = spec.get("root_gib", root)
                properties["UserVolumeSizeGib"] = spec.get("user_gib", user)
            requests.append(
                {
                    "DirectoryId": directory_id,
                    "UserName": spec["user"],
                    "BundleId": "wsb-simulated",
                    "WorkspaceProperties": properties,
                    "Tags": [{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()],
                    **({"AgenticPersonaConfigurationId": spec["persona"]} if spec.get("persona") else {}),
                }
            )
        response = clients["workspaces"].create_workspaces(Workspaces=requests)
        if response["FailedRequests"]:
            raise RuntimeError(f"simulator refused WorkSpaces: {response['FailedRequests']}")
        ids.extend(p["WorkspaceId"] for p in response["PendingRequests"])
    return ids


def create_persona(clients: dict[str, Any], name: str = "assistant") -> str:
    """An agentic persona configuration of the account and region (for agentic WorkSpaces)."""
    return str(
        clients["workspaces"].create_agentic_persona_configuration(Name=name, ModelIds=["model-simulated"])[
            "AgenticPersonaConfigurationId"
        ]
    )


def create_standby_workspaces(
    clients: dict[str, Any], directory_id: str, primary_region: str, primary_ids: list[str]
) -> list[str]:
    """Standby WorkSpaces (multi-region resilience) in the clients' region, in `directory_id`, of
    the WorkSpaces `primary_ids` of `primary_region`: their ids, in the same order."""
    ids: list[str] = []
    for offset in range(0, len(primary_ids), 25):
        response = clients["workspaces"].create_standby_workspaces(
            PrimaryRegion=primary_region,
            StandbyWorkspaces=[
                {"PrimaryWorkspaceId": primary_id, "DirectoryId": directory_id}
                for primary_id in primary_ids[offset : offset + 25]
            ],
        )
        if response["FailedStandbyRequests"]:
            raise RuntimeError(f"simulator refused standby WorkSpaces: {response['FailedStandbyRequests']}")
        ids.extend(p["WorkspaceId"] for p in response["PendingStandbyRequests"])
    return ids


def seed_usage(
    account_id: str,
    region: str,
    workspace_id: str,
    profile: str,
    running_mode: str,
    now: datetime,
    timeout_hours: int = 1,
    since: datetime | None = None,
    gap: tuple[datetime, datetime] | None = None,
) -> None:
    """The month-to-date series of `profile`; with `since`, none before (the WorkSpace was
    created then), and with `gap`, none in [start, end) (a metric gap)."""
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = now.replace(minute=0, second=0, microsecond=0)
    series = _shared_series(profile, running_mode, month_start, end, timeout_hours)
    if since is not None or gap is not None:
        kept = [
            (ts, value)
            for ts, value in zip(*series, strict=True)
            if (since is None or ts >= since) and (gap is None or not gap[0] <= ts < gap[1])
        ]
        series = ([ts for ts, _ in kept], [value for _, value in kept])
    simulator.share_hourly_series(
        account_id,
        region,
        "AWS/WorkSpaces",
        "UserConnected",
        [{"Name": "WorkspaceId", "Value": workspace_id}],
        series,
    )


@cache
def _shared_series(
    profile: str, running_mode: str, month_start: datetime, end: datetime, timeout_hours: int
) -> tuple[list[datetime], list[float]]:
    """One series per profile, mode and window, shared by every WorkSpace that has it."""
    points = usage_series(profile, running_mode, month_start, end, timeout_hours)
    return [t for t, _ in points], [v for _, v in points]


COMPUTE_MIX = (
    ["STANDARD"] * 5
    + ["VALUE"] * 2
    + ["PERFORMANCE"] * 2
    + ["POWER", "POWERPRO", "GRAPHICS_G4DN", "GENERALPURPOSE_4XLARGE"]
)
PROFILE_MIX = (
    ["office"] * 4 + ["part_time"] * 3 + ["night_shift", "occasional", "around_the_clock"] + ["idle"] * 2
)
LIGHT_PROFILES = frozenset({"part_time", "occasional", "idle"})
# Mostly Windows with the licence included, some BYOL Windows and Amazon Linux (prices differ).
OS_MIX = ["WINDOWS_SERVER_2022"] * 6 + ["WINDOWS_SERVER_2019", "WINDOWS_11", "WINDOWS_10", "AMAZON_LINUX_2"]
LOAD_MIX = ["moderate"] * 6 + ["light"] * 3 + ["heavy"]
OTHER_STATES = ["UNHEALTHY", "MAINTENANCE", "REBOOTING", "PENDING", "ERROR", "SUSPENDED"]


def seed_fleet(
    clients: dict[str, Any],
    account_id: str,
    region: str,
    now: datetime,
    size: int,
    directories: int = 3,
    seed: int = 7,
    resets: int = 0,
) -> list[SeededWorkspace]:
    """A mixed fleet of `size` WorkSpaces spread over `directories` directories. With `resets`,
    that many are light ALWAYS_ON users (month-end resets) and no other ALWAYS_ON one is light."""
    rng = random.Random(seed)
    extra = random.Random(
        seed + 1
    )  # OS and threshold tags, apart: the rest of the fleet stays as seeded before
    directory_ids = [create_directory(clients, f"corp{i}") for i in range(directories)]
    planned: list[SeededWorkspace] = []
    for n in range(size):
        mode = "AUTO_STOP" if rng.random() < 0.6 else "ALWAYS_ON"
        if rng.random() < 0.02:
            mode = "MANUAL"
        profile = rng.choice(PROFILE_MIX)
        if n < resets:  # light users on monthly billing: the month-end resets
            planned.append(
                SeededWorkspace(
                    "", directory_ids[n % directories], f"user{n:05d}", "STANDARD", "ALWAYS_ON", "part_time"
                )
            )
            continue
        if resets and mode == "ALWAYS_ON" and profile in LIGHT_PROFILES:
            mode = "AUTO_STOP"  # exactly `resets` WorkSpaces are ALWAYS_ON under their threshold
        state = "AVAILABLE"
        if mode == "AUTO_STOP" and profile in ("idle", "occasional", "part_time") and rng.random() < 0.5:
            state = "STOPPED"
        if rng.random() < 0.04:
            state = rng.choice(OTHER_STATES)
        tags = {"CostCenter": f"cc-{rng.randint(100, 999)}"}
        if rng.random() < 0.05:
            tags[rng.choice(["Skip_Convert", "skip_convert", " SKIP_CONVERT "])] = rng.choice(
                ["", "true", "no"]
            )
        if extra.random() < 0.02:
            tags["Autopilot_Threshold"] = str(extra.choice([40, 120, 200]))
        planned.append(
            SeededWorkspace(
                workspace_id="",
                directory_id=directory_ids[n % directories],
                user_name=f"user{n:05d}",
                compute_type=rng.choice(COMPUTE_MIX),
                running_mode=mode,
                profile=profile,
                state=state,
                tags=tags,
                os=extra.choice(OS_MIX),
            )
        )
    for directory_id in directory_ids:
        members = [p for p in planned if p.directory_id == directory_id]
        specs = [
            {
                "user": p.user_name,
                "compute_type": p.compute_type,
                "running_mode": p.running_mode,
                "tags": p.tags,
                "os": p.os,
            }
            for p in members
        ]
        for seeded, workspace_id in zip(
            members, create_workspaces(clients, directory_id, specs), strict=True
        ):
            seeded.workspace_id = workspace_id
    loads = random.Random(seed + 2)  # apart, so the rest of the fleet stays as seeded before
    for seeded in planned:
        simulator.set_state(account_id, region, seeded.workspace_id, seeded.state)
        if seeded.running_mode != "MANUAL":
            seed_usage(account_id, region, seeded.workspace_id, seeded.profile, seeded.running_mode, now)
            seeded.load = loads.choice(LOAD_MIX)
            seed_load(
                account_id, region, seeded.workspace_id, seeded.profile, seeded.running_mode, seeded.load, now
            )
    return planned


def report_unhealthy(account_id: str, region: str, directory_id: str, count: int, at: datetime) -> None:
    """The per-directory `Unhealthy` metric as WorkSpaces publishes it (one datapoint)."""
    simulator.put_hourly_series(
        account_id,
        region,
        "AWS/WorkSpaces",
        "Unhealthy",
        [{"Name": "DirectoryId", "Value": directory_id}],
        [(at, float(count))],
    )


def clients_in(account_id: str, home_account: str, region: str, services: tuple[str, ...]) -> dict[str, Any]:
    """boto3 clients of the simulator in another account (an assumed role, as AWS would need)."""
    import boto3

    if account_id == home_account:
        return {name: boto3.client(name, region_name=region) for name in services}
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/seeding", RoleSessionName="seeding"
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    return {name: session.client(name) for name in services}
