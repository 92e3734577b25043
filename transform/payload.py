"""Decoding one Firehose record: base64, then either gzip -> a CloudWatch Logs subscription message,
or (flow logs delivered straight to Firehose) plain-text flow-log lines."""

from __future__ import annotations

import binascii
import gzip
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"
SAMPLE_CHARS = 120
# Every gzip stream starts with these two bytes (RFC 1952); plain-text flow-log lines never do.
GZIP_MAGIC = b"\x1f\x8b"


# CloudWatch Logs naming rules (CreateLogGroup / CreateLogStream API reference, checked 2026-12): a log
# group name is 1-512 of `[\.\-_/#A-Za-z0-9]`; a log stream name is 1-512 characters, no `:` or `*`. A
# stream name is also refused here if it holds a control or format character (AWS's pattern `[^:*]*`
# allows them, but no log stream AWS writes for flow logs has one, and they would reach the archive).
LOG_NAME_MAX = 512
_LOG_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}", re.ASCII)


def envelope_problem(log_group: str, log_stream: str) -> str | None:
    """Why a DATA_MESSAGE's log group or stream name is not one CloudWatch Logs allows, or None."""
    if _LOG_GROUP_NAME.fullmatch(log_group) is None:
        return f"logGroup {log_group[:60]!r} is not a CloudWatch Logs log group name"
    if not 1 <= len(log_stream) <= LOG_NAME_MAX or ":" in log_stream or "*" in log_stream \
            or not log_stream.isprintable():
        return f"logStream {log_stream[:60]!r} is not a CloudWatch Logs log stream name"
    return None


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


@dataclass(frozen=True)
class PlainTextLines:
    """Flow-log lines as flow logs deliver them straight to Firehose: no envelope, no log group."""

    text: str

    def events(self, header: str) -> list[dict[str, Any]]:
        """One event per line, ids naming the line; blank lines and header lines are not flows."""
        return [
            {"id": f"line {number}", "message": line}
            for number, line in enumerate(self.text.split("\n"), start=1)
            if line.strip() and line.strip() != header
        ]


def decode_record(data: str) -> SubscriptionMessage | PlainTextLines:
    """base64 -> a CloudWatch Logs subscription message (gzip) or plain-text flow-log lines."""
    raw = decode_base64(data)
    if raw[:2] == GZIP_MAGIC:
        return parse_message(gunzip(raw))
    try:
        return PlainTextLines(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RecordDecodeError(
            f"data is neither gzip (a CloudWatch Logs message) nor UTF-8 text (flow-log lines) "
            f"({error}): {sample(raw)!r}"
        ) from error


def decode_base64(data: str) -> bytes:
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise RecordDecodeError(f"data is not base64 ({error}): {sample(data)!r}") from error


def decode_record_data(data: str) -> bytes:
    """base64 -> gzip -> the JSON text of the subscription message."""
    return gunzip(decode_base64(data))


def gunzip(compressed: bytes) -> bytes:
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
    problem = envelope_problem(log_group, log_stream)
    if problem is not None:
        raise RecordDecodeError(f"{problem}: {sample(raw)!r}")
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


def encode_lines(lines: list[str]) -> bytes:
    """Plain-text flow-log lines as flow logs deliver them to Firehose (for re-ingestion)."""
    return ("\n".join(lines) + "\n").encode()
