"""The whole system on loopback: flow-log lines -> CloudWatch filter -> Firehose + transform -> S3 (moto)
-> notifier -> Datadog intake; then the named queries over the archive with DuckDB. With the source
`firehose`, the lines go straight into Firehose as flow logs delivered there do (no CloudWatch).

The input lines are streamed: memory depends on the traffic of a few minutes, not on the input's length.

Only AWS and Datadog are stood in; the handlers, the layout, the filter pattern, the buffer sizes, the
SQL and the config defaults are the production definitions.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import quote_plus

import duckdb
import orjson
from tqdm import tqdm

from contracts import environment as env
from contracts.cloudwatch_logs import encode_payload
from contracts.flowlog import FlowLogFormat, subscription_filter_pattern
from contracts.lambdas import (
    NOTIFIER,
    TRANSFORM,
    NotifierResources,
    notifier_environment,
    transform_environment,
)
from contracts.settings import StackSettings
from local import query
from local.archive import mirror
from local.aws import ACCOUNT, without_profile
from local.baseline import create_table
from local.direct import direct_records
from local.firehose import DeliveryStream, StreamStats
from local.lambdas import LocalFunction, function_arn, lambda_log, tapped
from local.replaying import replay_failed
from local.services import LocalServices
from local.stack import STACK, LocalNames, patched_environ, stream_config
from local.subscription import FilterCounts, compile_pattern, deliveries, filter_lines
from local.summary import EventRecord, RunSummary

# The deployed functions' timeouts (contracts/lambdas.py): a run fails where `pulumi up`'s would.
TRANSFORM_TIMEOUT_S = float(TRANSFORM.timeout_seconds)
NOTIFIER_TIMEOUT_S = float(NOTIFIER.timeout_seconds)
PROGRESS_DELAY_S = 2.0  # a progress bar appears only for runs that take longer than this
CLOUDWATCH, FIREHOSE = "cloudwatch", "firehose"


@dataclass(frozen=True)
class RunOptions:
    lines: Iterable[str]  # read once, streamed
    fmt: FlowLogFormat
    out: Path  # written into (created if missing); files of the same name are overwritten
    settings: StackSettings
    source: str  # where the lines came from, for the summary
    progress: bool | None = None  # None: a bar on a terminal, for runs longer than PROGRESS_DELAY_S
    via: str = CLOUDWATCH  # how the lines reach Firehose: a CloudWatch subscription or directly
    clock_ms: int | None = None  # arrival time of lines without a time field (default: now)
    started: float | None = None  # time.monotonic() when the user's command started
    replay_format: str | None = None  # after delivery, replay errors/ with the transform set to this format


def handler_environment(settings: StackSettings, fmt: FlowLogFormat, names: LocalNames,
                        secret_arn: str, baseline_table: str | None = None) -> dict[str, str]:
    """Both handlers' variables as the stack writes them (contracts/lambdas.py), for a stack `local`.

    Both handlers run in this one process, so the variables are merged; POWERTOOLS_SERVICE_NAME, the one
    they disagree on, is left out (each handler names its service itself). With a `baseline_table` (a
    stand-in table) the BASELINE_* variables follow the settings as the stack's do.
    """
    transform = transform_environment(replace(settings.flow_logs, format=fmt))
    notifier = notifier_environment(settings.notifications, STACK, NotifierResources[str](
        api_key_secret_arn=secret_arn, athena_database=names.athena_database,
        athena_table=names.athena_table, athena_workgroup=names.athena_workgroup,
        baseline_table=baseline_table,
    ), settings.baseline)
    merged = {**transform, **notifier}
    merged.pop(env.POWERTOOLS_SERVICE_NAME)
    return merged


def _baseline_table(options: RunOptions, names: LocalNames) -> str | None:
    """The run's stand-in baseline table, as the stack creates one: when `baselineDays` is above 0."""
    return names.baseline_table if options.settings.baseline.enabled else None


def lambda_environment(options: RunOptions, names: LocalNames, services: LocalServices,
                       secret_arn: str) -> dict[str, str | None]:
    # A user's own per-service endpoints would send the handlers elsewhere; only ours apply here.
    stray = {name: None for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")}
    return {
        **stray,
        **without_profile(),
        **services.aws.environment(),
        "AWS_ENDPOINT_URL_FIREHOSE": services.firehose_url,
        **handler_environment(options.settings, options.fmt, names, secret_arn,
                              _baseline_table(options, names)),
        # Notifier: the key comes from Secrets Manager as in the stack, only the URL differs.
        env.DD_API_URL: services.datadog_url,
        env.DD_API_KEY: None,
    }


def run(options: RunOptions, services: LocalServices | None = None) -> RunSummary:
    """Run the pipeline; with no `services`, start them for this run and stop them at the end."""
    if services is None:
        with LocalServices() as own:
            return run(options, own)
    started = time.monotonic() if options.started is None else options.started
    options.out.mkdir(parents=True, exist_ok=True)
    names = LocalNames.for_run(options.settings, services.next_run())
    services.aws.create_bucket(names.bucket)
    secret_arn = services.aws.create_secret(names.secret, services.api_key)
    if _baseline_table(options, names) is not None:
        create_table(services.aws.client("dynamodb"), names.baseline_table)
    pattern = subscription_filter_pattern(options.fmt, options.settings.flow_logs.keep_actions)
    summary = RunSummary(options.source, options.fmt.text, pattern, names.bucket, via=options.via)
    region = services.aws.region
    transform = LocalFunction("transform.handler", names.transform,
                              function_arn(names.transform, region, ACCOUNT), TRANSFORM_TIMEOUT_S)
    notifier = LocalFunction("notifier.handler", names.notifier,
                             function_arn(names.notifier, region, ACCOUNT), NOTIFIER_TIMEOUT_S)
    environment = lambda_environment(options, names, services, secret_arn)
    first_event = len(services.datadog.events)
    with patched_environ(environment), lambda_log(str(options.out / "lambda.log")):
        # Forget what a previous run in this process cached (clients of another moto, another Firehose).
        transform.reset()
        notifier.reset()
        stats = _deliver(options, names, services, transform, pattern, summary)
        if options.replay_format is not None:
            # Before notifying: what the replay archives joins the stream's objects, notified like the rest.
            summary.replay = replay_failed(services, names.bucket, names.stream, options.replay_format).lines
        _notify(names, services, notifier, stats, summary)
    mirror(services.aws.client("s3"), names.bucket, options.out, summary)
    _query(options.out / "s3" / names.bucket, names.athena_table, options.out / "queries", summary)
    _write_events(services.datadog.events[first_event:], options.out / "datadog-events.jsonl")
    summary.seconds = round(time.monotonic() - started, 2)
    (options.out / "summary.json").write_bytes(summary.as_json())
    return summary


def _deliver(options: RunOptions, names: LocalNames, services: LocalServices, transform: LocalFunction,
             pattern: str, summary: RunSummary) -> StreamStats:
    """The lines -> (CloudWatch stand-in ->) Firehose stand-in -> S3. Returns the stream's statistics."""
    s3 = services.aws.client("s3")

    def put_object(key: str, body: bytes) -> None:
        s3.put_object(Bucket=names.bucket, Key=key, Body=body)

    stream = DeliveryStream(stream_config(options.settings, names, transform.arn), transform, put_object)
    services.firehose.register(stream)
    clock_ms = options.clock_ms if options.clock_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
    counts = FilterCounts()
    show = options.progress if options.progress is not None else sys.stderr.isatty()
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(tqdm(unit=" lines", desc="flow logs → firehose", disable=not show,
                                       file=sys.stderr, leave=False, delay=PROGRESS_DELAY_S))
        lines = _counted(options.lines, bar)
        if options.via == FIREHOSE:
            for record in direct_records(lines, options.fmt, counts, clock_ms):
                stream.put(record.data, record.arrival_ms)
                summary.messages += 1
        else:
            not_shipped = stack.enter_context(_LazyLog(options.out / "not-shipped.log"))
            shipped = filter_lines(lines, compile_pattern(pattern), counts, options.fmt.fields,
                                   not_shipped.write)
            for delivery in deliveries(shipped, options.fmt, names.log_group, ACCOUNT, names.filter_name,
                                       clock_ms):
                stream.put(encode_payload(orjson.dumps(delivery.message.as_dict())), delivery.arrival_ms)
                summary.messages += 1
        stream.close()
    summary.lines_in, summary.header_lines, summary.blank_lines = counts.lines, counts.header, counts.blank
    summary.shipped, summary.not_shipped, summary.filtered_out = (
        counts.shipped, counts.not_shipped, counts.filtered_out)
    stats = stream.stats
    summary.firehose = {
        "records_in": stats.records_in, "records_reingested": stats.records_reingested,
        "invocations": stats.invocations, "failed_invocations": stats.failed_invocations,
        "ok": stats.ok, "dropped": stats.dropped, "processing_failed": stats.processing_failed,
        "processor_errors": dict(stats.processor_errors), "max_response_bytes": stats.max_response_bytes,
        "transform_invocations": transform.invocations,
    }
    return stats


def _counted(lines: Iterable[str], bar: tqdm) -> Iterator[str]:
    for count, line in enumerate(lines, start=1):
        yield line
        if count % 10_000 == 0:
            bar.update(10_000)


class _LazyLog:
    """`not-shipped.log`: created at the first line written to it, so a clean input leaves none."""

    def __init__(self, path: Path):
        self.path = path
        self._handle: IO[str] | None = None

    def write(self, number: int, line: str) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8")
        self._handle.write(f"{number}: {line}\n")

    def __enter__(self) -> _LazyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()


def s3_event(bucket: str, key: str, size: int, region: str) -> dict:
    """An `ObjectCreated:Put` notification as S3 sends it: one record, the key URL-encoded."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region,
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "archive-objects",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key, safe="/"), "size": size},
        },
    }]}


def _notify(names: LocalNames, services: LocalServices, notifier: LocalFunction, stats: StreamStats,
            summary: RunSummary) -> None:
    """One S3 notification per object written, in order, each to the real notifier."""
    for written in stats.objects:
        before = len(services.datadog.events)
        try:
            with tapped(env.NOTIFIER_SERVICE) as logged:
                answer = notifier(s3_event(names.bucket, written.key, written.size, services.aws.region))
        except Exception as error:  # a failed async invocation: in AWS, Lambda retries it, then the DLQ
            summary.events.append(EventRecord(written.key, f"failed: {type(error).__name__}: {error}"))
            continue
        outcomes = list((answer or {}).get("objects", {}).values())
        record = EventRecord(written.key, outcomes[0] if outcomes else "unknown")
        for body in services.datadog.events[before:]:
            record.title, record.alert_type = body.get("title", ""), body.get("alert_type", "")
        # The baseline's word on the object, as the notifier logs it with the event it posted.
        for entry in logged:
            if entry.get("message") == "event posted" and "baseline" in entry:
                record.baseline, record.verdicts = entry["baseline"], entry.get("verdicts", {})
        summary.events.append(record)
    summary.events_posted = sum(1 for event in summary.events if event.title)


def _query(bucket_root: Path, table: str, directory: Path, summary: RunSummary) -> None:
    with duckdb.connect() as con:
        summary.archive_rows = query.create_table(con, bucket_root, table)
        day = query.busiest_day(con, table) if summary.archive_rows else None
        if day is None:
            return
        interface = query.busiest_interface(con, table, day)
        summary.query_day, summary.query_interface = list(day), interface
        summary.queries = query.run_named_queries(con, table, day, interface)
    query.write_results(summary.queries, directory)


def _write_events(bodies: Sequence[dict], path: Path) -> None:
    path.write_bytes(b"".join(orjson.dumps(body) + b"\n" for body in bodies))
