"""The pure core of the transform: records in, a response that fits, and what must be put back.

Every input record ends as exactly one output record. A record's unreadable lines are put back into
the delivery stream as a record of their own (they then fail alone, so errors/ holds only them); a
record whose every line is unreadable fails as a whole. Kept flows that do not fit the response are
put back as smaller records, and their record is marked `Dropped` once Firehose has accepted them (the
handler's job).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.cloudwatch_logs import CONTROL_MESSAGE
from contracts.firehose import RESPONSE_LIMIT_BYTES
from transform.encoder import EncodedEvents, LineEncoder
from transform.firehose import (
    RECORD_OVERHEAD_BYTES,
    RESPONSE_OVERHEAD_BYTES,
    InputRecord,
    OutputRecord,
    TransformationEvent,
    base64_size,
)
from transform.payload import PlainTextLines, RecordDecodeError, decode_record
from transform.repack import EventTooLargeError, RecordSource, split_to_fit

SAMPLE_CHARS = 120


@dataclass(frozen=True)
class UnreadableLine:
    record_id: str
    log_event_id: str
    reason: str
    sample: str  # the line's start, to recognise it in errors/


@dataclass
class RecordOutcome:
    record: InputRecord
    output: OutputRecord
    flows_seen: int = 0
    flows_kept: int = 0
    error: str | None = None
    unreadable: list[UnreadableLine] = field(default_factory=list)
    # Records holding only this record's unreadable lines, to be put back into the stream.
    isolated_payloads: list[bytes] = field(default_factory=list)
    # For Ok records, what re-ingestion needs if the flows do not fit the response.
    source: RecordSource | None = None
    encoded: EncodedEvents | None = None


def transform_record(record: InputRecord, encoder: LineEncoder) -> RecordOutcome:
    """One Firehose record -> Ok (the kept flows), Dropped (nothing to keep) or ProcessingFailed."""
    try:
        payload = decode_record(record.data)
    except RecordDecodeError as error:
        return RecordOutcome(record, OutputRecord.failed(record), error=str(error))
    if isinstance(payload, PlainTextLines):
        source = RecordSource(payload.events(encoder.fmt.header))
        log_group = log_stream = None
    elif payload.message_type == CONTROL_MESSAGE:
        return RecordOutcome(record, OutputRecord.dropped(record.record_id))
    else:
        source = RecordSource(payload.log_events, payload)
        log_group, log_stream = payload.log_group, payload.log_stream
    encoded = encoder.encode_events(source.events, log_group, log_stream)
    seen = encoded.flows_seen
    unreadable = [
        UnreadableLine(record.record_id, source.event_id(index), reason, source.sample(index, SAMPLE_CHARS))
        for index, reason in encoded.unreadable
    ]
    if unreadable and len(unreadable) == len(source.events):
        # Nothing in it can be read: Firehose keeps the record as it came, under errors/.
        why = f"every line is unreadable ({len(unreadable)}); the first: {unreadable[0].reason}"
        return RecordOutcome(record, OutputRecord.failed(record), seen, error=why, unreadable=unreadable)
    try:
        # A piece of only unreadable lines fails whole when it comes back: it is never split again.
        isolated = split_to_fit(source, [i for i, _ in encoded.unreadable]) if unreadable else []
    except EventTooLargeError as error:
        return RecordOutcome(record, OutputRecord.failed(record), seen, error=str(error),
                             unreadable=unreadable)
    if not encoded.lines:
        return RecordOutcome(record, OutputRecord.dropped(record.record_id), seen, unreadable=unreadable,
                             isolated_payloads=isolated)
    return RecordOutcome(
        record, OutputRecord.ok(record.record_id, encoded.ndjson()), seen, len(encoded.lines),
        unreadable=unreadable, isolated_payloads=isolated, source=source, encoded=encoded,
    )


@dataclass
class ResponsePlan:
    outputs: list[OutputRecord]
    reingest_payloads: list[bytes]
    reingested_record_ids: list[str]
    failed: dict[str, str]  # record id -> why


def _overflow_pieces(outcome: RecordOutcome, max_output_bytes: int) -> list[bytes]:
    """An Ok record's kept flows as records that each carry at most `max_output_bytes` of output."""
    assert outcome.source is not None and outcome.encoded is not None
    sizes = [len(line) for line in outcome.encoded.final_lines()]  # ASCII: JSON escapes the rest
    return split_to_fit(outcome.source, outcome.encoded.kept_event_indexes, sizes, max_output_bytes)


def _too_large_alone(outcome: RecordOutcome, max_output_bytes: int) -> str | None:
    """Why one kept flow alone would not fit any later response (its record must fail), or None."""
    if outcome.encoded is None or outcome.source is None or outcome.output.result != "Ok":
        return None
    if len(outcome.output.data_b64) <= max_output_bytes:  # no line is longer than the whole record
        return None
    for index, line in zip(outcome.encoded.kept_event_indexes, outcome.encoded.final_lines(), strict=True):
        if base64_size(len(line)) > max_output_bytes:
            return (f"log event {outcome.source.event_id(index)} alone yields {base64_size(len(line)):,} "
                    f"bytes of output, more than the {max_output_bytes:,} a response can carry")
    return None


def plan_response(outcomes: list[RecordOutcome], limit: int = RESPONSE_LIMIT_BYTES) -> ResponsePlan:
    """Fit Ok records into the response in order; plan re-ingestion of the rest.

    A re-ingested piece carries at most half a response of output, so the first Ok record of any
    later batch fits and re-ingestion always makes progress (AWS's blueprint once looped here). A
    record with a flow too large for any response fails; its data is counted before anything else,
    so the response stays within `limit` whatever the order of records.
    """
    half = limit // 2
    failed = {o.record.record_id: o.error or "" for o in outcomes if o.output.result == "ProcessingFailed"}
    outputs: list[OutputRecord] = []
    for outcome in outcomes:
        too_large = _too_large_alone(outcome, half)
        if too_large is not None:
            failed[outcome.record.record_id] = too_large
        outputs.append(OutputRecord.failed(outcome.record) if too_large else outcome.output)
    # Every record appears at least as a Dropped entry (or with its data, if it failed).
    room = limit - RESPONSE_OVERHEAD_BYTES - sum(
        output.wire_size if output.result != "Ok" else len(output.record_id) + RECORD_OVERHEAD_BYTES
        for output in outputs
    )
    # A failed record keeps its unreadable lines itself: they are not put back as well.
    payloads = [payload for outcome, output in zip(outcomes, outputs, strict=True)
                if output.result != "ProcessingFailed" for payload in outcome.isolated_payloads]
    reingested: list[str] = []
    for index, (outcome, output) in enumerate(zip(outcomes, outputs, strict=True)):
        if output.result != "Ok":
            continue
        if len(output.data_b64) <= room:
            room -= len(output.data_b64)
            continue
        payloads += _overflow_pieces(outcome, half)
        reingested.append(output.record_id)
        outputs[index] = OutputRecord.dropped(output.record_id)
    return ResponsePlan(outputs, payloads, reingested, failed)


def summarise(batch: TransformationEvent, outcomes: list[RecordOutcome],
              plan: ResponsePlan) -> dict[str, int]:
    """The invocation's figures, for its log line and metrics."""
    results = [output.result for output in plan.outputs]
    kept = [o.flows_kept for o, output in zip(outcomes, plan.outputs, strict=True) if output.result == "Ok"]
    return {
        "records_in": len(batch.records),
        "records_ok": results.count("Ok"),
        "records_dropped": results.count("Dropped") - len(plan.reingested_record_ids),
        "records_failed": results.count("ProcessingFailed"),
        "records_reingested": len(plan.reingested_record_ids),
        "reingested_payloads": len(plan.reingest_payloads),
        "lines_unreadable": sum(len(o.unreadable) for o in outcomes),
        "flows_seen": sum(o.flows_seen for o in outcomes),
        "flows_kept": sum(kept),
        "bytes_in": sum(len(r.data) for r in batch.records),
        "bytes_out": sum(output.wire_size for output in plan.outputs),
    }
