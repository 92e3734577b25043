"""The archive as files: mirror the bucket to `<out>/s3/<bucket>/<key>` and count what it holds."""

from __future__ import annotations

import base64
import gzip
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from contracts.layout import is_data_key
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
            lines = gzip.decompress(body).splitlines()
            if is_data_key(key):
                sources = Counter(orjson.loads(line).get("srcaddr") for line in lines)
                summary.flows_archived += len(lines)
                summary.data_objects.append({"key": key, "flows": len(lines), "bytes": len(body)})
                if key in events:
                    events[key].top_sources = sources.most_common(TOP_SOURCES)
            else:
                flows = sum(_flows_in_error_record(line) for line in lines)
                summary.failed_records += len(lines)
                summary.flows_in_failed_records += flows
                summary.error_objects.append({"key": key, "records": len(lines), "flows": flows,
                                              "bytes": len(body)})


def _flows_in_error_record(line: bytes) -> int:
    """Flow-log lines inside a failed record's raw data: the log events of a CloudWatch payload (gzip
    JSON), or the lines of a plain-text record (flow logs delivered straight to Firehose)."""
    try:
        raw = base64.b64decode(orjson.loads(line)["rawData"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return 0
    if raw[:2] != GZIP_MAGIC:
        return sum(1 for text in raw.splitlines() if text.strip())
    try:
        return len(orjson.loads(gzip.decompress(raw)).get("logEvents", []))
    except (ValueError, OSError, EOFError, zlib.error, orjson.JSONDecodeError, AttributeError):
        return 0
