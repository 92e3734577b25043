"""The baseline's DynamoDB table (contracts/baseline.py): one item per key, one for the learning start.

Item of a key: `pk` (the key, `Key.pk`), `first_seen`, `last_seen` (flow times, epoch seconds),
`claimed_by` (the object that found it new) and `expires` (the TTL). Only the item actions of
`contracts.baseline.NOTIFIER_TABLE_ACTIONS` are used: BatchGetItem, GetItem, UpdateItem (a conditional
UpdateItem creates an item as PutItem would). Any failure (throttling after botocore's retries, access
denied, no network) is raised as BaselineUnavailableError: the event then goes out without verdicts.

Facts (checked 2026-12): BatchGetItem takes at most 100 keys and may return some as `UnprocessedKeys`,
to be requested again with backoff; a failed condition raises ConditionalCheckFailedException, with the
item as it was when ReturnValuesOnConditionCheckFailure=ALL_OLD (DynamoDB API reference, BatchGetItem,
UpdateItem). TTL deletes expired items within a few days, not at once (DynamoDB developer guide,
"Time to Live"): expiry is therefore judged from `last_seen`, never from whether an item exists.
"""

from __future__ import annotations

import threading
import time as clock
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.baseline import EXPIRY_ATTRIBUTE, PARTITION_KEY
from notifier.baseline.verdicts import Item, Rules

# The item holding when the baseline saw its first flow (`started`); no key's pk can equal it
# (theirs are JSON arrays).
LEARNING_PK = "learning"
BATCH_GET_LIMIT = 100
UNPROCESSED_ATTEMPTS = 5
_NAMES = {"#pk": PARTITION_KEY, "#exp": EXPIRY_ATTRIBUTE}
_CONDITION_FAILED = "ConditionalCheckFailedException"


class BaselineUnavailableError(RuntimeError):
    """DynamoDB failed or throttled; the message says what it answered."""


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _item(attributes: dict[str, Any]) -> Item:
    try:
        return Item(int(attributes["first_seen"]["N"]), int(attributes["last_seen"]["N"]),
                    attributes.get("claimed_by", {}).get("S", ""))
    except (KeyError, TypeError, ValueError) as error:
        raise BaselineUnavailableError(
            f"the baseline table holds an item this notifier did not write ({type(error).__name__}: "
            f"{error}); was BASELINE_TABLE pointed at another table?") from None


def _unavailable(action: str, error: Exception) -> BaselineUnavailableError:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "?")
        return BaselineUnavailableError(f"DynamoDB {action} failed: {code}")
    return BaselineUnavailableError(f"DynamoDB {action} failed: {type(error).__name__}")


class DynamoStore:
    """`notifier.baseline.verdicts.Store` over a DynamoDB client (boto3's low-level `dynamodb`)."""

    def __init__(self, client: Any, table: str, sleep: Callable[[float], None] = clock.sleep) -> None:
        self.client = client
        self.table = table
        self.sleep = sleep
        self._started: int | None = None
        self._lock = threading.Lock()
        # What this store did, for the handler's log and the bench.
        self.reads = 0
        self.writes = 0

    def _count(self, reads: int = 0, writes: int = 0) -> None:
        with self._lock:
            self.reads += reads
            self.writes += writes

    def get(self, pks: list[str]) -> dict[str, Item]:
        found: dict[str, Item] = {}
        unique = list(dict.fromkeys(pks))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            self._get_batch(unique[start:start + BATCH_GET_LIMIT], found)
        return found

    def _get_batch(self, pks: list[str], found: dict[str, Item]) -> None:
        request: dict[str, Any] = {self.table: {
            "Keys": [{PARTITION_KEY: {"S": pk}} for pk in pks],
            "ProjectionExpression": "#pk, first_seen, last_seen, claimed_by",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
        }}
        for attempt in range(UNPROCESSED_ATTEMPTS):
            try:
                response = self.client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as error:
                raise _unavailable("BatchGetItem", error) from error
            self._count(reads=len(request[self.table]["Keys"]))
            for attributes in response.get("Responses", {}).get(self.table, []):
                # An item without its times was not written by a claim: absent, and a claim decides.
                if "first_seen" in attributes and "last_seen" in attributes:
                    found[attributes[PARTITION_KEY]["S"]] = _item(attributes)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return
            self.sleep(min(0.05 * 2 ** attempt, 1.0))
        raise BaselineUnavailableError(
            f"DynamoDB BatchGetItem left keys unprocessed after {UNPROCESSED_ATTEMPTS} attempts (throttled)")

    def claim(self, pk: str, time: int, object_id: str, rules: Rules) -> Item | None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={PARTITION_KEY: {"S": pk}},
                UpdateExpression="SET first_seen = :t, last_seen = :t, claimed_by = :o, #exp = :e",
                ConditionExpression="attribute_not_exists(#pk) OR last_seen < :cutoff OR claimed_by = :o",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":t": _n(time), ":o": {"S": object_id},
                                           ":cutoff": _n(time - rules.window_s),
                                           ":e": _n(rules.expires(time))},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise _unavailable("UpdateItem", error) from error
            self._count(writes=1)
            old = error.response.get("Item")
            return _item(old) if old else self._read(pk)
        except BotoCoreError as error:
            raise _unavailable("UpdateItem", error) from error
        self._count(writes=1)
        return None

    def _read(self, pk: str) -> Item:
        """The item that stopped a claim, when the answer did not carry it."""
        try:
            response = self.client.get_item(TableName=self.table, Key={PARTITION_KEY: {"S": pk}},
                                            ConsistentRead=True)
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("GetItem", error) from error
        self._count(reads=1)
        if "Item" not in response:
            raise BaselineUnavailableError(f"DynamoDB refused a claim of {pk} but has no item for it")
        return _item(response["Item"])

    def refresh(self, pk: str, time: int, rules: Rules) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={PARTITION_KEY: {"S": pk}},
                UpdateExpression="SET last_seen = :t, #exp = :e",
                ConditionExpression="attribute_exists(#pk) AND last_seen < :t",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":t": _n(time), ":e": _n(rules.expires(time))},
            )
        except ClientError as error:
            # A newer sighting refreshed it first, or TTL removed it: either way nothing to do.
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise _unavailable("UpdateItem", error) from error
        except BotoCoreError as error:
            raise _unavailable("UpdateItem", error) from error
        self._count(writes=1)

    def learning_start(self, time: int) -> int:
        """Read once per container; written (`if_not_exists`) only by the first object that finds none."""
        if self._started is not None:
            return self._started
        key = {PARTITION_KEY: {"S": LEARNING_PK}}
        try:
            response = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
            self._count(reads=1)
            item = response.get("Item")
            if item is None:
                response = self.client.update_item(
                    TableName=self.table, Key=key,
                    UpdateExpression="SET started = if_not_exists(started, :t)",
                    ExpressionAttributeValues={":t": _n(time)}, ReturnValues="UPDATED_NEW")
                self._count(writes=1)
                item = response["Attributes"]
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("learning start", error) from error
        self._started = int(item["started"]["N"])
        return self._started

    def seed_learning_start(self, time: int) -> None:
        """For `python -m baseline seed`: move the learning start back to `time` if it is later or unset."""
        try:
            self.client.update_item(
                TableName=self.table, Key={PARTITION_KEY: {"S": LEARNING_PK}},
                UpdateExpression="SET started = :t",
                ConditionExpression="attribute_not_exists(started) OR started > :t",
                ExpressionAttributeValues={":t": _n(time)})
            self._count(writes=1)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise _unavailable("UpdateItem", error) from error
        except BotoCoreError as error:
            raise _unavailable("UpdateItem", error) from error
        self._started = None
