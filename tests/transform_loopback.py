"""A loopback Firehose for the transform's tests: PutRecordBatch on 127.0.0.1, and a driver that invokes
the handler on what was put back until nothing is left, as Firehose would."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from contracts.firehose import PUT_BATCH_MAX_BYTES, PUT_BATCH_MAX_RECORDS, RESPONSE_LIMIT_BYTES
from local.cloudwatch import FirehoseRecord
from tests.transform_support import V5_FORMAT, event_of, lambda_context, ok_lines
from transform import reingest
from transform.handler import handler, reset

TARGET = "Firehose_20150804.PutRecordBatch"
# Invocations before a test calls it a loop: re-ingestion must converge well before this.
MAX_INVOCATIONS = 20


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
def firehose(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackFirehose]:
    loopback = LoopbackFirehose()
    httpserver.expect_request("/", method="POST").respond_with_handler(loopback.handle)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", httpserver.url_for("/"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("FLOW_LOG_FORMAT", V5_FORMAT.text)
    monkeypatch.delenv("KEEP_ACTIONS", raising=False)
    monkeypatch.setattr(reingest, "BASE_BACKOFF_SECONDS", 0.001)
    reset()
    yield loopback
    reset()


@dataclass
class Drained:
    archived: list[dict[str, Any]]  # every archived flow, in order
    failed: list[bytes]  # the raw data of every ProcessingFailed record (what errors/ would hold)
    invocations: int


def run_until_drained(firehose: LoopbackFirehose, event: dict[str, Any]) -> Drained:
    """Invoke the handler, then again on whatever it put back, as Firehose would."""
    drained = Drained([], [], 0)
    while event["records"]:
        drained.invocations += 1
        assert drained.invocations < MAX_INVOCATIONS, "re-ingestion must converge"
        response = handler(event, lambda_context())
        assert len(json.dumps(response)) < RESPONSE_LIMIT_BYTES
        answered = sorted(r["recordId"] for r in response["records"])
        assert answered == sorted(r["recordId"] for r in event["records"]), "every record id exactly once"
        for answer in response["records"]:
            if answer["result"] == "Ok":
                drained.archived += ok_lines(answer)
            elif answer["result"] == "ProcessingFailed":
                drained.failed.append(base64.b64decode(answer["data"]))
            else:
                assert answer["result"] == "Dropped"
        put_back, firehose.accepted = firehose.accepted, []
        event = event_of(*(FirehoseRecord(data) for data in put_back))
    return drained
