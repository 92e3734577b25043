"""One replay: every untagged object under the prefix is read, its records put back, then it is tagged.

An object is tagged only once Firehose has accepted all of its records, and a tagged object is skipped,
so a second run puts nothing and a run that failed half-way retries exactly the objects left untagged.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from tqdm import tqdm

from contracts.firehose import PROCESSING_FAILED
from contracts.layout import ERROR_PREFIX
from replay.aws import REPLAYED_TAG, S3_MAX_TAGS, Bucket, ObjectAccessError, Stream, is_replayed
from replay.plan import plan_batches
from replay.records import MalformedObjectError, parse_error_object
from replay.summary import FAILED, REPLAYED, SKIPPED, WOULD_REPLAY, ObjectOutcome, Summary
from transform.reingest import MAX_ATTEMPTS, Reingester, ReingestionError

# Where Firehose keeps the records the transform returned as ProcessingFailed (or failed to process).
DEFAULT_PREFIX = f"{ERROR_PREFIX}{PROCESSING_FAILED}/"
# From this many objects on a terminal, a progress bar (on stderr) is worth showing.
PROGRESS_MIN_OBJECTS = 20


@dataclass(frozen=True)
class Options:
    bucket: str
    stream: str
    prefix: str
    dry_run: bool = False


def utc_stamp(now: datetime | None = None) -> str:
    """The tag's value: when the object was replayed, e.g. `2026-11-27T18:04:05Z`."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Replayer:
    options: Options
    bucket: Bucket
    stream: Stream
    report: Callable[[ObjectOutcome], None]
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], str] = utc_stamp

    def run(self, progress: bool | None = None, err: TextIO | None = None) -> Summary:
        summary = Summary(self.options.bucket, self.options.prefix, self.options.dry_run)
        self.stream.check()
        keys = self.bucket.keys(self.options.prefix)
        err = err or sys.stderr
        if progress is None:
            progress = len(keys) >= PROGRESS_MIN_OBJECTS and err.isatty()
        with tqdm(total=len(keys), unit="object", desc="replay", disable=not progress, file=err,
                  leave=False) as bar:
            for outcome in self._each(keys):
                summary.outcomes.append(outcome)
                self.report(outcome)
                bar.update(1)
        return summary

    def _each(self, keys: Iterable[str]) -> Iterable[ObjectOutcome]:
        for key in keys:
            try:
                yield self.replay_object(key)
            except (MalformedObjectError, ObjectAccessError) as error:
                reason = error.reason if isinstance(error, MalformedObjectError) else str(error)
                yield ObjectOutcome(key, FAILED, reason=reason)

    def replay_object(self, key: str) -> ObjectOutcome:
        tags = self.bucket.tags(key)
        if is_replayed(tags):
            return ObjectOutcome(key, SKIPPED)
        if len(tags) >= S3_MAX_TAGS:
            # Checked before putting anything: records put but never marked would be put again.
            return ObjectOutcome(key, FAILED, reason=f"it has {len(tags)} tags, S3's maximum, so it "
                                 f"could not be marked as replayed: remove one tag and run again")
        records = parse_error_object(key, self.bucket.read(key))
        plan = plan_batches(records)
        size = sum(batch.size for batch in plan)
        if self.options.dry_run:
            return ObjectOutcome(key, WOULD_REPLAY, len(records), size, len(plan))
        reingester = Reingester(self.stream, self.options.stream, sleep=self.sleep)
        accepted = calls = 0
        for batch in plan:
            try:
                calls += reingester.put(batch.payloads)
            except ReingestionError:
                return ObjectOutcome(key, FAILED, len(records), size, calls, reason=(
                    f"Firehose still refused records after {MAX_ATTEMPTS} attempts (last answer: "
                    f"{self.stream.last_error or 'none'}); {accepted:,} of its {len(records):,} records "
                    f"had been accepted and a re-run puts them again"))
            accepted += len(batch.records)
        try:
            self.bucket.mark_replayed(key, tags, self.clock())
        except ObjectAccessError as error:
            return ObjectOutcome(key, FAILED, len(records), size, calls, reason=(
                f"all {len(records):,} records were put back but {error}: tag it "
                f"{REPLAYED_TAG!r} by hand, or a re-run puts them again"))
        return ObjectOutcome(key, REPLAYED, len(records), size, calls)
