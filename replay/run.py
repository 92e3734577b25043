"""One replay: every untagged object under the prefix is locked, its records put back, then it is tagged.

Before each PutRecordBatch call the object's progress tag records what is back and what is about to be
sent; the replayed tag replaces it once Firehose has accepted everything. A run stopped at any point
therefore leaves at most the one call in flight to be sent again by the next run (at most 500 records,
4 MiB), never what earlier calls put. A lock per object (`replay.lock`) keeps two runs from replaying
one object at once: the second leaves it to the first and says so.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from tqdm import tqdm

from contracts.firehose import PROCESSING_FAILED
from contracts.layout import ERROR_PREFIX
from contracts.object_tags import MAX_TAGS, PROGRESS_TAG, REPLAYED_TAG, ObjectTags
from replay.aws import Bucket, ObjectAccessError, ReplaySetupError, Stream, is_replayed, others, progress
from replay.lock import Holder, Lease, LockLostError, Locks
from replay.plan import Batch, plan_batches
from replay.records import ErrorObject, MalformedObjectError, parse_error_object, resume_point
from replay.summary import BUSY, FAILED, REPLAYED, SKIPPED, WOULD_REPLAY, ObjectOutcome, Summary
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
class _Progress:
    """Where one object's replay stands: records back (before this run, and by it), calls, bytes."""

    done: int  # back before this run
    total: int
    accepted: int = 0
    bytes: int = 0
    calls: int = 0
    last_batch: int = 0  # records of the last batch Firehose took
    took_over: str = ""  # the stale lock taken over, described

    @property
    def back(self) -> int:
        return self.done + self.accepted


def _before_replay(key: str, tags: ObjectTags) -> ObjectOutcome | None:
    """An object already replayed is skipped; one that could not be marked replayed is refused."""
    if is_replayed(tags):
        return ObjectOutcome(key, SKIPPED)
    if len(others(tags)) >= MAX_TAGS:
        # Checked before putting anything: records put but never marked would be put again.
        return ObjectOutcome(key, FAILED, reason=f"it has {len(others(tags))} tags, S3's maximum, so it "
                             f"could not be marked as replayed: remove one tag and run again")
    return None


@dataclass
class Replayer:
    options: Options
    bucket: Bucket
    stream: Stream
    report: Callable[[ObjectOutcome], None]
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], str] = utc_stamp
    locks: Locks | None = None  # by default, locks in the options' bucket through the bucket's client
    # True once the user asked to stop (a first Ctrl-C): the run stops at the next safe point.
    stop_requested: Callable[[], bool] = lambda: False
    _locks: Locks = field(init=False)

    def __post_init__(self) -> None:
        self._locks = self.locks or Locks(self.bucket.s3, self.options.bucket)

    def run(self, progress: bool | None = None, err: TextIO | None = None) -> Summary:
        summary = Summary(self.options.bucket, self.options.prefix, self.options.dry_run)
        self.stream.check()
        keys = self.bucket.keys(self.options.prefix)
        if not self.options.dry_run:
            # Housekeeping: a lock left on a replayed object only takes space, so a failure is no matter.
            with contextlib.suppress(ObjectAccessError):
                self._locks.sweep(self._replayed)
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

    def _replayed(self, key: str) -> bool:
        try:
            return is_replayed(self.bucket.tags(key))
        except ObjectAccessError:
            return False

    def _each(self, keys: Iterable[str]) -> Iterable[ObjectOutcome]:
        for key in keys:
            if self.stop_requested():
                raise KeyboardInterrupt
            try:
                yield self.replay_object(key)
            except (MalformedObjectError, ObjectAccessError) as error:
                reason = error.reason if isinstance(error, MalformedObjectError) else str(error)
                yield ObjectOutcome(key, FAILED, reason=reason)

    def replay_object(self, key: str) -> ObjectOutcome:
        tags = self.bucket.tags(key)
        refusal = _before_replay(key, tags)
        if refusal is not None:
            return refusal
        if self.options.dry_run:
            return self._plan_only(key, tags)
        lease = self._locks.acquire(key)
        if isinstance(lease, Holder):
            return ObjectOutcome(key, BUSY, reason=lease.describe())
        try:
            tags = self.bucket.tags(key)  # again: another run may have finished it before we locked it
            if is_replayed(tags):
                return ObjectOutcome(key, SKIPPED)
            return self._replay_locked(key, tags, lease)
        except LockLostError as error:
            return ObjectOutcome(key, FAILED, reason=str(error))
        finally:
            self._locks.release(lease)

    def _plan_only(self, key: str, tags: ObjectTags) -> ObjectOutcome:
        found = parse_error_object(key, self.bucket.read(key))
        done, sending = resume_point(key, progress(tags), len(found.records))
        plan = plan_batches(found.records[done:])
        return ObjectOutcome(key, WOULD_REPLAY, len(found.records) - done, sum(batch.size for batch in plan),
                             len(plan), resumed_after=done, sent_again=sending,
                             skipped_lines=tuple(found.skipped))

    def _replay_locked(self, key: str, tags: ObjectTags, lease: Lease) -> ObjectOutcome:
        found = parse_error_object(key, self.bucket.read(key))
        done, sending = resume_point(key, progress(tags), len(found.records))
        state = _Progress(done, len(found.records))
        if lease.took_over is not None:
            state.took_over = lease.took_over.who()
        reingester = Reingester(self.stream, self.options.stream, sleep=self.sleep)
        for batch in plan_batches(found.records[done:]):
            if self.stop_requested():
                self._stop_between_batches(key, tags, state)
            self._locks.renew_if_due(lease)
            failure = self._send(key, tags, batch, reingester, state)
            if failure is not None:
                return self._outcome(key, FAILED, state, found, sending, failure)
        self._locks.renew_if_due(lease)
        try:
            self.bucket.mark_replayed(key, tags, self.clock())
        except ObjectAccessError as error:
            return self._outcome(key, FAILED, state, found, sending, (
                f"all its records were put back but {error}: tag it {REPLAYED_TAG!r} by hand (and remove "
                f"{PROGRESS_TAG!r}), or a re-run puts its last {state.last_batch:,} records again"))
        return self._outcome(key, REPLAYED, state, found, sending)

    def _stop_between_batches(self, key: str, tags: ObjectTags, state: _Progress) -> None:
        """Stop as asked, Firehose having answered every call: record that, so nothing goes twice."""
        if state.accepted:
            with contextlib.suppress(ObjectAccessError):  # the tag then still says the last batch may be in
                self.bucket.mark_progress(key, tags, state.back)
        raise KeyboardInterrupt

    def _send(self, key: str, tags: ObjectTags, batch: Batch, reingester: Reingester,
              state: _Progress) -> str | None:
        """Put one batch, its progress recorded first; None, or why the object stops here."""
        try:
            self.bucket.mark_progress(key, tags, state.back, len(batch.records))
        except ObjectAccessError as error:
            return (f"{error}, so nothing more of it is put: {state.back:,} of its {state.total:,} records "
                    f"are back; a re-run puts the other {state.total - state.back:,}")
        taken, unanswered = self.stream.taken, self.stream.unanswered
        try:
            state.calls += reingester.put(batch.payloads)
        except ReingestionError:
            return self._refused(key, tags, batch, state, self.stream.taken > taken
                                 or self.stream.unanswered > unanswered)
        except ReplaySetupError:
            # Firehose answered that the stream or the credentials cannot work: nothing of this batch
            # is in, unless an earlier attempt of it was taken.
            if self.stream.taken == taken and self.stream.unanswered == unanswered:
                with contextlib.suppress(ObjectAccessError):
                    self.bucket.mark_progress(key, tags, state.back)
            raise
        state.accepted += len(batch.records)
        state.bytes += batch.size
        state.last_batch = len(batch.records)
        return None

    def _refused(self, key: str, tags: ObjectTags, batch: Batch, state: _Progress, some_taken: bool) -> str:
        """After Firehose kept refusing a batch: what is back, and what a re-run will do."""
        reason = (f"Firehose still refused records after {MAX_ATTEMPTS} attempts (last answer: "
                  f"{self.stream.last_error}); ")
        if some_taken:  # the progress tag keeps saying the batch may be in: the re-run says so too
            return reason + (f"{state.back:,} of its {state.total:,} records are back and some of the next "
                             f"{len(batch.records):,} may be; a re-run puts the other "
                             f"{state.total - state.back:,} (tag {PROGRESS_TAG})")
        try:
            self.bucket.mark_progress(key, tags, state.back)
        except ObjectAccessError as error:
            return reason + (f"{state.back:,} of its {state.total:,} records are back but {error}; a re-run "
                             f"puts the other {state.total - state.back:,} and may say some went twice")
        where = f" (tag {PROGRESS_TAG})" if state.back else ""
        return reason + (f"{state.back:,} of its {state.total:,} records are back{where}; a re-run puts the "
                         f"other {state.total - state.back:,}")

    @staticmethod
    def _outcome(key: str, status: str, state: _Progress, found: ErrorObject, sending: int,
                 reason: str = "") -> ObjectOutcome:
        return ObjectOutcome(key, status, state.accepted, state.bytes, state.calls, reason=reason,
                             resumed_after=state.done, sent_again=sending if state.accepted else 0,
                             skipped_lines=tuple(found.skipped), took_over=state.took_over)
