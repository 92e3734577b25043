"""Lines of an archived object, streamed: gzip (Firehose's GZIP output) or plain NDJSON.

Works on any binary file-like object with `read(n)` (an S3 StreamingBody, an open file), so memory
stays flat whatever the object's size.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from typing import Any, Protocol

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 16


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Replay:
    """A reader that first returns bytes already consumed (to sniff the format), then the rest."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        if len(data) < size:
            data += self._rest.read(size - len(data))
        return data

    def seek(self, offset: int, /) -> int:
        # GzipFile's reader protocol names seek, but reading forward never calls it: the body is a stream.
        raise io.UnsupportedOperation("an S3 body is read once, forward")


class _Raw(io.RawIOBase):
    """Adapts a `read(n)` reader to RawIOBase so io.BufferedReader can split lines in C."""

    def __init__(self, reader: Readable) -> None:
        self._reader = reader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._reader.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def iter_lines(fileobj: Readable) -> Iterator[bytes]:
    """Yield the object's lines, each with its newline (but maybe the last); gzip is detected by its magic."""
    head = fileobj.read(len(GZIP_MAGIC))
    reader = _Replay(head, fileobj)
    if head == GZIP_MAGIC:
        # GzipFile handles concatenated members too (Firehose may append them).
        with gzip.GzipFile(fileobj=reader, mode="rb") as lines:
            yield from lines
    else:
        yield from io.BufferedReader(_Raw(reader), CHUNK)
