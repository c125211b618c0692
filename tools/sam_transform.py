"""template.yaml as CloudFormation will run it: the SAM transform applied offline, as `sam deploy`
would after `sam package`, so that checkov sees the functions' own roles and policies (SAM writes
them only when it transforms the template).

Runs in the SAM CLI's virtual environment (.venv-sam), which has the SAM translator:

    .venv-sam/bin/python -m tools.sam_transform template.yaml > build/template.transformed.json

Local code and definition paths become the S3 addresses `sam package` would give them (their
content does not matter to the transform); the account, region and partition are placeholders.
No AWS call is made: the template names no managed policy by name, so no policy is looked up.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

# What `sam package` uploads and replaces by an S3 address, by resource type.
LOCAL_PATHS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


class NoManagedPolicies:
    """The translator asks for this only to resolve managed policies given by name."""

    def load(self) -> dict[str, str]:
        return {}


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    for resource in template.get("Resources", {}).values():
        key = LOCAL_PATHS.get(resource.get("Type", ""))
        path = resource.get("Properties", {}).get(key) if key else None
        if isinstance(path, str) and not path.startswith("s3://"):
            resource["Properties"][key] = f"s3://packaged-by-sam/{path.strip('/')}"
    return template


def transformed(path: Path) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator's pseudo-parameters
    template = packaged(yaml_parse(path.read_text()))
    result: dict[str, Any] = transform(template, {}, NoManagedPolicies())
    return result


if __name__ == "__main__":
    json.dump(transformed(Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")), sys.stdout, indent=1)
    sys.stdout.write("\n")
