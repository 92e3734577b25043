"""Firehose's checks on a transformation response: any violation fails the whole invocation.

Every `recordId` sent must be answered exactly once, with a known result and base64 data; the error
codes are the ones Firehose writes into its error records (some invented here where AWS does not
document one, e.g. `Lambda.DuplicatedRecordId`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

RESULTS = frozenset({"Ok", "Dropped", "ProcessingFailed"})


class ProcessorResponseError(ValueError):
    """A processor response Firehose treats as a failed invocation, with Firehose's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Outcome:
    """A checked processor response: per record id, its result and decoded data."""

    results: dict[str, tuple[str, bytes]]


def check_response(record_ids: list[str], response: object) -> Outcome:
    """Firehose's checks on a transformation response; any violation fails the whole invocation."""
    if not isinstance(response, dict) or not isinstance(response.get("records"), list):
        raise ProcessorResponseError("Lambda.JsonProcessingException", "the response has no 'records' list")
    expected = set(record_ids)
    results: dict[str, tuple[str, bytes]] = {}
    for entry in response["records"]:
        if not isinstance(entry, dict):
            raise ProcessorResponseError("Lambda.JsonProcessingException",
                                         "a response record is not an object")
        record_id, result = entry.get("recordId"), entry.get("result")
        if record_id not in expected:
            raise ProcessorResponseError("Lambda.MissingRecordId",
                                         f"the response answers record {record_id!r}, which was not sent")
        if record_id in results:
            raise ProcessorResponseError("Lambda.DuplicatedRecordId", f"record {record_id!r} answered twice")
        if result not in RESULTS:
            raise ProcessorResponseError("Lambda.InvalidRecordResult",
                                         f"record {record_id!r} has result {result!r}")
        try:
            data = base64.b64decode(entry.get("data") or "", validate=True)
        except (binascii.Error, TypeError) as error:
            raise ProcessorResponseError("Lambda.InvalidRecordData",
                                         f"record {record_id!r} data is not base64") from error
        results[record_id] = (result, data)
    missing = expected - results.keys()
    if missing:
        raise ProcessorResponseError("Lambda.MissingRecordId",
                                     f"{len(missing)} record(s) not answered, e.g. {sorted(missing)[0]!r}")
    return Outcome(results)


