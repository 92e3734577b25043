"""Flow logs delivered straight to Firehose (`log_destination_type = kinesis-data-firehose`).

VPC Flow Logs then writes plain-text records into the stream: no CloudWatch Logs envelope, no gzip,
several newline-separated flow-log lines per record, and no subscription filter, so ACCEPT, NODATA and
SKIPDATA lines arrive as well (the transform keeps only the REJECT flows). The archived records carry
no log group or log stream. Lines are grouped per interface and capture window, as flow logs publish
them, and streamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from contracts.firehose import PUT_RECORD_MAX_BYTES
from contracts.flowlog import FlowLogFormat
from local.batching import WindowBatcher, drain
from local.subscription import (
    DEFAULT_WINDOW_MS,
    DELIVERY_DELAY_MS,
    FilterCounts,
    event_time_ms,
    log_stream_of,
)

# A Firehose record holds at most 1,000 KiB; flow logs fill records with many lines, not one per record.
MAX_LINES_PER_RECORD = 1_000


@dataclass(frozen=True)
class DirectRecord:
    arrival_ms: int
    data: bytes  # newline-separated flow-log lines, each ending in `\n`
    lines: int


def frame_record(lines: Sequence[str]) -> bytes:
    """The data of one Firehose record as flow logs write it: the lines, each ending in a newline."""
    return "".join(line + "\n" for line in lines).encode("utf-8")


def direct_records(
    lines: Iterable[str],
    fmt: FlowLogFormat,
    counts: FilterCounts,
    start_ms: int,
    window_ms: int = DEFAULT_WINDOW_MS,
) -> Iterator[DirectRecord]:
    """Every non-blank, non-header line, framed into Firehose records; `counts.shipped` counts them."""
    header = fmt.fields

    def keyed() -> Iterator[tuple[int, str, str, int]]:
        clock = start_ms
        for raw in lines:
            counts.lines += 1
            line = raw.rstrip("\r\n")
            values = line.split()
            if not values:
                counts.blank += 1
                continue
            if values[0] == header[0] and tuple(values) == header:
                counts.header += 1
                continue
            counts.shipped += 1
            fields = dict(zip(fmt.columns, values, strict=True)) if len(values) == len(header) else {}
            clock = event_time_ms(fields, fmt, clock)
            yield clock // window_ms, log_stream_of(fields, fmt), line, len(line.encode("utf-8")) + 1

    batcher: WindowBatcher[str] = WindowBatcher(MAX_LINES_PER_RECORD, PUT_RECORD_MAX_BYTES)
    for batch in drain(batcher, keyed()):
        yield DirectRecord((batch.window + 1) * window_ms + DELIVERY_DELAY_MS, frame_record(batch.items),
                           len(batch.items))
