"""The Firehose stand-in: processor semantics, buffering, error records and the PutRecordBatch endpoint."""

from __future__ import annotations

import base64
import gzip
import json

import boto3
import pytest

from contracts.firehose import LAMBDA_PAYLOAD_LIMIT_BYTES
from contracts.layout import FIREHOSE_DATA_PREFIX, FIREHOSE_ERROR_PREFIX, GZIP_EXTENSION, partition_of
from local.firehose import DeliveryStream, StreamConfig
from local.firehose_api import FirehoseApi, serve
from local.firehose_response import ProcessorResponseError as ResponseError
from local.firehose_response import check_response

pytestmark = pytest.mark.slow

T0 = 1_795_748_400_000  # 2026-11-27 03:00:00 UTC
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:t:$LATEST"


def config(**overrides) -> StreamConfig:
    values = dict(name="s", lambda_arn=LAMBDA_ARN, data_prefix=FIREHOSE_DATA_PREFIX,
                  error_prefix=FIREHOSE_ERROR_PREFIX, extension=GZIP_EXTENSION,
                  processor_buffer_bytes=1000, processor_buffer_ms=60_000,
                  archive_buffer_bytes=10**6, archive_buffer_ms=300_000)
    values.update(overrides)
    return StreamConfig(**values)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def answer(event: dict, result_for) -> dict:
    return {"records": [
        {"recordId": r["recordId"], **result_for(base64.b64decode(r["data"]))} for r in event["records"]
    ]}


def upper(event: dict) -> dict:
    """A processor that keeps records as upper-case lines, drops `drop`, fails `fail`."""
    def result(data: bytes) -> dict:
        if data == b"drop":
            return {"result": "Dropped", "data": ""}
        if data == b"fail":
            return {"result": "ProcessingFailed", "data": b64(data)}
        return {"result": "Ok", "data": b64(data.upper() + b"\n")}
    return answer(event, result)


class Recorder:
    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.events: list[dict] = []

    def sink(self, key: str, body: bytes) -> None:
        self.objects[key] = gzip.decompress(body)

    def processor(self, inner):
        def call(event: dict) -> dict:
            self.events.append(event)
            return inner(event)
        return call


def test_ok_dropped_and_failed_records_go_where_firehose_puts_them():
    rec = Recorder()
    stream = DeliveryStream(config(), rec.processor(upper), rec.sink)
    for i, data in enumerate([b"a", b"drop", b"fail", b"b"]):
        stream.put(data, T0 + i)
    stream.close()
    data_keys = [k for k in rec.objects if k.startswith("rejected/")]
    error_keys = [k for k in rec.objects if k.startswith("errors/")]
    assert len(data_keys) == len(error_keys) == 1
    assert rec.objects[data_keys[0]] == b"A\nB\n"
    # Written when the archive interval (300 s) of its oldest record ran out, not at the last arrival.
    assert data_keys[0].startswith("rejected/year=2026/month=11/day=27/hour=03/s-1-2026-11-27-03-05-00-")
    assert error_keys[0].startswith("errors/processing-failed/year=2026/month=11/day=27/hour=03/")
    (line,) = rec.objects[error_keys[0]].splitlines()
    error = json.loads(line)
    assert error == {
        "attemptsMade": 1, "arrivalTimestamp": T0 + 2, "errorCode": "Lambda.ProcessingFailedStatus",
        # The processor was invoked when its 60 s interval ran out.
        "errorMessage": error["errorMessage"], "attemptEndingTimestamp": T0 + 60_000,
        "rawData": b64(b"fail"), "lambdaArn": LAMBDA_ARN,
    }
    assert stream.stats.ok == 2 and stream.stats.dropped == 1 and stream.stats.processing_failed == 1


def test_a_missing_record_id_fails_the_batch_after_retries():
    rec = Recorder()

    def forgetful(event: dict) -> dict:
        response = upper(event)
        response["records"].pop()
        return response

    stream = DeliveryStream(config(processor_retries=3), rec.processor(forgetful), rec.sink)
    stream.put(b"a", T0)
    stream.put(b"b", T0)
    stream.close()
    assert len(rec.events) == 4, "one attempt and three retries"
    assert not [k for k in rec.objects if k.startswith("rejected/")], "nothing of the batch is delivered"
    (key,) = rec.objects
    errors = [json.loads(line) for line in rec.objects[key].splitlines()]
    assert [e["errorCode"] for e in errors] == ["Lambda.MissingRecordId"] * 2
    assert {base64.b64decode(e["rawData"]) for e in errors} == {b"a", b"b"}
    assert all(e["attemptsMade"] == 4 for e in errors)
    assert stream.stats.processor_errors == {"Lambda.MissingRecordId": 4}


def test_an_exception_is_retried_and_then_kept_as_errors():
    calls = []

    def flaky(event: dict) -> dict:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("cold start went wrong")
        return upper(event)

    rec = Recorder()
    stream = DeliveryStream(config(), flaky, rec.sink)
    stream.put(b"a", T0)
    stream.close()
    assert list(rec.objects.values()) == [b"A\n"]
    assert stream.stats.processor_errors == {"Lambda.FunctionError": 1}


@pytest.mark.parametrize(("records", "code"), [
    ([{"recordId": "1", "result": "Ok", "data": ""}, {"recordId": "1", "result": "Ok", "data": ""}],
     "Lambda.DuplicatedRecordId"),
    ([{"recordId": "1", "result": "Ok", "data": ""}, {"recordId": "9", "result": "Ok", "data": ""}],
     "Lambda.MissingRecordId"),
    ([{"recordId": "1", "result": "Maybe", "data": ""}], "Lambda.InvalidRecordResult"),
    ([{"recordId": "1", "result": "Ok", "data": "not base64!"}], "Lambda.InvalidRecordData"),
])
def test_response_checks(records, code):
    with pytest.raises(ResponseError) as caught:
        check_response(["1"], {"records": records})
    assert caught.value.code == code


def test_a_response_over_six_megabytes_fails_the_invocation():
    big = b64(b"x" * (LAMBDA_PAYLOAD_LIMIT_BYTES // 4 * 3 + 10))

    def huge(event: dict) -> dict:
        return answer(event, lambda data: {"result": "Ok", "data": big})

    rec = Recorder()
    stream = DeliveryStream(config(processor_retries=0), huge, rec.sink)
    stream.put(b"a", T0)
    stream.close()
    assert stream.stats.processor_errors == {"Lambda.FunctionError": 1}
    assert all(k.startswith("errors/") for k in rec.objects)


def test_processor_buffer_flushes_by_size_and_interval():
    rec = Recorder()
    stream = DeliveryStream(config(processor_buffer_bytes=10), rec.processor(upper), rec.sink)
    stream.put(b"12345", T0)
    stream.put(b"67890", T0)  # 10 bytes: full
    stream.put(b"a", T0 + 1)
    stream.put(b"b", T0 + 60_001)  # a's batch has waited the interval
    stream.close()
    assert [len(e["records"]) for e in rec.events] == [2, 1, 1]


def test_archive_buffer_interval_splits_objects_by_oldest_arrival():
    rec = Recorder()
    stream = DeliveryStream(config(processor_buffer_bytes=1), upper, rec.sink)
    stream.put(b"a", T0)
    stream.put(b"b", T0 + 3_600_000)  # an hour later: the first object was written meanwhile
    stream.close()
    hours = sorted(partition_of(k)["hour"] for k in rec.objects)
    assert hours == [3, 4]


def test_reingested_records_join_a_later_batch():
    rec = Recorder()
    stream = DeliveryStream(config(), rec.processor(upper), rec.sink)

    def reingesting(event: dict) -> dict:
        # Like the transform: put the first record back and mark it Dropped.
        if len(rec.events) == 1:
            stream.put_from_api([b"again"])
            return answer(event, lambda data: {"result": "Dropped", "data": ""})
        return upper(event)

    stream.processor = rec.processor(reingesting)
    stream.put(b"once", T0)
    stream.close()
    assert list(rec.objects.values()) == [b"AGAIN\n"]
    assert stream.stats.records_reingested == 1 and stream.stats.invocations == 2


def test_put_record_batch_endpoint_speaks_firehose_json():
    rec = Recorder()
    api = FirehoseApi()
    stream = DeliveryStream(config(name="loop"), upper, rec.sink)
    api.register(stream)
    with serve(api) as server:
        client = boto3.client("firehose", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        api.fail_next(1)
        answer_ = client.put_record_batch(DeliveryStreamName="loop", Records=[{"Data": b"x"}, {"Data": b"y"}])
        assert answer_["FailedPutCount"] == 1
        assert answer_["RequestResponses"][0]["ErrorCode"] == "ServiceUnavailableException"
        assert answer_["RequestResponses"][1]["RecordId"]
        assert client.put_record(DeliveryStreamName="loop", Record={"Data": b"z"})["RecordId"]
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.put_record_batch(DeliveryStreamName="nope", Records=[{"Data": b"x"}])
        with pytest.raises(client.exceptions.InvalidArgumentException):
            client.put_record_batch(DeliveryStreamName="loop", Records=[{"Data": b"x"}] * 501)
    stream.close()
    assert sorted(b"".join(rec.objects.values()).splitlines()) == [b"Y", b"Z"]


def test_an_old_object_is_written_when_its_interval_runs_out_not_when_the_next_record_comes():
    """Flows of 2014 followed by flows of 2016: the 2014 object is named after 2014 + the interval."""
    t2014, t2016 = 1_400_000_000_000, 1_460_000_000_000  # 2014-05-13 16:53:20, 2016-04-07 03:33:20 UTC
    rec = Recorder()
    stream = DeliveryStream(config(), rec.processor(upper), rec.sink)
    stream.put(b"old", t2014)
    stream.put(b"new", t2016)
    stream.close()
    keys = sorted(rec.objects)
    assert [rec.objects[key] for key in keys] == [b"OLD\n", b"NEW\n"]
    assert keys[0].startswith("rejected/year=2014/month=05/day=13/hour=16/s-1-2014-05-13-16-58-20-")
    assert keys[1].startswith("rejected/year=2016/month=04/day=07/hour=03/s-1-2016-04-07-03-38-20-")
    # The processor ran when its own interval (60 s) ran out, once for each year.
    assert [len(event["records"]) for event in rec.events] == [1, 1]


def test_buffers_flush_in_time_order_on_the_simulated_clock():
    rec = Recorder()
    written: list[tuple[str, int]] = []
    stream = DeliveryStream(config(archive_buffer_ms=120_000), rec.processor(upper),
                            lambda key, body: written.append((key, stream.now_ms)))
    stream.put(b"a", T0)
    stream.put(b"b", T0 + 30_000)
    stream.put(b"c", T0 + 600_000)  # ten minutes later: a and b were processed and written meanwhile
    stream.close()
    assert [when for _, when in written] == [T0 + 120_000, T0 + 600_000 + 60_000 + 60_000]
    assert stream.now_ms == T0 + 720_000
