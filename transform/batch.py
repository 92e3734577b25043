"""The pure core of the transform: records in, a response that fits, and what must be put back.

Every input record ends as exactly one output record. Kept flows that do not fit the response are
put back into the delivery stream as smaller CloudWatch messages (only the events whose flows were
kept), and their record is marked `Dropped` once Firehose has accepted them (the handler's job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.firehose import PUT_RECORD_MAX_BYTES, RESPONSE_LIMIT_BYTES
from transform.encoder import LineEncoder, LineFormatError
from transform.firehose import (
    RECORD_OVERHEAD_BYTES,
    RESPONSE_OVERHEAD_BYTES,
    InputRecord,
    OutputRecord,
    TransformationEvent,
    base64_size,
)
from transform.payload import (
    CONTROL_MESSAGE,
    RecordDecodeError,
    SubscriptionMessage,
    decode_record_data,
    encode_message,
    parse_message,
)


@dataclass
class RecordOutcome:
    record: InputRecord
    output: OutputRecord
    flows_seen: int = 0
    flows_kept: int = 0
    error: str | None = None
    # For Ok records, what re-ingestion needs if the flows do not fit the response.
    message: SubscriptionMessage | None = None
    kept_event_indexes: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def kept_events(self) -> list[dict[str, Any]]:
        """The events whose flows were kept: looked up only when the record is re-ingested."""
        events = self.message.log_events if self.message else []
        return [events[i] for i in self.kept_event_indexes]


def transform_record(record: InputRecord, encoder: LineEncoder) -> RecordOutcome:
    """One Firehose record -> Ok (the kept flows), Dropped (nothing to keep) or ProcessingFailed."""
    try:
        message = parse_message(decode_record_data(record.data))
        if message.message_type == CONTROL_MESSAGE:
            return RecordOutcome(record, OutputRecord.dropped(record.record_id))
        encoded = encoder.encode_events(message.log_events, message.log_group, message.log_stream)
    except (RecordDecodeError, LineFormatError) as error:
        return RecordOutcome(record, OutputRecord.failed(record), error=str(error))
    if not encoded.lines:
        return RecordOutcome(record, OutputRecord.dropped(record.record_id), flows_seen=encoded.flows_seen)
    ndjson = encoded.ndjson()
    return RecordOutcome(
        record,
        OutputRecord.ok(record.record_id, ndjson),
        flows_seen=encoded.flows_seen,
        flows_kept=len(encoded.lines),
        message=message,
        kept_event_indexes=encoded.kept_event_indexes,
        lines=encoded.lines,
    )


@dataclass
class ResponsePlan:
    outputs: list[OutputRecord]
    reingest_payloads: list[bytes]
    reingested_record_ids: list[str]
    failed: dict[str, str]  # record id -> why


class EventTooLargeError(ValueError):
    """One log event's flows alone exceed what a response may carry."""


def split_for_reingestion(message: SubscriptionMessage, events: list[dict[str, Any]], lines: list[str],
                          max_output_bytes: int) -> list[bytes]:
    """Gzipped CloudWatch messages of `events`, halved until each one's output and payload fit."""
    output_size = base64_size(sum(len(line.encode()) for line in lines))
    payload = encode_message(message, events) if output_size <= max_output_bytes else b""
    if payload and len(payload) <= PUT_RECORD_MAX_BYTES:
        return [payload]
    if len(events) == 1:
        raise EventTooLargeError(
            f"log event {events[0].get('id', '?')} alone yields {output_size:,} bytes of output, "
            f"more than the {max_output_bytes:,} a response can carry"
        )
    half = len(events) // 2
    # lines[i] belongs to events[i]: one kept flow per kept event.
    return split_for_reingestion(message, events[:half], lines[:half], max_output_bytes) + \
        split_for_reingestion(message, events[half:], lines[half:], max_output_bytes)


def plan_response(outcomes: list[RecordOutcome], limit: int = RESPONSE_LIMIT_BYTES) -> ResponsePlan:
    """Fit Ok records into the response in order; plan re-ingestion of the rest.

    A re-ingested piece carries at most half a response of output, so the first Ok record of any
    later batch fits and re-ingestion always makes progress (AWS's blueprint once looped here).
    """
    failed = {o.record.record_id: o.error or "" for o in outcomes if o.output.result == "ProcessingFailed"}
    # Every record appears at least as a Dropped entry (or with its data, if it failed).
    room = limit - RESPONSE_OVERHEAD_BYTES - sum(
        o.output.wire_size if o.output.result != "Ok" else len(o.record.record_id) + RECORD_OVERHEAD_BYTES
        for o in outcomes
    )
    outputs: list[OutputRecord] = []
    payloads: list[bytes] = []
    reingested: list[str] = []
    for outcome in outcomes:
        output = outcome.output
        if output.result == "Ok":
            if len(output.data_b64) <= room:
                room -= len(output.data_b64)
            else:
                assert outcome.message is not None
                try:
                    payloads += split_for_reingestion(outcome.message, outcome.kept_events, outcome.lines,
                                                      limit // 2)
                    reingested.append(output.record_id)
                    output = OutputRecord.dropped(output.record_id)
                except EventTooLargeError as error:
                    failed[output.record_id] = str(error)
                    output = OutputRecord.failed(outcome.record)
                    room -= len(output.data_b64)
        outputs.append(output)
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
        "flows_seen": sum(o.flows_seen for o in outcomes),
        "flows_kept": sum(kept),
        "bytes_in": sum(len(r.data) for r in batch.records),
        "bytes_out": sum(output.wire_size for output in plan.outputs),
    }
