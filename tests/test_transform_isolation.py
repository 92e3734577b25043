"""Line-level isolation through a loopback Firehose: good flows are archived exactly once, and errors/
holds exactly the unreadable lines, each on its own."""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter

import pytest

from contracts.firehose import PUT_RECORD_MAX_BYTES
from local.cloudwatch import FirehoseRecord
from tests.transform_loopback import LoopbackFirehose, firehose, run_until_drained
from tests.transform_support import (
    LOG_GROUP,
    V5_FORMAT,
    data_message,
    event_of,
    expected_record,
    flow_line,
    lambda_context,
    record,
)
from transform.batch import UnreadableLine, transform_record
from transform.encoder import LineEncoder
from transform.firehose import InputRecord, OutputRecord
from transform.handler import handler
from transform.reingest import ReingestionError

__all__ = ["firehose"]  # the loopback fixture, used by name


def numbered(count: int, first: int = 0, **overrides: str) -> list[str]:
    """REJECT lines told apart by their `bytes` field."""
    return [flow_line(V5_FORMAT, bytes=str(n), **overrides) for n in range(first, first + count)]


def failed_events(data: bytes) -> list[dict]:
    return json.loads(gzip.decompress(data))["logEvents"]


def test_one_bad_line_among_many_good_keeps_every_good_flow_once_and_fails_alone(
        firehose: LoopbackFirehose) -> None:
    bad = flow_line(V5_FORMAT, bytes="77777", dstport="ssh")
    lines = [*numbered(150), bad, *numbered(150, first=150)]
    message = data_message(lines)
    bad_event = message["logEvents"][150]

    drained = run_until_drained(firehose, event_of(record(message, "r1")))

    assert Counter(flow["bytes"] for flow in drained.archived) == Counter(range(300))
    assert drained.archived[0] == expected_record(V5_FORMAT, bytes="0")
    [failed] = drained.failed
    assert failed_events(failed) == [bad_event]
    assert json.loads(gzip.decompress(failed))["logGroup"] == LOG_GROUP
    # The piece of only unreadable lines failed whole when it came back: it was not split again.
    assert drained.invocations == 2 and firehose.calls == [1]


def test_a_piece_of_only_unreadable_lines_fails_whole_and_is_never_split_again() -> None:
    encoder = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))
    bad = flow_line(V5_FORMAT, dstport="ssh")
    original = InputRecord.from_event(record(data_message([*numbered(2), bad]), "r1").as_dict())
    first = transform_record(original, encoder)
    [piece] = first.isolated_payloads

    again = transform_record(InputRecord("r2", base64.b64encode(piece).decode()), encoder)

    assert (first.output.result, again.output.result) == ("Ok", "ProcessingFailed")
    assert again.isolated_payloads == [] and again.flows_seen == 1
    assert [line.reason for line in again.unreadable] == ["dstport: expected a number, got 'ssh'"]


def test_unreadable_lines_of_a_record_go_back_together_in_their_order(firehose: LoopbackFirehose) -> None:
    bad = [flow_line(V5_FORMAT, srcport="99999999999"), "2 eni-truncated REJECT",
           flow_line(V5_FORMAT, packets="")]
    lines = [bad[0], *numbered(3), bad[1], *numbered(2, first=3), bad[2]]

    drained = run_until_drained(firehose, event_of(record(data_message(lines), "r1")))

    assert sorted(flow["bytes"] for flow in drained.archived) == [0, 1, 2, 3, 4]
    [failed] = drained.failed
    assert [event["message"] for event in failed_events(failed)] == bad


def test_lines_not_of_their_fields_shape_are_isolated_like_any_other(firehose: LoopbackFirehose) -> None:
    hostile = [flow_line(V5_FORMAT, bytes="97", az_id='use1-"az4"\u00e9'),
               flow_line(V5_FORMAT, bytes="98", srcaddr="1.2.3.4`[x](https://evil.example)"),
               flow_line(V5_FORMAT, bytes="99", pkt_dst_aws_service="S3\u202e")]
    lines = [*numbered(2), hostile[0], *numbered(2, first=2), *hostile[1:]]

    drained = run_until_drained(firehose, event_of(record(data_message(lines), "r1")))

    assert drained.archived == [expected_record(V5_FORMAT, bytes=str(n)) for n in range(4)]
    assert [e["message"] for e in failed_events(drained.failed[0])] == hostile


def test_record_of_only_unreadable_lines_fails_whole_at_once(firehose: LoopbackFirehose,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    lines = [flow_line(V5_FORMAT, dstport="ssh"), flow_line(V5_FORMAT, srcport="-1")]
    good = record(data_message(numbered(2)), "good")
    bad = record(data_message(lines), "bad")

    response = handler(event_of(good, bad), lambda_context())

    assert [r["result"] for r in response["records"]] == ["Ok", "ProcessingFailed"]
    assert response["records"][1]["data"] == bad.as_dict()["data"]
    assert firehose.calls == []
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf["FlowsSeen"] == [4.0] and emf["LinesUnreadable"] == [2.0] and emf["FlowsKept"] == [2.0]


def test_record_with_unreadable_lines_and_nothing_to_keep_is_dropped_once_they_are_back(
        firehose: LoopbackFirehose) -> None:
    accepted = flow_line(V5_FORMAT, action="ACCEPT")
    bad = flow_line(V5_FORMAT, end="later")

    drained = run_until_drained(firehose, event_of(record(data_message([accepted, bad]), "r1")))

    assert drained.archived == []
    assert [e["message"] for e in failed_events(drained.failed[0])] == [bad]


def test_refused_reingestion_of_unreadable_lines_fails_the_invocation(firehose: LoopbackFirehose) -> None:
    firehose.fail_entries = 10_000
    lines = [*numbered(3), flow_line(V5_FORMAT, dstport="ssh")]

    with pytest.raises(ReingestionError, match="still refused 1 re-ingested records"):
        handler(event_of(record(data_message(lines), "r1")), lambda_context())


def test_unreadable_plain_text_lines_go_back_as_plain_text(firehose: LoopbackFirehose) -> None:
    bad = flow_line(V5_FORMAT, bytes="12", srcport="0x50")
    text = "\n".join([V5_FORMAT.header, *numbered(3), bad, *numbered(2, first=3)]) + "\n"

    drained = run_until_drained(firehose, event_of(FirehoseRecord(text.encode())))

    assert sorted(flow["bytes"] for flow in drained.archived) == [0, 1, 2, 3, 4]
    assert all(flow["log_group"] is None and flow["log_stream"] is None for flow in drained.archived)
    assert drained.failed == [(bad + "\n").encode()]


def test_record_starting_like_gzip_that_is_not_gzip_fails_with_its_data(firehose: LoopbackFirehose) -> None:
    data = base64.b64encode(b"\x1f\x8b not really gzip").decode()
    event = event_of()
    event["records"] = [{"recordId": "r1", "approximateArrivalTimestamp": 1, "data": data}]

    response = handler(event, lambda_context())

    assert response["records"] == [{"recordId": "r1", "result": "ProcessingFailed", "data": data}]


def test_unreadable_lines_are_logged_one_by_one_up_to_a_cap(firehose: LoopbackFirehose,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    bad = [flow_line(V5_FORMAT, bytes=str(n), srcport="port") for n in range(130)]
    message = data_message([*numbered(1), *bad])

    handler(event_of(record(message, "r1")), lambda_context())

    logged = [vars(r) for r in caplog.records if r.getMessage() == "unreadable line"]
    assert len(logged) == 100
    assert [entry["log_event_id"] for entry in logged] == [e["id"] for e in message["logEvents"][1:101]]
    [rest] = [vars(r) for r in caplog.records
              if r.getMessage() == "more unreadable lines not logged one by one"]
    assert rest["unreadable_lines_not_logged"] == 30
    [summary] = [vars(r) for r in caplog.records if r.getMessage() == "transformed batch"]
    assert (summary["lines_unreadable"], summary["flows_seen"], summary["flows_kept"]) == (130, 131, 1)


def test_exactly_the_cap_of_unreadable_lines_are_all_logged_with_no_remainder_line(
        firehose: LoopbackFirehose, caplog: pytest.LogCaptureFixture) -> None:
    bad = [flow_line(V5_FORMAT, bytes=str(n), srcport="port") for n in range(100)]

    handler(event_of(record(data_message([*numbered(1), *bad]), "r1")), lambda_context())

    assert len([r for r in caplog.records if r.getMessage() == "unreadable line"]) == 100
    assert not [r for r in caplog.records if r.getMessage() == "more unreadable lines not logged one by one"]


def test_record_with_nothing_to_keep_is_dropped_counting_its_lines_and_putting_the_unreadable_back() -> None:
    encoder = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))
    bad = flow_line(V5_FORMAT, end="later")
    message = data_message([flow_line(V5_FORMAT, action="ACCEPT"), bad])
    original = InputRecord.from_event(record(message, "r1").as_dict())

    outcome = transform_record(original, encoder)

    assert (outcome.record, outcome.output, outcome.flows_seen, outcome.flows_kept, outcome.error) == \
        (original, OutputRecord.dropped("r1"), 2, 0, None)
    assert outcome.unreadable == [
        UnreadableLine("r1", message["logEvents"][1]["id"], "end: expected a number, got 'later'", bad[:120])]
    assert [failed_events(payload) for payload in outcome.isolated_payloads] == [[message["logEvents"][1]]]


def test_an_unreadable_line_too_large_to_put_back_alone_fails_its_whole_record(
        firehose: LoopbackFirehose, caplog: pytest.LogCaptureFixture) -> None:
    # Put back alone, with its newline, the line would be one byte more than PutRecordBatch takes.
    too_large = "x" * PUT_RECORD_MAX_BYTES
    text = f"{flow_line(V5_FORMAT)}\n{too_large}\n"
    data = base64.b64encode(text.encode()).decode()

    response = handler(event_of(FirehoseRecord(text.encode(), record_id="r1")), lambda_context())

    assert response["records"] == [{"recordId": "r1", "result": "ProcessingFailed", "data": data}]
    assert firehose.calls == []
    [failure] = [vars(r) for r in caplog.records if r.getMessage() == "record failed"]
    assert failure["reason"] == ("log event line 2 alone makes a 1,024,001-byte record, more than the "
                                 "1,024,000 PutRecordBatch takes")
    [unreadable] = [vars(r) for r in caplog.records if r.getMessage() == "unreadable line"]
    assert (unreadable["log_event_id"], unreadable["line"]) == ("line 2", "x" * 120)
    [summary] = [vars(r) for r in caplog.records if r.getMessage() == "transformed batch"]
    assert (summary["records_failed"], summary["flows_seen"], summary["flows_kept"],
            summary["lines_unreadable"]) == (1, 2, 0, 1)


@pytest.mark.parametrize(("last_line_extra", "pieces"), [(0, 1), (1, 2)],
                         ids=["exactly one record's worth", "one byte more"])
def test_unreadable_lines_go_back_in_as_few_records_as_putrecordbatch_allows(
        last_line_extra: int, pieces: int) -> None:
    encoder = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))
    # Four lines of a quarter of PutRecordBatch's record limit each, newline included.
    quarter = PUT_RECORD_MAX_BYTES // 4
    bad = [f"{n}" * (quarter - 1) for n in range(3)] + ["3" * (quarter - 1 + last_line_extra)]
    text = "\n".join([flow_line(V5_FORMAT), *bad]) + "\n"

    outcome = transform_record(InputRecord("r1", base64.b64encode(text.encode()).decode()), encoder)

    assert outcome.output.result == "Ok" and len(outcome.unreadable) == 4
    expected = ["".join(f"{line}\n" for line in bad)] if pieces == 1 else \
        [f"{bad[0]}\n{bad[1]}\n", f"{bad[2]}\n{bad[3]}\n"]
    assert [payload.decode() for payload in outcome.isolated_payloads] == expected
