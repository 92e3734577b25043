"""The response stays within Firehose's limit whatever the records hold; re-ingestion is bounded."""

from __future__ import annotations

import base64
import json
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.flowlog import parse_format
from tests.transform_support import NOTED_FORMAT, V5_FORMAT, data_message, event_of, flow_line, record
from transform.batch import plan_response, summarise, transform_record
from transform.encoder import LineEncoder
from transform.firehose import (
    RECORD_OVERHEAD_BYTES,
    RESPONSE_OVERHEAD_BYTES,
    InputRecord,
    OutputRecord,
    TransformationEvent,
    base64_size,
    response,
)
from transform.reingest import BASE_BACKOFF_SECONDS, Reingester, ReingestionError

ENCODER = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))


def input_record(lines: list[str], record_id: str) -> InputRecord:
    return InputRecord.from_event(record(data_message(lines), record_id).as_dict())


def lines_of(count: int, width: int, seed: int) -> list[str]:
    """`count` REJECT lines whose `az-id` carries `width` hard-to-compress characters (still a zone id's
    shape: `use1-` and hex digits; `-` below 6 characters)."""
    rng = random.Random(seed)
    return [flow_line(V5_FORMAT, bytes=str(n),
                      az_id=f"use1-{rng.getrandbits(4 * width):0{width}x}"[:width] if width >= 6 else "-")
            for n in range(count)]


def wire_size(plan_outputs: list) -> int:
    """The response as Lambda's runtime serialises it (json.dumps with its default separators)."""
    return len(json.dumps(response(plan_outputs)))


def test_response_stays_within_the_limit_when_a_late_record_holds_a_flow_too_large_for_any() -> None:
    limit = 24_000
    records = [input_record(lines_of(4, 600, seed), f"r{seed}") for seed in range(3)]
    records.append(input_record(lines_of(1, 9_000, 9), "huge"))  # more than half a response alone
    outcomes = [transform_record(r, ENCODER) for r in records]

    plan = plan_response(outcomes, limit=limit)

    assert wire_size(plan.outputs) <= limit
    assert [o.result for o in plan.outputs][-1] == "ProcessingFailed"
    assert plan.outputs[-1].data_b64 == records[-1].data
    assert "alone yields" in plan.failed["huge"]
    assert set(plan.reingested_record_ids) | {o.record_id for o in plan.outputs if o.result == "Ok"} == \
        {"r0", "r1", "r2"}


@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 900)), min_size=1, max_size=6),
       st.integers(3_000, 40_000), st.integers(0, 5))
def test_every_response_fits_its_limit_and_answers_every_record_once(
        shapes: list[tuple[int, int]], limit: int, failed_index: int) -> None:
    records = [input_record(lines_of(count, width, n), f"r{n}") for n, (count, width) in enumerate(shapes)]
    if failed_index < len(records):  # a record that cannot be decoded at all
        records[failed_index] = InputRecord(f"r{failed_index}", "bm90IGd6aXA=")
    outcomes = [transform_record(r, ENCODER) for r in records]

    plan = plan_response(outcomes, limit=limit)

    # Failed records must carry their data back, whatever it weighs; everything else yields to the limit.
    unavoidable = wire_size([o if o.result == "ProcessingFailed" else OutputRecord.dropped(o.record_id)
                             for o in plan.outputs])
    assert wire_size(plan.outputs) <= max(limit, unavoidable)
    assert [o.record_id for o in plan.outputs] == [r.record_id for r in records]
    kept = Counter(o.record_id for o in plan.outputs if o.result == "Ok")
    assert not kept & Counter(plan.reingested_record_ids), "a record is archived or put back, not both"


def test_overflow_of_lines_needing_escaping_goes_back_as_exactly_their_events() -> None:
    odd = {"flow_note": 'S3"\\\u00e9'}
    encoder = LineEncoder(NOTED_FORMAT, frozenset({"REJECT"}))
    lines = [flow_line(NOTED_FORMAT, bytes=str(n), action="ACCEPT" if n % 3 == 0 else "REJECT", **odd)
             for n in range(60)]
    outcome = transform_record(input_record(lines, "r1"), encoder)
    limit = len(outcome.output.data_b64)  # one byte short once the record's own overhead is counted

    plan = plan_response([outcome], limit=limit)

    assert plan.reingested_record_ids == ["r1"]
    put_back = [transform_record(InputRecord(f"p{i}", _b64(payload)), encoder)
                for i, payload in enumerate(plan.reingest_payloads)]
    again = [json.loads(line) for o in put_back for line in _decoded(o.output.data_b64).splitlines()]
    assert [flow["bytes"] for flow in again] == [n for n in range(60) if n % 3]
    assert all(flow["flow_note"] == 'S3"\\\u00e9' for flow in again)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _decoded(data_b64: str) -> str:
    return base64.b64decode(data_b64).decode()


def test_format_without_log_status_keeps_reject_lines_on_both_paths() -> None:
    fmt = parse_format("${version} ${srcaddr} ${dstport} ${action}")
    encoder = LineEncoder(fmt, frozenset({"REJECT"}))
    events = [{"id": str(i), "message": m} for i, m in enumerate(
        ["2 203.0.113.45 22 REJECT", "2 203.0.113.46 443 ACCEPT", "2 203.0.113.47 0023 REJECT"])]

    fast = encoder.encode_events(events[:2], "g", "s")
    checked = encoder.encode_events(events, "g", "s")

    assert fast.ndjson() == b'{"version":2,"srcaddr":"203.0.113.45","dstport":22,"action":"REJECT",' \
                            b'"log_group":"g","log_stream":"s"}\n'
    assert checked.kept_event_indexes == [0, 2]


def test_format_without_numeric_fields_archives_strings_only() -> None:
    fmt = parse_format("${interface-id} ${action} ${reject-reason}")
    encoder = LineEncoder(fmt, frozenset({"REJECT"}))
    events = [{"message": "eni-0a1b2c3d4e5f60718 REJECT bpa"}, {"message": "eni-0a1b2c3d REJECT -"}]

    result = encoder.encode_events(events, None, None)

    assert result.ndjson().decode().splitlines() == [
        '{"interface_id":"eni-0a1b2c3d4e5f60718","action":"REJECT","reject_reason":"bpa","log_group":null,'
        '"log_stream":null}',
        '{"interface_id":"eni-0a1b2c3d","action":"REJECT","reject_reason":null,"log_group":null,'
        '"log_stream":null}',
    ]


class RefusingFirehose:
    def __init__(self) -> None:
        self.calls = 0

    def put_record_batch(self, **_: object) -> dict[str, object]:
        self.calls += 1
        return {"FailedPutCount": 1, "RequestResponses": [{"ErrorCode": "ServiceUnavailableException"}]}


def test_reingestion_backs_off_exponentially_then_gives_up() -> None:
    sleeps: list[float] = []
    client = RefusingFirehose()

    try:
        Reingester(client, "rejected-flows-test", sleep=sleeps.append).put([b"x"])
    except ReingestionError as error:
        assert "after 5 attempts (last error: ServiceUnavailableException)" in str(error)
    else:
        raise AssertionError("a Firehose that keeps refusing must fail the invocation")
    assert client.calls == 5
    assert sleeps == [BASE_BACKOFF_SECONDS * 2**n for n in range(4)]


def one_line_record(record_id: str, seed: int, width: int = 200) -> InputRecord:
    return input_record(lines_of(1, width, seed), record_id)


# Plain text that is no flow-log line: the record fails and carries its ~2.7 kB back in the response.
UNREADABLE_RECORD = InputRecord("bad", base64.b64encode(b"not a flow-log line " * 100).decode())


@pytest.mark.parametrize(("spare", "archived_now"), [(0, True), (-1, False)],
                         ids=["fills the budget exactly", "one byte over the budget"])
def test_a_record_is_archived_now_only_if_the_response_budget_has_room_for_it(
        spare: int, archived_now: bool) -> None:
    outcomes = [transform_record(r, ENCODER) for r in (UNREADABLE_RECORD, one_line_record("r1", 1))]
    # The budget: the response's envelope, then each record's id, data and envelope.
    budget = RESPONSE_OVERHEAD_BYTES + sum(o.output.wire_size for o in outcomes)

    plan = plan_response(outcomes, limit=budget + spare)

    assert [o.result for o in plan.outputs] == ["ProcessingFailed", "Ok" if archived_now else "Dropped"]
    assert plan.reingested_record_ids == ([] if archived_now else ["r1"])
    assert wire_size(plan.outputs) <= budget + spare


def test_a_record_that_would_take_the_response_a_byte_over_its_limit_is_put_back() -> None:
    failed, outcome = (transform_record(r, ENCODER) for r in (UNREADABLE_RECORD, one_line_record("r1", 1)))
    as_is = wire_size([failed.output, outcome.output])  # the response as Lambda sends it, r1 archived

    plan = plan_response([failed, outcome], limit=as_is - 1)

    assert plan.outputs == [OutputRecord.failed(UNREADABLE_RECORD), OutputRecord.dropped("r1")]
    assert plan.reingested_record_ids == ["r1"]
    [piece] = plan.reingest_payloads
    assert transform_record(InputRecord("p1", _b64(piece)), ENCODER).output == OutputRecord.ok(
        "p1", base64.b64decode(outcome.output.data_b64))


def test_a_flow_of_exactly_half_a_response_is_put_back_on_its_own_not_failed() -> None:
    big, small = lines_of(1, 900, 7)[0], lines_of(1, 10, 8)[0]
    alone = transform_record(input_record([big], "first"), ENCODER)
    [big_output] = alone.encoded.final_lines()
    limit = 2 * base64_size(len(big_output))  # the big flow's output is exactly half of it
    outcomes = [alone, transform_record(input_record([big, small], "r2"), ENCODER)]

    plan = plan_response(outcomes, limit=limit)

    assert [o.result for o in plan.outputs] == ["Ok", "Dropped"]
    assert plan.failed == {} and plan.reingested_record_ids == ["r2"]
    # The big flow goes back alone: a later response can carry it whole.
    pieces = [transform_record(InputRecord(f"p{i}", _b64(payload)), ENCODER)
              for i, payload in enumerate(plan.reingest_payloads)]
    assert [[event["message"] for event in piece.source.events] for piece in pieces] == [[big], [small]]
    assert _decoded(pieces[0].output.data_b64) == big_output
    assert wire_size(plan.outputs) <= limit


def test_a_record_failed_for_a_flow_too_large_keeps_its_unreadable_lines_instead_of_putting_back() -> None:
    bad = flow_line(V5_FORMAT, dstport="ssh")
    huge = input_record([*lines_of(1, 9_000, 3), bad, *lines_of(1, 10, 4)], "huge")
    outcome = transform_record(huge, ENCODER)
    assert len(outcome.isolated_payloads) == 1  # what would go back, had the record not failed

    plan = plan_response([outcome], limit=8_000)

    assert plan.outputs == [OutputRecord.failed(huge)]
    assert plan.reingest_payloads == [] and plan.reingested_record_ids == []
    assert plan.failed == {"huge": (
        f"log event {outcome.source.event_id(0)} alone yields "
        f"{base64_size(len(outcome.encoded.final_lines()[0])):,} bytes of output, more than the 4,000 a "
        "response can carry")}


def test_the_summary_counts_a_put_back_record_as_reingested_not_as_dropped() -> None:
    accepted = flow_line(V5_FORMAT, action="ACCEPT")
    records = [record(data_message(lines), record_id) for lines, record_id in [
        (lines_of(2, 200, 1), "fits"), (lines_of(3, 400, 2), "put back"), ([accepted], "nothing kept"),
        ([*lines_of(1, 10, 3), flow_line(V5_FORMAT, dstport="ssh")], "one unreadable"),
    ]]
    batch = TransformationEvent.from_event(event_of(*records))
    batch.records.append(InputRecord("not gzip", "bm90IGd6aXA="))
    outcomes = [transform_record(r, ENCODER) for r in batch.records]
    limit = 6_000

    plan = plan_response(outcomes, limit=limit)

    assert [o.result for o in plan.outputs] == ["Ok", "Dropped", "Dropped", "Ok", "ProcessingFailed"]
    assert summarise(batch, outcomes, plan) == {
        "records_in": 5, "records_ok": 2, "records_dropped": 1, "records_failed": 1,
        # The put-back record went back in two halves, the unreadable line on its own.
        "records_reingested": 1, "reingested_payloads": 3,
        "lines_unreadable": 2,  # the not-gzip record is read as one plain-text line
        "flows_seen": 2 + 3 + 1 + 2 + 1, "flows_kept": 2 + 1,
        "bytes_in": sum(len(r.data) for r in batch.records),
        "bytes_out": len(plan.outputs[0].data_b64) + len(plan.outputs[3].data_b64) + len("bm90IGd6aXA=")
        + sum(len(o.record_id) + RECORD_OVERHEAD_BYTES for o in plan.outputs),
    }
