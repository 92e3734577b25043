"""A Direct PUT delivery stream with a Lambda processor and an S3 destination, on a simulated clock.

What moto's Firehose lacks and the pipeline depends on: processor buffering, the Ok / Dropped /
ProcessingFailed contract (every recordId answered exactly once, responses within Lambda's 6 MB),
retries of a failing processor, S3 buffering, GZIP, prefix expressions, Firehose's object names and
its error records under the error prefix.

Time is simulated: "now" is the arrival time of the newest record, so a replayed sample lands in the
hour partitions of its own data and buffer intervals behave as they would have then. As in Firehose, a
buffer is flushed when its interval runs out on that clock, not when the next record happens to
arrive: an object is named after the moment its interval ended, even if the next record comes a year
later, and the end of the run lets every interval run out. Records put back
by the processor (re-ingestion through `PutRecordBatch`) may arrive from another thread while the
processor runs; they wait in an inbox until the processor has returned, as in Firehose, where they join
a later batch.
"""

from __future__ import annotations

import gzip
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from contracts.error_record import error_line
from contracts.firehose import (
    LAMBDA_PAYLOAD_LIMIT_BYTES,
    PROCESSING_FAILED,
    PROCESSING_FAILED_CODE,
    PROCESSOR_RETRIES,
)
from local.cloudwatch import FirehoseRecord, transformation_event
from local.firehose_response import Outcome, ProcessorResponseError, check_response
from local.prefixes import evaluate_prefix, object_name

__all__ = ["DeliveryStream", "FirehoseError", "Outcome", "ProcessorResponseError", "StreamConfig",
           "StreamStats", "WrittenObject", "check_response"]

Processor = Callable[[dict], dict]
Sink = Callable[[str, bytes], None]

MB = 1024 * 1024
PROCESSING_FAILED_MESSAGE = "The Lambda function returned ProcessingFailed for this record."
# Rounds of (process, then process what the processor put back) before we call it a loop.
MAX_DRAIN_ROUNDS = 100_000


class FirehoseError(RuntimeError):
    """The stand-in was used in a way Firehose would refuse."""


@dataclass(frozen=True)
class StreamConfig:
    name: str
    lambda_arn: str
    data_prefix: str
    error_prefix: str
    extension: str
    processor_buffer_bytes: int
    processor_buffer_ms: int
    archive_buffer_bytes: int
    archive_buffer_ms: int
    region: str = "us-east-1"
    account: str = "123456789012"
    version: int = 1
    processor_retries: int = PROCESSOR_RETRIES

    @property
    def arn(self) -> str:
        return f"arn:aws:firehose:{self.region}:{self.account}:deliverystream/{self.name}"


@dataclass(frozen=True)
class WrittenObject:
    key: str
    kind: str  # "data" | "error"
    records: int  # Firehose records in it (data: Ok records; error: failed records)
    size: int  # compressed bytes


@dataclass
class StreamStats:
    records_in: int = 0
    bytes_in: int = 0
    records_reingested: int = 0
    invocations: int = 0
    failed_invocations: int = 0
    ok: int = 0
    dropped: int = 0
    processing_failed: int = 0
    processor_errors: Counter[str] = field(default_factory=Counter)
    max_response_bytes: int = 0
    objects: list[WrittenObject] = field(default_factory=list)


@dataclass
class _Buffered:
    arrival_ms: int
    data: bytes


class _Buffer:
    """Records waiting for a size or interval threshold (Firehose's buffering hints)."""

    def __init__(self, limit_bytes: int, limit_ms: int):
        self.limit_bytes = limit_bytes
        self.limit_ms = limit_ms
        self.items: list[_Buffered] = []
        self.size = 0

    def deadline(self) -> int | None:
        """When the buffer's interval runs out (its oldest record's arrival plus the interval)."""
        return self.items[0].arrival_ms + self.limit_ms if self.items else None

    def full(self) -> bool:
        return self.size >= self.limit_bytes

    def add(self, item: _Buffered) -> None:
        self.items.append(item)
        self.size += len(item.data)

    def take(self) -> list[_Buffered]:
        items, self.items, self.size = self.items, [], 0
        return items


class DeliveryStream:
    """One delivery stream. Call `put` from the producer's thread, `close` at the end of the run."""

    def __init__(self, config: StreamConfig, processor: Processor, sink: Sink,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex):
        self.config = config
        self.processor = processor
        self.sink = sink
        self.new_id = new_id
        self.stats = StreamStats()
        self.now_ms = 0
        self._processor_buffer = _Buffer(config.processor_buffer_bytes, config.processor_buffer_ms)
        self._data_buffer = _Buffer(config.archive_buffer_bytes, config.archive_buffer_ms)
        self._error_buffer = _Buffer(config.archive_buffer_bytes, config.archive_buffer_ms)
        self._inbox: list[bytes] = []
        self._inbox_lock = threading.Lock()
        self._busy = threading.Lock()  # held by the producer's thread while it drives the stream

    # --- producers --------------------------------------------------------------------------------

    def put(self, data: bytes, arrival_ms: int) -> None:
        """A record from the producer (the CloudWatch stand-in), arriving at `arrival_ms`."""
        with self._busy:
            self._advance(arrival_ms)
            self._accept(data, self.now_ms)

    def put_from_api(self, records: list[bytes]) -> list[str]:
        """Records from `PutRecordBatch`/`PutRecord` (any thread); they join the next processor batch."""
        with self._inbox_lock:
            self._inbox.extend(records)
            self.stats.records_reingested += len(records)
        return [self.new_id() for _ in records]

    def close(self) -> None:
        """End of run: let every buffer's interval run out on the simulated clock, processing what the
        processor puts back, so the last objects are written when Firehose would write them."""
        with self._busy:
            for _ in range(MAX_DRAIN_ROUNDS):
                self._drain_inbox()
                due = self._next_deadline()
                if due is None:
                    return
                self._advance(max(self.now_ms, due))
            raise FirehoseError("the processor keeps re-ingesting records: a re-ingestion loop")

    # --- internals --------------------------------------------------------------------------------

    def _buffers(self) -> tuple[tuple[_Buffer, str], ...]:
        return ((self._processor_buffer, "processor"), (self._data_buffer, "data"),
                (self._error_buffer, "error"))

    def _next_deadline(self) -> int | None:
        deadlines = [due for buffer, _ in self._buffers() if (due := buffer.deadline()) is not None]
        return min(deadlines, default=None)

    def _advance(self, now_ms: int) -> None:
        """Move the clock to `now_ms`, flushing each buffer at the moment its interval runs out."""
        self._drain_inbox()
        for _ in range(MAX_DRAIN_ROUNDS):
            due = [(deadline, kind, buffer) for buffer, kind in self._buffers()
                   if (deadline := buffer.deadline()) is not None and deadline <= now_ms]
            if not due:
                break
            deadline, kind, buffer = min(due, key=lambda entry: entry[0])
            self.now_ms = max(self.now_ms, deadline)
            if kind == "processor":
                self._invoke(buffer.take())
                self._drain_inbox()
            else:
                self._write(buffer.take(), kind)
        self.now_ms = max(self.now_ms, now_ms)

    def _accept(self, data: bytes, arrival_ms: int) -> None:
        self.stats.records_in += 1
        self.stats.bytes_in += len(data)
        self._processor_buffer.add(_Buffered(arrival_ms, data))
        if self._processor_buffer.full():
            self._invoke(self._processor_buffer.take())

    def _drain_inbox(self) -> None:
        with self._inbox_lock:
            records, self._inbox = self._inbox, []
        for data in records:
            self._accept(data, self.now_ms)

    def _invoke(self, batch: list[_Buffered]) -> None:
        if not batch:
            return
        records = [FirehoseRecord(data=item.data, record_id=self.new_id(), arrival_ms=item.arrival_ms)
                   for item in batch]
        ids = [record.record_id for record in records]
        attempts = self.config.processor_retries + 1
        for attempt in range(1, attempts + 1):
            self.stats.invocations += 1
            try:
                outcome = check_response(ids, self._call(records))
            except ProcessorResponseError as failure:
                self.stats.failed_invocations += 1
                self.stats.processor_errors[failure.code] += 1
                if attempt == attempts:
                    # Retries exhausted: Firehose skips the batch and keeps every record under errors/.
                    for record in records:
                        self._fail(record, failure.code, failure.message, attempts)
                continue
            self._route(records, outcome, attempt)
            return

    def _call(self, records: list[FirehoseRecord]) -> object:
        event = transformation_event(records, stream_arn=self.config.arn, region=self.config.region)
        try:
            response = self.processor(event)
        except Exception as error:  # whatever the function raises, Lambda reports a function error
            message = f"{type(error).__name__}: {error}"
            raise ProcessorResponseError("Lambda.FunctionError", message) from error
        size = len(orjson.dumps(response))
        self.stats.max_response_bytes = max(self.stats.max_response_bytes, size)
        if size > LAMBDA_PAYLOAD_LIMIT_BYTES:
            raise ProcessorResponseError(
                "Lambda.FunctionError",
                f"response payload of {size} bytes exceeds Lambda's {LAMBDA_PAYLOAD_LIMIT_BYTES} byte limit")
        return response

    def _route(self, records: list[FirehoseRecord], outcome: Outcome, attempts: int) -> None:
        for record in records:
            result, data = outcome.results[record.record_id]
            if result == "Ok":
                self.stats.ok += 1
                if data:
                    self._add_output(self._data_buffer, _Buffered(record.arrival_ms, data), "data")
            elif result == "Dropped":
                self.stats.dropped += 1
            else:
                self.stats.processing_failed += 1
                self._fail(record, PROCESSING_FAILED_CODE, PROCESSING_FAILED_MESSAGE, attempts, count=False)

    def _fail(self, record: FirehoseRecord, code: str, message: str, attempts: int,
              count: bool = True) -> None:
        if count:
            self.stats.processing_failed += 1
        line = error_line(record.data, code=code, message=message, attempts=attempts,
                          arrival_ms=record.arrival_ms, ending_ms=self.now_ms,
                          lambda_arn=self.config.lambda_arn)
        self._add_output(self._error_buffer, _Buffered(record.arrival_ms, line), "error")

    def _add_output(self, buffer: _Buffer, item: _Buffered, kind: str) -> None:
        buffer.add(item)
        if buffer.full():
            self._write(buffer.take(), kind)

    def _write(self, items: list[_Buffered], kind: str) -> None:
        if not items:
            return
        oldest = min(item.arrival_ms for item in items)
        if kind == "data":
            prefix = evaluate_prefix(self.config.data_prefix, oldest)
        else:
            prefix = evaluate_prefix(self.config.error_prefix, oldest, error_output_type=PROCESSING_FAILED)
        key = prefix + object_name(self.config.name, self.config.version, self.now_ms, self.config.extension)
        body = gzip.compress(b"".join(item.data for item in items), compresslevel=6)
        self.sink(key, body)
        self.stats.objects.append(WrittenObject(key, kind, len(items), len(body)))
