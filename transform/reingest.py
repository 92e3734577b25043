"""Putting records back into the delivery stream with PutRecordBatch, bounded and retried."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contracts.firehose import PUT_BATCH_MAX_BYTES, PUT_BATCH_MAX_RECORDS

MAX_ATTEMPTS = 5
BASE_BACKOFF_SECONDS = 0.2


class ReingestionError(RuntimeError):
    """Firehose did not accept every re-ingested record; the invocation must fail so nothing is lost."""


def batches(payloads: list[bytes]) -> Iterator[list[bytes]]:
    """Consecutive groups within PutRecordBatch's limits (500 records, 4 MiB)."""
    batch: list[bytes] = []
    size = 0
    for payload in payloads:
        if batch and (len(batch) == PUT_BATCH_MAX_RECORDS or size + len(payload) > PUT_BATCH_MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(payload)
        size += len(payload)
    if batch:
        yield batch


@dataclass
class Reingester:
    client: Any  # boto3 Firehose client
    stream_name: str
    max_attempts: int = MAX_ATTEMPTS
    sleep: Callable[[float], None] = time.sleep

    def put(self, payloads: list[bytes]) -> int:
        """Put every payload; retry only failed entries with backoff. Returns PutRecordBatch calls made."""
        calls = 0
        for batch in batches(payloads):
            calls += self._put_batch(batch)
        return calls

    def _put_batch(self, pending: list[bytes]) -> int:
        last_error = ""
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(BASE_BACKOFF_SECONDS * 2 ** (attempt - 1))
            try:
                answer = self.client.put_record_batch(
                    DeliveryStreamName=self.stream_name, Records=[{"Data": p} for p in pending]
                )
            except (ClientError, BotoCoreError) as error:
                last_error = str(error)
                continue
            if not answer.get("FailedPutCount"):
                return attempt + 1
            responses = answer["RequestResponses"]
            failures = [(p, r) for p, r in zip(pending, responses, strict=True) if r.get("ErrorCode")]
            last_error = failures[0][1].get("ErrorMessage") or failures[0][1]["ErrorCode"]
            pending = [p for p, _ in failures]
        raise ReingestionError(
            f"Firehose {self.stream_name!r} still refused {len(pending)} re-ingested records after "
            f"{self.max_attempts} attempts (last error: {last_error}); failing the invocation so Firehose "
            f"retries the batch"
        )
