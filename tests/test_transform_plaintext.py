"""Flow logs delivered straight to Firehose: records of plain-text lines, no gzip, no log group."""

from __future__ import annotations

import base64

import pytest

from contracts.cloudwatch_logs import control_message
from contracts.flowlog import parse_format
from local.cloudwatch import FirehoseRecord
from tests.transform_support import (
    V5_FORMAT,
    data_message,
    event_of,
    expected_record,
    flow_line,
    lambda_context,
    ok_lines,
    record,
)
from transform.handler import handler
from transform.payload import PlainTextLines, decode_record

pytestmark = pytest.mark.usefixtures("default_config")  # tests/conftest.py


def plain(text: str, record_id: str) -> FirehoseRecord:
    return FirehoseRecord(text.encode(), record_id=record_id)


def direct(**overrides: str) -> dict:
    """A flow that came straight from flow logs, as the archived record (docs/architecture.md) has it."""
    return expected_record(log_group=None, log_stream=None, **overrides)


def test_single_line_record_is_kept_with_null_provenance() -> None:
    response = handler(event_of(plain(flow_line(dstport="3389"), "r1")), lambda_context())

    assert [r["result"] for r in response["records"]] == ["Ok"]
    assert ok_lines(response["records"][0]) == [direct(dstport="3389")]


def test_multi_line_record_keeps_its_reject_lines_in_order() -> None:
    lines = [flow_line(dstport="22"), flow_line(action="ACCEPT"), flow_line(dstport="23"),
             "2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1764201600 1764201660 - NODATA"]
    response = handler(event_of(plain("\n".join(lines) + "\n", "r1")), lambda_context())

    assert ok_lines(response["records"][0]) == [direct(dstport="22"), direct(dstport="23")]


def test_header_line_naming_the_fields_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_LOG_FORMAT", V5_FORMAT.text)
    text = f"{V5_FORMAT.header}\n{flow_line(V5_FORMAT)}\r\n"
    response = handler(event_of(plain(text, "r1")), lambda_context())

    [archived] = ok_lines(response["records"][0])
    assert archived == expected_record(V5_FORMAT, log_group=None, log_stream=None)


def test_header_only_record_holds_no_flow_and_is_dropped() -> None:
    response = handler(event_of(plain("version account-id interface-id srcaddr dstaddr srcport dstport "
                                      "protocol packets bytes start end action log-status\n", "r1")),
                       lambda_context())

    assert response["records"] == [{"recordId": "r1", "result": "Dropped", "data": ""}]


def test_plain_text_and_cloudwatch_records_mix_in_one_batch() -> None:
    event = event_of(
        record(data_message([flow_line(dstport="22")]), "cloudwatch"),
        plain(flow_line(dstport="445") + "\n" + flow_line(dstport="1433"), "direct"),
        record(control_message(), "control"),
        plain(flow_line(action="ACCEPT"), "accepted"),
    )

    response = handler(event, lambda_context())

    assert [(r["recordId"], r["result"]) for r in response["records"]] == [
        ("cloudwatch", "Ok"), ("direct", "Ok"), ("control", "Dropped"), ("accepted", "Dropped"),
    ]
    assert ok_lines(response["records"][0]) == [expected_record(dstport="22")]
    assert ok_lines(response["records"][1]) == [direct(dstport="445"), direct(dstport="1433")]


def test_binary_that_is_neither_gzip_nor_text_fails_with_a_clear_reason() -> None:
    data = base64.b64encode(b"\xff\xfe\x00binary").decode()
    event = event_of()
    event["records"] = [{"recordId": "r1", "approximateArrivalTimestamp": 1, "data": data}]

    response = handler(event, lambda_context())

    assert response["records"] == [{"recordId": "r1", "result": "ProcessingFailed", "data": data}]


def test_plain_text_events_are_numbered_by_line_and_skip_blank_lines() -> None:
    payload = decode_record(base64.b64encode(b"a b\n\n  \nversion x\nc d\n").decode())

    assert isinstance(payload, PlainTextLines)
    assert payload.events("version x") == [{"id": "line 1", "message": "a b"},
                                           {"id": "line 5", "message": "c d"}]


def test_a_header_line_is_not_counted_as_a_flow_seen(caplog: pytest.LogCaptureFixture) -> None:
    text = "\n".join([parse_format(None).header, flow_line(dstport="22"), flow_line(action="ACCEPT")]) + "\n"

    handler(event_of(plain(text, "r1")), lambda_context())

    [summary] = [vars(r) for r in caplog.records if r.getMessage() == "transformed batch"]
    assert (summary["flows_seen"], summary["flows_kept"], summary["lines_unreadable"]) == (2, 1, 0)
