"""Turn a flow summary into a Datadog event: title, markdown text, alert type, tags. Pure.

`warning` when any rejected source is internal (something inside the network is being refused: worth a
page), `info` when only internet sources were (background scanning); the `internal_sources:true|false`
tag says which, so monitors can select on it. The text names internal sources first, lists the other
sources with the ports they tried, sums up single-flow internet sources in one line, shows protocols without
ports (ICMP...) by name, and never counts a flow without a byte count as 0 B.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts.events import KIND_REJECTED, SOURCE_TAG, internal_sources_tag, stack_tag
from contracts.queries import hour_query
from notifier.baseline import news
from notifier.baseline.verdicts import Assessment
from notifier.display import code, code_block, plain, tag
from notifier.draft import EventBasis, flow_basis
from notifier.markdown import (
    OBJECT_URI_LIMIT,
    TITLE_LIMIT,
    Section,
    TextParts,
    fit_title,
    fit_values,
    invalid_lines_text,
    merge_tags,
    plural,
    size,
    time_window,
)
from notifier.model import EventContext, EventDraft, ObjectRef
from notifier.names import HitNames
from notifier.sources import SourceGroup, SourceRow
from notifier.summary import Distinct, FlowSummary

WARNING = "warning"
INFO = "info"
# Ports listed per source in the text; the rest is "+N more".
PORTS_SHOWN = 12
# Up to this many single-flow internet sources are listed by address; more are summed up in one line.
SINGLES_LISTED = 5


def alert_type(summary: FlowSummary) -> str:
    return WARNING if summary.has_internal_sources else INFO


def _where(summary: FlowSummary) -> str | None:
    """The one place the batch comes from, for the title: account, else VPC, else log group."""
    places = ((summary.accounts, "accounts"), (summary.vpcs, "VPCs"), (summary.log_groups, "log groups"))
    for few, noun in places:
        if few.single:
            return plain(few.single, TITLE_LIMIT)
        if few.values:
            return f"{len(few.values)}{'+' if few.more else ''} {noun}"
    return None


def _sources_phrase(summary: FlowSummary) -> str:
    if summary.more_sources:
        return f"more than {summary.distinct_sources:,} sources"
    return plural(summary.distinct_sources, "source")


def _internal_phrase(summary: FlowSummary) -> str:
    group = summary.internal
    return f"{'more than ' if group.more else ''}{group.distinct:,} internal"


def flow_title(summary: FlowSummary, hour: datetime, lead: str | None = None) -> str:
    """E.g. "30 rejected flows from 5 sources (1 internal) · 123456789012 · 18:00 UTC"; `lead` (the
    baseline's news, "2 new internal rejects") comes first."""
    head = f"{plural(summary.flows, 'rejected flow')} from {_sources_phrase(summary)}"
    if summary.has_internal_sources:
        head += f" ({_internal_phrase(summary)})"
    parts = [head]
    if lead:
        parts.insert(0, lead)
    where = _where(summary)
    if where:
        parts.append(where)
    parts.append(f"{hour:%H}:00 UTC")
    title = " · ".join(parts)
    if len(title) > TITLE_LIMIT and where:
        # Drop the place before cutting the count or the hour.
        title = " · ".join(p for p in parts if p != where)
    return fit_title(title)


def _distinct_line(label: str, few: Distinct, cap: int) -> str | None:
    if not few.values:
        return None
    values = ", ".join(code(v, cap) for v in few.values)
    return f"**{label}:** {values}{' and more' if few.more else ''}"


def _targets(row: SourceRow) -> str:
    """What a source tried: "to ports 22, 23 (+3 more)", "(icmp)", "to port 22 and icmp", or ""."""
    ports = row.ports
    shown = ""
    if ports:
        shown = ", ".join(str(p) for p in ports[:PORTS_SHOWN])
        extra = len(ports) - PORTS_SHOWN
        if extra > 0 or row.more_ports:
            shown += f" (+{max(extra, 0)}{'+' if row.more_ports else ''} more)"
        shown = f"port{'s' if len(ports) > 1 else ''} {shown}"
    portless = ", ".join(row.protocols_without_ports)
    if shown and portless:
        return f" to {shown} and {portless}"
    if shown:
        return f" to {shown}"
    return f" ({portless})" if portless else ""


def _no_mark(_: str) -> str:
    return ""


def _named(names: HitNames | None) -> Callable[[str], str]:
    """` (`web-prod-1`)` after an interface or an internal source the flows name (news.name_of)."""
    return (lambda value: news.name_of(value, names)) if names is not None else _no_mark


def _source_section(heading: str, group: SourceGroup, approx: str, cap: int, *, internal: bool,
                    mark: Callable[[str], str] = _no_mark, name: Callable[[str], str] = _no_mark) -> Section:
    """Internal sources are all listed (each one is actionable) and kept when the text must shrink."""
    rows = group.rows
    singles = group.single_flow
    if not internal and singles is not None and singles > SINGLES_LISTED:
        rows = tuple(r for r in rows if r.flows > 1)
        total = group.distinct - singles
        note = f"…and {plural(singles, 'single-flow source')}"
    else:
        total, note = max(group.distinct, len(rows)), ""
    return Section(
        heading,
        [f"- {code(r.address, cap)}{name(r.address)}: {approx}{plural(r.flows, 'flow')}{_targets(r)}"
         f"{mark(r.address)}" for r in rows],
        "source",
        total,
        note=note,
        protected=internal,
    )


def _flow_sections(summary: FlowSummary, cap: int, baseline: Assessment | None = None,
                   names: HitNames | None = None) -> list[Section]:
    approx = "≥" if summary.count_error else ""
    # The baseline's marks (new, known since ...) and the names the flows carry: docs/architecture.md,
    # The notifier, "The baseline".
    marks = news.Marks(baseline) if baseline is not None else None
    source_mark = marks.source if marks else _no_mark
    name = _named(names)
    sections = []
    new = news.new_section(baseline, names) if baseline is not None else None
    if new is not None:
        sections.append(new)
    has_sources = False
    if not summary.internal.empty:
        sections.append(_source_section("### Internal sources", summary.internal, approx, cap, internal=True,
                                        mark=source_mark, name=name))
        has_sources = True
    if not summary.internet.empty:
        heading = "### Internet sources" if has_sources else "### Top sources"
        sections.append(_source_section(heading, summary.internet, approx, cap, internal=False,
                                        mark=source_mark))
    sections.append(Section(
        "### Top destination ports",
        [f"- {code(p.label)}: {approx}{plural(p.flows, 'flow')}"
         f"{marks.port(p.port, p.protocol) if marks else ''}" for p in summary.top_ports],
        "port",
        max(summary.distinct_ports, len(summary.top_ports)),
    ))
    sections.append(Section(
        "### Interfaces hit",
        [f"- {code(interface, cap)}{name(interface)}: {approx}{plural(n, 'flow')}"
         for interface, n in summary.top_interfaces],
        "interface",
        max(summary.distinct_interfaces, len(summary.top_interfaces)),
    ))
    return sections


def volume(summary: FlowSummary) -> str:
    """Packets and bytes summed over the flows that report them; a missing count is never a 0."""
    parts = []
    for missing, noun, shown in (
        (summary.flows_without_packets, "packets", f"{summary.packets:,} packets"),
        (summary.flows_without_bytes, "bytes", size(summary.bytes)),
    ):
        if missing == 0:
            parts.append(shown)
        elif missing >= summary.flows:
            parts.append(f"{noun} unknown")
        else:
            # The flows that carry the count: the sum is a lower bound of the batch's.
            parts.append(f"≥ {shown} ({noun} unknown for {plural(missing, 'flow')})")
    return ", ".join(parts)


def _flow_head(summary: FlowSummary, cap: int, baseline: Assessment | None = None) -> str:
    lead = (f"**{plural(summary.flows, 'rejected flow')}** from **{_sources_phrase(summary)}**: "
            f"{summary.ipv4_flows:,} IPv4, {summary.ipv6_flows:,} IPv6; {volume(summary)}.")
    if summary.has_internal_sources:
        lead += (f"\n\n**{plural(summary.internal_flows, 'flow')} from {_internal_phrase(summary)} "
                 f"source{'' if summary.internal.distinct == 1 and not summary.internal.more else 's'}**: "
                 "something inside the network is being refused.")
    else:
        lead += "\n\nOnly internet sources were rejected (no private, shared or configured internal range)."
    facts = [f"**Time window:** {time_window(summary.first_start, summary.last_end)}"]
    for label, few in (("Account", summary.accounts), ("Region", summary.regions), ("VPC", summary.vpcs),
                       ("Log group", summary.log_groups)):
        line = _distinct_line(label, few, cap)
        if line:
            facts.append(line)
    if summary.invalid.total:
        facts.append(f"**Warning:** {invalid_lines_text(summary.invalid)}")
    if baseline is not None:
        facts.extend(news.notes(baseline))
    if summary.count_error:
        facts.append(f"_Counts are lower bounds (within {summary.count_error:,}): the batch was too diverse "
                     "to count every source exactly._")
    # A list, not bare lines: markdown would run consecutive lines into one paragraph.
    return lead + "\n\n" + "\n".join(f"- {f}" for f in facts)


def _flow_tail(basis: EventBasis) -> str:
    """The object and the query for its hour: never cut when the text must shrink."""
    workgroup = f" (workgroup {code(basis.ctx.athena_workgroup)})" if basis.ctx.athena_workgroup else ""
    return "\n".join([
        f"**Object:** {code(basis.obj.uri, OBJECT_URI_LIMIT)}",
        "",
        f"**Athena**{workgroup}, this hour:",
        code_block(hour_query(basis.ctx.athena_table, basis.partition), "sql"),
    ])


def flow_text_parts(summary: FlowSummary, basis: EventBasis, cap: int, baseline: Assessment | None = None,
                    names: HitNames | None = None) -> TextParts:
    """The text with every value from data within `cap` characters (the fit lowers it)."""
    return (_flow_head(summary, cap, baseline), _flow_sections(summary, cap, baseline, names),
            _flow_tail(basis))


def single_valued_tags(summary: FlowSummary) -> list[str]:
    """Low-cardinality tags a monitor can group by, only when the batch has one value."""
    tags = []
    fields = (("aws_account", summary.accounts), ("region", summary.regions), ("vpc_id", summary.vpcs))
    for name, few in fields:
        if few.single:
            tags.append(tag(name, few.single))
    return tags


def render_flows(summary: FlowSummary, basis: EventBasis, baseline: Assessment | None = None,
                 names: HitNames | None = None) -> EventDraft:
    """The rejected-flow event on its basis (hour, aggregation key, date: `notifier.draft`). `baseline`:
    the baseline's verdicts on the object (None without a baseline: today's event); `names`: the tag
    values the flows carry for interfaces and internal sources."""
    ctx = basis.ctx
    return EventDraft(
        title=flow_title(summary, basis.hour, news.title_lead(baseline) if baseline is not None else None),
        text=fit_values(lambda cap: flow_text_parts(summary, basis, cap, baseline, names)),
        alert_type=(alert_type(summary) if baseline is None
                    else news.alert_type(baseline, summary.has_internal_sources)),
        aggregation_key=basis.aggregation_key,
        date_happened=basis.date_happened,
        tags=merge_tags(ctx.tags, [SOURCE_TAG, stack_tag(ctx.stack), KIND_REJECTED,
                                   internal_sources_tag(summary.has_internal_sources)],
                        single_valued_tags(summary), news.tags(baseline) if baseline is not None else ()),
    )


def flow_event(summary: FlowSummary, obj: ObjectRef, ctx: EventContext, now_s: float,
               baseline: Assessment | None = None, names: HitNames | None = None) -> EventDraft:
    """The rejected-flow event of `obj`, its basis derived here (for callers with a summary in hand)."""
    return render_flows(summary, flow_basis(obj, summary, ctx, now_s), baseline, names)
