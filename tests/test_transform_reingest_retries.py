"""Re-ingestion's PutRecordBatch calls: bounded attempts, a doubling backoff, only failed entries sent again.

The Firehose client is a real boto3 client behind botocore's Stubber, so every request is checked
against Firehose's API model and every answer has Firehose's shape (PutRecordBatch: `FailedPutCount`,
and per entry either a `RecordId` or an `ErrorCode` with an `ErrorMessage`). Sleeps are recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from contracts.firehose import PUT_BATCH_MAX_BYTES, PUT_BATCH_MAX_RECORDS
from transform.reingest import BASE_BACKOFF_SECONDS, MAX_ATTEMPTS, Reingester, ReingestionError, batches

STREAM = "rejected-flows-test-flows"
THROTTLED = {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}


@pytest.fixture
def firehose() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("firehose", region_name="eu-west-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_put(stubber: Stubber, payloads: list[bytes], answers: list[dict[str, str]] | None = None) -> None:
    """One PutRecordBatch of exactly these payloads, answered per entry (all accepted by default)."""
    answers = answers or [{"RecordId": f"id-{i}"} for i in range(len(payloads))]
    stubber.add_response(
        "put_record_batch",
        {"FailedPutCount": sum("ErrorCode" in a for a in answers), "Encrypted": False,
         "RequestResponses": answers},
        {"DeliveryStreamName": STREAM, "Records": [{"Data": p} for p in payloads]},
    )


def expect_refusal(stubber: Stubber, payloads: list[bytes],
                   code: str = "ServiceUnavailableException") -> None:
    """The whole call refused (HTTP 400/5xx): botocore raises ClientError."""
    stubber.add_client_error("put_record_batch", service_error_code=code, service_message="Slow down.",
                             http_status_code=400 if code.endswith("Exception") else 500,
                             expected_params={"DeliveryStreamName": STREAM,
                                              "Records": [{"Data": p} for p in payloads]})


def reingester(client: Any, **kwargs: Any) -> tuple[Reingester, list[float]]:
    sleeps: list[float] = []
    return Reingester(client, STREAM, sleep=sleeps.append, **kwargs), sleeps


PAYLOADS = [b"gzip-one", b"gzip-two", b"gzip-three", b"gzip-four"]


def test_an_accepted_batch_takes_one_call_and_no_wait(firehose) -> None:
    client, stubber = firehose
    expect_put(stubber, PAYLOADS)
    putter, sleeps = reingester(client)

    assert putter.put(PAYLOADS) == 1
    assert sleeps == []


def test_nothing_to_put_makes_no_call(firehose) -> None:
    client, _ = firehose
    putter, sleeps = reingester(client)

    assert putter.put([]) == 0
    assert sleeps == []


def test_only_the_failed_entries_are_sent_again_in_their_order(firehose) -> None:
    client, stubber = firehose
    expect_put(stubber, PAYLOADS, [THROTTLED, {"RecordId": "b"}, THROTTLED, {"RecordId": "d"}])
    expect_put(stubber, [b"gzip-one", b"gzip-three"], [{"RecordId": "a"}, THROTTLED])
    expect_put(stubber, [b"gzip-three"])
    putter, sleeps = reingester(client)

    assert putter.put(PAYLOADS) == 3
    assert sleeps == [BASE_BACKOFF_SECONDS, 2 * BASE_BACKOFF_SECONDS]


def test_the_backoff_doubles_between_attempts(firehose) -> None:
    client, stubber = firehose
    for _ in range(MAX_ATTEMPTS - 1):
        expect_refusal(stubber, PAYLOADS)
    expect_put(stubber, PAYLOADS)
    putter, sleeps = reingester(client)

    assert putter.put(PAYLOADS) == MAX_ATTEMPTS
    assert MAX_ATTEMPTS == 5 and BASE_BACKOFF_SECONDS == 0.2
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6])


def test_attempts_are_bounded_and_running_out_fails_the_invocation(firehose) -> None:
    client, stubber = firehose
    for _ in range(MAX_ATTEMPTS):
        expect_put(stubber, [b"gzip-two"], [THROTTLED])
    putter, sleeps = reingester(client)

    with pytest.raises(ReingestionError) as raised:
        putter.put([b"gzip-two"])

    assert str(raised.value) == (
        f"Firehose {STREAM!r} still refused 1 re-ingested records after 5 attempts (last error: Slow down.); "
        "failing the invocation so Firehose retries the batch"
    )
    assert len(sleeps) == MAX_ATTEMPTS - 1


def test_a_smaller_attempt_limit_is_honoured(firehose) -> None:
    client, stubber = firehose
    expect_refusal(stubber, PAYLOADS, code="InternalFailure")
    expect_refusal(stubber, PAYLOADS, code="InternalFailure")
    putter, sleeps = reingester(client, max_attempts=2)

    with pytest.raises(ReingestionError, match=r"refused 4 re-ingested records after 2 attempts .*Slow down"):
        putter.put(PAYLOADS)
    assert sleeps == [BASE_BACKOFF_SECONDS]


def test_an_entry_error_without_a_message_is_reported_by_its_code(firehose) -> None:
    client, stubber = firehose
    expect_put(stubber, PAYLOADS[:1], [{"ErrorCode": "InternalFailure"}])
    putter, _ = reingester(client, max_attempts=1)

    with pytest.raises(ReingestionError, match=r"\(last error: InternalFailure\)"):
        putter.put(PAYLOADS[:1])


def test_the_last_error_is_the_one_reported(firehose) -> None:
    client, stubber = firehose
    expect_put(stubber, PAYLOADS[:1], [{"ErrorCode": "InternalFailure", "ErrorMessage": "first"}])
    expect_put(stubber, PAYLOADS[:1], [{"ErrorCode": "ServiceUnavailableException",
                                        "ErrorMessage": "second"}])
    putter, _ = reingester(client, max_attempts=2)

    with pytest.raises(ReingestionError, match=r"\(last error: second\)"):
        putter.put(PAYLOADS[:1])


def test_an_answer_that_does_not_cover_every_record_fails_instead_of_losing_records(firehose) -> None:
    # Firehose answers one entry per record, in order; a shorter answer cannot say which records
    # were taken, so nothing may be assumed accepted.
    client, stubber = firehose
    expect_put(stubber, PAYLOADS[:2], [THROTTLED])
    putter, _ = reingester(client)

    with pytest.raises(ValueError, match="zip"):
        putter.put(PAYLOADS[:2])


class DroppedConnections:
    """The client, behind a network that drops the first `drops` calls (botocore raises BotoCoreError)."""

    def __init__(self, client: Any, drops: int) -> None:
        self.client, self.drops = client, drops

    def put_record_batch(self, **kwargs: Any) -> dict[str, Any]:
        if self.drops:
            self.drops -= 1
            raise EndpointConnectionError(endpoint_url="https://firehose.eu-west-1.amazonaws.com/")
        return self.client.put_record_batch(**kwargs)


def test_a_dropped_connection_is_retried_like_a_refusal(firehose) -> None:
    client, stubber = firehose
    expect_put(stubber, PAYLOADS)
    putter, sleeps = reingester(DroppedConnections(client, drops=2))

    assert putter.put(PAYLOADS) == 3
    assert sleeps == pytest.approx([0.2, 0.4])


def test_a_network_that_stays_down_fails_the_invocation_naming_the_error(firehose) -> None:
    client, _ = firehose
    putter, _ = reingester(DroppedConnections(client, drops=MAX_ATTEMPTS), max_attempts=MAX_ATTEMPTS)

    with pytest.raises(ReingestionError, match=r"last error: Could not connect to the endpoint URL"):
        putter.put(PAYLOADS)


def test_each_batch_is_retried_on_its_own_and_calls_are_counted_across_batches(firehose) -> None:
    client, stubber = firehose
    payloads = [f"gzip-{n}".encode() for n in range(PUT_BATCH_MAX_RECORDS + 2)]
    first, second = payloads[:PUT_BATCH_MAX_RECORDS], payloads[PUT_BATCH_MAX_RECORDS:]
    expect_put(stubber, first)
    expect_put(stubber, second, [THROTTLED, {"RecordId": "x"}])
    expect_put(stubber, second[:1])
    putter, sleeps = reingester(client)

    assert putter.put(payloads) == 3
    assert sleeps == [BASE_BACKOFF_SECONDS]


def test_a_batch_may_fill_putrecordbatch_exactly() -> None:
    exactly_full = [b"x" * (PUT_BATCH_MAX_BYTES // 4)] * 4
    assert [len(b) for b in batches(exactly_full)] == [4]
    assert [len(b) for b in batches([*exactly_full, b"y"])] == [4, 1]
    assert [len(b) for b in batches([b"z"] * PUT_BATCH_MAX_RECORDS)] == [PUT_BATCH_MAX_RECORDS]


def test_a_batch_starts_afresh_after_a_full_one() -> None:
    # After a full batch the byte count starts again at zero: the next four quarters fill one exactly.
    quarter = b"q" * (PUT_BATCH_MAX_BYTES // 4)
    assert [len(g) for g in batches([quarter] * 8)] == [4, 4]
    assert [len(g) for g in batches([quarter] * 7 + [b"small"])] == [4, 4]
