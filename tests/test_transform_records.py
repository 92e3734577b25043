"""The transform record by record: what is kept, how it is typed, and what fails alone."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from contracts.cloudwatch_logs import control_message, encode_payload
from contracts.flowlog import parse_format
from tests.transform_support import (
    NOTED_FORMAT,
    V5_FORMAT,
    data_message,
    event_of,
    expected_record,
    flow_line,
    lambda_context,
    ok_lines,
    raw_record,
    record,
)
from transform.batch import RecordOutcome, transform_record
from transform.encoder import LineEncoder
from transform.firehose import InputRecord, OutputRecord
from transform.handler import handler, logger

pytestmark = pytest.mark.usefixtures("default_config")  # tests/conftest.py


def results(response: dict) -> dict[str, str]:
    return {r["recordId"]: r["result"] for r in response["records"]}


def test_reject_flows_are_kept_as_typed_json_lines() -> None:
    lines = [
        flow_line(srcaddr="198.51.100.7", dstport="3389"),
        flow_line(action="ACCEPT", dstport="443"),
        flow_line(srcaddr="2001:db8::5", dstaddr="2600:1f18:abcd::10", dstport="445"),
    ]
    response = handler(event_of(record(data_message(lines), "r1")), lambda_context())

    assert results(response) == {"r1": "Ok"}
    assert ok_lines(response["records"][0]) == [
        expected_record(srcaddr="198.51.100.7", dstport="3389"),
        expected_record(srcaddr="2001:db8::5", dstaddr="2600:1f18:abcd::10", dstport="445"),
    ]


def test_archived_line_is_exactly_contract_two() -> None:
    response = handler(event_of(record(data_message([flow_line()]), "r1")), lambda_context())

    assert base64.b64decode(response["records"][0]["data"]).decode() == (
        '{"version":2,"account_id":"123456789012","interface_id":"eni-0a1b2c3d4e5f60718",'
        '"srcaddr":"203.0.113.45","dstaddr":"10.0.1.17","srcport":51234,"dstport":22,"protocol":6,'
        '"packets":3,"bytes":180,"start":1764201600,"end":1764201660,"action":"REJECT",'
        '"log_status":"OK","log_group":"/vpc/flow-logs/test","log_stream":"eni-0a1b2c3d4e5f60718-all"}\n'
    )


@pytest.mark.parametrize("escaped", [False, True], ids=["clean", "with a line needing escaping"])
def test_nodata_and_skipdata_lines_are_never_kept(monkeypatch: pytest.MonkeyPatch, escaped: bool) -> None:
    # Lines whose action is kept but whose status says the interval holds no (or skipped) data.
    monkeypatch.setenv("KEEP_ACTIONS", "ACCEPT,REJECT")
    lines = [
        flow_line(action="REJECT", log_status="NODATA"),
        flow_line(action="ACCEPT", log_status="SKIPDATA"),
        flow_line(action="REJECT", log_status="SKIPDATA", srcaddr="caf\u00e9" if escaped else "10.0.0.9"),
    ]
    response = handler(event_of(record(data_message(lines), "r1")), lambda_context())

    assert results(response) == {"r1": "Dropped"}


def test_with_keep_actions_accept_and_reject_a_nodata_line_before_an_escaped_line_loses_no_flow(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEP_ACTIONS", "ACCEPT,REJECT")
    nodata = "2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1764201600 1764201660 - NODATA"
    escaped = {"dstport": "0022"}  # zero padding: the record takes the checked path
    lines = [flow_line(action="ACCEPT"), nodata, flow_line(**escaped), flow_line(dstport="3389"),
             flow_line(action="ACCEPT", log_status="NODATA"), flow_line(action="ACCEPT", dstport="443")]
    response = handler(event_of(record(data_message(lines), "r1")), lambda_context())

    assert ok_lines(response["records"][0]) == [
        expected_record(action="ACCEPT"), expected_record(**escaped), expected_record(dstport="3389"),
        expected_record(action="ACCEPT", dstport="443"),
    ]


def test_batch_with_nothing_to_keep_is_dropped() -> None:
    message = data_message([flow_line(action="ACCEPT"), flow_line(action="ACCEPT", dstport="80")])
    response = handler(event_of(record(message, "r1")), lambda_context())

    assert response["records"] == [{"recordId": "r1", "result": "Dropped", "data": ""}]


def test_control_message_is_dropped() -> None:
    response = handler(event_of(record(control_message(), "r1")), lambda_context())

    assert response["records"] == [{"recordId": "r1", "result": "Dropped", "data": ""}]


def test_control_message_is_dropped_with_no_flow_seen() -> None:
    original = InputRecord.from_event(record(control_message(), "r1").as_dict())

    outcome = transform_record(original, LineEncoder(parse_format(None), frozenset({"REJECT"})))

    assert outcome == RecordOutcome(original, OutputRecord.dropped("r1"))
    assert (outcome.flows_seen, outcome.flows_kept, outcome.unreadable, outcome.isolated_payloads) == \
        (0, 0, [], [])


def test_keep_actions_accept_and_reject_keeps_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEP_ACTIONS", "accept, REJECT")
    lines = [flow_line(), flow_line(action="ACCEPT", dstport="443")]
    response = handler(event_of(record(data_message(lines), "r1")), lambda_context())

    assert ok_lines(response["records"][0]) == [expected_record(), expected_record(action="ACCEPT",
                                                                                    dstport="443")]


def test_custom_v5_format_with_nulls_and_ipv6(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_LOG_FORMAT", V5_FORMAT.text)
    overrides = {"srcaddr": "2001:db8::5", "pkt_srcaddr": "2001:db8::5", "type": "IPv6",
                 "traffic_path": "-", "instance_id": "-", "tcp_flags": "18"}
    line = flow_line(V5_FORMAT, **overrides)
    response = handler(event_of(record(data_message([line]), "r1")), lambda_context())

    [archived] = ok_lines(response["records"][0])
    assert archived == expected_record(V5_FORMAT, **overrides)
    assert list(archived) == [*V5_FORMAT.columns, "log_group", "log_stream"]
    assert archived["traffic_path"] is None and archived["instance_id"] is None
    assert archived["tcp_flags"] == 18


def test_extracted_fields_give_the_same_output_as_the_message() -> None:
    lines = [flow_line(), flow_line(action="ACCEPT"), flow_line(dstport="1433", srcaddr="-"),
             flow_line(dstport="022", bytes="00180")]
    plain = handler(event_of(record(data_message(lines), "r1")), lambda_context())
    # Messages that do not split into the format's fields: only `extractedFields` can be read.
    message = data_message(lines, extracted=parse_format(None))
    for event in message["logEvents"]:
        event["message"] = event["message"].replace(" ", ",")
    extracted = handler(event_of(record(message, "r1")), lambda_context())

    assert extracted == plain
    assert ok_lines(plain["records"][0])[2] == expected_record(dstport="22", bytes="180")


def test_extracted_fields_are_used_when_the_message_spacing_is_odd() -> None:
    message = data_message([flow_line()], extracted=parse_format(None))
    message["logEvents"][0]["message"] = "2  123456789012\teni-0a1b2c3d4e5f60718 garbled"
    response = handler(event_of(record(message, "r1")), lambda_context())

    assert ok_lines(response["records"][0]) == [expected_record()]


def test_values_needing_json_escaping_are_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_LOG_FORMAT", NOTED_FORMAT.text)
    odd = {"flow_note": 'S3"\\ use1-az4\u00e9'.replace(" ", "")}
    lines = [flow_line(NOTED_FORMAT, **odd), flow_line(NOTED_FORMAT)]
    response = handler(event_of(record(data_message(lines), "r1")), lambda_context())

    assert ok_lines(response["records"][0]) == [expected_record(NOTED_FORMAT, **odd),
                                                expected_record(NOTED_FORMAT)]


MALFORMED = {
    "bad base64": "not*base64!",
    "not gzip": base64.b64encode(b"plain text, not gzip").decode(),
    "truncated gzip": base64.b64encode(encode_payload(data_message([flow_line()]))[:-12]).decode(),
    "not JSON": base64.b64encode(gzip.compress(b"{not json")).decode(),
    "JSON of the wrong shape": base64.b64encode(gzip.compress(b'["a", "list"]')).decode(),
    "DATA_MESSAGE without logEvents list": base64.b64encode(gzip.compress(
        b'{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":"x"}')).decode(),
    "event without a message": base64.b64encode(gzip.compress(
        b'{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1"}]}')).decode(),
    "unknown messageType": base64.b64encode(gzip.compress(b'{"messageType":"SOMETHING_ELSE"}')).decode(),
    "line with too few fields": base64.b64encode(
        encode_payload(data_message(["2 123456789012 eni-1 REJECT OK"]))).decode(),
    "ACCEPT line with too many fields": base64.b64encode(
        encode_payload(data_message([flow_line(action="ACCEPT") + " extra"]))).decode(),
    "number that is not a number": base64.b64encode(
        encode_payload(data_message([flow_line(dstport="ssh")]))).decode(),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_record_fails_alone_and_keeps_its_data(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    good = record(data_message([flow_line()]), "good-before").as_dict()
    after = record(data_message([flow_line(dstport="23")]), "good-after").as_dict()
    event = event_of()
    event["records"] = [good, raw_record(MALFORMED[kind], "bad"), after]

    response = handler(event, lambda_context())

    assert results(response) == {"good-before": "Ok", "bad": "ProcessingFailed", "good-after": "Ok"}
    assert response["records"][1]["data"] == MALFORMED[kind]  # Firehose keeps it under errors/
    assert ok_lines(response["records"][2]) == [expected_record(dstport="23")]
    failures = [r for r in caplog.records if r.getMessage() == "record failed"]
    assert [r.record_id for r in failures] == ["bad"]
    assert failures[0].reason


REASONS = {
    "bad base64": "data is not base64 (",
    "truncated gzip": "gzip data is truncated (",
    "not JSON": "gunzipped data is not JSON (",
    "JSON of the wrong shape": "message is a JSON list, not an object: ",
    "unknown messageType": "unknown messageType 'SOMETHING_ELSE': ",
    "number that is not a number": "every line is unreadable (1); the first: dstport: expected a number",
}


@pytest.mark.parametrize("kind", REASONS)
def test_a_record_that_cannot_be_read_is_logged_with_why(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    event = event_of()
    event["records"] = [raw_record(MALFORMED[kind], "bad")]

    handler(event, lambda_context())

    [failure] = [r for r in caplog.records if r.getMessage() == "record failed"]
    assert failure.record_id == "bad"
    assert failure.reason.startswith(REASONS[kind])


def test_unreadable_line_is_logged_with_its_record_event_and_reason(caplog: pytest.LogCaptureFixture) -> None:
    message = data_message([flow_line(dstport="ssh"), flow_line(srcport="99999999999")])
    handler(event_of(record(message, "r1")), lambda_context())

    unreadable = [vars(r) for r in caplog.records if r.getMessage() == "unreadable line"]
    assert [(u["record_id"], u["log_event_id"], u["reason"], u["line"]) for u in unreadable] == [
        ("r1", message["logEvents"][0]["id"], "dstport: expected a number, got 'ssh'",
         flow_line(dstport="ssh")),
        ("r1", message["logEvents"][1]["id"], "srcport: 99999999999 is out of range (0 to 65,535)",
         flow_line(srcport="99999999999")),
    ]
    [failure] = [r for r in caplog.records if r.getMessage() == "record failed"]
    assert failure.reason == "every line is unreadable (2); the first: dstport: expected a number, got 'ssh'"


def test_an_unreadable_line_is_logged_by_its_start(caplog: pytest.LogCaptureFixture) -> None:
    long_line = flow_line(dstport="ssh") + " trailing-garbage" * 20
    handler(event_of(record(data_message([long_line]), "r1")), lambda_context())

    [unreadable] = [vars(r) for r in caplog.records if r.getMessage() == "unreadable line"]
    assert unreadable["line"] == long_line[:120]


def test_log_events_without_an_id_or_not_objects_are_logged_as_they_came(
        caplog: pytest.LogCaptureFixture) -> None:
    message = data_message([])
    message["logEvents"] = [{"timestamp": 1_764_201_660_000, "message": 42}, "a bare string"]

    response = handler(event_of(record(message, "r1")), lambda_context())

    assert results(response) == {"r1": "ProcessingFailed"}
    unreadable = [vars(r) for r in caplog.records if r.getMessage() == "unreadable line"]
    assert [(u["record_id"], u["log_event_id"], u["reason"], u["line"]) for u in unreadable] == [
        ("r1", "?", "the log event has no string message", "{'timestamp': 1764201660000, 'message': 42}"),
        ("r1", "?", "the log event has no string message", "'a bare string'"),
    ]


def test_summary_log_and_metrics_describe_the_invocation(capsys: pytest.CaptureFixture,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    lines = [flow_line(), flow_line(action="ACCEPT"), flow_line(dstport="23")]
    event = event_of(record(data_message(lines), "ok"), record(control_message(), "control"))
    event["records"].append(raw_record("%%%", "bad"))
    context = lambda_context()

    handler(event, context)

    [summary_record] = [r for r in caplog.records if r.getMessage() == "transformed batch"]
    summary = vars(summary_record)
    assert {k: summary[k] for k in ("records_in", "records_ok", "records_dropped", "records_failed",
                                    "records_reingested", "flows_seen", "flows_kept")} == {
        "records_in": 3, "records_ok": 1, "records_dropped": 1, "records_failed": 1,
        "records_reingested": 0, "flows_seen": 3, "flows_kept": 2,
    }
    assert summary["bytes_in"] > 0 and summary["bytes_out"] > 0
    output = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    # Every log line of the invocation carries the Lambda request id.
    assert logger.get_current_keys()["function_request_id"] == context.aws_request_id
    [emf] = [entry for entry in output if "_aws" in entry]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "RejectedFlows"
    assert emf["FlowsKept"] == [2.0] and emf["RecordsFailed"] == [1.0] and emf["RecordsIn"] == [3.0]


def test_bad_flow_log_format_fails_the_invocation_with_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("FLOW_LOG_FORMAT", "${version} srcaddr ${action}")

    with pytest.raises(ValueError, match="token 'srcaddr' is not of the form"):
        handler(event_of(record(data_message([flow_line()]), "r1")), lambda_context())
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf["InvocationsFailed"] == [1.0]
