"""Summarise Firehose error records (the JSON lines Firehose writes under `errors/`).

Each line: `attemptsMade`, `arrivalTimestamp` (ms), `errorCode`, `errorMessage`,
`attemptEndingTimestamp` (ms), `rawData` (base64 of the record that failed), `lambdaArn`.
Only counts, a time window and one sample message per code are kept; `rawData` is never kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from notifier.counters import HeavyHitters

# Error codes are few (Lambda.ProcessingFailedStatus, Lambda.InvokeLimitExceeded, ...); cap anyway.
CODE_CAPACITY = 50
SAMPLE_CHARS = 300


@dataclass(frozen=True)
class ErrorSummary:
    records: int
    invalid_lines: int
    # (errorCode, records, a sample errorMessage), most frequent first.
    codes: tuple[tuple[str, int, str], ...]
    first_arrival_ms: int | None
    last_arrival_ms: int | None
    max_attempts: int
    lambda_arns: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return self.records == 0 and self.invalid_lines == 0


def summarise_errors(lines: Iterable[bytes]) -> ErrorSummary:
    records = invalid = max_attempts = 0
    first: int | None = None
    last: int | None = None
    codes: HeavyHitters[str] = HeavyHitters(CODE_CAPACITY)
    samples: dict[str, str] = {}
    arns: set[str] = set()
    for line in lines:
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            invalid += 1
            continue
        if type(record) is not dict:
            invalid += 1
            continue
        records += 1
        code = str(record.get("errorCode") or "unknown")
        codes.add(code)
        if code not in samples and len(samples) < CODE_CAPACITY:
            samples[code] = str(record.get("errorMessage") or "")[:SAMPLE_CHARS]
        arrival = record.get("arrivalTimestamp")
        if type(arrival) is int:  # not a bool, not a string: values of the wrong type are ignored
            first = arrival if first is None else min(first, arrival)
            last = arrival if last is None else max(last, arrival)
        attempts = record.get("attemptsMade")
        if type(attempts) is int:
            max_attempts = max(max_attempts, attempts)
        arn = record.get("lambdaArn")
        if isinstance(arn, str) and len(arns) < 5:
            arns.add(arn)
    return ErrorSummary(
        records=records,
        invalid_lines=invalid,
        codes=tuple((code, count, samples.get(code, "")) for code, count in codes.top(CODE_CAPACITY)),
        first_arrival_ms=first,
        last_arrival_ms=last,
        max_attempts=max_attempts,
        lambda_arns=tuple(sorted(arns)),
    )
