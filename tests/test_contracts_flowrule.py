"""One validity rule for an archived flow (contracts/flowrule.py): whatever the transform archives, the
notifier counts as a flow, and what the notifier refuses the transform never archives."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import flowrule
from contracts.flowlog import FlowLogFormat
from contracts.flowrule import HexId, Shape, _compiled, archived_value_problem, hex_id, string_problem
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


# A hostile value as the probe wrote it: a srcaddr carrying a link, an image and a mention.
PHISHING_SRCADDR = "1.2.3.4`[click-me](https://evil.example/phish)![x](https://evil.example/p.png)@here"


def test_a_refused_value_is_named_with_its_column_and_only_its_first_40_characters() -> None:
    assert archived_value_problem("srcaddr", PHISHING_SRCADDR) == \
        "srcaddr: '1.2.3.4`[click-me](https://evil.example/' is not an IPv4 or IPv6 address"
    assert string_problem("log-status", "OK\u202e" + "x" * 60) == \
        "log_status: 'OK\\u202e" + "x" * 37 + "' holds a control or format character"
    assert archived_value_problem("dstport", "22") == "dstport: '22' is not a number"
    assert archived_value_problem("srcaddr", 3232235777) == "srcaddr: 3232235777 is not a string"


def test_a_resource_id_shape_is_its_prefix_and_8_or_17_lowercase_hex_digits() -> None:
    nat = hex_id("nat-")

    assert nat == HexId("nat-<8 or 17 hex digits>", r"nat\-[0-9a-f]{8}(?:[0-9a-f]{9})?", "nat-")
    assert [nat.matches(v) for v in ("nat-0123abcd", "nat-0123456789abcdef0", "nat-0123ABCD", "nat-0123abc",
                                     "nat-0123abcd0", "nat.0123abcd", "eni-0123abcd")] == \
        [True, True, False, False, False, False, False]


def test_a_shape_matches_ascii_only_and_compiles_its_pattern_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flowrule, "_PATTERNS", {})  # nothing compiled yet, whatever ran before
    digits = Shape("digits", r"\d{1,3}(?:-\d{1,3})?")

    assert [digits.matches(v) for v in ("7", "12-345", "\u0663", "1\uff12", "1234", "")] == \
        [True, True, False, False, False, False]
    assert _compiled(digits.pattern) is _compiled(digits.pattern)
    assert list(flowrule._PATTERNS) == [digits.pattern]
