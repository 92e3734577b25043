"""Reading Firehose's error objects: JSON lines whose `rawData` is the record as it entered the stream.

Firehose writes one JSON object per failed record (`attemptsMade`, `arrivalTimestamp`, `errorCode`,
`errorMessage`, `attemptEndingTimestamp`, `rawData` in base64, `lambdaArn`), GZIP-compressed when the
destination compresses, as this stack's does. An object is replayed whole or not at all: one line that
is not such a record (or a record PutRecordBatch could not take) makes the whole object an error, so a
re-run after the fix puts every record of it exactly once.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from dataclasses import dataclass

import orjson

from contracts.firehose import PUT_RECORD_MAX_BYTES

GZIP_MAGIC = b"\x1f\x8b"
# The keys that say a line is a Firehose error record; the others vary with the error output type.
REQUIRED_KEYS = ("errorCode", "rawData")
# How many bad lines one error message names before it only counts the rest.
LINES_NAMED = 3
# How much of a line that is not JSON an error message shows.
PREVIEW_BYTES = 40


class MalformedObjectError(ValueError):
    """An object under the error prefix that is not (only) Firehose error records; nothing of it is put."""

    def __init__(self, key: str, problems: list[tuple[int, str]] | str):
        self.key = key
        if isinstance(problems, str):
            message = problems
        else:
            named = "; ".join(f"line {number}: {reason}" for number, reason in problems[:LINES_NAMED])
            more = len(problems) - LINES_NAMED
            message = named + (f" (and {more} more bad lines)" if more > 0 else "")
        self.reason = message
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True)
class FailedRecord:
    """One record to put back: where it was found and its original bytes."""

    key: str
    line: int  # 1-based line of the (decompressed) object
    data: bytes
    error_code: str


def decompress(key: str, body: bytes) -> bytes:
    """The object's text: gunzipped when it starts with gzip's magic bytes, as it is otherwise."""
    if not body.startswith(GZIP_MAGIC):
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as error:
        raise MalformedObjectError(key, f"starts like gzip but cannot be decompressed ({error})") from error


def parse_line(line: bytes) -> tuple[bytes, str]:
    """`(raw data, error code)` of one error record; ValueError saying why a line is not one."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise ValueError(f"not JSON (starts {line[:PREVIEW_BYTES]!r})") from None
    if not isinstance(record, dict):
        raise ValueError(f"a JSON {type(record).__name__}, not a Firehose error record")
    missing = [name for name in REQUIRED_KEYS if not isinstance(record.get(name), str)]
    if missing:
        raise ValueError(f"not a Firehose error record (no string {', '.join(missing)})")
    try:
        data = base64.b64decode(record["rawData"], validate=True)
    except binascii.Error as error:
        raise ValueError(f"rawData is not base64 ({error})") from None
    if len(data) > PUT_RECORD_MAX_BYTES:
        raise ValueError(f"a record of {len(data):,} bytes is over Firehose's {PUT_RECORD_MAX_BYTES:,} "
                         f"byte limit per record and cannot be put back")
    return data, record["errorCode"]


def resume_point(key: str, progress: str | None, records: int) -> int:
    """How many records an interrupted run already put back (0 without a progress tag)."""
    if progress is None:
        return 0
    # isdigit() alone also takes digits int() refuses ("²"), which would stop the whole run.
    if not (progress.isascii() and progress.isdigit()) or int(progress) > records:
        raise MalformedObjectError(key, f"its progress tag says {progress!r} records were put back, but it "
                                        f"holds {records}: check the object, then remove the tag")
    return int(progress)


def parse_error_object(key: str, body: bytes) -> list[FailedRecord]:
    """Every record of one error object, in order; MalformedObjectError naming each bad line."""
    text = decompress(key, body)
    records: list[FailedRecord] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.split(b"\n"), start=1):
        if not line.strip():
            continue  # the final newline, or blank lines a hand edit left
        try:
            data, code = parse_line(line)
        except ValueError as error:
            problems.append((number, str(error)))
            continue
        records.append(FailedRecord(key, number, data, code))
    if problems:
        raise MalformedObjectError(key, problems)
    return records
