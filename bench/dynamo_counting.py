"""A DynamoDB client that counts what the baseline's store asks of it, and what DynamoDB would bill.

The wrapper passes every call through and counts, per operation, the requests, the items asked for and
the request units DynamoDB's on-demand mode bills for them (Amazon DynamoDB Developer Guide, "DynamoDB
read and write operations", and the on-demand pricing page, checked 2026-12):

- an eventually consistent read of an item up to 4 KB is half a read request unit (BatchGetItem, by
  default), a strongly consistent one (GetItem with ConsistentRead) one unit; BatchGetItem bills each
  key it reads as a GetItem, found or not;
- a write of an item up to 1 KB is one write request unit, and a conditional write that fails is billed
  as one all the same.

The baseline's items are a few hundred bytes (`item_bytes` measures them), so one unit per read or
write is exact here. moto's own `ConsumedCapacity` answers are fixed numbers (0.5 per UpdateItem), not
DynamoDB's rules, so they are not used.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

# DynamoDB's item size: the UTF-8 lengths of attribute names and values (numbers count about one byte
# per two digits, plus one; strings their bytes), rounded up per request to 4 KB (reads) or 1 KB (writes).
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


@dataclass
class Usage:
    """What a run asked of DynamoDB."""

    calls: Counter[str] = field(default_factory=Counter)  # requests per operation
    items_read: int = 0  # keys asked for by BatchGetItem and GetItem
    items_written: int = 0  # UpdateItem requests, conditions failed or not
    conditions_failed: int = 0
    read_units: float = 0.0
    write_units: float = 0.0

    def minus(self, before: Usage) -> Usage:
        return Usage(self.calls - before.calls, self.items_read - before.items_read,
                     self.items_written - before.items_written,
                     self.conditions_failed - before.conditions_failed,
                     self.read_units - before.read_units, self.write_units - before.write_units)

    def copy(self) -> Usage:
        return self.minus(Usage())


class CountingClient:
    """Wraps boto3's low-level `dynamodb` client; thread-safe, as the store writes from 8 threads."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.usage = Usage()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _count(self, operation: str, read: int = 0, read_unit: float = 0.0, written: int = 0,
               failed: int = 0) -> None:
        with self._lock:
            self.usage.calls[operation] += 1
            self.usage.items_read += read
            self.usage.read_units += read * read_unit
            self.usage.items_written += written
            self.usage.write_units += written
            self.usage.conditions_failed += failed

    def batch_get_item(self, **request: Any) -> Any:
        keys = sum(len(table["Keys"]) for table in request["RequestItems"].values())
        consistent = any(table.get("ConsistentRead") for table in request["RequestItems"].values())
        self._count("BatchGetItem", read=keys, read_unit=1.0 if consistent else 0.5)
        return self._client.batch_get_item(**request)

    def get_item(self, **request: Any) -> Any:
        self._count("GetItem", read=1, read_unit=1.0 if request.get("ConsistentRead") else 0.5)
        return self._client.get_item(**request)

    def update_item(self, **request: Any) -> Any:
        try:
            answer = self._client.update_item(**request)
        except ClientError as error:
            failed = error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
            self._count("UpdateItem", written=1, failed=int(failed))
            raise
        self._count("UpdateItem", written=1)
        return answer


def item_bytes(item: dict[str, dict[str, str]]) -> int:
    """An item's size as DynamoDB counts it (developer guide, "Item sizes"), for storage and units."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        (kind, text), = value.items()
        size += len(text.encode()) if kind == "S" else (len(text.lstrip("-").replace(".", "")) + 1) // 2 + 1
    return size
