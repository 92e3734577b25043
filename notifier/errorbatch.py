"""Summarise Firehose error records (the JSON lines Firehose writes under `errors/`).

Each line is read by the one reader of `contracts.error_record` (replay and the local archive use it
too): a JSON object is a record (without `errorCode`, under code `unknown`); a record whose `rawData`
replay could not put back is counted as not replayable. Only counts, a time window and one sample
message per code are kept; `rawData` is decoded to check it, never kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contracts.error_record import NotAnErrorRecordError, read_error_line
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
    # Records without usable rawData (missing, not base64, too big to put back): replay cannot replay them.
    not_replayable: int = 0

    @property
    def empty(self) -> bool:
        return self.records == 0 and self.invalid_lines == 0


def summarise_errors(lines: Iterable[bytes]) -> ErrorSummary:
    records = invalid = max_attempts = not_replayable = 0
    first: int | None = None
    last: int | None = None
    codes: HeavyHitters[str] = HeavyHitters(CODE_CAPACITY)
    samples: dict[str, str] = {}
    arns: set[str] = set()
    for line in lines:
        if not line.strip():
            continue
        try:
            record = read_error_line(line)
        except NotAnErrorRecordError:
            invalid += 1
            continue
        records += 1
        if not record.replayable:
            not_replayable += 1
        code = record.error_code
        codes.add(code)
        if code not in samples and len(samples) < CODE_CAPACITY:
            samples[code] = record.error_message[:SAMPLE_CHARS]
        arrival = record.arrival_timestamp  # values of the wrong type read as None and are ignored
        if arrival is not None:
            first = arrival if first is None else min(first, arrival)
            last = arrival if last is None else max(last, arrival)
        if record.attempts_made is not None:
            max_attempts = max(max_attempts, record.attempts_made)
        arn = record.lambda_arn
        if arn is not None and len(arns) < 5:
            arns.add(arn)
    return ErrorSummary(
        records=records,
        invalid_lines=invalid,
        codes=tuple((code, count, samples.get(code, "")) for code, count in codes.top(CODE_CAPACITY)),
        first_arrival_ms=first,
        last_arrival_ms=last,
        max_attempts=max_attempts,
        lambda_arns=tuple(sorted(arns)),
        not_replayable=not_replayable,
    )
