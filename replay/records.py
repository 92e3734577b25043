"""Reading Firehose's error objects: JSON lines whose `rawData` is the record as it entered the stream.

Each line is read by the one reader of `contracts.error_record` (the notifier and the local archive use
it too). The records whose `rawData` can be put back are replayed, in order; every other line (not an
error record, or one without usable `rawData`) is named by its line number and left in the object. An
object none of whose lines can be put back is an error: nothing of it is put and it stays untagged.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field

from contracts.error_record import NotAnErrorRecordError, NotReplayableError, read_error_line

GZIP_MAGIC = b"\x1f\x8b"
# How many bad lines one message names before it only counts the rest.
LINES_NAMED = 3


def name_lines(problems: list[tuple[int, str]]) -> str:
    """`line 2: no rawData; line 5: not JSON (...) (and 4 more)`."""
    named = "; ".join(f"line {number}: {reason}" for number, reason in problems[:LINES_NAMED])
    more = len(problems) - LINES_NAMED
    return named + (f" (and {more} more lines)" if more > 0 else "")


class MalformedObjectError(ValueError):
    """An object under the error prefix that replay cannot use at all; nothing of it is put."""

    def __init__(self, key: str, problems: list[tuple[int, str]] | str):
        self.key = key
        self.reason = problems if isinstance(problems, str) else name_lines(problems)
        super().__init__(f"{key}: {self.reason}")


@dataclass(frozen=True)
class FailedRecord:
    """One record to put back: where it was found and its original bytes."""

    key: str
    line: int  # 1-based line of the (decompressed) object
    data: bytes
    error_code: str


@dataclass(frozen=True)
class ErrorObject:
    """An error object's records that can be put back, in order, and the lines that cannot."""

    records: list[FailedRecord]
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, why not)


def decompress(key: str, body: bytes) -> bytes:
    """The object's text: gunzipped when it starts with gzip's magic bytes, as it is otherwise."""
    if not body.startswith(GZIP_MAGIC):
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as error:
        raise MalformedObjectError(key, f"starts like gzip but cannot be decompressed ({error})") from error


def parse_line(line: bytes) -> tuple[bytes, str]:
    """`(raw data, error code)` of one error record; ValueError saying why it cannot be put back."""
    try:
        record = read_error_line(line)
        return record.decode_data(), record.error_code
    except (NotAnErrorRecordError, NotReplayableError) as error:
        raise ValueError(str(error)) from None


def resume_point(key: str, progress: str | None, records: int) -> tuple[int, int]:
    """From the progress tag: how many records an earlier run put back, and how many after those it
    was sending when it stopped (it may have put them); (0, 0) without a tag."""
    if progress is None:
        return 0, 0
    done, plus, sending = progress.partition("+")
    # isdigit() alone also takes digits int() refuses ("²"), which would stop the whole run.
    valid = all(part.isascii() and part.isdigit() for part in (done, sending if plus else "0"))
    if not valid or int(done) + int(sending or 0) > records:
        raise MalformedObjectError(key, f"its progress tag says {progress!r} records were put back, but it "
                                        f"holds {records}: check the object, then remove the tag")
    return int(done), int(sending or 0)


def parse_error_object(key: str, body: bytes) -> ErrorObject:
    """Every record of one error object that can be put back, in order, and the lines that cannot."""
    text = decompress(key, body)
    records: list[FailedRecord] = []
    skipped: list[tuple[int, str]] = []
    for number, line in enumerate(text.split(b"\n"), start=1):
        if not line.strip():
            continue  # the final newline, or blank lines a hand edit left
        try:
            data, code = parse_line(line)
        except ValueError as error:
            skipped.append((number, str(error)))
            continue
        records.append(FailedRecord(key, number, data, code))
    if skipped and not records:
        raise MalformedObjectError(key, "no line can be put back: " + name_lines(skipped))
    return ErrorObject(records, skipped)
