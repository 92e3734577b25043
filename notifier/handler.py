"""S3 ObjectCreated -> one Datadog event per archived object (docs/architecture.md, The notifier).

Per object: skip it if already marked; stream and summarise it; post one event; mark it. Clients,
settings and the API key are created on first use and kept for the container (no I/O at import).
"""

from __future__ import annotations

import gzip
import os
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from contracts.environment import METRICS_NAMESPACE, NOTIFIER_SERVICE
from contracts.layout import is_data_key, is_error_key, object_key_from_event
from notifier import storage
from notifier.datadog import DatadogAuthError, DatadogError, EventsApi, RetryPolicy, events_api, post_event
from notifier.errorbatch import summarise_errors
from notifier.render import EventDraft, ObjectRef, error_event, flow_event
from notifier.secrets import CachedApiKey
from notifier.settings import Settings, load_settings
from notifier.stream import iter_lines
from notifier.summary import summarise_flows

logger = Logger(service=NOTIFIER_SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=NOTIFIER_SERVICE)

# Without a Lambda context (local runs), assume this much time per invocation.
DEFAULT_BUDGET_S = 60.0


def _boto3_client(name: str) -> Any:
    import boto3  # imported on first use: boto3 honours AWS_ENDPOINT_URL for local stand-ins

    return boto3.client(name)


@dataclass
class Runtime:
    """Everything an invocation needs that outlives it; tests build one with fakes."""

    settings: Settings
    s3_factory: Callable[[], Any] = lambda: _boto3_client("s3")
    secret_fetcher: Callable[[str], str] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    _s3: Any = None
    _api: EventsApi | None = None
    _api_key: CachedApiKey | None = None

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = self.s3_factory()
        return self._s3

    def events_api(self) -> EventsApi:
        if self._api is None:
            if self._api_key is None:
                self._api_key = CachedApiKey(self.secret_fetcher or _fetch_secret)
            key = self._api_key.get(self.settings.api_key_secret_arn, self.settings.api_key)
            self._api = events_api(self.settings.api_url, key)
        return self._api

    def forget_api_key(self) -> None:
        self._api = None
        self._api_key = None


_secrets_client: Any = None


def _fetch_secret(arn: str) -> str:
    global _secrets_client
    if _secrets_client is None:
        _secrets_client = _boto3_client("secretsmanager")
    return str(_secrets_client.get_secret_value(SecretId=arn)["SecretString"])


_runtime: Runtime | None = None


def runtime(environ: Mapping[str, str] = os.environ) -> Runtime:
    """The container's runtime, built on first use from the environment."""
    global _runtime, _secrets_client
    if _runtime is None:
        _secrets_client = None
        _runtime = Runtime(settings=load_settings(environ))
    return _runtime


def set_runtime(value: Runtime | None) -> None:
    """Replace (or with None, forget) the container's runtime: for tests and the local pipeline."""
    global _runtime, _secrets_client
    _runtime, _secrets_client = value, None


def objects_in(event: Mapping[str, Any]) -> Iterator[ObjectRef]:
    for record in event.get("Records", []):
        s3 = record["s3"]
        # The latest version is the one notified: Firehose never overwrites a key, and the
        # role then needs no *Version* permissions should the bucket ever be versioned.
        yield ObjectRef(bucket=s3["bucket"]["name"], key=object_key_from_event(s3["object"]["key"]))


def _remaining_s(context: Any, started: float, clock: Callable[[], float]) -> Callable[[], float]:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: context.get_remaining_time_in_millis() / 1000
    return lambda: DEFAULT_BUDGET_S - (clock() - started)


class ObjectReadError(RuntimeError):
    """The object's body is not readable gzip/NDJSON (truncated or corrupt); nothing was posted."""


def summarise_object(rt: Runtime, obj: ObjectRef) -> tuple[EventDraft | None, dict[str, Any]]:
    """Stream the object and render its event; None when there is nothing to say (empty object)."""
    body = storage.open_body(rt.s3, obj)
    try:
        return _summarise_body(rt, obj, body)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        # Raised, not skipped: Lambda's retries and the dead-letter queue keep the notification.
        raise ObjectReadError(f"{obj.uri} is not a readable gzip object ({error}); nothing was posted") \
            from None
    finally:
        body.close()


def _summarise_body(rt: Runtime, obj: ObjectRef, body: Any) -> tuple[EventDraft | None, dict[str, Any]]:
    ctx = rt.settings.event_context()
    if is_error_key(obj.key):
        errors = summarise_errors(iter_lines(body))
        facts = {"kind": "errors", "records": errors.records, "invalid_lines": errors.invalid_lines}
        return (None if errors.empty else error_event(errors, obj, ctx, rt.clock())), facts
    flows = summarise_flows(iter_lines(body))
    facts = {"kind": "rejected", "flows": flows.flows, "invalid_lines": flows.invalid_lines,
             "sources": flows.distinct_sources}
    return (None if flows.empty else flow_event(flows, obj, ctx, rt.clock())), facts


def process_object(rt: Runtime, obj: ObjectRef, remaining_s: Callable[[], float]) -> str:
    """Returns what happened: `posted`, `already-notified`, `empty` or `ignored`."""
    log = {"bucket": obj.bucket, "object_key": obj.key}
    if not (is_data_key(obj.key) or is_error_key(obj.key)):
        logger.warning("object outside rejected/ and errors/: ignored", extra=log)
        return "ignored"
    # The mark is checked before reading: a redelivered notification costs one small request.
    if storage.MARK_TAG in storage.get_tags(rt.s3, obj):
        logger.info("object already notified: skipped", extra=log)
        metrics.add_metric(name="ObjectsAlreadyNotified", unit=MetricUnit.Count, value=1)
        return "already-notified"
    draft, facts = summarise_object(rt, obj)
    log.update(facts)
    if draft is None:
        logger.info("empty object: nothing posted", extra=log)
        return "empty"
    try:
        event_id = post_event(rt.events_api(), draft, remaining_s=remaining_s, sleep=rt.sleep,
                              policy=rt.policy)
    except DatadogError as error:
        # Logged with the object's facts, then raised: Lambda retries and the DLQ keep the notification.
        logger.error("event not posted",
                     extra={**log, "error": str(error), "error_type": type(error).__name__})
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        if isinstance(error, DatadogAuthError):
            # The key may have been rotated since this container read it: read it again next time.
            rt.forget_api_key()
        raise
    _mark(rt, obj, event_id, log)
    logger.info("event posted", extra={**log, "event_id": event_id, "title": draft.title,
                                       "alert_type": draft.alert_type})
    _count(facts)
    return "posted"


def _mark(rt: Runtime, obj: ObjectRef, event_id: str | None, log: dict[str, Any]) -> None:
    """Tag the object as notified. A failure is logged, not raised: raising would make Lambda post the
    already accepted event again, while only a rare S3 redelivery can double it if we carry on."""
    try:
        # Tags are read again: another writer may have tagged the object while we summarised it.
        tags = storage.get_tags(rt.s3, obj)
        if storage.can_mark(tags):
            storage.put_mark(rt.s3, obj, tags, event_id or "accepted")
            return
        reason = f"the object has {storage.MAX_TAGS} tags already"
    except ClientError as error:
        reason = f"{error.response.get('Error', {}).get('Code', 'ClientError')}: {error}"
    logger.error("event posted but the object could not be marked; a redelivery would post again",
                 extra={**log, "event_id": event_id, "error": reason})
    metrics.add_metric(name="MarkFailed", unit=MetricUnit.Count, value=1)


def _count(facts: Mapping[str, Any]) -> None:
    metrics.add_metric(name="EventsPosted", unit=MetricUnit.Count, value=1)
    if facts["kind"] == "errors":
        metrics.add_metric(name="FailedRecordsReported", unit=MetricUnit.Count, value=facts["records"])
    else:
        metrics.add_metric(name="RejectedFlowsReported", unit=MetricUnit.Count, value=facts["flows"])
    if facts["invalid_lines"]:
        metrics.add_metric(name="InvalidLines", unit=MetricUnit.Count, value=facts["invalid_lines"])


@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    rt = runtime()
    remaining_s = _remaining_s(context, rt.clock(), rt.clock)
    objects = list(objects_in(event))
    # Added first, so that an invocation that raises still publishes a metric.
    metrics.add_metric(name="ObjectsReceived", unit=MetricUnit.Count, value=len(objects))
    outcomes = {obj.uri: process_object(rt, obj, remaining_s) for obj in objects}
    return {"objects": outcomes}
