"""Flow-log input as AWS hands it out: a file or standard input, plain or gzip, read line by line.

Flow logs delivered to S3 land as `.log.gz` files whose first line is a header naming the fields
(`version account-id interface-id ...`); files saved on Windows may carry a UTF-8 byte-order mark and
CRLF line ends. All of that is read transparently here. The input is streamed: only its first lines
(`HEAD_LINES`) are held, to check it against the format before any work starts.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from contracts.flowlog import FIELD_VERSION, FlowLogFormat

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
BOM = "\ufeff"
HEAD_LINES = 1_000  # lines read before any work, to check the input against the format
# A flow-log line is well under 2 KB (CloudWatch caps a log event at 256 KB); longer "lines" are garbage,
# and are cut so that a file without line ends cannot fill the memory.
MAX_LINE_CHARS = 262_144
SHOWN_CHARS = 100  # how much of a line an error message quotes
_FIELD_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


class InputError(ValueError):
    """An input that cannot be read or does not fit the format: reported on one line, exit code 2."""


def header_fields(line: str) -> tuple[str, ...] | None:
    """The field names of a header line as S3-delivered flow-log files start with, or None.

    A header is a line of lower-case field names, at least one of them a known flow-log field (AWS
    adds fields over time, so unknown names are allowed next to known ones).
    """
    tokens = tuple(line.split())
    if tokens and all(_FIELD_NAME.fullmatch(token) for token in tokens) and any(
            token in FIELD_VERSION for token in tokens):
        return tokens
    return None


def shown(line: str) -> str:
    """A line as an error message quotes it: trimmed, and cut with an ellipsis when long."""
    text = line.strip()
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")


def decoded_lines(binary: BinaryIO, name: str) -> Iterator[str]:
    """The lines of a byte stream without their line ends: gzip (by its magic bytes) or plain UTF-8.

    A byte-order mark at the start of a line is dropped; `\\r\\n` and `\\r` end lines as `\\n` does;
    bytes that are not UTF-8 become U+FFFD, so such a line is reported as not fitting the format rather
    than stopping the run.
    """
    buffered = binary if isinstance(binary, io.BufferedReader) else io.BufferedReader(binary)  # type: ignore[type-var]
    raw: BinaryIO = buffered
    if buffered.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)] == GZIP_MAGIC:
        raw = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None)
    number = 0
    try:
        while True:
            line = text.readline(MAX_LINE_CHARS)
            if not line:
                return
            number += 1
            if not line.endswith("\n") and len(line) == MAX_LINE_CHARS:
                while (rest := text.readline(MAX_LINE_CHARS)) and not rest.endswith("\n"):
                    pass  # the rest of an over-long line is skipped, the line counted once
            # A byte-order mark starts the file, or each file of several concatenated (`cat a.log b.log`).
            yield line.rstrip("\n").lstrip(BOM)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"cannot read {name} after line {number:,}: {error}") from None


@dataclass
class FlowInput:
    """An opened input: its first lines (held, to check them) and the rest (streamed)."""

    name: str
    head: list[str]
    rest: Iterator[str]
    complete: bool  # the head is the whole input
    _closer: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    def lines(self) -> Iterator[str]:
        yield from self.head
        self.head = []  # read once: the head is not kept for the rest of the run
        yield from self.rest

    def close(self) -> None:
        self._closer.close()

    def __enter__(self) -> FlowInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_input(source: str, stdin: BinaryIO | None = None) -> FlowInput:
    """Open a file (or `-` for standard input) and read its first `HEAD_LINES` lines."""
    closer = contextlib.ExitStack()
    if source == STDIN:
        name = "standard input"
        if stdin is None and sys.stdin.isatty():
            raise InputError("--input - reads standard input, which is a terminal here; pipe the lines in "
                             "(e.g. zcat flows.log.gz | python -m local demo --input -)")
        binary = stdin if stdin is not None else sys.stdin.buffer
    else:
        name = source
        path = Path(source)
        try:
            binary = closer.enter_context(path.open("rb"))
        except FileNotFoundError:
            raise InputError(f"input file {source} does not exist") from None
        except (IsADirectoryError, PermissionError) as error:
            raise InputError(f"cannot read input file {source}: {error.strerror}") from None
    lines = decoded_lines(binary, name)
    try:
        head = [line for _, line in zip(range(HEAD_LINES), lines, strict=False)]
        complete = len(head) < HEAD_LINES
    except InputError:
        closer.close()
        raise
    return FlowInput(name, head, lines, complete, closer)


def check_input(flow_input: FlowInput, fmt: FlowLogFormat, format_option: str = "--format") -> None:
    """Refuse, before any work, an input that is empty, whose header names other fields than the
    format, or none of whose first lines has the format's number of fields."""
    name = flow_input.name
    content = [line for line in flow_input.head if line.strip()]
    if not content:
        if flow_input.complete:
            raise InputError(f"{name} holds no flow-log lines (it is empty or blank)")
        return
    found = header_fields(content[0])
    if found is not None and found != fmt.fields:
        raise InputError(
            f"the header line of {name} names the fields {' '.join(found)!r} but {format_option} is "
            f"{fmt.text!r}; give {format_option} the header's fields as ${{field}} in that order")
    width = len(fmt.fields)
    if not any(len(line.split()) == width for line in content if header_fields(line) is None):
        scope = f"{name}" if flow_input.complete else f"the first {HEAD_LINES:,} lines of {name}"
        first = next((line for line in content if header_fields(line) is None), content[0])
        raise InputError(
            f"nothing matched: no line of {scope} has the {width} fields {format_option} names; "
            f"the first line has {len(first.split())}: {shown(first)}")
