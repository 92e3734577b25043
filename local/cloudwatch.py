"""What Firehose sends its transformation Lambda: records and the transformation event.

Used by the local pipeline to drive the real transform and by the tests to build realistic inputs. The
CloudWatch Logs subscription message that such records carry is `contracts/cloudwatch_logs.py`'s.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field


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
