"""Putting some of a record's lines back into the stream as records of their own (the same envelope).

Two reasons: kept flows that do not fit the response, and unreadable lines set apart so that they fail
on their own. Pieces are halved until each one fits what PutRecordBatch and a response can carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from contracts.cloudwatch_logs import SubscriptionMessage
from contracts.firehose import PUT_RECORD_MAX_BYTES
from transform.firehose import base64_size
from transform.payload import encode_lines


class EventTooLargeError(ValueError):
    """One log event alone is more than a response (or a PutRecordBatch record) can carry."""


@dataclass(frozen=True)
class RecordSource:
    """A decoded record's events and the envelope they came in (None: plain-text flow-log lines)."""

    events: Sequence[dict[str, Any]]
    message: SubscriptionMessage | None = None

    def event_id(self, index: int) -> str:
        event = self.events[index]
        return str(event.get("id", "?")) if isinstance(event, dict) else "?"

    def sample(self, index: int, chars: int) -> str:
        event = self.events[index]
        message = event.get("message") if isinstance(event, dict) else None
        return message[:chars] if isinstance(message, str) else repr(event)[:chars]

    def repack(self, indexes: Sequence[int]) -> bytes:
        """The events at `indexes` in the record's own envelope, as Firehose would receive them."""
        if self.message is None:
            return encode_lines([self.events[i]["message"] for i in indexes])
        return self.message.with_events([self.events[i] for i in indexes]).encode()


def split_to_fit(source: RecordSource, indexes: Sequence[int], output_sizes: Sequence[int] | None = None,
                 max_output_bytes: int | None = None) -> list[bytes]:
    """Payloads of the events at `indexes`, halved until each payload (and the output it makes) fits.

    `output_sizes[i]` is the archived size of the flow of `indexes[i]`; with `max_output_bytes`, each
    piece's output (base64) stays within it, so a later response can carry it.
    """
    output_size = base64_size(sum(output_sizes)) if output_sizes is not None else 0
    fits_output = max_output_bytes is None or output_size <= max_output_bytes
    payload = source.repack(indexes) if fits_output else b""
    if payload and len(payload) <= PUT_RECORD_MAX_BYTES:
        return [payload]
    if len(indexes) == 1:
        if not fits_output:
            raise EventTooLargeError(
                f"log event {source.event_id(indexes[0])} alone yields {output_size:,} bytes of output, "
                f"more than the {max_output_bytes:,} a response can carry"
            )
        raise EventTooLargeError(
            f"log event {source.event_id(indexes[0])} alone makes a {len(payload):,}-byte record, more "
            f"than the {PUT_RECORD_MAX_BYTES:,} PutRecordBatch takes"
        )
    half = len(indexes) // 2
    first, second = (output_sizes[:half], output_sizes[half:]) if output_sizes is not None else (None, None)
    return split_to_fit(source, indexes[:half], first, max_output_bytes) + \
        split_to_fit(source, indexes[half:], second, max_output_bytes)
