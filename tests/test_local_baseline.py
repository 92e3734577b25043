"""`make demo` with the baseline: the first simulated day learns, the second is judged against it, and
the planted incident of the last minute is the one page (new internal pair); the chronic internal
source is known. Expected values come from the archive and the sample's definitions, not the code."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from contracts.baseline import EXPIRY_ATTRIBUTE, PARTITION_KEY
from contracts.flowlog import parse_format
from contracts.settings import defaults
from local.__main__ import main
from local.pipeline import RunOptions, run
from local.report import render
from local.sample import (
    INTERFACES,
    NOISY_NEIGHBOUR,
    PLANTED_PORT,
    PLANTED_SOURCE_ROLE,
    PLANTED_TARGET_ROLE,
    stream_days,
)
from local.services import LocalServices
from local.stack import LocalNames
from tests.local_support import events

# Runs the local pipeline (make unit and mutmut leave these out).
pytestmark = pytest.mark.slow

FMT = parse_format(None)
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MINUTES = 10  # two objects a day (archiveBufferSeconds 300)
BY_ROLE = {interface.role: interface for interface in INTERFACES}
PLANTED_SOURCE = BY_ROLE[PLANTED_SOURCE_ROLE].ipv4
PLANTED_TARGET = BY_ROLE[PLANTED_TARGET_ROLE]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline-demo")
    with LocalServices() as services:
        lines = list(stream_days(FMT, MINUTES, 7, START, damaged=0, days=2))
        summary = run(RunOptions(lines=lines, fmt=FMT, out=out, settings=defaults(), source="test"), services)
        table = LocalNames.for_run(defaults(), 1).baseline_table
        dynamodb = services.aws.client("dynamodb")
        described = dynamodb.describe_table(TableName=table)["Table"]
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    return out, summary, described, ttl


def flow_events(out):
    """Each rejected-flows event with the flows of its object, read from the mirrored archive."""
    bodies = [e for e in events(out) if "kind:rejected-flows" in e["tags"]]
    objects = sorted((out / "s3").rglob("rejected/**/*.gz"))
    rows = [[json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
            for path in objects]
    assert len(bodies) == len(rows) == 4
    return list(zip(bodies, rows, strict=True))


def day_of(rows) -> int:
    return datetime.fromtimestamp(max(row["end"] for row in rows), UTC).day


def test_the_table_is_the_stacks(demo):
    _, _, table, ttl = demo
    assert table["KeySchema"] == [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": EXPIRY_ATTRIBUTE}


def test_the_first_day_learns_and_the_second_is_judged(demo):
    out, _, _, _ = demo
    by_day = defaultdict(list)
    for body, rows in flow_events(out):
        by_day[day_of(rows)].append(body)
    assert sorted(by_day) == [20, 21]
    assert all("baseline:learning" in e["tags"] and "new_internal:false" in e["tags"] for e in by_day[20])
    assert all("learning until 2026-11-21 10:0" in e["text"] for e in by_day[20])
    assert all("baseline:active" in e["tags"] for e in by_day[21])


def test_the_planted_incident_pages_once_and_the_chronic_source_is_known(demo):
    out, _, _, _ = demo
    paged = []
    for body, rows in flow_events(out):
        planted = any(row["srcaddr"] == PLANTED_SOURCE for row in rows)
        assert ("new_internal:true" in body["tags"]) == planted
        assert body["alert_type"] == ("warning" if planted else "info")
        if planted:
            paged.append(body)
        if day_of(rows) == 21:
            lines = body["text"].splitlines()
            row = next(line for line in lines if line.startswith(f"- `{NOISY_NEIGHBOUR}`"))
            assert "known since 2026-11-20" in row
    (page,) = paged
    assert page["title"].startswith("1 new internal reject · ")
    assert "new_targets:true" in page["tags"]
    assert (f"- **new** internal `{PLANTED_SOURCE}` → `{PLANTED_TARGET.ipv4}` `{PLANTED_PORT}/tcp`: "
            in page["text"])
    assert f"- **new** target `{PLANTED_TARGET.eni}` `{PLANTED_PORT}/tcp`: " in page["text"]


def test_the_summary_prints_the_verdicts_of_each_event(demo):
    out, summary, _, _ = demo
    judged = [e for e in summary.events if e.baseline]
    assert [e.baseline for e in judged] == ["learning", "learning", "active", "active"]
    assert [e.verdicts["new_internal"] for e in judged] == [0, 0, 0, 1]
    assert judged[0].verdicts["known"] == 0 and judged[0].verdicts["learning"] > 0
    assert all(e.verdicts["known"] > 0 and e.verdicts["learning"] == 0 for e in judged[2:])
    printed = render(summary, out)
    assert printed.count("      baseline: learning: ") == 2
    last = judged[-1].verdicts
    assert (f"      baseline: active: new 1 internal pair, {last['new_targets']} target port"
            in printed)
    saved = json.loads((out / "summary.json").read_text())
    assert [e["verdicts"] for e in saved["events"] if e["baseline"]] == [e.verdicts for e in judged]


def test_one_day_only_learns(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["demo", "--days", "1", "--minutes", "2", "--damaged", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "baseline: learning: " in printed and "baseline: active" not in printed
    assert all("baseline:learning" in e["tags"] for e in events(out))


@pytest.mark.parametrize("days", ["0", "8"])
def test_days_out_of_bounds_is_a_usage_error(tmp_path, capsys, days):
    assert main(["demo", "--days", days, "--out", str(tmp_path / "out")]) == 2
    assert "--days must be 1 to 7" in capsys.readouterr().err
