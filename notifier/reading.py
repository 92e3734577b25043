"""Reading one archived object into its event: streamed, summarised, rendered; or why it cannot be.

Time is watched while reading: the event must still be posted after the summary, so when too little
time is left the read stops with an error that says so (and Lambda retries), instead of the post
failing for want of time.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from contracts.layout import is_error_key
from notifier import storage
from notifier.baseline.step import Baseline, assessment_facts, summarise_and_assess
from notifier.errorbatch import summarise_errors
from notifier.markdown import hour_of, plural
from notifier.model import EventDraft, ObjectRef
from notifier.render import flow_event, invalid_lines_text
from notifier.render_errors import error_event
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


def summarise_object(s3: Any, obj: ObjectRef, settings: Settings, now_s: float,
                     remaining_s: Callable[[], float], reserve_s: float,
                     baseline: Baseline | None = None) -> tuple[EventDraft | None, Facts]:
    """Stream the object and render its event; None when there is nothing to say (empty object).

    `reserve_s`: the time that must be left once the event is rendered, to post it. `baseline`: judge
    the object's keys between the summary and the event (None: no baseline). Raises
    ObjectUnreadableError when the body cannot be read, SummaryTimeoutError when time runs out.
    """
    body = storage.open_body(s3, obj)
    lines = _TimedLines(iter_lines(body), obj, remaining_s, reserve_s)
    try:
        draft, facts = _summarise_body(obj, settings, now_s, lines, baseline)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ObjectUnreadableError(
            f"truncated or corrupt gzip after {plural(lines.count, 'line')} ({error})") from None
    finally:
        body.close()
    if draft is not None:
        lines.check()  # say so here, rather than let the post fail for want of time
    return draft, facts


def _summarise_body(obj: ObjectRef, settings: Settings, now_s: float, lines: Iterable[bytes],
                    baseline: Baseline | None = None) -> tuple[EventDraft | None, Facts]:
    ctx = settings.event_context()
    if is_error_key(obj.key):
        errors = summarise_errors(lines)
        if errors.records == 0 and errors.invalid_lines:
            raise ObjectUnreadableError(
                f"none of its {plural(errors.invalid_lines, 'line')} is a Firehose error record (JSON)")
        facts = {"kind": "errors", "records": errors.records, "invalid_lines": errors.invalid_lines}
        return (None if errors.empty else error_event(errors, obj, ctx, now_s)), facts
    hour = hour_of(obj.key, None, now_s).timestamp()
    observed = summarise_and_assess(baseline, obj.uri, lines, settings.internal_networks, hour)
    flows, assessment = observed.summary, observed.assessment
    if flows.no_flow_records:
        why = invalid_lines_text(flows.invalid)
        raise ObjectUnreadableError(f"none of its {plural(flows.lines, 'line')} is a flow record: {why}")
    facts = {"kind": "rejected", "flows": flows.flows, "invalid_lines": flows.invalid_lines,
             "sources": flows.distinct_sources, "internal_flows": flows.internal_flows,
             **assessment_facts(assessment)}
    event = None if flows.empty else flow_event(flows, obj, ctx, now_s, assessment, observed.names)
    return event, facts
