"""Which accounts and regions a run covers: pure functions."""

from __future__ import annotations

from collections.abc import Iterable

from ws_autopilot.core.models import Target


def plan_targets(home_account: str, accounts: Iterable[str], regions: Iterable[str]) -> list[Target]:
    """Every (account, region) pair, the deployment account first, each once, in a stable order."""
    ordered_accounts = list(dict.fromkeys([home_account, *accounts]))
    ordered_regions = list(dict.fromkeys(regions))
    return [Target(account, region) for account in ordered_accounts for region in ordered_regions]


def account_of_function_arn(arn: str) -> str:
    """The account id in a Lambda function ARN (`arn:<partition>:lambda:<region>:<account>:function:...`)."""
    parts = arn.split(":")
    if len(parts) < 7 or not parts[4].isdigit():
        raise ValueError(f"{arn!r} is not a Lambda function ARN")
    return parts[4]


def partition_of_arn(arn: str) -> str:
    """The partition of an ARN (aws, aws-cn, aws-us-gov...): member accounts are in the
    deployment account's partition, so their role ARNs take the function's own."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[1].startswith("aws"):
        raise ValueError(f"{arn!r} is not an ARN")
    return parts[1]
