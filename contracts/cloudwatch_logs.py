"""The CloudWatch Logs subscription message: one typed view, its reader and its writer together.

In the manner of Powertools' `utilities/data_classes/cloud_watch_logs_event.py`. CloudWatch Logs delivers
to a subscription's destination (here the Firehose stream) a gzip (level 6) of one JSON object:
`messageType` (`DATA_MESSAGE`, or `CONTROL_MESSAGE` when it checks that the destination is reachable),
`owner`, `logGroup`, `logStream`, `subscriptionFilters` and `logEvents`, each event with `id` (a string
of digits), `timestamp` (milliseconds), `message` and, when the filter pattern names fields,
`extractedFields` ("Using CloudWatch Logs subscription filters", Examples; checked 2026-12).

Read by the transform (`SubscriptionMessage.parse`, which also checks the envelope's names against
CloudWatch Logs' naming rules), written by the transform when it puts some of a message's events back
(`with_events(...).encode()`), and by the local stand-ins and the tests (`data_message`,
`control_message`, `encode`). docs/architecture.md, The transform.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"
# CloudWatch Logs compresses subscription payloads with gzip level 6.
GZIP_LEVEL = 6
SAMPLE_CHARS = 120

# Naming rules (CreateLogGroup / CreateLogStream API reference, checked 2026-12): a log group name is
# 1-512 of `[\.\-_/#A-Za-z0-9]`; a log stream name is 1-512 characters, no `:` or `*`. A stream name is
# also refused here if it holds a control or format character (AWS's pattern `[^:*]*` allows them, but
# no stream AWS writes for flow logs has one, and they would reach the archive and the events).
LOG_NAME_MAX = 512
_LOG_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}", re.ASCII)


class MessageError(ValueError):
    """Data that is not a CloudWatch Logs subscription message; says why, with a sample."""


def sample(raw: bytes | str) -> str:
    text = raw if isinstance(raw, str) else raw[:SAMPLE_CHARS].decode("utf-8", "replace")
    return text[:SAMPLE_CHARS] + ("…" if len(raw) > SAMPLE_CHARS else "")


def envelope_problem(log_group: str, log_stream: str) -> str | None:
    """Why a DATA_MESSAGE's log group or stream name is not one CloudWatch Logs allows, or None."""
    if _LOG_GROUP_NAME.fullmatch(log_group) is None:
        return f"logGroup {log_group[:60]!r} is not a CloudWatch Logs log group name"
    if not 1 <= len(log_stream) <= LOG_NAME_MAX or ":" in log_stream or "*" in log_stream \
            or not log_stream.isprintable():
        return f"logStream {log_stream[:60]!r} is not a CloudWatch Logs log stream name"
    return None


@dataclass(frozen=True)
class LogEvent:
    """One log event to write (the reader keeps events as they came: `SubscriptionMessage.log_events`)."""

    message: str
    timestamp_ms: int
    id: str = ""  # empty: made from the timestamp and the event's place, as unique as CloudWatch's
    extracted_fields: dict[str, str] | None = None

    def as_dict(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id or f"{self.timestamp_ms:020d}{index:036d}",
            "timestamp": self.timestamp_ms,
            "message": self.message,
        }
        if self.extracted_fields is not None:
            item["extractedFields"] = self.extracted_fields
        return item


@dataclass(frozen=True)
class SubscriptionMessage:
    """A subscription message: the envelope and its log events as they are on the wire (each event's own
    shape is checked where its message is read)."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    log_events: list[dict[str, Any]]
    subscription_filters: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, raw: bytes) -> SubscriptionMessage:
        """The message in gunzipped `raw`, checked for the shape CloudWatch Logs sends.

        A control message is read with no log group, stream or events (they do not matter).
        """
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise MessageError(f"gunzipped data is not JSON ({error}): {sample(raw)!r}") from error
        if not isinstance(message, dict):
            raise MessageError(f"message is a JSON {type(message).__name__}, not an object: {sample(raw)!r}")
        message_type = message.get("messageType")
        if message_type == CONTROL_MESSAGE:
            return cls(CONTROL_MESSAGE, str(message.get("owner", "")), "", "", [])
        if message_type != DATA_MESSAGE:
            raise MessageError(f"unknown messageType {message_type!r}: {sample(raw)!r}")
        log_group, log_stream, events = (message.get(k) for k in ("logGroup", "logStream", "logEvents"))
        if not isinstance(log_group, str) or not isinstance(log_stream, str):
            raise MessageError(f"DATA_MESSAGE without logGroup/logStream strings: {sample(raw)!r}")
        problem = envelope_problem(log_group, log_stream)
        if problem is not None:
            raise MessageError(f"{problem}: {sample(raw)!r}")
        if not isinstance(events, list):
            raise MessageError(f"logEvents is not a list: {sample(raw)!r}")
        filters = message.get("subscriptionFilters")
        names = tuple(str(f) for f in filters) if isinstance(filters, list) else ()
        return cls(DATA_MESSAGE, str(message.get("owner", "")), log_group, log_stream, events, names)

    def with_events(self, events: list[dict[str, Any]]) -> SubscriptionMessage:
        """The same envelope holding only `events` (for putting some of them back into the stream)."""
        return SubscriptionMessage(self.message_type, self.owner, self.log_group, self.log_stream, events,
                                   self.subscription_filters)

    def as_dict(self) -> dict[str, Any]:
        return {
            "messageType": self.message_type,
            "owner": self.owner,
            "logGroup": self.log_group,
            "logStream": self.log_stream,
            "subscriptionFilters": list(self.subscription_filters),
            "logEvents": self.log_events,
        }

    def encode(self) -> bytes:
        """The message as Firehose receives it from CloudWatch Logs: gzip of its JSON (not yet base64)."""
        return encode_payload(orjson.dumps(self.as_dict()))


def encode_payload(message: dict[str, Any] | bytes) -> bytes:
    """A message's JSON (or its dict) gzipped as CloudWatch Logs sends it."""
    raw = message if isinstance(message, bytes) else orjson.dumps(message)
    return gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)


def data_message(events: Sequence[LogEvent], log_group: str = "/vpc/flow-logs/dev",
                 log_stream: str = "eni-0a1b2c3d4e5f60718-all", owner: str = "123456789012",
                 subscription_filters: Sequence[str] = ("rejected-flows",)) -> SubscriptionMessage:
    """A DATA_MESSAGE as CloudWatch Logs writes it (for the local stand-ins and the tests)."""
    return SubscriptionMessage(DATA_MESSAGE, owner, log_group, log_stream,
                               [event.as_dict(index) for index, event in enumerate(events)],
                               tuple(subscription_filters))


def control_message(log_group: str = "/vpc/flow-logs/dev") -> dict[str, Any]:
    """The control message CloudWatch Logs sends when it checks the destination, as its JSON object."""
    return {
        "messageType": CONTROL_MESSAGE,
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": 1764201600000,
                "message": f"CWL CONTROL MESSAGE: Checking health of destination Firehose for {log_group}.",
            }
        ],
    }
