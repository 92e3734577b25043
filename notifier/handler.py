"""S3 ObjectCreated -> one Datadog event per archived object (docs/architecture.md, The notifier).

Per object: skip it if already marked; stream and summarise it; post one event; mark it. An object that
cannot be read (not gzip, truncated, no flow record in it) gets one `error` event instead and is marked
too, since reading it again cannot help; an object deleted before it was read is skipped. Clients,
settings and the API key are created on first use and kept for the container (no I/O at import);
`reset()` forgets them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from contracts.environment import METRICS_NAMESPACE, NOTIFIER_SERVICE
from contracts.layout import is_data_key, is_error_key, object_key_from_event
from notifier import storage
from notifier.datadog import (
    DatadogAuthError,
    DatadogError,
    EventsApi,
    RetryPolicy,
    events_api,
    post_event,
)
from notifier.model import EventDraft, ObjectRef
from notifier.reading import ObjectUnreadableError, SummaryTimeoutError, summarise_object
from notifier.render_errors import unreadable_event
from notifier.secrets import ApiKeySource, secrets_provider
from notifier.settings import Settings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

logger = Logger(service=NOTIFIER_SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=NOTIFIER_SERVICE)

# S3's answers for an object that is gone (GetObject says NoSuchKey; a HEAD-like call says 404). S3 gives
# them only to a caller allowed s3:ListBucket on the bucket; any other caller gets AccessDenied (403) for a
# missing key (S3 GetObject API reference, checked 2026-11), which is raised here like any denial.
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _boto3_client(name: str) -> Any:
    import boto3  # the client is made on first use; botocore reads AWS_ENDPOINT_URL* then, not at import

    return boto3.client(name)


@dataclass
class Runtime:
    """Everything an invocation needs that outlives it; tests build one with fakes."""

    settings: Settings
    s3_factory: Callable[[], Any] = lambda: _boto3_client("s3")
    secrets_factory: Callable[[], SecretsProvider] = secrets_provider
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    _s3: Any = None
    _api: EventsApi | None = None
    _api_key: str | None = field(default=None, repr=False)
    _key_source: ApiKeySource | None = None

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = self.s3_factory()
        return self._s3

    def events_api(self, *, refresh_key: bool = False) -> EventsApi:
        """A client with the current key (cached by Powertools); `refresh_key` reads the secret again."""
        if self._key_source is None:
            self._key_source = ApiKeySource(self.settings.api_key_secret_arn, self.settings.api_key,
                                            self.secrets_factory)
        key = self._key_source.get(force_fetch=refresh_key)
        if self._api is None or key != self._api_key:
            self._api, self._api_key = events_api(self.settings.api_url, key), key
        return self._api

    def key_in_use(self) -> str | None:
        return self._api_key


_runtime: Runtime | None = None


def runtime(environ: Mapping[str, str] = os.environ) -> Runtime:
    """The container's runtime, built on first use from the environment (a bad setting raises here)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime(settings=load_settings(environ))
    return _runtime


def set_runtime(value: Runtime | None) -> None:
    """Replace (or with None, forget) the container's runtime; `reset()` is the usual way to forget it."""
    global _runtime
    _runtime = value


def reset() -> None:
    """Forget this container's state (settings, S3 client, API key and its cache): the next call starts cold.

    The local pipeline calls it between runs, which point at other stand-in endpoints.
    """
    set_runtime(None)


def objects_in(event: Mapping[str, Any]) -> Iterator[ObjectRef]:
    for record in event.get("Records", []):
        s3 = record["s3"]
        # The latest version is the one notified: Firehose never overwrites a key, and the
        # role then needs no *Version* permissions should the bucket ever be versioned.
        yield ObjectRef(bucket=s3["bucket"]["name"], key=object_key_from_event(s3["object"]["key"]))


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING_OBJECT_CODES


def process_object(rt: Runtime, obj: ObjectRef, remaining_s: Callable[[], float]) -> str:
    """Returns what happened: `posted`, `unreadable`, `already-notified`, `empty`, `missing` or `ignored`."""
    log: dict[str, Any] = {"bucket": obj.bucket, "object_key": obj.key}
    if not (is_data_key(obj.key) or is_error_key(obj.key)):
        logger.warning("object outside rejected/ and errors/: ignored", extra=log)
        return "ignored"
    try:
        # The mark is checked before reading: a redelivered notification costs one small request.
        if storage.MARK_TAG in storage.get_tags(rt.s3, obj):
            logger.info("object already notified: skipped", extra=log)
            metrics.add_metric(name="ObjectsAlreadyNotified", unit=MetricUnit.Count, value=1)
            return "already-notified"
        draft, facts = summarise_object(rt.s3, obj, rt.settings, rt.clock(), remaining_s,
                                        rt.policy.safety_margin_s + rt.policy.min_request_s)
    except ClientError as error:
        if not _missing(error):
            raise
        # Deleted (or expired) between the notification and now: nothing to summarise, nothing to retry.
        logger.warning("object no longer exists: skipped", extra=log)
        metrics.add_metric(name="ObjectsMissing", unit=MetricUnit.Count, value=1)
        return "missing"
    except SummaryTimeoutError as error:
        # Raised, so Lambda retries with a fresh invocation; counted like an event that was not posted,
        # since the object has none yet (the events-failed alarm watches this count).
        logger.error("event not posted",
                     extra={**log, "error": str(error), "error_type": type(error).__name__})
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        raise
    except ObjectUnreadableError as error:
        draft = unreadable_event(obj, error.reason, rt.settings.event_context(), rt.clock())
        facts = {"kind": "unreadable", "reason": error.reason}
        logger.error("object cannot be read: posting an error event", extra={**log, **facts})
    log.update(facts)
    if draft is None:
        logger.info("empty object: nothing posted", extra=log)
        return "empty"
    event_id = _post(rt, draft, remaining_s, log)
    _mark(rt, obj, event_id, log)
    logger.info("event posted", extra={**log, "event_id": event_id, "title": draft.title,
                                       "alert_type": draft.alert_type})
    _count(facts)
    return "unreadable" if facts["kind"] == "unreadable" else "posted"


def _post(rt: Runtime, draft: EventDraft, remaining_s: Callable[[], float],
          log: dict[str, Any]) -> str | None:
    """Post the event; after a 403 the key is read again (it may have been rotated) and used once more."""

    def post(api: EventsApi) -> str | None:
        return post_event(api, draft, remaining_s=remaining_s, sleep=rt.sleep, policy=rt.policy)

    try:
        try:
            return post(rt.events_api())
        except DatadogAuthError:
            refused = rt.key_in_use()
            api = rt.events_api(refresh_key=True)
            if rt.key_in_use() == refused:
                raise
            logger.info("Datadog refused the cached API key; posting with the key read again", extra=log)
            return post(api)
    except DatadogError as error:
        # Logged with the object's facts, then raised: Lambda retries and the DLQ keep the notification.
        logger.error("event not posted",
                     extra={**log, "error": str(error), "error_type": type(error).__name__})
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        raise


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
    if facts["kind"] == "unreadable":
        metrics.add_metric(name="UnreadableObjects", unit=MetricUnit.Count, value=1)
        return
    if facts["kind"] == "errors":
        metrics.add_metric(name="FailedRecordsReported", unit=MetricUnit.Count, value=facts["records"])
    else:
        metrics.add_metric(name="RejectedFlowsReported", unit=MetricUnit.Count, value=facts["flows"])
    if facts["invalid_lines"]:
        metrics.add_metric(name="InvalidLines", unit=MetricUnit.Count, value=facts["invalid_lines"])


@logger.inject_lambda_context
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    objects = list(objects_in(event))
    # Added first, so that an invocation that raises (even on a bad setting) still publishes a metric.
    metrics.add_metric(name="ObjectsReceived", unit=MetricUnit.Count, value=len(objects))
    rt = runtime()
    outcomes = {obj.uri: process_object(rt, obj, _remaining_s(context)) for obj in objects}
    return {"objects": outcomes}


def _remaining_s(context: LambdaContext) -> Callable[[], float]:
    return lambda: context.get_remaining_time_in_millis() / 1000
