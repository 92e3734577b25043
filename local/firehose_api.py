"""Firehose's JSON protocol on loopback: `PutRecordBatch` and `PutRecord`, for the transform's re-ingestion.

boto3 reaches it through `AWS_ENDPOINT_URL_FIREHOSE`. Requests are checked against Firehose's limits
(500 records and 4 MiB per batch, 1,000 KiB per record) so a transform that exceeds them fails here as
it would in AWS. Entries can be made to fail on purpose (`fail_next`) to exercise the caller's retries.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable

import orjson
from werkzeug.wrappers import Request, Response

from contracts.firehose import PUT_BATCH_MAX_BYTES, PUT_BATCH_MAX_RECORDS, PUT_RECORD_MAX_BYTES
from local.firehose import DeliveryStream
from local.loopback import LoopbackServer

TARGET_PREFIX = "Firehose_20150804."


class FirehoseApiError(Exception):
    """An error answered in the JSON protocol's shape (`__type`, `message`)."""

    def __init__(self, kind: str, message: str, status: int = 400):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


class FirehoseApi:
    """The WSGI app; streams are registered by name."""

    def __init__(self) -> None:
        self.streams: dict[str, DeliveryStream] = {}
        self.calls: list[tuple[str, int]] = []  # (operation, records)
        self._failures_left = 0
        self._lock = threading.Lock()

    def register(self, stream: DeliveryStream) -> None:
        self.streams[stream.config.name] = stream

    def fail_next(self, entries: int) -> None:
        """Answer the next `entries` records with ServiceUnavailableException, as a throttled stream does."""
        with self._lock:
            self._failures_left = entries

    def __call__(self, environ: dict, start_response: Callable) -> object:
        request = Request(environ)
        operation = request.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
        try:
            body = orjson.loads(request.get_data() or b"{}")
            if operation == "PutRecordBatch":
                answer = self._put_record_batch(body)
            elif operation == "PutRecord":
                answer = self._put_record(body)
            else:
                raise FirehoseApiError("UnknownOperationException", f"{operation!r} is not served here")
            response = Response(orjson.dumps(answer), status=200)
        except FirehoseApiError as error:
            response = Response(orjson.dumps({"__type": error.kind, "message": error.message}),
                                status=error.status)
        except orjson.JSONDecodeError:
            response = Response(orjson.dumps({"__type": "SerializationException", "message": "bad JSON"}),
                                status=400)
        response.content_type = "application/x-amz-json-1.1"
        return response(environ, start_response)

    def _stream(self, body: dict) -> DeliveryStream:
        name = body.get("DeliveryStreamName")
        if name not in self.streams:
            raise FirehoseApiError("ResourceNotFoundException", f"Firehose {name} under account not found.")
        return self.streams[name]

    def _put_record(self, body: dict) -> dict:
        stream = self._stream(body)
        data = _decode(body.get("Record", {}))
        self.calls.append(("PutRecord", 1))
        (record_id,) = stream.put_from_api([data])
        return {"RecordId": record_id, "Encrypted": False}

    def _put_record_batch(self, body: dict) -> dict:
        stream = self._stream(body)
        records = [_decode(record) for record in body.get("Records", [])]
        if not 1 <= len(records) <= PUT_BATCH_MAX_RECORDS:
            raise FirehoseApiError("InvalidArgumentException",
                                   f"Records must hold 1 to {PUT_BATCH_MAX_RECORDS} records, "
                                   f"got {len(records)}")
        if sum(len(r) for r in records) > PUT_BATCH_MAX_BYTES:
            raise FirehoseApiError("InvalidArgumentException", "a PutRecordBatch request exceeds 4 MiB")
        self.calls.append(("PutRecordBatch", len(records)))
        with self._lock:
            failing = min(self._failures_left, len(records))
            self._failures_left -= failing
        answers: list[dict] = [
            {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."} for _ in range(failing)
        ]
        answers += [{"RecordId": record_id} for record_id in stream.put_from_api(records[failing:])]
        return {"FailedPutCount": failing, "Encrypted": False, "RequestResponses": answers}


def _decode(record: dict) -> bytes:
    try:
        data = base64.b64decode(record.get("Data", ""), validate=True)
    except (binascii.Error, TypeError) as error:
        raise FirehoseApiError("SerializationException", "record Data is not base64") from error
    if len(data) > PUT_RECORD_MAX_BYTES:
        raise FirehoseApiError("InvalidArgumentException", f"a record of {len(data)} bytes exceeds 1,000 KiB")
    return data


def serve(api: FirehoseApi) -> LoopbackServer:
    return LoopbackServer(api, "loopback-firehose")
