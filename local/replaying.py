"""Replay on the local stand-ins: what `python -m replay` does against AWS, done against moto and the
loopback Firehose, so the demo can show the whole loop.

A run whose transform could not read its records (a wrong `FLOW_LOG_FORMAT`, say) leaves them under
`errors/processing-failed/`. Once the format is fixed, replay puts them back into the stream; the stream
runs the transform again, now with the fixed format, and the flows land in the archive. The replayed
error objects are tagged, so replaying again puts nothing.

In a pipeline run, call `replay_failed` once the run's stream is closed and before the notifier goes
over the stream's objects: the archive objects the replay writes join `stream.stats.objects`, so they
are notified and mirrored like the others.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from contracts import environment as env
from local.aws import CREDENTIALS
from local.firehose import WrittenObject
from local.services import LocalServices
from replay.aws import Bucket, Stream
from replay.run import DEFAULT_PREFIX, Options, Replayer
from replay.summary import ObjectOutcome, Summary, object_line, skipped_lines_line, summary_line


@dataclass(frozen=True)
class LocalReplay:
    summary: Summary
    lines: list[str]  # what `python -m replay` prints: one line per object, then the summary
    written: list[WrittenObject]  # objects the stream wrote from the replayed records

    @property
    def archived(self) -> list[WrittenObject]:
        return [item for item in self.written if item.kind == "data"]

    @property
    def failed_again(self) -> list[WrittenObject]:
        return [item for item in self.written if item.kind == "error"]


@contextlib.contextmanager
def _flow_log_format(text: str | None) -> Iterator[None]:
    """The transform reads FLOW_LOG_FORMAT on each invocation: set it while the stream processes."""
    saved = os.environ.get(env.FLOW_LOG_FORMAT)
    if text is not None:
        os.environ[env.FLOW_LOG_FORMAT] = text
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(env.FLOW_LOG_FORMAT, None)
        else:
            os.environ[env.FLOW_LOG_FORMAT] = saved


def firehose_client(services: LocalServices) -> Any:
    return boto3.client(
        "firehose", endpoint_url=services.firehose_url, region_name=services.aws.region,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
    )


def replay_failed(services: LocalServices, bucket: str, stream_name: str,
                  flow_log_format: str | None = None, prefix: str = DEFAULT_PREFIX) -> LocalReplay:
    """Replay `prefix` of `bucket` into the stream `stream_name` (registered on `services.firehose`),
    then let the stream process what came back, with the transform set to `flow_log_format` (the fixed
    format; None keeps the current environment). Call it after the run's stream was closed."""
    stream = services.firehose.streams[stream_name]
    written_before = len(stream.stats.objects)
    lines: list[str] = []

    def report(outcome: ObjectOutcome) -> None:
        lines.append(object_line(bucket, outcome))
        if outcome.skipped_lines:
            lines.append(skipped_lines_line(bucket, outcome))

    replayer = Replayer(Options(bucket, stream_name, prefix), Bucket(services.aws.client("s3"), bucket),
                        Stream(firehose_client(services), stream_name), report)
    summary = replayer.run(progress=False)
    lines.append(summary_line(summary))
    with _flow_log_format(flow_log_format):
        stream.close()  # the replayed records wait in the stream's inbox until it runs
    return LocalReplay(summary, lines, stream.stats.objects[written_before:])
