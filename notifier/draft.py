"""The event draft: what every event of one object stands on, derived once from the object and its summary.

The archive hour (the key's partition, Firehose's arrival hour; else the hour of the flows' or records'
own time; else now), the partition the Athena query selects, the aggregation key and the date Datadog
is given are derived here, once per object, into an `EventBasis`; the renderers (`render.py`,
`render_errors.py`) read them from it and never look at the key for them again. Pure.

Datadog's Events API (v1) limits: aggregation_key ≤ 100 characters, date_happened within the last
18 hours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.layout import partition_hour
from notifier.errorbatch import ErrorSummary
from notifier.model import EventContext, ObjectRef
from notifier.summary import FlowSummary

AGGREGATION_KEY_LIMIT = 100
# Datadog drops events older than 18 h; an hour of margin covers clock skew and slow retries.
MAX_EVENT_AGE_S = 17 * 3600
FLOWS_AGGREGATION = "rejected-flows"
ERRORS_AGGREGATION = "rejected-flows-errors"


@dataclass(frozen=True)
class EventBasis:
    """One object's event before its text: the object, the deployment and the times derived once."""

    obj: ObjectRef
    ctx: EventContext
    hour: datetime
    aggregation_key: str
    date_happened: int

    @property
    def partition(self) -> dict[str, int]:
        """The hour as the archive's partition (`year`, `month`, `day`, `hour`), for the Athena query."""
        hour = self.hour
        return {"year": hour.year, "month": hour.month, "day": hour.day, "hour": hour.hour}


def clamp_date(epoch_s: float | None, now_s: float) -> int:
    """A date Datadog accepts: the flows' own time if recent, else the oldest (or newest) allowed."""
    if epoch_s is None:
        return int(now_s)
    return int(min(max(epoch_s, now_s - MAX_EVENT_AGE_S), now_s))


def hour_of(key: str, fallback_epoch_s: float | None, now_s: float) -> datetime:
    """The archive hour of an object: its partition (Firehose's arrival hour), else the flows' time."""
    hour = partition_hour(key)
    if hour is not None:
        return hour
    moment = datetime.fromtimestamp(fallback_epoch_s if fallback_epoch_s is not None else now_s, UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def aggregation_key(kind: str, stack: str, hour: datetime) -> str:
    """Stable per stack, kind and hour, so Datadog groups the events of one hour together."""
    stamp = hour.strftime("%Y-%m-%dT%H")
    key = f"{kind}:{stack}:{stamp}"
    if len(key) > AGGREGATION_KEY_LIMIT:
        # A very long stack name: a digest keeps the key stable and within the limit.
        key = f"{kind}:{hashlib.sha256(stack.encode()).hexdigest()[:24]}:{stamp}"
    return key[:AGGREGATION_KEY_LIMIT]


def flow_basis(obj: ObjectRef, summary: FlowSummary, ctx: EventContext, now_s: float) -> EventBasis:
    """A rejected-flow event's: the flows' first start names the hour of a key without a partition,
    their last end (else first start, else the hour) is the date."""
    hour = hour_of(obj.key, summary.first_start, now_s)
    happened = summary.last_end if summary.last_end is not None else summary.first_start
    return EventBasis(obj, ctx, hour, aggregation_key(FLOWS_AGGREGATION, ctx.stack, hour),
                      clamp_date(happened if happened is not None else hour.timestamp(), now_s))


def error_basis(obj: ObjectRef, summary: ErrorSummary, ctx: EventContext, now_s: float) -> EventBasis:
    """A failed-records event's: the records' first arrival names the hour of a key without a partition,
    their last arrival (else the hour) is the date."""
    first_s = summary.first_arrival_ms / 1000 if summary.first_arrival_ms is not None else None
    last_s = summary.last_arrival_ms / 1000 if summary.last_arrival_ms is not None else None
    hour = hour_of(obj.key, first_s, now_s)
    return EventBasis(obj, ctx, hour, aggregation_key(ERRORS_AGGREGATION, ctx.stack, hour),
                      clamp_date(last_s if last_s is not None else hour.timestamp(), now_s))


def unreadable_basis(obj: ObjectRef, ctx: EventContext, now_s: float) -> EventBasis:
    """An unreadable object's: nothing was read, so the hour is the key's (else now's), the date now."""
    hour = hour_of(obj.key, None, now_s)
    return EventBasis(obj, ctx, hour, aggregation_key(ERRORS_AGGREGATION, ctx.stack, hour), int(now_s))
