"""Planning PutRecordBatch calls for one object's records, within Firehose's limits.

The grouping is the transform's own (`transform.reingest.batches`: at most 500 records and 4 MiB per
call, in order); records over 1,000 KiB never get here (`records.parse_line` refuses them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from replay.records import FailedRecord
from transform.reingest import batches


@dataclass(frozen=True)
class Batch:
    records: tuple[FailedRecord, ...]

    @property
    def payloads(self) -> list[bytes]:
        return [record.data for record in self.records]

    @property
    def size(self) -> int:
        return sum(len(record.data) for record in self.records)


def plan_batches(records: Sequence[FailedRecord]) -> list[Batch]:
    """Consecutive batches covering every record once, in order."""
    planned: list[Batch] = []
    start = 0
    for group in batches([record.data for record in records]):
        planned.append(Batch(tuple(records[start:start + len(group)])))
        start += len(group)
    return planned
