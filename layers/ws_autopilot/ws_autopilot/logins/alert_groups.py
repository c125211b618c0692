"""Login alerts grouped per alert type, network and hour, with a cap: one missing egress range on
a 50,000-seat fleet sends a few messages an hour, not one per login.

Each group (`ALERTS#<alert type>#<network>` / `GROUP` in the login table, encrypted, with TTL)
holds the hour it counts (`window`), how many messages it sent in it (`sent`, at most the cap),
the event ids that sent them (`senders`), and how many logins it held back (`held`, since
`held_since`). The first login of a group in a new hour sends, and its message carries what the
group held back before (`held_back_before`); so does every login up to the cap; the rest are
counted. Every login record keeps all its alert types either way (`alerts`).

Each decision is one conditional UpdateItem, so concurrent invocations never send more than the
cap. Idempotent under Lambda retries: an event that took a message keeps it (its id is in
`senders`), so a retry after a failed Publish sends again rather than being held back; a retry
of a held-back login may count it twice (nothing of it fails after the count but the invocation
itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.core.errors import PermanentAwsError, TransientAwsError

ROUNDS = 5  # decisions tried before the event is retried (only under a changing hour or a race)


class Turn(StrEnum):
    SEND = "send"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class GroupTurn:
    """What a login does with one of its alerts: send it (as the group's `number`-th message in
    `window`, with the count held back before it) or hold it back."""

    turn: Turn
    window: str
    number: int = 0
    held_before: int = 0
    held_since: str | None = None


def hour_window(now: datetime) -> str:
    """The hour a decision at `now` counts in (UTC, `2026-11-30T09`)."""
    return now.strftime("%Y-%m-%dT%H")


def day_window(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class AlertGroups:
    def __init__(self, table_name: str, dynamodb_client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = dynamodb_client or client("dynamodb")
        # (kind, group, window) this container saw at its cap: their next logins try the count first
        self._full: set[tuple[str, str, str]] = set()

    @staticmethod
    def key(kind: str, group: str) -> dict[str, Any]:
        return {"workspace_id": _s(f"ALERTS#{kind}#{group}"), "sk": _s("GROUP")}

    def take(
        self, kind: str, group: str, event_id: str, window: str, cap: int, now: str, expires_at: int
    ) -> GroupTurn:
        """Decide whether event `event_id` sends its `kind` alert of `group` in `window`, and count
        it. Raises AwsCallFailed (TransientAwsError when the decision keeps racing)."""
        key = self.key(kind, group)
        for _ in range(ROUNDS):
            if (kind, group, window) not in self._full:
                turn = self._open(key, event_id, window, now, expires_at) or self._send(
                    key, event_id, window, cap, expires_at
                )
                if turn:
                    return turn
            if self._hold(key, event_id, window, now, expires_at):
                # only this hour's groups are kept: a warm container in a storm from many
                # networks would otherwise keep every hour's
                self._full = {full for full in self._full if full[2] == window}
                self._full.add((kind, group, window))
                return GroupTurn(Turn.HOLD, window)
            # This event sent already (a retry), or the group counts a later hour.
            item = self._read(key)
            stored = item.get("window", {}).get("S", window)
            if event_id in item.get("senders", {}).get("SS", []) and stored == window:
                return GroupTurn(
                    Turn.SEND,
                    window,
                    int(item["sent"]["N"]),
                    int(item.get("reported_held", {}).get("N", "0")),
                    item.get("reported_since", {}).get("S") or None,
                )
            window = max(window, stored)
        raise TransientAwsError("UpdateItem", "AlertGroupContention")

    def _open(
        self, key: dict[str, Any], event_id: str, window: str, now: str, expires_at: int
    ) -> GroupTurn | None:
        """The group's first message in `window`: resets it, and reports what it held before."""
        old = self._update(
            Key=key,
            UpdateExpression=(
                "SET #w = :w, sent = :one, senders = :e, held = :zero, expires_at = :x "
                "REMOVE held_since, reported_held, reported_since"
            ),
            ConditionExpression="attribute_not_exists(#w) OR #w < :w",
            ExpressionAttributeNames={"#w": "window"},
            ExpressionAttributeValues={
                ":w": _s(window),
                ":one": _n(1),
                ":zero": _n(0),
                ":e": {"SS": [event_id]},
                ":x": _n(expires_at),
            },
            ReturnValues="ALL_OLD",
        )
        if old is None:
            return None
        held = int(old.get("held", {}).get("N", "0"))
        since = old.get("held_since", {}).get("S")
        if held:  # for a retry of this event (see take)
            self._update(
                Key=key,
                UpdateExpression="SET reported_held = :h, reported_since = :s",
                ConditionExpression="#w = :w",
                ExpressionAttributeNames={"#w": "window"},
                ExpressionAttributeValues={":h": _n(held), ":s": _s(since or ""), ":w": _s(window)},
            )
        return GroupTurn(Turn.SEND, window, 1, held, since)

    def _send(
        self, key: dict[str, Any], event_id: str, window: str, cap: int, expires_at: int
    ) -> GroupTurn | None:
        new = self._update(
            Key=key,
            UpdateExpression="ADD sent :one, senders :e SET expires_at = :x",
            ConditionExpression="#w = :w AND sent < :cap AND NOT contains(senders, :id)",
            ExpressionAttributeNames={"#w": "window"},
            ExpressionAttributeValues={
                ":w": _s(window),
                ":one": _n(1),
                ":cap": _n(cap),
                ":e": {"SS": [event_id]},
                ":id": _s(event_id),
                ":x": _n(expires_at),
            },
            ReturnValues="ALL_NEW",
        )
        return None if new is None else GroupTurn(Turn.SEND, window, int(new["sent"]["N"]))

    def _hold(self, key: dict[str, Any], event_id: str, window: str, now: str, expires_at: int) -> bool:
        return (
            self._update(
                Key=key,
                UpdateExpression=(
                    "ADD held :one SET held_since = if_not_exists(held_since, :now), expires_at = :x"
                ),
                ConditionExpression="#w = :w AND NOT contains(senders, :id)",
                ExpressionAttributeNames={"#w": "window"},
                ExpressionAttributeValues={
                    ":w": _s(window),
                    ":one": _n(1),
                    ":id": _s(event_id),
                    ":now": _s(now),
                    ":x": _n(expires_at),
                },
                ReturnValues="UPDATED_NEW",
            )
            is not None
        )

    def _read(self, key: dict[str, Any]) -> dict[str, Any]:
        with aws_call("GetItem"):
            item: dict[str, Any] = self._client.get_item(
                TableName=self.table_name, Key=key, ConsistentRead=True
            ).get("Item", {})
        return item

    def _update(self, **request: Any) -> dict[str, Any] | None:
        """The UpdateItem's returned attributes, or None when its condition failed."""
        try:
            with aws_call("UpdateItem"):
                response = self._client.update_item(TableName=self.table_name, **request)
        except PermanentAwsError as exc:
            if exc.error_code == "ConditionalCheckFailedException":
                return None
            raise
        attributes: dict[str, Any] = response.get("Attributes", {})
        return attributes
