"""Alerts to the application's SNS topic."""

from __future__ import annotations

import json
from typing import Any

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.core.models import AlertMessage

MAX_SUBJECT = 100


class Notifier:
    def __init__(self, topic_arn: str, sns_client: Any | None = None) -> None:
        self.topic_arn = topic_arn
        self._client = sns_client or client("sns")

    @staticmethod
    def request(topic_arn: str, kind: str, subject: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "TopicArn": topic_arn,
            "Subject": subject[:MAX_SUBJECT],
            "Message": json.dumps(body, indent=2, default=str),
            "MessageAttributes": {"alert_type": {"DataType": "String", "StringValue": kind}},
        }

    def publish(self, kind: str, subject: str, body: dict[str, Any]) -> str:
        """Publish one alert; `kind` goes into the `alert_type` attribute for subscription filters."""
        with aws_call("Publish"):
            return str(self._client.publish(**self.request(self.topic_arn, kind, subject, body))["MessageId"])

    def send(self, message: AlertMessage) -> str:
        """Publish one alert built by a wing's `alerts` module. Raises AwsCallFailed as `publish` does."""
        return self.publish(message.kind, message.subject, message.body)
