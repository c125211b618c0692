"""`sam deploy` as an operator runs it, through the SAM CLI's own code (its click command, guided
prompts, samconfig.toml handling, packaging and change-set logic), with only its AWS calls
answered here: a small CloudFormation that keeps each stack's parameter values (a change set's
UsePreviousValue keeps the previous one, as CloudFormation does), an S3 that takes uploads, and
STS. Run with the SAM CLI's own Python (.venv-sam), in a folder holding a copy of the project:

    .venv-sam/bin/python tests/support/sam_deploy.py <folder> <steps.json>

Each step is {"args": [...], "input": "..."}: the `sam` command line and what is typed at its
prompts; "drop_samconfig_lines": a prefix, to delete those lines of samconfig.toml first (an
operator's edit). Prints, as JSON, each step's exit code, output, the CreateChangeSet request's
parameters and samconfig.toml after it."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.client
from botocore.exceptions import ClientError

ACCOUNT, REGION = "123456789012", "us-east-1"
MANAGED = "aws-sam-cli-managed-default"


class FakeAws:
    """What `sam deploy` asks of AWS, answered as AWS documents it."""

    def __init__(self, defaults: dict[str, str]) -> None:
        self.defaults = defaults  # the template's parameter defaults
        self.stacks: dict[str, dict[str, Any]] = {
            MANAGED: {
                "StackName": MANAGED,
                "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{MANAGED}/1",
                "StackStatus": "CREATE_COMPLETE",
                "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                "Tags": [{"Key": "ManagedStackSource", "Value": "AwsSamCli"}],
                "Outputs": [{"OutputKey": "SourceBucket", "OutputValue": "sam-managed-bucket"}],
                "Parameters": [],
            }
        }
        self.change_sets: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []  # CreateChangeSet requests
        self.clock = datetime.now(UTC)

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def call(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"{service}_{operation}", None)
        if handler is None:
            return {}
        result: dict[str, Any] = handler(params)
        return result

    # -- STS, S3 ---------------------------------------------------------------------------------
    def sts_GetCallerIdentity(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/operator", "UserId": "AIDA"}

    def s3_HeadObject(self, params: dict[str, Any]) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")

    def s3_PutObject(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ETag": '"0"'}

    # -- CloudFormation --------------------------------------------------------------------------
    def _stack(self, name: str, operation: str) -> dict[str, Any]:
        stack = self.stacks.get(name)
        if stack is None:
            raise ClientError(
                {"Error": {"Code": "ValidationError", "Message": f"Stack with id {name} does not exist"}},
                operation,
            )
        return stack

    def cloudformation_DescribeStacks(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Stacks": [self._stack(params["StackName"], "DescribeStacks")]}

    def cloudformation_GetTemplateSummary(self, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(params["StackName"], "GetTemplateSummary")
        return {"Parameters": [{"ParameterKey": p["ParameterKey"]} for p in stack["Parameters"]]}

    def cloudformation_CreateChangeSet(self, params: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(params)
        name = params["StackName"]
        previous = {
            p["ParameterKey"]: p["ParameterValue"] for p in self.stacks.get(name, {}).get("Parameters", [])
        }
        # A parameter the change set does not name takes its default, as in CloudFormation.
        values = dict(self.defaults)
        for p in params.get("Parameters", []):
            if p.get("UsePreviousValue"):
                if p["ParameterKey"] not in previous:
                    raise ClientError(
                        {"Error": {"Code": "ValidationError", "Message": f"no previous {p['ParameterKey']}"}},
                        "CreateChangeSet",
                    )
                values[p["ParameterKey"]] = previous[p["ParameterKey"]]
            else:
                values[p["ParameterKey"]] = p["ParameterValue"]
        change_set = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{params['ChangeSetName']}/1"
        stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/1"
        self.change_sets[change_set] = {"stack": name, "values": values, "type": params.get("ChangeSetType")}
        if name not in self.stacks:  # a new stack waits for its first change set to be executed
            self.stacks[name] = {
                "StackName": name,
                "StackId": stack_id,
                "StackStatus": "REVIEW_IN_PROGRESS",
                "CreationTime": self.clock,
                "Parameters": [],
            }
        return {"Id": change_set, "StackId": stack_id}

    def cloudformation_DescribeChangeSet(self, params: dict[str, Any]) -> dict[str, Any]:
        change = {
            "Type": "Resource",
            "ResourceChange": {
                "Action": "Modify",
                "LogicalResourceId": "AlertTopic",
                "ResourceType": "AWS::SNS::Topic",
                "Replacement": "False",
            },
        }
        return {"Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE", "Changes": [change]}

    def cloudformation_ExecuteChangeSet(self, params: dict[str, Any]) -> dict[str, Any]:
        change_set = self.change_sets[params["ChangeSetName"]]
        name = change_set["stack"]
        created = change_set["type"] == "CREATE"
        self.stacks[name] = {
            "StackName": name,
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/1",
            "StackStatus": "CREATE_COMPLETE" if created else "UPDATE_COMPLETE",
            "CreationTime": self.clock,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in change_set["values"].items()],
            "Outputs": [],
            "Tags": [],
        }
        return {}

    def cloudformation_DescribeStackEvents(self, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(params["StackName"], "DescribeStackEvents")
        event = {
            "EventId": f"event-{stack['StackStatus']}-{self.clock.timestamp()}",
            "StackName": stack["StackName"],
            "StackId": stack["StackId"],
            "LogicalResourceId": stack["StackName"],
            "PhysicalResourceId": stack["StackId"],
            "ResourceType": "AWS::CloudFormation::Stack",
            "ResourceStatus": stack["StackStatus"],
            "Timestamp": self.tick(),
        }
        return {"StackEvents": [event]}


def main(folder: str, steps_file: str) -> None:
    from click.testing import CliRunner
    from samcli.cli.main import cli
    from samcli.yamlhelper import yaml_parse

    template = yaml_parse((Path(folder) / "template.yaml").read_text())
    aws = FakeAws({name: str(p.get("Default", "")) for name, p in template["Parameters"].items()})

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return aws.call(client.meta.service_model.service_name, operation, params)

    botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    time.sleep = lambda seconds: None  # the SAM CLI's polling waits on nothing here
    os.chdir(folder)
    results = []
    for step in json.loads(Path(steps_file).read_text()):
        before = len(aws.requests)
        if step.get("drop_samconfig_lines"):
            config = Path("samconfig.toml")
            lines = config.read_text().splitlines(keepends=True)
            config.write_text("".join(li for li in lines if not li.startswith(step["drop_samconfig_lines"])))
        outcome = CliRunner().invoke(cli, step["args"], input=step.get("input", ""), catch_exceptions=True)
        sent = aws.requests[before:]
        results.append(
            {
                "exit_code": outcome.exit_code,
                "output": outcome.output + (repr(outcome.exception) if outcome.exception else ""),
                "parameters": sent[-1].get("Parameters", []) if sent else None,
                "stack": {
                    p["ParameterKey"]: p["ParameterValue"]
                    for p in aws.stacks.get("workspaces-autopilot", {}).get("Parameters", [])
                },
                "samconfig": Path("samconfig.toml").read_text(),
            }
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
