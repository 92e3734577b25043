"""Reading one archived object: streamed line by line and summarised; or why it cannot be read. No event.

Time is watched while reading: the event must still be posted after the summary, so when too little
time is left the read stops with an error that says so (and Lambda retries), instead of the post
failing for want of time. The event is drafted from the summary afterwards (`notifier.event`).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from contracts.layout import is_error_key
from notifier import storage
from notifier.baseline.step import Baseline, Observed, assessment_facts, summarise_and_assess
from notifier.draft import hour_of
from notifier.errorbatch import ErrorSummary, summarise_errors
from notifier.markdown import invalid_lines_text, plural
from notifier.model import ObjectRef
from notifier.settings import Settings
from notifier.stream import iter_lines

# Lines summarised between two looks at the remaining time.
TIME_CHECK_LINES = 4096
# What the handler logs and counts about an object.
Facts = dict[str, Any]


class SummaryTimeoutError(RuntimeError):
    """The invocation's time ran out while the object was being summarised; nothing was posted."""


class ObjectUnreadableError(Exception):
    """The object's body cannot be read as flow records; `reason` says why (for the error event)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TimedLines:
    """The object's lines, checking every few thousand that time is left to post the event afterwards."""

    def __init__(self, lines: Iterable[bytes], obj: ObjectRef, remaining_s: Callable[[], float],
                 reserve_s: float) -> None:
        self._lines = lines
        self._obj = obj
        self._remaining_s = remaining_s
        self._reserve_s = reserve_s
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._lines:
            self.count += 1
            if self.count % TIME_CHECK_LINES == 0:
                self.check()
            yield line

    def check(self) -> None:
        left = self._remaining_s()
        if left < self._reserve_s:
            raise SummaryTimeoutError(
                f"ran out of time while summarising {self._obj.uri}: {self.count:,} lines read, "
                f"{max(left, 0):.1f} s left but {self._reserve_s:.1f} s are needed to post the event; "
                "nothing was posted. Raise the notifier's timeout (or its memory, which brings more CPU); "
                "Lambda retries this notification and the dead-letter queue keeps it if that fails too"
            )


@dataclass(frozen=True)
class FlowReading:
    """What an object under `rejected/` says: its summary, the names its flows carry, the baseline's word."""

    obj: ObjectRef
    observed: Observed

    @property
    def empty(self) -> bool:
        return self.observed.summary.empty

    @property
    def facts(self) -> Facts:
        """What the handler logs and counts about the object."""
        flows = self.observed.summary
        return {"kind": "rejected", "flows": flows.flows, "invalid_lines": flows.invalid_lines,
                "sources": flows.distinct_sources, "internal_flows": flows.internal_flows,
                **assessment_facts(self.observed.assessment)}


@dataclass(frozen=True)
class ErrorReading:
    """What an object under `errors/` says: its Firehose error records, summarised."""

    obj: ObjectRef
    errors: ErrorSummary

    @property
    def empty(self) -> bool:
        return self.errors.empty

    @property
    def facts(self) -> Facts:
        """What the handler logs and counts about the object."""
        return {"kind": "errors", "records": self.errors.records, "invalid_lines": self.errors.invalid_lines}


Reading = FlowReading | ErrorReading


def read_object(s3: Any, obj: ObjectRef, settings: Settings, now_s: float, remaining_s: Callable[[], float],
                reserve_s: float, baseline: Baseline | None = None) -> Reading:
    """Stream the object and summarise it (with a baseline, judge its keys too).

    `reserve_s`: the time that must be left once it is summarised, to post its event. Raises
    ObjectUnreadableError when the body cannot be read, SummaryTimeoutError when time runs out.
    """
    body = storage.open_body(s3, obj)
    lines = _TimedLines(iter_lines(body), obj, remaining_s, reserve_s)
    try:
        reading = _summarise_lines(obj, settings, now_s, lines, baseline)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ObjectUnreadableError(
            f"truncated or corrupt gzip after {plural(lines.count, 'line')} ({error})") from None
    finally:
        body.close()
    if not reading.empty:
        lines.check()  # say so here, rather than let the post fail for want of time
    return reading


def _summarise_lines(obj: ObjectRef, settings: Settings, now_s: float, lines: Iterable[bytes],
                     baseline: Baseline | None = None) -> Reading:
    if is_error_key(obj.key):
        errors = summarise_errors(lines)
        if errors.records == 0 and errors.invalid_lines:
            raise ObjectUnreadableError(
                f"none of its {plural(errors.invalid_lines, 'line')} is a Firehose error record (JSON)")
        return ErrorReading(obj, errors)
    # The baseline caps flow times just past the arrival hour, which it needs before any flow is read.
    arrival_hour_s = hour_of(obj.key, None, now_s).timestamp()
    observed = summarise_and_assess(baseline, obj.uri, lines, settings.internal_networks, arrival_hour_s)
    flows = observed.summary
    if flows.no_flow_records:
        why = invalid_lines_text(flows.invalid)
        raise ObjectUnreadableError(f"none of its {plural(flows.lines, 'line')} is a flow record: {why}")
    return FlowReading(obj, observed)
