"""The 6 MB path end to end: what does not fit goes back through a loopback Firehose, exactly once."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from contracts.firehose import (
    PUT_BATCH_MAX_BYTES,
    PUT_BATCH_MAX_RECORDS,
    PUT_RECORD_MAX_BYTES,
    RESPONSE_LIMIT_BYTES,
)
from local.cloudwatch import FirehoseRecord
from tests.transform_support import (
    V5_FORMAT,
    data_message,
    event_of,
    flow_line,
    lambda_context,
    ok_lines,
    record,
)
from transform import reingest
from transform.batch import plan_response, transform_record
from transform.encoder import LineEncoder
from transform.firehose import InputRecord
from transform.handler import firehose_client, handler
from transform.reingest import ReingestionError, batches

TARGET = "Firehose_20150804.PutRecordBatch"


@dataclass
class LoopbackFirehose:
    """Accepts PutRecordBatch like Firehose; fails the entries and calls it is told to."""

    accepted: list[bytes] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)  # records per call
    fail_entries: int = 0  # the next N entries answer ServiceUnavailableException
    fail_calls: int = 0  # the next N calls answer HTTP 500

    def handle(self, request: Request) -> Response:
        assert request.headers["X-Amz-Target"] == TARGET
        body = json.loads(request.data)
        assert body["DeliveryStreamName"] == "rejected-flows-test"
        records = body["Records"]
        assert len(records) <= PUT_BATCH_MAX_RECORDS
        assert sum(len(base64.b64decode(r["Data"])) for r in records) <= PUT_BATCH_MAX_BYTES
        self.calls.append(len(records))
        if self.fail_calls:
            self.fail_calls -= 1
            return Response(json.dumps({"__type": "InternalFailure"}), status=500)
        answers = []
        for index, entry in enumerate(records):
            if self.fail_entries:
                self.fail_entries -= 1
                answers.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
            else:
                self.accepted.append(base64.b64decode(entry["Data"]))
                answers.append({"RecordId": f"accepted-{len(self.accepted)}-{index}"})
        failed = sum("ErrorCode" in a for a in answers)
        body = {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": answers}
        return Response(json.dumps(body), content_type="application/x-amz-json-1.1")


@pytest.fixture
def firehose(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> LoopbackFirehose:
    loopback = LoopbackFirehose()
    httpserver.expect_request("/", method="POST").respond_with_handler(loopback.handle)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", httpserver.url_for("/"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("FLOW_LOG_FORMAT", V5_FORMAT.text)
    monkeypatch.delenv("KEEP_ACTIONS", raising=False)
    monkeypatch.setattr(reingest, "BASE_BACKOFF_SECONDS", 0.001)
    firehose_client.cache_clear()
    yield loopback
    firehose_client.cache_clear()


def numbered_lines(first: int, count: int) -> list[str]:
    """REJECT lines told apart by their `bytes` field; every fifth is ACCEPT and must not come out."""
    return [flow_line(V5_FORMAT, bytes=str(n), action="ACCEPT" if n % 5 == 4 else "REJECT",
                      srcaddr=f"198.51.{n % 250}.{n % 200}")
            for n in range(first, first + count)]


def kept_numbers(lines: list[str]) -> Counter:
    return Counter(int(line.split(" ")[14]) for line in lines if " REJECT " in line)


def run_until_drained(firehose: LoopbackFirehose, event: dict[str, Any]) -> tuple[Counter, int]:
    """Invoke the handler, then again on whatever it put back, as Firehose would. Returns flows seen."""
    archived: Counter = Counter()
    invocations = 0
    while event["records"]:
        invocations += 1
        assert invocations < 20, "re-ingestion must converge"
        response = handler(event, lambda_context())
        assert len(json.dumps(response)) < RESPONSE_LIMIT_BYTES
        answered = sorted(r["recordId"] for r in response["records"])
        assert answered == sorted(r["recordId"] for r in event["records"]), "every record id exactly once"
        for answer in response["records"]:
            assert answer["result"] in ("Ok", "Dropped")
            if answer["result"] == "Ok":
                archived.update(line["bytes"] for line in ok_lines(answer))
        put_back, firehose.accepted = firehose.accepted, []
        event = event_of(*(FirehoseRecord(data) for data in put_back))
    return archived, invocations


def test_overflow_is_reingested_and_every_flow_comes_out_exactly_once(firehose: LoopbackFirehose) -> None:
    # Three records of ~2.4 MB output each (base64): together they overflow one 6 MB response.
    lines = [numbered_lines(n * 3000, 3000) for n in range(3)]
    event = event_of(*(record(data_message(chunk), f"r{n}") for n, chunk in enumerate(lines)))

    archived, invocations = run_until_drained(firehose, event)

    assert archived == kept_numbers([line for chunk in lines for line in chunk])
    assert invocations == 2


def test_record_too_big_alone_is_split_in_halves_before_reingestion(firehose: LoopbackFirehose) -> None:
    big = numbered_lines(0, 12_000)  # ~9.5 MB of output alone
    small = numbered_lines(20_000, 10)
    event = event_of(record(data_message(big), "big"), record(data_message(small), "small"))

    archived, _ = run_until_drained(firehose, event)

    assert archived == kept_numbers(big + small)
    assert max(firehose.calls) > 1, "the big record went back as several pieces"


def test_failed_entries_are_retried_until_accepted(firehose: LoopbackFirehose) -> None:
    firehose.fail_entries = 2
    firehose.fail_calls = 1
    lines = [numbered_lines(n * 3000, 3000) for n in range(3)]
    event = event_of(*(record(data_message(chunk), f"r{n}") for n, chunk in enumerate(lines)))

    archived, _ = run_until_drained(firehose, event)

    assert archived == kept_numbers([line for chunk in lines for line in chunk])


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
    plan = plan_response([transform_record(input_record, encoder)], limit=600)

    assert [o.result for o in plan.outputs] == ["ProcessingFailed"]
    assert "alone yields" in plan.failed["r1"]
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
