"""The archive as files: mirror the bucket to `<out>/s3/<bucket>/<key>` and count what it holds."""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from contracts.error_record import ErrorRecord, NotAnErrorRecordError, NotReplayableError, read_error_line
from contracts.layout import is_data_key, is_error_key
from local.summary import RunSummary

TOP_SOURCES = 3
GZIP_MAGIC = b"\x1f\x8b"


def mirror(s3: Any, bucket: str, out: Path, summary: RunSummary) -> None:
    """Mirror the bucket to `<out>/s3/<bucket>/<key>` and count what it holds."""
    root = out / "s3" / bucket
    events = {event.object_key: event for event in summary.events}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = item["Key"]
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            if not (is_data_key(key) or is_error_key(key)):
                continue  # athena-results/, replay-locks/: mirrored, not counted
            lines = gzip.decompress(body).splitlines()
            if is_data_key(key):
                sources = Counter(orjson.loads(line).get("srcaddr") for line in lines)
                summary.flows_archived += len(lines)
                summary.data_objects.append({"key": key, "flows": len(lines), "bytes": len(body)})
                if key in events:
                    events[key].top_sources = sources.most_common(TOP_SOURCES)
            else:
                records, flows = error_counts(lines)
                summary.failed_records += records
                summary.flows_in_failed_records += flows
                summary.error_objects.append({"key": key, "records": records, "flows": flows,
                                              "bytes": len(body)})


def error_counts(lines: list[bytes]) -> tuple[int, int]:
    """(records, flows) of an error object, its lines read by the product's one reader
    (`contracts.error_record`): a line that is not a record counts neither, a record it cannot replay
    holds no flow."""
    records = flows = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record = read_error_line(line)
        except NotAnErrorRecordError:
            continue
        records += 1
        flows += _flows_in_error_record(record)
    return records, flows


def _flows_in_error_record(record: ErrorRecord) -> int:
    """Flow-log lines inside a failed record's raw data: the log events of a CloudWatch payload (gzip
    JSON), or the lines of a plain-text record (flow logs delivered straight to Firehose)."""
    try:
        raw = record.decode_data()
    except NotReplayableError:
        return 0
    if raw[:2] != GZIP_MAGIC:
        return sum(1 for text in raw.splitlines() if text.strip())
    try:
        return len(orjson.loads(gzip.decompress(raw)).get("logEvents", []))
    except (ValueError, OSError, EOFError, zlib.error, orjson.JSONDecodeError, AttributeError):
        return 0
