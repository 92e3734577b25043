"""Firehose's error record: one JSON line per record it could not process, under the error prefix.

Firehose writes `attemptsMade`, `arrivalTimestamp` (ms), `errorCode` (e.g.
`Lambda.ProcessingFailedStatus`), `errorMessage`, `attemptEndingTimestamp` (ms), `rawData` (base64 of
the record as it entered the stream) and `lambdaArn` (Amazon Data Firehose Developer Guide, "Handle
failure in data transformation"; checked 2026-12). One writer (`error_line`, used by the local stand-in)
and one reader (`read_error_line` and the `ErrorRecord` view, used by the notifier, replay and the local
archive), in the manner of Powertools' `utilities/data_classes`.

The one rule all readers share: a line is an error record when it is a JSON object. Only `rawData` is
needed to put it back, so a record without `errorCode` is still a record (its code reads as `unknown`)
and is replayed; a record whose `rawData` is missing, not base64 or over PutRecordBatch's per-record
limit is counted as a record but is not replayable (`NotReplayableError` says why). Everything else
(not JSON, a JSON array or string) is not an error record (`NotAnErrorRecordError`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from contracts.firehose import PUT_RECORD_MAX_BYTES

# The code a record without a (string, non-empty) `errorCode` is counted under.
UNKNOWN_CODE = "unknown"
# How much of a line that is not JSON an error message shows.
PREVIEW_BYTES = 40


class NotAnErrorRecordError(ValueError):
    """A line that is not a Firehose error record at all (not JSON, or not a JSON object)."""


class NotReplayableError(ValueError):
    """An error record whose `rawData` cannot be put back into the stream."""


def _int_or_none(value: object) -> int | None:
    return value if type(value) is int else None  # not a bool, not a string


@dataclass(frozen=True)
class ErrorRecord:
    """A read-only view over one error record (a parsed JSON object); absent or mistyped fields are None."""

    raw: dict[str, Any]

    @property
    def error_code(self) -> str:
        code = self.raw.get("errorCode")
        return code if isinstance(code, str) and code else UNKNOWN_CODE

    @property
    def error_message(self) -> str:
        message = self.raw.get("errorMessage")
        return message if isinstance(message, str) else ""

    @property
    def attempts_made(self) -> int | None:
        return _int_or_none(self.raw.get("attemptsMade"))

    @property
    def arrival_timestamp(self) -> int | None:
        return _int_or_none(self.raw.get("arrivalTimestamp"))

    @property
    def attempt_ending_timestamp(self) -> int | None:
        return _int_or_none(self.raw.get("attemptEndingTimestamp"))

    @property
    def lambda_arn(self) -> str | None:
        arn = self.raw.get("lambdaArn")
        return arn if isinstance(arn, str) else None

    @property
    def raw_data(self) -> str | None:
        data = self.raw.get("rawData")
        return data if isinstance(data, str) else None

    def decode_data(self) -> bytes:
        """The original record's bytes; NotReplayableError saying why they cannot be put back."""
        encoded = self.raw_data
        if encoded is None:
            raise NotReplayableError("no rawData" if "rawData" not in self.raw else "rawData is not a string")
        try:
            data = base64.b64decode(encoded, validate=True)
        except ValueError as error:  # binascii.Error, or a character outside ASCII
            raise NotReplayableError(f"rawData is not base64 ({error})") from None
        if len(data) > PUT_RECORD_MAX_BYTES:
            raise NotReplayableError(f"a record of {len(data):,} bytes is over Firehose's "
                                     f"{PUT_RECORD_MAX_BYTES:,} byte limit per record")
        return data

    @property
    def replayable(self) -> bool:
        try:
            self.decode_data()
        except NotReplayableError:
            return False
        return True


def read_error_line(line: bytes) -> ErrorRecord:
    """The error record on one line; NotAnErrorRecordError if the line is not one."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise NotAnErrorRecordError(f"not JSON (starts {line[:PREVIEW_BYTES]!r})") from None
    if type(record) is not dict:
        raise NotAnErrorRecordError(f"a JSON {type(record).__name__}, not a Firehose error record")
    return ErrorRecord(record)


def error_line(data: bytes, *, code: str, message: str, attempts: int, arrival_ms: int, ending_ms: int,
               lambda_arn: str) -> bytes:
    """One error record as Firehose writes it, newline included."""
    return orjson.dumps({
        "attemptsMade": attempts,
        "arrivalTimestamp": arrival_ms,
        "errorCode": code,
        "errorMessage": message,
        "attemptEndingTimestamp": ending_ms,
        "rawData": base64.b64encode(data).decode("ascii"),
        "lambdaArn": lambda_arn,
    }) + b"\n"
