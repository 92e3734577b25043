"""Builders shared by the baseline's tests: an in-memory store with DynamoDB's conditions, and a table."""

from __future__ import annotations

import threading
from typing import Any

import orjson

from contracts.baseline import PARTITION_KEY
from local.baseline import create_table as create_local_table
from notifier.baseline.verdicts import Item, Rules

TABLE = "rejected-flows-baseline-test"


class MemoryStore:
    """The `Store` protocol in memory, with the same conditions as the DynamoDB store (tested against it)."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.started: int | None = None
        self.lock = threading.Lock()

    def get(self, pks: list[str]) -> dict[str, Item]:
        with self.lock:
            return {pk: self.items[pk] for pk in pks if pk in self.items}

    def claim(self, pk: str, time: int, object_id: str, rules: Rules) -> Item | None:
        with self.lock:
            old = self.items.get(pk)
            if old is None or old.last_seen < time - rules.window_s or old.claimed_by == object_id:
                self.items[pk] = Item(time, time, object_id)
                return None
            return old

    def refresh(self, pk: str, time: int, rules: Rules) -> None:
        with self.lock:
            old = self.items.get(pk)
            if old is not None and old.last_seen < time:
                self.items[pk] = Item(old.first_seen, time, old.claimed_by)

    def learning_start(self, time: int) -> int:
        with self.lock:
            if self.started is None:
                self.started = time
            return self.started


def create_table(dynamodb: Any, name: str = TABLE) -> None:
    """The table as the stack creates it (the local pipeline's own stand-in), named for these tests."""
    create_local_table(dynamodb, name)


def table_items(dynamodb: Any, name: str = TABLE) -> dict[str, dict[str, str]]:
    """Every item of the table, as {pk: {attribute: value text}}."""
    items: dict[str, dict[str, str]] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=name):
        for item in page["Items"]:
            items[item[PARTITION_KEY]["S"]] = {k: next(iter(v.values())) for k, v in item.items()}
    return items


class _Raw:
    """The `raw` of a botocore AWSResponse: a body read once."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self, *_: Any) -> bytes:
        return self.body


def answer_with_error(client: Any, operation: str, status: int, code: str,
                      calls: list[str] | None = None) -> None:
    """Make DynamoDB answer every `operation` call (e.g. `BatchGetItem`, `*`) with this error, on the wire:
    botocore parses it and retries it (throttling) exactly as it would AWS's own answer."""
    from botocore.awsrequest import AWSResponse

    def send(request: Any, **_: Any) -> Any:
        if calls is not None:
            calls.append(request.headers.get("X-Amz-Target", b"").decode())
        body = orjson.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                             "message": "answered by the test"})
        return AWSResponse(request.url, status, {"x-amzn-requestid": "test",
                                                 "content-type": "application/x-amz-json-1.0"}, _Raw(body))

    client.meta.events.register(f"before-send.dynamodb.{operation}", send)


def atomic_requests(monkeypatch: Any) -> None:
    """Make each AWS request atomic, as DynamoDB applies each conditional write (moto applies one in steps,
    without a lock); threads still interleave between requests, as concurrent invocations do."""
    from botocore.client import BaseClient

    atomic, make_call = threading.Lock(), BaseClient._make_api_call

    def one_at_a_time(self: Any, operation: str, params: Any) -> Any:
        with atomic:
            return make_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", one_at_a_time)
