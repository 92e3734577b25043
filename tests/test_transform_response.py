"""The response stays within Firehose's limit whatever the records hold; re-ingestion is bounded."""

from __future__ import annotations

import base64
import json
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.flowlog import parse_format
from tests.transform_support import V5_FORMAT, data_message, flow_line, record
from transform.batch import plan_response, transform_record
from transform.encoder import LineEncoder
from transform.firehose import InputRecord, OutputRecord, response
from transform.reingest import BASE_BACKOFF_SECONDS, Reingester, ReingestionError

ENCODER = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))


def input_record(lines: list[str], record_id: str) -> InputRecord:
    return InputRecord.from_event(record(data_message(lines), record_id).as_dict())


def lines_of(count: int, width: int, seed: int) -> list[str]:
    """`count` REJECT lines whose `az-id` carries `width` hard-to-compress characters."""
    rng = random.Random(seed)
    return [flow_line(V5_FORMAT, bytes=str(n), az_id=f"{rng.getrandbits(4 * width):0{width}x}"[:width] or "-")
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


@settings(max_examples=60, deadline=None)
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
    odd = {"pkt_src_aws_service": 'S3"\\\u00e9'}
    lines = [flow_line(V5_FORMAT, bytes=str(n), action="ACCEPT" if n % 3 == 0 else "REJECT", **odd)
             for n in range(60)]
    outcome = transform_record(input_record(lines, "r1"), ENCODER)
    limit = len(outcome.output.data_b64)  # one byte short once the record's own overhead is counted

    plan = plan_response([outcome], limit=limit)

    assert plan.reingested_record_ids == ["r1"]
    put_back = [transform_record(InputRecord(f"p{i}", _b64(payload)), ENCODER)
                for i, payload in enumerate(plan.reingest_payloads)]
    again = [json.loads(line) for o in put_back for line in _decoded(o.output.data_b64).splitlines()]
    assert [flow["bytes"] for flow in again] == [n for n in range(60) if n % 3]
    assert all(flow["pkt_src_aws_service"] == 'S3"\\\u00e9' for flow in again)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _decoded(data_b64: str) -> str:
    return base64.b64decode(data_b64).decode()


def test_format_without_log_status_keeps_reject_lines_on_both_paths() -> None:
    fmt = parse_format("${version} ${srcaddr} ${dstport} ${action}")
    encoder = LineEncoder(fmt, frozenset({"REJECT"}))
    events = [{"id": str(i), "message": m} for i, m in enumerate(
        ["2 203.0.113.45 22 REJECT", "2 203.0.113.46 443 ACCEPT", "2 caf\u00e9 23 REJECT"])]

    fast = encoder.encode_events(events[:2], "g", "s")
    checked = encoder.encode_events(events, "g", "s")

    assert fast.ndjson() == b'{"version":2,"srcaddr":"203.0.113.45","dstport":22,"action":"REJECT",' \
                            b'"log_group":"g","log_stream":"s"}\n'
    assert checked.kept_event_indexes == [0, 2]


def test_format_without_numeric_fields_archives_strings_only() -> None:
    fmt = parse_format("${interface-id} ${action} ${reject-reason}")
    encoder = LineEncoder(fmt, frozenset({"REJECT"}))
    events = [{"message": "eni-0a1b2c3d4e5f60718 REJECT bpa"}, {"message": "eni-1 REJECT -"}]

    result = encoder.encode_events(events, None, None)

    assert result.ndjson().decode().splitlines() == [
        '{"interface_id":"eni-0a1b2c3d4e5f60718","action":"REJECT","reject_reason":"bpa","log_group":null,'
        '"log_stream":null}',
        '{"interface_id":"eni-1","action":"REJECT","reject_reason":null,"log_group":null,"log_stream":null}',
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
