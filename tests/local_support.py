"""Helpers for the local pipeline's tests: reading flow lines and the archive independently of the code."""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from pathlib import Path

from contracts.flowlog import NUMERIC_FIELDS, FlowLogFormat

NUMERIC_COLUMNS = frozenset(field.replace("-", "_") for field in NUMERIC_FIELDS)


def parse_flow(line: str, fmt: FlowLogFormat) -> dict[str, object] | None:
    """A line as the archive records it (keys, numbers, null for `-`), or None if it does not fit."""
    values = line.split()
    if len(values) != len(fmt.fields):
        return None
    row: dict[str, object] = {}
    for field, value in zip(fmt.fields, values, strict=True):
        column = field.replace("-", "_")
        if value == "-":
            row[column] = None
        elif column in NUMERIC_COLUMNS:
            if not value.isdigit():
                return None
            row[column] = int(value)
        else:
            row[column] = value
    return row


def rejected_flows(lines: list[str], fmt: FlowLogFormat) -> list[dict[str, object]]:
    flows = [parse_flow(line, fmt) for line in lines]
    return [flow for flow in flows if flow is not None and flow.get("action") == "REJECT"]


def flow_multiset(rows: list[dict[str, object]], columns: tuple[str, ...]) -> Counter:
    return Counter(tuple(row.get(column) for column in columns) for row in rows)


def archived_rows(bucket_root: Path) -> list[dict[str, object]]:
    rows = []
    for path in sorted((bucket_root / "rejected").rglob("*.gz")):
        rows += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return rows


def error_records(bucket_root: Path) -> list[dict[str, object]]:
    records = []
    for path in sorted((bucket_root / "errors").rglob("*.gz")):
        records += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return records


def messages_in_error(record: dict[str, object]) -> list[str]:
    """The flow-log lines inside a failed record's raw data (a CloudWatch subscription payload)."""
    payload = json.loads(gzip.decompress(base64.b64decode(str(record["rawData"]))))
    return [event["message"] for event in payload["logEvents"]]


def events(out: Path) -> list[dict]:
    path = out / "datadog-events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- input builders -----------------------------------------------------------------------------------

ENI = "eni-0a1b2c3d4e5f60718"
# The header line S3-delivered flow-log files start with, for the default (version 2) format.
V2_HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
             "start end action log-status")


def flow_line(action: str = "REJECT", start: int = 1_795_748_400, source: str = "198.51.100.7",
              port: int = 22, eni: str = ENI, protocol: int = 6) -> str:
    """A version-2 flow-log line as VPC Flow Logs writes it (AWS's documented example, varied)."""
    return (f"2 123456789012 {eni} {source} 10.0.0.5 51234 {port} {protocol} 1 40 {start} {start + 60} "
            f"{action} OK")


def run_files(out: Path) -> dict[str, bytes]:
    """Every file under `out`, by relative path: to compare a folder before and after a run."""
    files = sorted(path for path in out.rglob("*") if path.is_file())
    return {str(path.relative_to(out)): path.read_bytes() for path in files}


def summary_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())
