"""The demo's printed summary: what went in, what was kept, what was posted, what the queries say."""

from __future__ import annotations

from pathlib import Path

from contracts.flowlog import DEFAULT_FORMAT
from local.query import markdown_table
from local.summary import RunSummary

QUERY_ROWS = 5
LISTED_OBJECTS = 6
LISTED_EVENTS = 8


def _clip(text: str, width: int) -> str:
    """`text` cut to `width` at a word boundary (never mid-word), with an ellipsis when cut."""
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width - 1)
    return (text[:cut] if cut > 0 else text[: width - 1]).rstrip(", ") + " …"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _more(shown: int, total: int, what: str) -> list[str]:
    return [f"      … and {_plural(total - shown, what)} more"] if total > shown else []


def _counts(summary: RunSummary) -> str:
    """How every line read was accounted for; the parts add up to the lines read."""
    parts = [(summary.header_lines, "header"), (summary.blank_lines, "blank")]
    if summary.via == "firehose":
        parts.append((summary.shipped, "sent to Firehose"))
    else:
        parts += [(summary.shipped, "shipped"), (summary.filtered_out, "not matching the filter"),
                  (summary.not_shipped, "wrong field count")]
    shown = " + ".join(f"{count:,} {what}" for count, what in parts)
    return f"              {_plural(summary.lines_in, 'line')} read = {shown}"


def _flows(summary: RunSummary, out: Path) -> list[str]:
    f = summary.firehose
    fmt = "version 2 (default)" if summary.format == DEFAULT_FORMAT else _clip(summary.format, 70)
    lines = [f"Flows in      {_plural(summary.lines_in, 'line')} from {summary.source}; format {fmt}",
             _counts(summary)]
    if summary.shipped == 0 and summary.filtered_out == 0 and summary.first_line:
        lines.append(f"              nothing matched the format; the first line was {summary.first_line}")
    if summary.via == "firehose":
        lines.append(f"Flow logs     straight into Firehose: {summary.shipped:,} lines (ACCEPT, NODATA and "
                     f"SKIPDATA too) in {_plural(summary.messages, 'plain-text record')}, no CloudWatch")
    else:
        lines += [
            f"CloudWatch    filter {_clip(summary.filter_pattern, 80)}",
            f"              {summary.shipped:,} shipped in "
            f"{_plural(summary.messages, 'subscription message')}; {summary.filtered_out:,} did not match "
            "(action not kept, NODATA, SKIPDATA)",
        ]
    if summary.not_shipped:
        lines.append(f"              {_plural(summary.not_shipped, 'line')} not shipped by the CloudWatch "
                     f"filter (wrong field count for the format) -> {out / 'not-shipped.log'}")
    results = (f"{f.get('ok', 0):,} Ok, {f.get('dropped', 0):,} Dropped, "
               f"{f.get('processing_failed', 0):,} ProcessingFailed")
    invocations = _plural(f.get("invocations", 0), "transform invocation")
    lines.append(
        f"Firehose      {_plural(f.get('records_in', 0), 'record')} ({f.get('records_reingested', 0):,} "
        f"re-ingested by the transform), {invocations}: {results}")
    if f.get("processor_errors"):
        lines.append(f"              failed invocations: {f['processor_errors']}")
    return lines


def _archive(summary: RunSummary, out: Path) -> list[str]:
    lines = [f"REJECT kept   {_plural(summary.flows_archived, 'flow')} archived in "
             f"{_plural(len(summary.data_objects), 'object')} -> {out / 's3' / summary.bucket}/"]
    listed = summary.data_objects[:LISTED_OBJECTS]
    lines += [f"      {obj['key']}  ({_plural(obj['flows'], 'flow')})" for obj in listed]
    lines += _more(LISTED_OBJECTS, len(summary.data_objects), "object")
    if summary.error_objects:
        lines.append(f"Errors        {_plural(summary.failed_records, 'failed record')} "
                     f"({_plural(summary.flows_in_failed_records, 'log event')}) kept under errors/; "
                     f"why: {out / 'lambda.log'}")
        lines += [f"      {obj['key']}  ({_plural(obj['records'], 'record')})"
                  for obj in summary.error_objects]
    if summary.replay:
        lines.append("Replay        errors/processing-failed/ put back into the stream (python -m replay):")
        lines += [f"      {line}" for line in summary.replay]
    return lines


def _verdicts(state: str, counts: dict[str, int]) -> str:
    """`active: new 1 internal pair, 1 target port, 8 sources; 120 known`, or what the baseline did."""
    if state == "learning":
        return (f"learning: {_plural(counts.get('learning', 0), 'new key')} recorded, none reported; "
                f"{counts.get('known', 0):,} known")
    if state != "active":
        return f"{state}: the event went out without verdicts"
    new = [_plural(counts.get(name, 0), noun) for name, noun in
           (("new_internal", "internal pair"), ("new_targets", "target port"), ("new_sources", "source"))
           if counts.get(name)]
    return f"active: new {', '.join(new) or 'nothing'}; {counts.get('known', 0):,} known"


def _events(summary: RunSummary, out: Path) -> list[str]:
    path = out / "datadog-events.jsonl"
    lines = [f"Datadog       {_plural(summary.events_posted, 'event')} posted -> {path}"]
    for event in summary.events[:LISTED_EVENTS]:
        if event.outcome.startswith("failed"):
            lines.append(f"  [notifier {event.outcome}] {event.object_key}")
            continue
        lines.append(f"  [{event.alert_type or event.outcome}] {event.title or '(nothing posted)'}")
        if event.top_sources:
            top = ", ".join(f"{source} ({count:,})" for source, count in event.top_sources)
            lines.append(f"      top sources: {top}")
        if event.baseline:
            lines.append(f"      baseline: {_verdicts(event.baseline, event.verdicts)}")
    lines += _more(LISTED_EVENTS, len(summary.events), "event")
    return lines


def _queries(summary: RunSummary, out: Path) -> list[str]:
    if not summary.queries:
        return ["Athena SQL    nothing archived, no query to run"]
    day = "-".join(f"{part:02d}" for part in summary.query_day or [])
    lines = [f"Athena SQL    {len(summary.queries)} named queries run with DuckDB over "
             f"{summary.archive_rows:,} archived rows, day {day} -> {out / 'queries'}/"]
    for result in summary.queries:
        lines += ["", markdown_table(result, limit=QUERY_ROWS).rstrip()]
    return lines


def render(summary: RunSummary, out: Path) -> str:
    lines = _flows(summary, out) + _archive(summary, out) + _events(summary, out) + _queries(summary, out)
    lines += ["", f"Done in {summary.seconds:.1f} s (the whole command). Everything is in {out}/"]
    return "\n".join(lines)
