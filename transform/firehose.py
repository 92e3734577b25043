"""The Firehose data-transformation event and response as typed data (docs/architecture.md, The transform)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal

Result = Literal["Ok", "Dropped", "ProcessingFailed"]

# `{"recordId":"","result":"ProcessingFailed","data":""},` and the envelope, rounded up.
RECORD_OVERHEAD_BYTES = 64
RESPONSE_OVERHEAD_BYTES = 16


@dataclass(frozen=True)
class InputRecord:
    record_id: str
    data: str  # base64, as received
    arrival_ms: int | None = None

    @classmethod
    def from_event(cls, record: dict[str, Any]) -> InputRecord:
        return cls(record["recordId"], record.get("data", ""), record.get("approximateArrivalTimestamp"))


@dataclass(frozen=True)
class TransformationEvent:
    invocation_id: str
    delivery_stream_arn: str
    region: str
    records: list[InputRecord]

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> TransformationEvent:
        return cls(
            invocation_id=event.get("invocationId", ""),
            delivery_stream_arn=event["deliveryStreamArn"],
            region=event.get("region", ""),
            records=[InputRecord.from_event(r) for r in event["records"]],
        )

    @property
    def delivery_stream_name(self) -> str:
        return self.delivery_stream_arn.rsplit("/", 1)[-1]


def base64_size(raw_size: int) -> int:
    return 4 * ((raw_size + 2) // 3)


@dataclass(frozen=True)
class OutputRecord:
    record_id: str
    result: Result
    data_b64: str = ""

    @classmethod
    def ok(cls, record_id: str, ndjson: bytes) -> OutputRecord:
        return cls(record_id, "Ok", base64.b64encode(ndjson).decode("ascii"))

    @classmethod
    def dropped(cls, record_id: str) -> OutputRecord:
        return cls(record_id, "Dropped")

    @classmethod
    def failed(cls, record: InputRecord) -> OutputRecord:
        """Firehose writes a failed record's data under errors/: hand back exactly what came in."""
        return cls(record.record_id, "ProcessingFailed", record.data)

    @property
    def wire_size(self) -> int:
        return len(self.record_id) + len(self.data_b64) + RECORD_OVERHEAD_BYTES

    def as_dict(self) -> dict[str, str]:
        return {"recordId": self.record_id, "result": self.result, "data": self.data_b64}


def response(records: list[OutputRecord]) -> dict[str, list[dict[str, str]]]:
    return {"records": [r.as_dict() for r in records]}
