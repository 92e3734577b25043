"""The 6 MB path end to end: what does not fit goes back through a loopback Firehose, exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from contracts.firehose import PUT_BATCH_MAX_BYTES, PUT_RECORD_MAX_BYTES
from tests.transform_loopback import LoopbackFirehose, firehose, run_until_drained
from tests.transform_support import V5_FORMAT, data_message, event_of, flow_line, lambda_context, record
from transform.batch import plan_response, transform_record
from transform.encoder import LineEncoder
from transform.firehose import InputRecord
from transform.handler import handler
from transform.reingest import ReingestionError, batches

__all__ = ["firehose"]  # the loopback fixture, used by name

def numbered_lines(first: int, count: int) -> list[str]:
    """REJECT lines told apart by their `bytes` field; every fifth is ACCEPT and must not come out."""
    return [flow_line(V5_FORMAT, bytes=str(n), action="ACCEPT" if n % 5 == 4 else "REJECT",
                      srcaddr=f"198.51.{n % 250}.{n % 200}")
            for n in range(first, first + count)]


def kept_numbers(lines: list[str]) -> Counter:
    return Counter(int(line.split(" ")[14]) for line in lines if " REJECT " in line)


def archived_numbers(firehose: LoopbackFirehose, event: dict[str, Any]) -> Counter:
    drained = run_until_drained(firehose, event)
    assert drained.failed == []
    return Counter(flow["bytes"] for flow in drained.archived)


def test_overflow_is_reingested_and_every_flow_comes_out_exactly_once(firehose: LoopbackFirehose) -> None:
    # Three records of ~2.4 MB output each (base64): together they overflow one 6 MB response.
    lines = [numbered_lines(n * 3000, 3000) for n in range(3)]
    event = event_of(*(record(data_message(chunk), f"r{n}") for n, chunk in enumerate(lines)))

    drained = run_until_drained(firehose, event)

    every_line = [line for chunk in lines for line in chunk]
    assert Counter(flow["bytes"] for flow in drained.archived) == kept_numbers(every_line)
    assert drained.failed == []
    assert drained.invocations == 2


def test_record_too_big_alone_is_split_in_halves_before_reingestion(firehose: LoopbackFirehose) -> None:
    big = numbered_lines(0, 12_000)  # ~9.5 MB of output alone
    small = numbered_lines(20_000, 10)
    event = event_of(record(data_message(big), "big"), record(data_message(small), "small"))

    assert archived_numbers(firehose, event) == kept_numbers(big + small)
    assert max(firehose.calls) > 1, "the big record went back as several pieces"


def test_failed_entries_are_retried_until_accepted(firehose: LoopbackFirehose) -> None:
    firehose.fail_entries = 2
    firehose.fail_calls = 1
    lines = [numbered_lines(n * 3000, 3000) for n in range(3)]
    event = event_of(*(record(data_message(chunk), f"r{n}") for n, chunk in enumerate(lines)))

    assert archived_numbers(firehose, event) == kept_numbers([line for chunk in lines for line in chunk])


def test_persistent_refusal_fails_the_invocation_so_firehose_retries(firehose: LoopbackFirehose) -> None:
    firehose.fail_entries = 10_000
    lines = [numbered_lines(n * 3000, 3000) for n in range(3)]
    event = event_of(*(record(data_message(chunk), f"r{n}") for n, chunk in enumerate(lines)))

    with pytest.raises(ReingestionError, match="still refused 1 re-ingested records after 5 attempts"):
        handler(event, lambda_context())
    assert firehose.accepted == []


def test_single_event_too_big_for_any_response_fails_its_record() -> None:
    encoder = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))
    input_record = InputRecord.from_event(record(data_message([flow_line(V5_FORMAT)]), "r1").as_dict())
    outcome = transform_record(input_record, encoder)
    output_size = len(outcome.output.data_b64)  # its only flow's output, in base64
    plan = plan_response([outcome], limit=600)

    assert [o.result for o in plan.outputs] == ["ProcessingFailed"]
    [event] = data_message([flow_line(V5_FORMAT)])["logEvents"]
    assert plan.failed == {"r1": f"log event {event['id']} alone yields {output_size:,} bytes of output, "
                                 "more than the 300 a response can carry"}
    assert plan.reingest_payloads == []


def test_reingested_pieces_stay_within_putrecordbatch_record_limit() -> None:
    encoder = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))
    input_record = InputRecord.from_event(record(data_message(numbered_lines(0, 12_000)), "r1").as_dict())
    plan = plan_response([transform_record(input_record, encoder)])

    assert plan.reingested_record_ids == ["r1"]
    assert len(plan.reingest_payloads) >= 4
    assert all(len(p) <= PUT_RECORD_MAX_BYTES for p in plan.reingest_payloads)


def test_batches_respect_count_and_size_limits() -> None:
    payloads = [b"x" * 10] * 1_200 + [b"y" * 1_000_000] * 9

    grouped = list(batches(payloads))

    assert [len(g) for g in grouped] == [500, 500, 204, 4, 1]
    assert all(sum(map(len, g)) <= PUT_BATCH_MAX_BYTES for g in grouped)
    assert [p for g in grouped for p in g] == payloads
