"""The demo's printed summary: what went in, what was kept, what was posted, what the queries say."""

from __future__ import annotations

from pathlib import Path

from local.pipeline import RunSummary
from local.query import markdown_table

QUERY_ROWS = 5


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(summary: RunSummary, out: Path) -> str:
    f = summary.firehose
    lines = [
        f"Input         {summary.source}: {summary.lines_in:,} lines, format {_clip(summary.format, 60)}",
        f"CloudWatch    filter {_clip(summary.filter_pattern, 70)}",
        f"              shipped {summary.shipped:,} lines in {summary.messages:,} subscription messages; "
        f"{summary.filtered_out:,} filtered out (action not kept, NODATA, SKIPDATA)",
    ]
    if summary.not_shipped:
        lines.append(f"              {summary.not_shipped:,} lines not shipped by the CloudWatch filter "
                     f"(wrong field count for the format): {out / 'not-shipped.log'}")
    lines += [
        f"Firehose      {f.get('records_in', 0):,} records ({f.get('records_reingested', 0):,} re-ingested), "
        f"{f.get('invocations', 0):,} transform invocations: {f.get('ok', 0):,} Ok, "
        f"{f.get('dropped', 0):,} Dropped, {f.get('processing_failed', 0):,} ProcessingFailed",
    ]
    if f.get("processor_errors"):
        lines.append(f"              failed invocations: {f['processor_errors']}")
    lines.append(f"S3            {summary.flows_archived:,} REJECT flows archived in "
                 f"{len(summary.data_objects)} objects under s3://{summary.bucket}/rejected/")
    for obj in summary.data_objects:
        lines.append(f"                {obj['key']}  ({obj['flows']:,} flows)")
    if summary.error_objects:
        lines.append(f"              {summary.failed_records:,} failed records "
                     f"({summary.flows_in_failed_records:,} log events) kept under errors/:")
        for obj in summary.error_objects:
            lines.append(f"                {obj['key']}  ({obj['records']} records)")
    lines.append(f"Datadog       {summary.events_posted} events posted ({out / 'datadog-events.jsonl'})")
    for event in summary.events:
        lines.append(f"  [{event.alert_type or event.outcome}] {event.title or '(nothing posted)'}")
        if event.top_sources:
            top = ", ".join(f"{source} ({count:,})" for source, count in event.top_sources)
            lines.append(f"      top sources: {top}")
    if summary.queries:
        day = "-".join(f"{part:02d}" for part in summary.query_day or [])
        lines.append(f"Athena SQL    {len(summary.queries)} named queries with DuckDB over "
                     f"{summary.archive_rows:,} archived rows, day {day} ({out / 'queries'})")
        for result in summary.queries:
            lines.append("")
            lines.append(markdown_table(result, limit=QUERY_ROWS).rstrip())
    else:
        lines.append("Athena SQL    nothing archived, no query to run")
    lines.append("")
    lines.append(f"Done in {summary.seconds:.1f} s. Everything is in {out}/")
    return "\n".join(lines)
