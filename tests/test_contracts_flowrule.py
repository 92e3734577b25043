"""One validity rule for an archived flow (contracts/flowrule.py): whatever the transform archives, the
notifier counts as a flow, and what the notifier refuses the transform never archives."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.flowlog import FlowLogFormat
from contracts.flowrule import archived_value_problem
from notifier.summary import flow_values, summarise_flows
from tests.test_transform_encoding import records
from transform.encoder import LineEncoder


def archived_lines(fmt: FlowLogFormat, keep: frozenset[str], messages: list[str]) -> list[bytes]:
    encoder = LineEncoder(fmt, keep)
    events = [{"id": str(i), "message": m} for i, m in enumerate(messages)]
    encoded = encoder.encode_events(events, "/vpc/flow-logs/prod", "eni-0a1b2c3d4e5f60718-all")
    return encoded.ndjson().splitlines()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_whatever_the_transform_archives_the_notifier_counts_as_a_flow(
        case: tuple[FlowLogFormat, frozenset[str], list[str]]) -> None:
    lines = archived_lines(*case)

    summary = summarise_flows(lines)

    assert (summary.flows, summary.invalid_lines) == (len(lines), 0)
    for line in lines:
        record: dict[str, Any] = orjson.loads(line)
        assert [archived_value_problem(column, value) for column, value in record.items()] == \
            [None] * len(record)


@given(st.sampled_from([("dstport", 70_000), ("protocol", 300), ("start", 1_764_201_600_000),
                        ("end", 1_764_201_660_000), ("start", 1_000), ("packets", -1)]))
def test_a_value_outside_its_range_is_neither_archived_nor_counted(damage: tuple[str, int]) -> None:
    column, value = damage
    record = {"srcaddr": "203.0.113.7", "dstport": 22, "protocol": 6, "packets": 1, "bytes": 60,
              "start": 1_764_201_600, "end": 1_764_201_660, column: value}

    summary = summarise_flows([json.dumps(record).encode()])

    assert flow_values(record) is None
    assert (summary.flows, summary.invalid.not_flow_records) == (0, 1)
    assert archived_value_problem(column, value) is not None
