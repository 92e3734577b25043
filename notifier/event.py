"""An object's one event, drafted from what reading it said: its basis once, its renderer, its tag. Pure.

The basis (`notifier.draft`: the hour, the partition, the aggregation key and the date) is derived once
per object; `render.py` (rejected flows) or `render_errors.py` (failed records, an unreadable object)
writes the title, text and tags on it. Every event of an object carries the same `notification:` tag
(`contracts.events.notification_tag`), so a repeat after a timed-out request is recognisable.
"""

from __future__ import annotations

from dataclasses import replace

from contracts.events import notification_tag
from notifier.draft import error_basis, flow_basis, unreadable_basis
from notifier.model import EventContext, EventDraft, ObjectRef
from notifier.reading import ErrorReading, Reading
from notifier.render import render_flows
from notifier.render_errors import render_errors, render_unreadable


def draft_event(reading: Reading, ctx: EventContext, now_s: float) -> EventDraft | None:
    """The object's event; None when it has nothing to say (no lines)."""
    if reading.empty:
        return None
    obj = reading.obj
    if isinstance(reading, ErrorReading):
        return _tagged(render_errors(reading.errors, error_basis(obj, reading.errors, ctx, now_s)), obj)
    observed = reading.observed
    basis = flow_basis(obj, observed.summary, ctx, now_s)
    return _tagged(render_flows(observed.summary, basis, observed.assessment, observed.names), obj)


def draft_unreadable(obj: ObjectRef, reason: str, ctx: EventContext, now_s: float) -> EventDraft:
    """The error event of an object that cannot be read, saying why."""
    return _tagged(render_unreadable(reason, unreadable_basis(obj, ctx, now_s)), obj)


def _tagged(event: EventDraft, obj: ObjectRef) -> EventDraft:
    return replace(event, tags=(*event.tags, notification_tag(obj.uri)))
