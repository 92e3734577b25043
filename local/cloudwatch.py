"""What CloudWatch Logs and Firehose send: subscription messages and transformation events.

Used by the local pipeline to drive the real transform and by the tests to build realistic inputs.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# CloudWatch Logs compresses subscription payloads with gzip level 6.
CLOUDWATCH_GZIP_LEVEL = 6


@dataclass(frozen=True)
class LogEvent:
    message: str
    timestamp_ms: int
    id: str = ""
    extracted_fields: dict[str, str] | None = None


@dataclass(frozen=True)
class SubscriptionMessage:
    log_events: Sequence[LogEvent]
    log_group: str = "/vpc/flow-logs/dev"
    log_stream: str = "eni-0a1b2c3d4e5f60718-all"
    owner: str = "123456789012"
    subscription_filters: Sequence[str] = ("rejected-flows",)
    message_type: str = "DATA_MESSAGE"

    def as_dict(self) -> dict:
        events = []
        for index, event in enumerate(self.log_events):
            item: dict = {
                "id": event.id or f"{event.timestamp_ms:020d}{index:036d}",
                "timestamp": event.timestamp_ms,
                "message": event.message,
            }
            if event.extracted_fields is not None:
                item["extractedFields"] = event.extracted_fields
            events.append(item)
        return {
            "messageType": self.message_type,
            "owner": self.owner,
            "logGroup": self.log_group,
            "logStream": self.log_stream,
            "subscriptionFilters": list(self.subscription_filters),
            "logEvents": events,
        }


def control_message(log_group: str = "/vpc/flow-logs/dev") -> dict:
    return {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": 1764201600000,
                "message": f"CWL CONTROL MESSAGE: Checking health of destination Firehose for {log_group}.",
            }
        ],
    }


def encode_payload(message: dict | bytes) -> bytes:
    """A subscription message as Firehose receives it: gzip of its JSON (not yet base64)."""
    raw = message if isinstance(message, bytes) else json.dumps(message, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=CLOUDWATCH_GZIP_LEVEL, mtime=0)


@dataclass
class FirehoseRecord:
    data: bytes
    record_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    arrival_ms: int = 1764201600000

    def as_dict(self) -> dict:
        return {
            "recordId": self.record_id,
            "approximateArrivalTimestamp": self.arrival_ms,
            "data": base64.b64encode(self.data).decode("ascii"),
        }


def transformation_event(
    records: Iterable[FirehoseRecord],
    stream_arn: str = "arn:aws:firehose:us-east-1:123456789012:deliverystream/rejected-flows-dev",
    region: str = "us-east-1",
) -> dict:
    return {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": stream_arn,
        "region": region,
        "records": [record.as_dict() for record in records],
    }
