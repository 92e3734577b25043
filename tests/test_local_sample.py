"""The generated sample: realistic, deterministic, renderable in any format."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.flowlog import DEFAULT_FORMAT, RICH_FORMAT, parse_format
from local.sample import (
    MIN_REJECTS_PER_MINUTE,
    NOISY_NEIGHBOUR,
    SCANNED_PORTS,
    minute_flows,
    sample_lines,
    stream_sample,
)
from tests.local_support import parse_flow

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_sample_is_deterministic_by_seed():
    fmt = parse_format(None)
    assert sample_lines(fmt, 3, 1, START) == sample_lines(fmt, 3, 1, START)
    assert sample_lines(fmt, 3, 1, START) != sample_lines(fmt, 3, 2, START)


def test_sample_has_the_traffic_a_demo_needs():
    fmt = parse_format(DEFAULT_FORMAT)
    lines = sample_lines(fmt, 10, 7, START)
    flows = [parse_flow(line, fmt) for line in lines]
    assert all(flow is not None for flow in flows), "every line fits its format"
    statuses = Counter(flow["log_status"] for flow in flows)
    actions = Counter(flow["action"] for flow in flows)
    assert statuses["NODATA"] >= 1 and statuses["SKIPDATA"] == 1
    assert actions["ACCEPT"] > actions["REJECT"] > 500
    rejected = [flow for flow in flows if flow["action"] == "REJECT"]
    assert {flow["dstport"] for flow in rejected} >= set(SCANNED_PORTS)
    assert any(":" in str(flow["srcaddr"]) for flow in rejected), "IPv6 scanners"
    assert any(":" in str(flow["srcaddr"]) for flow in flows if flow["action"] == "ACCEPT")
    assert len({flow["interface_id"] for flow in flows}) >= 5
    by_source = Counter(flow["srcaddr"] for flow in rejected)
    assert by_source.most_common(1)[0][0] == NOISY_NEIGHBOUR
    ports_by_source: dict[object, set] = {}
    for flow in rejected:
        ports_by_source.setdefault(flow["srcaddr"], set()).add(flow["dstport"])
    assert max(len(ports) for ports in ports_by_source.values()) >= 10, "a wide port scanner"
    assert all(flow["version"] == 2 for flow in flows)


def test_sample_renders_a_custom_format_with_its_version():
    fmt = parse_format(RICH_FORMAT)
    lines = sample_lines(fmt, 2, 3, START)
    flows = [parse_flow(line, fmt) for line in lines]
    assert all(flow is not None for flow in flows)
    assert {flow["version"] for flow in flows} == {5}
    assert {flow["flow_direction"] for flow in flows if flow["log_status"] == "OK"} == {"ingress", "egress"}
    assert {flow["type"] for flow in flows if flow["log_status"] == "OK"} == {"IPv4", "IPv6"}


def test_sample_renders_a_format_without_timestamps():
    fmt = parse_format("${srcaddr} ${dstaddr} ${dstport} ${action}")
    lines = sample_lines(fmt, 1, 3, START)
    assert all(len(line.split()) == 4 for line in lines)


def test_damaged_lines_are_cut_short_or_garbled_and_the_rest_untouched():
    fmt = parse_format(DEFAULT_FORMAT)
    lines = sample_lines(fmt, 3, 7, START)

    spoiled = list(stream_sample(fmt, 3, 7, START, damaged=2))

    changed = [(before, after) for before, after in zip(lines, spoiled, strict=True) if before != after]
    assert len(changed) == 2
    (cut_from, cut), (garbled_from, garbled) = changed if len(changed[0][1].split()) < 14 else changed[::-1]
    assert cut == " ".join(cut_from.split(" ")[:-2]) and " REJECT " in cut_from
    assert garbled.split(" ")[6] == "ssh" and garbled.split(" ")[12] == "REJECT"
    assert garbled.split(" ")[:6] == garbled_from.split(" ")[:6]
    assert list(stream_sample(fmt, 3, 7, START, damaged=0)) == lines


def test_damaged_lines_are_spread_over_the_minutes_and_never_more_than_asked():
    fmt = parse_format(DEFAULT_FORMAT)
    lines = sample_lines(fmt, 4, 2, START)
    most = 4 * MIN_REJECTS_PER_MINUTE
    spoiled = list(stream_sample(fmt, 4, 2, START, damaged=most))
    assert sum(before != after for before, after in zip(lines, spoiled, strict=True)) == most
    with pytest.raises(ValueError, match="more than"):
        list(stream_sample(fmt, 4, 2, START, damaged=most + 1))


# Each example builds three whole minutes of sample (~0.2 s): a fixed count whatever the profile.
@settings(max_examples=25)
@given(seed=st.integers(0, 2**32))
def test_every_minute_holds_the_rejects_that_bound_damaged(seed):
    """--damaged is refused above MIN_REJECTS_PER_MINUTE a minute: every seed's minutes hold that many."""
    for flows in minute_flows(3, seed, START):
        assert sum(flow.get("action") == "REJECT" for flow in flows) >= MIN_REJECTS_PER_MINUTE


def test_streaming_sample_is_the_listed_sample():
    fmt = parse_format(RICH_FORMAT)
    assert list(stream_sample(fmt, 2, 9, START)) == sample_lines(fmt, 2, 9, START)
