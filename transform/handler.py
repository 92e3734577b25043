"""Firehose transform Lambda: flow-log records in, kept flows out (docs/architecture.md, The transform)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts import environment as env
from contracts.flowlog import FlowLogFormatError, parse_format, parse_keep_actions
from transform.batch import RecordOutcome, plan_response, summarise, transform_record
from transform.encoder import LineEncoder
from transform.firehose import TransformationEvent, response
from transform.reingest import Reingester, ReingestionError
from transform.repack import EventTooLargeError

logger = Logger(service=env.TRANSFORM_SERVICE)
metrics = Metrics(namespace=env.METRICS_NAMESPACE, service=env.TRANSFORM_SERVICE)

# One log line per unreadable line, up to this many per invocation (a wrong FLOW_LOG_FORMAT makes every
# line unreadable); the summary line always counts them all.
MAX_LOGGED_UNREADABLE_LINES = 100


@cache
def encoder_for(format_text: str | None, keep_actions_text: str | None) -> LineEncoder:
    """Raises FlowLogFormatError for a bad FLOW_LOG_FORMAT/KEEP_ACTIONS: Firehose retries, then errors/."""
    return LineEncoder(parse_format(format_text), parse_keep_actions(keep_actions_text))


@cache
def firehose_client(region: str) -> Any:
    # boto3 honours AWS_ENDPOINT_URL_FIREHOSE, which points re-ingestion at a local stand-in.
    return boto3.client("firehose", region_name=region or None)


def reset() -> None:
    """Forget what the container cached (the encoder per configuration, the Firehose client).

    For runs that change the environment between invocations in one process (the local pipeline, tests).
    """
    encoder_for.cache_clear()
    firehose_client.cache_clear()


def metric_name(key: str) -> str:
    """`flows_kept` -> `FlowsKept`: metrics are named as the notifier's are, log keys stay snake_case."""
    return "".join(part.title() for part in key.split("_"))


def log_unreadable_lines(outcomes: list[RecordOutcome]) -> None:
    lines = [line for outcome in outcomes for line in outcome.unreadable]
    for line in lines[:MAX_LOGGED_UNREADABLE_LINES]:
        logger.warning("unreadable line", extra={
            "record_id": line.record_id, "log_event_id": line.log_event_id, "reason": line.reason,
            "line": line.sample,
        })
    if len(lines) > MAX_LOGGED_UNREADABLE_LINES:
        logger.warning("more unreadable lines not logged one by one",
                       extra={"unreadable_lines_not_logged": len(lines) - MAX_LOGGED_UNREADABLE_LINES})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        encoder = encoder_for(os.environ.get(env.FLOW_LOG_FORMAT), os.environ.get(env.KEEP_ACTIONS))
        batch = TransformationEvent.from_event(event)
        outcomes = [transform_record(record, encoder) for record in batch.records]
        log_unreadable_lines(outcomes)
        plan = plan_response(outcomes)
        for record_id, reason in plan.failed.items():
            logger.warning("record failed", extra={"record_id": record_id, "reason": reason})
        if plan.reingest_payloads:
            Reingester(firehose_client(batch.region), batch.delivery_stream_name).put(plan.reingest_payloads)
    except (FlowLogFormatError, ReingestionError, EventTooLargeError):
        # Failing the invocation makes Firehose retry the batch, then keep it under errors/.
        metrics.add_metric(name="InvocationsFailed", unit=MetricUnit.Count, value=1)
        raise
    summary = summarise(batch, outcomes, plan)
    logger.info("transformed batch", extra={"invocation_id": batch.invocation_id, **summary})
    for key, value in summary.items():
        unit = MetricUnit.Bytes if key.startswith("bytes") else MetricUnit.Count
        metrics.add_metric(name=metric_name(key), unit=unit, value=value)
    return response(plan.outputs)
