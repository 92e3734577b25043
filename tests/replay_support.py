"""Builders of what replay reads: Firehose's error records, as Firehose writes them under errors/."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from contracts.cloudwatch_logs import LogEvent, data_message
from contracts.error_record import error_line as write_error_line

T0 = 1_795_748_400_000  # 2026-11-27 03:00:00 UTC
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rejected-flows-dev-transform:$LATEST"
# AWS's documented flow-log examples (VPC user guide, "Flow log record examples").
REJECTED_RDP = ("2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 "
                "1418530010 1418530070 REJECT OK")
ACCEPTED_SSH = ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
                "1418530010 1418530070 ACCEPT OK")
NO_DATA = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"


def subscription_record(*lines: str, log_stream: str = "eni-1235b8ca123456789-all") -> bytes:
    """A Firehose record as CloudWatch Logs delivers it: gzip of one subscription message."""
    events = [LogEvent(message=line, timestamp_ms=1418530070000 + i) for i, line in enumerate(lines)]
    return data_message(events, log_stream=log_stream).encode()


def error_line(raw: bytes, arrival_ms: int = T0, code: str = "Lambda.ProcessingFailedStatus") -> bytes:
    """One line of an error object, with the keys Firehose writes (through the one writer)."""
    return write_error_line(raw, code=code, attempts=1, arrival_ms=arrival_ms, ending_ms=arrival_ms + 61_000,
                            message="The Lambda function returned ProcessingFailed for this record.",
                            lambda_arn=LAMBDA_ARN)


def error_object(raws: list[bytes], compressed: bool = True) -> bytes:
    body = b"".join(error_line(raw, T0 + i) for i, raw in enumerate(raws))
    return gzip.compress(body) if compressed else body


def error_key(hour: int = 3, name: str = "a") -> str:
    return (f"errors/processing-failed/year=2026/month=11/day=27/hour={hour:02d}/"
            f"rejected-flows-dev-flows-1-2026-11-27-{hour:02d}-01-00-{name}.gz")


def aws_error(code: str, message: str, operation: str) -> ClientError:
    """An error answer as botocore raises it for an AWS API call."""
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class Faulty:
    """A boto3 client whose named operations raise the given errors first, one per call, then reach AWS.

    `Faulty(s3, get_object=iter([aws_error(...)]))` fails the first GetObject only;
    `itertools.repeat(error)` fails every call."""

    def __init__(self, client: Any, **errors: Iterator[BaseException]):
        self._client, self._errors = client, errors

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)
        if name not in self._errors:
            return operation
        errors = self._errors[name]

        def call(*args: Any, **kwargs: Any) -> Any:
            error = next(errors, None)
            if error is not None:
                raise error
            return operation(*args, **kwargs)
        return call

