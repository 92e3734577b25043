"""What a run of the local pipeline did: the data behind the printed summary and `summary.json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from local.query import QueryResult


@dataclass
class EventRecord:
    object_key: str
    outcome: str
    title: str = ""
    alert_type: str = ""
    top_sources: list[tuple[str, int]] = field(default_factory=list)
    baseline: str = ""  # learning, active or unavailable; "" without a baseline (or no rejected flows)
    # Keys per verdict: new_internal, new_targets, new_sources, learning, known (notifier/baseline/step.py).
    verdicts: dict[str, int] = field(default_factory=dict)


@dataclass
class RunSummary:
    source: str
    format: str
    filter_pattern: str
    bucket: str
    via: str = "cloudwatch"  # how the lines reached Firehose: "cloudwatch" (subscription) or "firehose"
    lines_in: int = 0  # lines read = header_lines + blank_lines + shipped + not_shipped + filtered_out
    header_lines: int = 0
    blank_lines: int = 0
    shipped: int = 0
    not_shipped: int = 0
    filtered_out: int = 0
    messages: int = 0  # subscription messages (or, straight into Firehose, records) put into the stream
    firehose: dict[str, Any] = field(default_factory=dict)
    data_objects: list[dict[str, Any]] = field(default_factory=list)
    error_objects: list[dict[str, Any]] = field(default_factory=list)
    flows_archived: int = 0
    failed_records: int = 0
    flows_in_failed_records: int = 0
    events: list[EventRecord] = field(default_factory=list)
    events_posted: int = 0
    archive_rows: int = 0
    query_day: list[int] | None = None
    query_interface: str | None = None
    queries: list[QueryResult] = field(default_factory=list)
    first_line: str = ""  # the input's first line as quoted in messages, to show it when nothing matched
    seconds: float = 0.0  # wall time of the whole command
    replay: list[str] = field(default_factory=list)  # what replay printed, with --replay-format

    def as_json(self) -> bytes:
        # Query cells may be DuckDB's Decimal or date types: written as their text.
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2, default=str)
