"""Turn a summary into a Datadog event: title, markdown text, tags, aggregation key, date. Pure.

Datadog's limits (docs/architecture.md): title ≤ 100 chars (kept), text ≤ 4,000 chars with markdown between
`%%%\\n` and `\\n%%%`, aggregation_key ≤ 100, date_happened within the last 18 hours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.events import KIND_ERRORS, KIND_REJECTED, SOURCE_TAG, stack_tag
from contracts.layout import PARTITION_KEYS, partition_of
from contracts.queries import hour_query
from notifier.errorbatch import ErrorSummary
from notifier.summary import Distinct, FlowSummary

TITLE_LIMIT = 100
TEXT_LIMIT = 4000
AGGREGATION_KEY_LIMIT = 100
MARKDOWN_OPEN = "%%%\n"
MARKDOWN_CLOSE = "\n%%%"
# Datadog drops events older than 18 h; an hour of margin covers clock skew and slow retries.
MAX_EVENT_AGE_S = 17 * 3600
# Ports listed per source in the text; the rest is "+N more".
PORTS_SHOWN = 12


@dataclass(frozen=True)
class EventContext:
    """What the text and tags need from the deployment (from the environment, see settings.py)."""

    stack: str
    athena_table: str  # qualified and quoted: "db"."table"
    athena_workgroup: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class EventDraft:
    """A Datadog v1 event as plain data; delivery turns it into an EventCreateRequest."""

    title: str
    text: str
    alert_type: str
    aggregation_key: str
    date_happened: int
    tags: tuple[str, ...] = field(default=())
    priority: str = "normal"


# --- small pure helpers -------------------------------------------------------------------------

def clamp_date(epoch_s: float | None, now_s: float) -> int:
    """A date Datadog accepts: the flows' own time if recent, else the oldest (or newest) allowed."""
    if epoch_s is None:
        return int(now_s)
    return int(min(max(epoch_s, now_s - MAX_EVENT_AGE_S), now_s))


def hour_of(key: str, fallback_epoch_s: float | None, now_s: float) -> datetime:
    """The archive hour of an object: its partition (Firehose's arrival hour), else the flows' time."""
    partition = partition_of(key)
    if all(k in partition for k in PARTITION_KEYS):
        year, month, day, hour = (partition[k] for k in PARTITION_KEYS)
        return datetime(year, month, day, hour, tzinfo=UTC)
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


def fit_title(title: str) -> str:
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


def merge_tags(*groups: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for tag in group:
            tag = tag.strip()
            if tag:
                seen.setdefault(tag, None)
    return tuple(seen)


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _was(n: int, noun: str) -> str:
    return f"{_plural(n, noun)} {'was' if n == 1 else 'were'}"


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def time_window(first_s: float | None, last_s: float | None) -> str:
    if first_s is None or last_s is None:
        return "unknown (the flows carry no start/end)"
    first, last = _utc(first_s), _utc(last_s)
    if first.date() == last.date():
        return f"{first:%Y-%m-%d %H:%M:%S} → {last:%H:%M:%S} UTC"
    return f"{first:%Y-%m-%d %H:%M:%S} → {last:%Y-%m-%d %H:%M:%S} UTC"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n:.1f} TB"


# --- text fitting -------------------------------------------------------------------------------

@dataclass
class Section:
    """A list of rows that may be shortened from the end to fit the text limit."""

    heading: str
    rows: list[str]
    noun: str
    # How many items exist in all (≥ len(rows)); the difference is announced as "…and N more".
    total: int
    shown: int = -1

    def __post_init__(self) -> None:
        if self.shown < 0:
            self.shown = len(self.rows)

    def render(self) -> str:
        if not self.rows:
            return ""
        lines = [self.heading, *self.rows[: self.shown]]
        hidden = self.total - self.shown
        if hidden > 0:
            lines.append(f"- _…and {hidden:,} more {self.noun}{'' if hidden == 1 else 's'}_")
        return "\n".join(lines)


def fit_text(head: str, sections: list[Section], tail: str, limit: int = TEXT_LIMIT) -> str:
    """Markdown text within `limit` chars: whole rows are dropped from the longest lists first."""

    def build() -> str:
        parts = [head, *(s.render() for s in sections), tail]
        return MARKDOWN_OPEN + "\n\n".join(p for p in parts if p) + MARKDOWN_CLOSE

    text = build()
    while len(text) > limit:
        candidates = [s for s in sections if s.shown > 0]
        if not candidates:
            # Only the fixed parts are left (an absurdly long key): cut at a line, keep the markers.
            body = text[len(MARKDOWN_OPEN): limit - len(MARKDOWN_CLOSE) - 2]
            return MARKDOWN_OPEN + body[: body.rfind("\n") if "\n" in body else len(body)] + "\n…" \
                + MARKDOWN_CLOSE
        max(candidates, key=lambda s: s.shown).shown -= 1
        text = build()
    return text


# --- flow events --------------------------------------------------------------------------------

def _where(summary: FlowSummary) -> str | None:
    """The one place the batch comes from, for the title: account, else VPC, else log group."""
    places = ((summary.accounts, "accounts"), (summary.vpcs, "VPCs"), (summary.log_groups, "log groups"))
    for few, noun in places:
        if few.single:
            return few.single
        if few.values:
            return f"{len(few.values)}{'+' if few.more else ''} {noun}"
    return None


def _sources_phrase(summary: FlowSummary) -> str:
    if summary.more_sources:
        return f"more than {summary.distinct_sources:,} sources"
    return _plural(summary.distinct_sources, "source")


def flow_title(summary: FlowSummary, hour: datetime) -> str:
    parts = [f"{_plural(summary.flows, 'rejected flow')} from {_sources_phrase(summary)}"]
    where = _where(summary)
    if where:
        parts.append(where)
    parts.append(f"{hour:%H}:00 UTC")
    title = " · ".join(parts)
    if len(title) > TITLE_LIMIT and where:
        # Drop the place before cutting the count or the hour.
        title = " · ".join((parts[0], parts[-1]))
    return fit_title(title)


def _distinct_line(label: str, few: Distinct) -> str | None:
    if not few.values:
        return None
    values = ", ".join(f"`{v}`" for v in few.values)
    return f"**{label}:** {values}{' and more' if few.more else ''}"


def _ports_text(ports: tuple[int, ...], more: bool) -> str:
    if not ports:
        return "no port"
    shown = ", ".join(str(p) for p in ports[:PORTS_SHOWN])
    extra = len(ports) - PORTS_SHOWN
    if extra > 0 or more:
        shown += f" (+{max(extra, 0)}{'+' if more else ''} more)"
    return f"port{'s' if len(ports) > 1 else ''} {shown}"


def _flow_sections(summary: FlowSummary) -> list[Section]:
    approx = "≥" if summary.count_error else ""
    sources = Section(
        "### Top sources",
        [f"- `{s.address}`: {approx}{_plural(s.flows, 'flow')} to {_ports_text(s.ports, s.more_ports)}"
         for s in summary.top_sources],
        "source",
        max(summary.distinct_sources, len(summary.top_sources)),
    )
    ports = Section(
        "### Top destination ports",
        [f"- `{p.label}`: {approx}{_plural(p.flows, 'flow')}" for p in summary.top_ports],
        "port",
        max(summary.distinct_ports, len(summary.top_ports)),
    )
    interfaces = Section(
        "### Interfaces hit",
        [f"- `{name}`: {approx}{_plural(n, 'flow')}" for name, n in summary.top_interfaces],
        "interface",
        max(summary.distinct_interfaces, len(summary.top_interfaces)),
    )
    return [sources, ports, interfaces]


def _flow_head(summary: FlowSummary) -> str:
    facts = [f"**Time window:** {time_window(summary.first_start, summary.last_end)}"]
    for label, few in (("Account", summary.accounts), ("Region", summary.regions), ("VPC", summary.vpcs),
                       ("Log group", summary.log_groups)):
        line = _distinct_line(label, few)
        if line:
            facts.append(line)
    if summary.invalid_lines:
        facts.append(f"**Warning:** {_was(summary.invalid_lines, 'line')} not valid JSON (skipped)")
    if summary.count_error:
        facts.append(f"_Counts are lower bounds (within {summary.count_error:,}): the batch was too diverse "
                     "to count every source exactly._")
    # A list, not bare lines: markdown would run consecutive lines into one paragraph.
    return (f"**{_plural(summary.flows, 'rejected flow')}** from **{_sources_phrase(summary)}** "
            f"({summary.ipv4_flows:,} IPv4, {summary.ipv6_flows:,} IPv6; "
            f"{summary.packets:,} packets, {_size(summary.bytes)}).\n\n" + "\n".join(f"- {f}" for f in facts))


def _flow_tail(obj: ObjectRef, ctx: EventContext, hour: datetime) -> str:
    partition = {"year": hour.year, "month": hour.month, "day": hour.day, "hour": hour.hour}
    workgroup = f" (workgroup `{ctx.athena_workgroup}`)" if ctx.athena_workgroup else ""
    return "\n".join([
        f"**Object:** `{obj.uri}`",
        "",
        f"**Athena**{workgroup}, this hour:",
        "```sql",
        hour_query(ctx.athena_table, partition),
        "```",
    ])


def single_valued_tags(summary: FlowSummary) -> list[str]:
    """Low-cardinality tags a monitor can group by, only when the batch has one value."""
    tags = []
    fields = (("aws_account", summary.accounts), ("region", summary.regions), ("vpc_id", summary.vpcs))
    for name, few in fields:
        if few.single:
            tags.append(f"{name}:{few.single}")
    return tags


def flow_event(summary: FlowSummary, obj: ObjectRef, ctx: EventContext, now_s: float) -> EventDraft:
    hour = hour_of(obj.key, summary.first_start, now_s)
    text = fit_text(_flow_head(summary), _flow_sections(summary), _flow_tail(obj, ctx, hour))
    happened = summary.last_end if summary.last_end is not None else summary.first_start
    return EventDraft(
        title=flow_title(summary, hour),
        text=text,
        alert_type="warning",
        aggregation_key=aggregation_key("rejected-flows", ctx.stack, hour),
        date_happened=clamp_date(happened if happened is not None else hour.timestamp(), now_s),
        tags=merge_tags(ctx.tags, [SOURCE_TAG, stack_tag(ctx.stack), KIND_REJECTED],
                        single_valued_tags(summary)),
    )


# --- error events -------------------------------------------------------------------------------

def _error_output_type(key: str) -> str | None:
    """`errors/processing-failed/year=...` -> `processing-failed` (Firehose's error-output-type)."""
    parts = key.split("/")
    return parts[1] if len(parts) > 2 and "=" not in parts[1] else None


def error_event(summary: ErrorSummary, obj: ObjectRef, ctx: EventContext, now_s: float) -> EventDraft:
    first_s = summary.first_arrival_ms / 1000 if summary.first_arrival_ms is not None else None
    last_s = summary.last_arrival_ms / 1000 if summary.last_arrival_ms is not None else None
    hour = hour_of(obj.key, first_s, now_s)
    output_type = _error_output_type(obj.key)
    head = [
        f"**Arrival window:** {time_window(first_s, last_s)}",
        f"**Object:** `{obj.uri}`",
    ]
    if output_type:
        head.append(f"**Error output type:** `{output_type}`")
    if summary.max_attempts:
        head.append(f"**Attempts made:** up to {summary.max_attempts}")
    if summary.lambda_arns:
        head.append("**Processor:** " + ", ".join(f"`{arn}`" for arn in summary.lambda_arns))
    if summary.invalid_lines:
        head.append(f"**Warning:** {_was(summary.invalid_lines, 'line')} not valid JSON (skipped)")
    intro = (f"**{_was(summary.records, 'Firehose record')} not archived** and went to the error prefix "
             "instead of `rejected/`; their raw data (base64 CloudWatch Logs payloads) is kept there.")
    section = Section(
        "### Error codes",
        [f"- `{code}`: {_plural(n, 'record')}" + (f" — e.g. _{_one_line(sample)}_" if sample else "")
         for code, n, sample in summary.codes],
        "error code",
        len(summary.codes),
    )
    return EventDraft(
        title=error_title(summary, hour),
        text=fit_text(intro + "\n\n" + "\n".join(f"- {line}" for line in head), [section], ""),
        alert_type="error",
        aggregation_key=aggregation_key("rejected-flows-errors", ctx.stack, hour),
        date_happened=clamp_date(last_s if last_s is not None else hour.timestamp(), now_s),
        tags=merge_tags(ctx.tags, [SOURCE_TAG, stack_tag(ctx.stack), KIND_ERRORS],
                        [f"error_output_type:{output_type}"] if output_type else []),
    )


def error_title(summary: ErrorSummary, hour: datetime) -> str:
    """E.g. "4 records failed processing (Lambda.ProcessingFailedStatus +1) · 18:00 UTC"."""
    head = f"{_plural(summary.records, 'record')} failed processing"
    codes = ""
    if summary.codes:
        codes = f" ({summary.codes[0][0]}{f' +{len(summary.codes) - 1}' if len(summary.codes) > 1 else ''})"
    title = f"{head}{codes} · {hour:%H}:00 UTC"
    return fit_title(title if len(title) <= TITLE_LIMIT else f"{head} · {hour:%H}:00 UTC")


def _one_line(text: str) -> str:
    """Keep a sample message on one line and free of markdown that would break the list."""
    return " ".join(text.split()).replace("_", "\\_").replace("`", "'")
