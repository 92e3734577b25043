"""Firehose transform Lambda: flow logs in, kept flows out as NDJSON (docs/architecture.md, The transform)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from contracts import environment as env
from contracts.flowlog import FlowLogFormatError, parse_format, parse_keep_actions
from transform.batch import plan_response, summarise, transform_record
from transform.encoder import LineEncoder
from transform.firehose import TransformationEvent, response
from transform.reingest import Reingester, ReingestionError

logger = Logger(service=env.TRANSFORM_SERVICE)
metrics = Metrics(namespace=env.METRICS_NAMESPACE, service=env.TRANSFORM_SERVICE)


@cache
def encoder_for(format_text: str | None, keep_actions_text: str | None) -> LineEncoder:
    """Raises FlowLogFormatError for a bad FLOW_LOG_FORMAT/KEEP_ACTIONS: Firehose retries, then errors/."""
    return LineEncoder(parse_format(format_text), parse_keep_actions(keep_actions_text))


@cache
def firehose_client(region: str) -> Any:
    # boto3 honours AWS_ENDPOINT_URL_FIREHOSE, which points re-ingestion at a local stand-in.
    return boto3.client("firehose", region_name=region or None)


def metric_name(key: str) -> str:
    """`flows_kept` -> `FlowsKept`: metrics are named as the notifier's are, log keys stay snake_case."""
    return "".join(part.title() for part in key.split("_"))


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        encoder = encoder_for(os.environ.get(env.FLOW_LOG_FORMAT), os.environ.get(env.KEEP_ACTIONS))
        batch = TransformationEvent.from_event(event)
        outcomes = [transform_record(record, encoder) for record in batch.records]
        plan = plan_response(outcomes)
        for record_id, reason in plan.failed.items():
            logger.warning("record failed", extra={"record_id": record_id, "reason": reason})
        if plan.reingest_payloads:
            Reingester(firehose_client(batch.region), batch.delivery_stream_name).put(plan.reingest_payloads)
    except (FlowLogFormatError, ReingestionError):
        # Failing the invocation makes Firehose retry the batch, then keep it under errors/.
        metrics.add_metric(name="InvocationsFailed", unit=MetricUnit.Count, value=1)
        raise
    summary = summarise(batch, outcomes, plan)
    logger.info("transformed batch", extra={"invocation_id": batch.invocation_id, **summary})
    for key, value in summary.items():
        unit = MetricUnit.Bytes if key.startswith("bytes") else MetricUnit.Count
        metrics.add_metric(name=metric_name(key), unit=unit, value=value)
    return response(plan.outputs)
