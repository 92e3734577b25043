"""One replay: every untagged object under the prefix is read, its records put back, then it is tagged.

An object is tagged only once Firehose has accepted all of its records, and a tagged object is skipped,
so a second run puts nothing and a run that failed half-way retries exactly the objects left untagged.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from tqdm import tqdm

from contracts.firehose import PROCESSING_FAILED
from contracts.layout import ERROR_PREFIX
from replay.aws import (
    PROGRESS_TAG,
    REPLAYED_TAG,
    S3_MAX_TAGS,
    Bucket,
    ObjectAccessError,
    Stream,
    is_replayed,
    others,
    progress,
)
from replay.plan import plan_batches
from replay.records import FailedRecord, MalformedObjectError, parse_error_object, resume_point
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
        if len(others(tags)) >= S3_MAX_TAGS:
            # Checked before putting anything: records put but never marked would be put again.
            return ObjectOutcome(key, FAILED, reason=f"it has {len(others(tags))} tags, S3's maximum, so it "
                                 f"could not be marked as replayed: remove one tag and run again")
        records = parse_error_object(key, self.bucket.read(key))
        done = resume_point(key, progress(tags), len(records))
        pending = records[done:]
        plan = plan_batches(pending)
        size = sum(batch.size for batch in plan)
        if self.options.dry_run:
            return ObjectOutcome(key, WOULD_REPLAY, len(pending), size, len(plan), resumed_after=done)
        reingester = Reingester(self.stream, self.options.stream, sleep=self.sleep)
        accepted = accepted_bytes = calls = 0
        for batch in plan:
            try:
                calls += reingester.put(batch.payloads)
            except ReingestionError:
                # Each failed attempt (an error or refused entries) leaves its answer in last_error.
                reason = (f"Firehose still refused records after {MAX_ATTEMPTS} attempts (last answer: "
                          f"{self.stream.last_error}); ")
                return ObjectOutcome(key, FAILED, accepted, accepted_bytes, calls, resumed_after=done,
                                     reason=reason + self._note_progress(key, tags, done, accepted, records))
            except BaseException:
                # Ctrl-C or a setup error mid-object: remember the batches Firehose took, so a re-run
                # resumes after them (only the batch in flight may be put twice).
                self._remember(key, tags, done + accepted)
                raise
            accepted += len(batch.records)
            accepted_bytes += batch.size
        try:
            self.bucket.mark_replayed(key, tags, self.clock())
        except ObjectAccessError as error:
            return ObjectOutcome(key, FAILED, accepted, accepted_bytes, calls, resumed_after=done, reason=(
                f"all its records were put back but {error}: tag it {REPLAYED_TAG!r} by hand, or a "
                f"re-run puts them again"))
        return ObjectOutcome(key, REPLAYED, accepted, accepted_bytes, calls, resumed_after=done)

    def _remember(self, key: str, tags: list[dict[str, str]], back: int) -> None:
        if back:
            with contextlib.suppress(ObjectAccessError):
                self.bucket.mark_progress(key, tags, back)

    def _note_progress(self, key: str, tags: list[dict[str, str]], done: int, accepted: int,
                       records: list[FailedRecord]) -> str:
        """After a refused batch: remember the batches Firehose took, so a re-run resumes after them."""
        total = len(records)
        if not accepted:
            return f"{done:,} of its {total:,} records are back; a re-run puts the other {total - done:,}"
        try:
            self.bucket.mark_progress(key, tags, done + accepted)
        except ObjectAccessError as error:
            return (f"{done + accepted:,} of its {total:,} records were accepted but {error}, so a re-run "
                    f"puts them again")
        return (f"{done + accepted:,} of its {total:,} records are back (tag {PROGRESS_TAG}); a re-run "
                f"puts the other {total - done - accepted:,}")
