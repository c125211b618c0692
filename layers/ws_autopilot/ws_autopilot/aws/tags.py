"""WorkSpaces tags from the Resource Groups Tagging API (`tag:GetResources`), up to 100
WorkSpaces per call and outside the WorkSpaces API's 2 requests per second.

When the tagging API is denied (an SCP, a member role deployed before it was allowed), tags are
read with the WorkSpaces API's DescribeTags, one call per WorkSpace, and `fell_back` says so.
The tagging API is eventually consistent: a tag added a few minutes before a run may not be seen
by it (docs/cost.md, "Tags, and when they are seen").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import boto3

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import Tags, TagsUnavailable, Target

MAX_ARNS_PER_CALL = 100
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


@cache
def partition(region: str) -> str:
    """The ARN partition of a region (aws, aws-cn, aws-us-gov), from botocore's endpoint data."""
    return str(boto3.session.Session().get_partition_for_region(region))


def workspace_arn(target: Target, workspace_id: str) -> str:
    where = f"{partition(target.region)}:workspaces:{target.region}:{target.account_id}"
    return f"arn:{where}:workspace/{workspace_id}"


class WorkspaceTags:
    def __init__(self, target: Target, fleet: WorkspacesFleet, tagging_client: Any | None = None) -> None:
        self.target = target
        self.fleet = fleet
        self._client = tagging_client or client("resourcegroupstaggingapi", region_name=target.region)
        self.fell_back = False

    @staticmethod
    def requests(target: Target, workspace_ids: Sequence[str]) -> list[dict[str, Any]]:
        """GetResources requests for the WorkSpaces' ARNs, 100 per request."""
        arns = [workspace_arn(target, w) for w in dict.fromkeys(workspace_ids)]
        return [
            {"ResourceARNList": arns[offset : offset + MAX_ARNS_PER_CALL]}
            for offset in range(0, len(arns), MAX_ARNS_PER_CALL)
        ]

    def tags(self, workspace_ids: Sequence[str]) -> dict[str, Tags]:
        """Each WorkSpace's tags (a WorkSpace the tagging API does not return has none), or
        TagsUnavailable with the error code when they could not be read. Never raises."""
        found = self.bulk(workspace_ids)
        if found is None:
            return {w: self.fleet.tags(w) for w in workspace_ids}
        return found

    def bulk(self, workspace_ids: Sequence[str]) -> dict[str, Tags] | None:
        """As `tags`, from the tagging API only: None when it is denied (`fell_back` is then set),
        so a caller reading the tags of many WorkSpaces never pays a WorkSpaces call for each."""
        if self.fell_back:
            return None
        found: dict[str, Tags] = {w: {} for w in workspace_ids}
        for request in self.requests(self.target, workspace_ids):
            try:
                with aws_call("GetResources"):
                    response = self._client.get_resources(**request)
            except AwsCallFailed as exc:
                if exc.error_code in DENIED:
                    self.fell_back = True
                    return None
                for arn in request["ResourceARNList"]:
                    found[arn.rsplit("/", 1)[1]] = TagsUnavailable(exc.error_code)
                continue
            for mapping in response.get("ResourceTagMappingList", []):
                found[mapping["ResourceARN"].rsplit("/", 1)[1]] = _tags(mapping.get("Tags", []))
        return found


def _tags(pairs: Sequence[Mapping[str, str]]) -> dict[str, str]:
    return {pair["Key"]: pair.get("Value", "") for pair in pairs}
