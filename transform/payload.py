"""Decoding one Firehose record: base64, then either gzip -> a CloudWatch Logs subscription message
(`contracts/cloudwatch_logs.py` reads it), or (flow logs delivered straight to Firehose) plain-text
flow-log lines."""

from __future__ import annotations

import binascii
import gzip
import zlib
from dataclasses import dataclass
from typing import Any

from contracts.cloudwatch_logs import MessageError, SubscriptionMessage, sample

# Every gzip stream starts with these two bytes (RFC 1952); plain-text flow-log lines never do.
GZIP_MAGIC = b"\x1f\x8b"


class RecordDecodeError(ValueError):
    """This record cannot be read; the message says why, with a short sample of what was there."""


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
        return SubscriptionMessage.parse(raw)
    except MessageError as error:
        raise RecordDecodeError(str(error)) from error


def encode_lines(lines: list[str]) -> bytes:
    """Plain-text flow-log lines as flow logs deliver them to Firehose (for re-ingestion)."""
    return ("\n".join(lines) + "\n").encode()
