"""Firehose's transformation event in, its response records out: the fields, and the sizes the 6 MB cap uses.

The event is the documented shape of Firehose's data-transformation invocation (Firehose developer
guide, "Transform source data", checked 2026-11): `invocationId`, `deliveryStreamArn`, `region`, and
records of `recordId`, `approximateArrivalTimestamp` and base64 `data`.
"""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from transform.firehose import (
    RECORD_OVERHEAD_BYTES,
    InputRecord,
    OutputRecord,
    TransformationEvent,
    base64_size,
    response,
)

STREAM_ARN = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/rejected-flows-prod-flows"
EVENT = {
    "invocationId": "00540a87-5050-496a-84e4-e7d92bbaf5e2",
    "deliveryStreamArn": STREAM_ARN,
    "region": "eu-west-1",
    "records": [
        {"recordId": "49546986683135544286507457936321625675700192471156785154",
         "approximateArrivalTimestamp": 1495072949453, "data": "SGVsbG8gV29ybGQ="},
        {"recordId": "49546986683135544286507457936321625675700192471156785155",
         "approximateArrivalTimestamp": 1495072949454, "data": ""},
    ],
}


def test_the_event_is_read_with_every_field() -> None:
    batch = TransformationEvent.from_event(EVENT)

    assert batch.invocation_id == "00540a87-5050-496a-84e4-e7d92bbaf5e2"
    assert batch.region == "eu-west-1"
    assert batch.delivery_stream_name == "rejected-flows-prod-flows"
    assert batch.records == [
        InputRecord("49546986683135544286507457936321625675700192471156785154", "SGVsbG8gV29ybGQ=",
                    1495072949453),
        InputRecord("49546986683135544286507457936321625675700192471156785155", "", 1495072949454),
    ]


def test_optional_fields_default_to_empty() -> None:
    batch = TransformationEvent.from_event({"deliveryStreamArn": STREAM_ARN, "records": [{"recordId": "r1"}]})

    assert (batch.invocation_id, batch.region) == ("", "")
    assert batch.records == [InputRecord("r1", "", None)]


def test_output_records_carry_what_firehose_expects() -> None:
    record = InputRecord("r3", "bm90IGd6aXA=")

    assert response([
        OutputRecord.ok("r1", b'{"action":"REJECT"}\n'),
        OutputRecord.dropped("r2"),
        OutputRecord.failed(record),
    ]) == {"records": [
        {"recordId": "r1", "result": "Ok", "data": base64.b64encode(b'{"action":"REJECT"}\n').decode()},
        {"recordId": "r2", "result": "Dropped", "data": ""},
        {"recordId": "r3", "result": "ProcessingFailed", "data": "bm90IGd6aXA="},  # exactly what came in
    ]}


def test_a_records_wire_size_counts_its_id_data_and_envelope() -> None:
    output = OutputRecord.ok("r1", b"x" * 30)

    assert output.wire_size == len("r1") + 40 + RECORD_OVERHEAD_BYTES
    assert OutputRecord.dropped("record-7").wire_size == len("record-7") + RECORD_OVERHEAD_BYTES


@given(st.integers(min_value=0, max_value=5000))
def test_base64_size_is_the_length_base64_gives(raw_size: int) -> None:
    assert base64_size(raw_size) == len(base64.b64encode(b"\x00" * raw_size))


def test_base64_size_of_a_full_response_is_exact() -> None:
    assert base64_size(4_500_000) == 6_000_000
    assert base64_size(4_500_001) == 6_000_004
