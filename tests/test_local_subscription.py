"""The CloudWatch stand-in: the stack's filter pattern evaluated, and CloudWatch's batching."""

from __future__ import annotations

import json

import pytest

from contracts.flowlog import parse_format, subscription_filter_pattern
from local.subscription import (
    MAX_EVENTS_PER_MESSAGE,
    FilterPatternError,
    apply_filter,
    compile_pattern,
    deliveries,
)

pytestmark = pytest.mark.slow

FMT = parse_format(None)
REJECT = ("2 123456789012 eni-0a1b2c3d4e5f60718 198.51.100.7 10.0.0.5 51234 22 6 1 40 "
          "1764237600 1764237660 REJECT OK")
ACCEPT = REJECT.replace("REJECT", "ACCEPT")
NODATA = "2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1764237600 1764237660 - NODATA"
SHORT = "2 123456789012 eni-0a1b2c3d4e5f60718 198.51.100.7 10.0.0.5 51234 22 6 1 40 REJECT OK"
NOT_A_NUMBER = REJECT.replace(" 51234 ", " abc ")


def reject_filter():
    return compile_pattern(subscription_filter_pattern(FMT, {"REJECT"}))


def test_filter_ships_only_reject_lines_of_the_right_width():
    outcome = apply_filter([REJECT, ACCEPT, NODATA, SHORT, "", NOT_A_NUMBER], reject_filter())
    assert [line for _, line, _ in outcome.shipped] == [REJECT, NOT_A_NUMBER]
    assert outcome.not_shipped == [(4, SHORT)]
    assert outcome.filtered_out == 2
    assert outcome.blank == 1


def test_filter_names_fields_by_column():
    extracted = reject_filter().extract(REJECT)
    assert extracted is not None
    assert extracted["account_id"] == "123456789012" and extracted["action"] == "REJECT"


def test_filter_keeping_both_actions_has_no_action_condition():
    pattern = compile_pattern(subscription_filter_pattern(FMT, {"REJECT", "ACCEPT"}))
    outcome = apply_filter([REJECT, ACCEPT, NODATA], pattern)
    assert len(outcome.shipped) == 3  # NODATA too: the transform drops it


def test_filter_supports_not_equal_and_rejects_other_syntax():
    pattern = compile_pattern("[a, b != x, c]")
    assert pattern.extract("1 y 3") is not None
    assert pattern.extract("1 x 3") is None
    with pytest.raises(FilterPatternError):
        compile_pattern('{ $.action = "REJECT" }')
    with pytest.raises(FilterPatternError):
        compile_pattern("[a, b > 3]")


def test_deliveries_batch_per_stream_and_window():
    other_eni = REJECT.replace("eni-0a1b2c3d4e5f60718", "eni-0ffffffffffffffff")
    later = REJECT.replace("1764237660", "1764237720")
    outcome = apply_filter([REJECT, other_eni, REJECT, later], reject_filter())
    batches = list(deliveries(outcome.shipped, FMT, "/vpc/flow-logs/t", "123456789012", "f", start_ms=0))
    # A FilterOutcome (the filter's result held in lists) is taken as well.
    assert list(deliveries(outcome, FMT, "/vpc/flow-logs/t", "123456789012", "f", start_ms=0)) == batches
    shapes = [(b.message.log_stream, len(b.message.log_events)) for b in batches]
    assert sorted(shapes) == sorted([("eni-0a1b2c3d4e5f60718-all", 2), ("eni-0ffffffffffffffff-all", 1),
                                     ("eni-0a1b2c3d4e5f60718-all", 1)])
    assert [b.arrival_ms for b in batches] == sorted(b.arrival_ms for b in batches)
    assert all(b.arrival_ms > e["timestamp"] for b in batches for e in b.message.log_events)
    message = batches[0].message.as_dict()
    assert message["messageType"] == "DATA_MESSAGE" and message["subscriptionFilters"] == ["f"]
    assert message["logEvents"][0]["extractedFields"]["srcaddr"] == "198.51.100.7"
    ids = [e["id"] for b in batches for e in b.message.as_dict()["logEvents"]]
    assert len(set(ids)) == len(ids)


def test_deliveries_cap_events_per_message(monkeypatch):
    monkeypatch.setattr("local.subscription.MAX_MESSAGE_BYTES", 10**9)
    fmt = parse_format("${dstport} ${action}")
    outcome = apply_filter(["22 REJECT"] * (MAX_EVENTS_PER_MESSAGE + 5),
                           compile_pattern(subscription_filter_pattern(fmt, {"REJECT"})))
    batches = list(deliveries(outcome.shipped, fmt, "g", "1", "f", start_ms=0, with_extracted_fields=False))
    assert [len(b.message.log_events) for b in batches] == [MAX_EVENTS_PER_MESSAGE, 5]


def test_deliveries_cap_message_size():
    outcome = apply_filter([REJECT] * 20_000, reject_filter())
    batches = list(deliveries(outcome.shipped, FMT, "g", "1", "f", start_ms=0))
    assert len(batches) > 2
    assert all(len(json.dumps(b.message.as_dict(), separators=(",", ":"))) <= 1_000_000 for b in batches)
    assert sum(len(b.message.log_events) for b in batches) == 20_000
