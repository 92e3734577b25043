"""Decoding one Firehose record: base64 -> gzip -> a CloudWatch Logs subscription message."""

from __future__ import annotations

import binascii
import gzip
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"
SAMPLE_CHARS = 120


class RecordDecodeError(ValueError):
    """This record cannot be read; the message says why, with a short sample of what was there."""


@dataclass(frozen=True)
class SubscriptionMessage:
    message_type: str
    owner: str
    log_group: str
    log_stream: str
    log_events: list[dict[str, Any]]


def sample(raw: bytes | str) -> str:
    text = raw if isinstance(raw, str) else raw[:SAMPLE_CHARS].decode("utf-8", "replace")
    return text[:SAMPLE_CHARS] + ("…" if len(raw) > SAMPLE_CHARS else "")


def decode_record_data(data: str) -> bytes:
    """base64 -> gzip -> the JSON text of the subscription message."""
    try:
        compressed = binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise RecordDecodeError(f"data is not base64 ({error}): {sample(data)!r}") from error
    try:
        return gzip.decompress(compressed)
    except EOFError as error:
        raise RecordDecodeError(f"gzip data is truncated ({len(compressed)} bytes)") from error
    except (OSError, zlib.error) as error:
        raise RecordDecodeError(f"data is not gzip ({error}): {sample(compressed)!r}") from error


def parse_message(raw: bytes) -> SubscriptionMessage:
    """The subscription message's JSON, checked for the shape CloudWatch Logs sends."""
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise RecordDecodeError(f"gunzipped data is not JSON ({error}): {sample(raw)!r}") from error
    if not isinstance(message, dict):
        raise RecordDecodeError(f"message is a JSON {type(message).__name__}, not an object: {sample(raw)!r}")
    message_type = message.get("messageType")
    if message_type == CONTROL_MESSAGE:
        return SubscriptionMessage(CONTROL_MESSAGE, str(message.get("owner", "")), "", "", [])
    if message_type != DATA_MESSAGE:
        raise RecordDecodeError(f"unknown messageType {message_type!r}: {sample(raw)!r}")
    log_group, log_stream, events = (message.get(k) for k in ("logGroup", "logStream", "logEvents"))
    if not isinstance(log_group, str) or not isinstance(log_stream, str):
        raise RecordDecodeError(f"DATA_MESSAGE without logGroup/logStream strings: {sample(raw)!r}")
    if not isinstance(events, list):
        # Each event's own shape is checked where its message is read (LineEncoder.encode_events).
        raise RecordDecodeError(f"logEvents is not a list: {sample(raw)!r}")
    return SubscriptionMessage(DATA_MESSAGE, str(message.get("owner", "")), log_group, log_stream, events)


def encode_message(message: SubscriptionMessage, events: list[dict[str, Any]]) -> bytes:
    """A DATA_MESSAGE with a subset of the events, gzipped as CloudWatch sends it (for re-ingestion)."""
    body = {
        "messageType": DATA_MESSAGE,
        "owner": message.owner,
        "logGroup": message.log_group,
        "logStream": message.log_stream,
        "subscriptionFilters": [],
        "logEvents": events,
    }
    return gzip.compress(orjson.dumps(body), compresslevel=6, mtime=0)
