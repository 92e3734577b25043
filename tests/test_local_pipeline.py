"""End to end: the real transform and notifier behind the local stand-ins, checked against the input.

Expected values are computed here from the input lines, independently of the pipeline's code.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest

from contracts.flowlog import parse_format
from contracts.layout import object_key_from_event
from contracts.settings import defaults, settings_from
from local.pipeline import RunOptions, run, s3_event
from local.sample import sample_lines
from local.services import LocalServices
from tests.local_support import (
    archived_rows,
    error_records,
    events,
    flow_multiset,
    messages_in_error,
    rejected_flows,
)

pytestmark = pytest.mark.slow

FMT = parse_format(None)
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WINDOW = int(START.timestamp()) + 120
# Fits the format's width and the REJECT condition, so CloudWatch ships it; the transform cannot read it.
MALFORMED = (f"2 123456789012 eni-0badbadbadbadbad0 198.51.100.9 10.20.1.10 abc 22 6 1 40 "
             f"{WINDOW} {WINDOW + 60} REJECT OK")
# One field short: CloudWatch's filter never ships it.
TRUNCATED = f"2 123456789012 eni-0a1b2c3d4e5f60718 198.51.100.9 10.20.1.10 40000 22 6 1 {WINDOW} REJECT OK"


@pytest.fixture(scope="module")
def services():
    with LocalServices() as running:
        yield running


@pytest.fixture(scope="module")
def demo(services, tmp_path_factory):
    lines = sample_lines(FMT, 7, 11, START)
    lines[len(lines) // 2:len(lines) // 2] = [MALFORMED, TRUNCATED]
    out = tmp_path_factory.mktemp("demo")
    summary = run(RunOptions(lines=lines, fmt=FMT, out=out, settings=defaults(), source="test"), services)
    return lines, out, summary


def title_count(title: str) -> int:
    return int(re.match(r"[\d,]+", title).group().replace(",", ""))


def test_every_reject_flow_is_archived_exactly_once(demo):
    lines, out, summary = demo
    expected = rejected_flows(lines, FMT)
    archived = archived_rows(out / "s3" / summary.bucket)
    assert len(expected) > 400
    assert flow_multiset(archived, FMT.columns) == flow_multiset(expected, FMT.columns)
    assert summary.flows_archived == len(expected)
    assert all(set(row) == {*FMT.columns, "log_group", "log_stream"} for row in archived), "record keys"
    assert {row["log_group"] for row in archived} == {"/vpc/flow-logs/local"}
    assert all(row["log_stream"] == f"{row['interface_id']}-all" for row in archived)


def test_events_count_every_archived_flow(demo):
    lines, out, summary = demo
    posted = events(out)
    flow_events = [e for e in posted if e["alert_type"] != "error"]
    assert len(flow_events) == len(summary.data_objects) >= 2
    assert sum(title_count(e["title"]) for e in flow_events) == len(rejected_flows(lines, FMT))
    assert all(e.outcome == "posted" for e in summary.events)


def test_a_malformed_line_ends_under_errors_with_an_error_event(demo):
    _, out, summary = demo
    (record,) = error_records(out / "s3" / summary.bucket)
    assert record["errorCode"] == "Lambda.ProcessingFailedStatus"
    assert messages_in_error(record) == [MALFORMED]
    (error_object,) = summary.error_objects
    assert error_object["key"].startswith("errors/processing-failed/year=")
    (error_event,) = [e for e in events(out) if e["alert_type"] == "error"]
    assert title_count(error_event["title"]) == 1


def test_lines_of_the_wrong_width_are_reported_not_lost(demo):
    _, out, summary = demo
    assert summary.not_shipped == 1
    assert TRUNCATED in (out / "not-shipped.log").read_text()


def _expected_top_rows(flows: list[dict]) -> dict[str, tuple]:
    by_source: dict[str, list[dict]] = defaultdict(list)
    for flow in flows:
        by_source[flow["srcaddr"]].append(flow)
    top_source = min(by_source, key=lambda s: (-len(by_source[s]), s))
    group = by_source[top_source]
    ports = Counter((f["dstport"], f["protocol"]) for f in flows)
    (top_port, protocol) = min(ports, key=lambda p: (-ports[p], p[0]))
    scanners = {s: fl for s, fl in by_source.items() if len({f["dstport"] for f in fl}) >= 10}
    scanner = min(scanners, key=lambda s: (-len({f["dstport"] for f in scanners[s]}), s))
    scans = scanners[scanner]
    interfaces = Counter(f["interface_id"] for f in flows)
    busiest = min(interfaces, key=lambda i: (-interfaces[i], i))
    first_window = min(f["start"] - f["start"] % 300 for f in flows if f["interface_id"] == busiest)
    in_window = [f for f in flows
                 if f["interface_id"] == busiest and f["start"] - f["start"] % 300 == first_window]
    return {
        "top-rejected-sources": (top_source, len(group), len({f["dstport"] for f in group}),
                                 len({f["interface_id"] for f in group}), sum(f["packets"] for f in group)),
        "top-rejected-destination-ports": (top_port, protocol, ports[(top_port, protocol)],
                                           len({f["srcaddr"] for f in flows if f["dstport"] == top_port
                                                and f["protocol"] == protocol})),
        "port-scanners": (scanner, len({f["dstport"] for f in scans}), len({f["dstaddr"] for f in scans}),
                          len(scans), min(f["start"] for f in scans), max(f["end"] for f in scans)),
        "interface-rejects-over-time": (first_window, len(in_window), len({f["srcaddr"] for f in in_window}),
                                        sum(f["packets"] for f in in_window),
                                        sum(f["bytes"] for f in in_window)),
        "busiest": busiest,
    }


def test_each_named_query_returns_the_expected_top_row(demo):
    lines, out, summary = demo
    expected = _expected_top_rows(rejected_flows(lines, FMT))
    assert summary.query_day == [2026, 11, 20]
    assert summary.query_interface == expected["busiest"]
    results = {result.name: result for result in summary.queries}
    assert len(results) == 4
    for name, result in results.items():
        assert tuple(result.rows[0]) == expected[name], name
        assert (out / "queries" / f"{name}.csv").exists()


def test_reingestion_through_the_loopback_firehose(services, tmp_path):
    """A 3 MB processor buffer of all-REJECT traffic overflows the 6 MB response: the transform puts
    records back through PutRecordBatch (here with throttled entries), and nothing is lost or doubled."""
    window = int(START.timestamp())
    lines = [
        f"2 123456789012 eni-0{i % 6:016x} 198.51.{i % 200}.{i % 250 + 1} 10.20.1.{i % 40} "
        f"{30000 + i % 30000} {i % 1024} 6 1 40 {window} {window + 60} REJECT OK"
        for i in range(24_000)
    ]
    services.firehose.fail_next(3)
    settings = settings_from({"processorBufferMb": "3"})
    summary = run(RunOptions(lines=lines, fmt=FMT, out=tmp_path, settings=settings, source="test"), services)
    assert summary.firehose["records_reingested"] > 0
    assert summary.firehose["failed_invocations"] == 0
    assert summary.firehose["max_response_bytes"] <= 6 * 1024 * 1024
    archived = archived_rows(tmp_path / "s3" / summary.bucket)
    assert flow_multiset(archived, FMT.columns) == flow_multiset(rejected_flows(lines, FMT), FMT.columns)
    assert not summary.error_objects


def test_a_refused_event_is_reported_not_fatal(services, tmp_path):
    """A wrong API key (403) fails the notifier's invocation; the run says so for that object."""
    lines = sample_lines(FMT, 1, 5, START)
    right_key = services.datadog.api_key
    services.datadog.api_key = "not-the-key-in-the-secret"
    try:
        options = RunOptions(lines=lines, fmt=FMT, out=tmp_path, settings=defaults(), source="t")
        summary = run(options, services)
    finally:
        services.datadog.api_key = right_key
    assert summary.flows_archived == len(rejected_flows(lines, FMT))
    assert summary.events_posted == 0
    assert [event.outcome.split(":")[0] for event in summary.events] == ["failed"]
    assert services.datadog.refused[-1] == 403


def test_s3_events_carry_url_encoded_keys_as_s3_sends_them():
    key = "rejected/year=2026/month=11/day=20/hour=10/s-1-2026-11-20-10-05-00-x.gz"
    event = s3_event("bucket", key, 10, "us-east-1")
    (record,) = event["Records"]
    assert record["eventName"] == "ObjectCreated:Put" and record["s3"]["bucket"]["name"] == "bucket"
    assert record["s3"]["object"]["key"] == key.replace("=", "%3D")
    assert object_key_from_event(record["s3"]["object"]["key"]) == key
