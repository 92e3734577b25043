"""S3 ObjectCreated -> one Datadog event per archived object (docs/architecture.md, The notifier).

Per object: skip it if already marked; stream and summarise it; post one event; mark it. An object that
cannot be read (not gzip, truncated, no flow record in it) gets one `error` event instead and is marked
too, since reading it again cannot help; an object deleted before it was read is skipped. An event that
Datadog refuses (400, or 413 after a smaller resend) marks the object refused and returns normally.
Notifications come straight from S3, through SNS or through EventBridge (`notifier.intake`). Clients,
settings and the API key are created on first use and kept for the container (no I/O at import);
`reset()` forgets them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from contracts.environment import METRICS_NAMESPACE, NOTIFIER_SERVICE
from contracts.events import BASELINE_UNAVAILABLE as BASELINE_UNAVAILABLE_STATE
from contracts.events import notification_tag
from contracts.layout import is_data_key, is_error_key
from contracts.metrics import BASELINE_UNAVAILABLE
from notifier import storage
from notifier.baseline.step import Baseline
from notifier.datadog import (
    DatadogAuthError,
    DatadogError,
    DatadogRefusedError,
    EventsApi,
    RetryPolicy,
    events_api,
    post_event,
)
from notifier.event import draft_event, draft_unreadable
from notifier.intake import Intake, UnrecognisedEventError, read_notification
from notifier.model import EventDraft, ObjectRef
from notifier.reading import Facts, ObjectUnreadableError, SummaryTimeoutError, read_object
from notifier.secrets import ApiKeySource, quiet_wire_loggers, secrets_provider
from notifier.settings import Settings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

logger = Logger(service=NOTIFIER_SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=NOTIFIER_SERVICE)
# botocore and urllib3 never log bodies (botocore's DEBUG lines carry the secret): levels only, no I/O.
quiet_wire_loggers()

# S3's answers for an object that is gone (GetObject says NoSuchKey; a HEAD-like call says 404). S3 gives
# them only to a caller allowed s3:ListBucket on the bucket; any other caller gets AccessDenied (403) for a
# missing key (S3 GetObject API reference, checked 2026-11), which is raised here like any denial.
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _boto3_client(name: str) -> Any:
    import boto3  # the client is made on first use; botocore reads AWS_ENDPOINT_URL* then, not at import

    return boto3.client(name)


def _dynamodb_client() -> Any:
    """The baseline's client: a few quick attempts, since the event goes out without verdicts anyway."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", config=Config(connect_timeout=2, read_timeout=5,
                                                  retries={"mode": "standard", "max_attempts": 3}))


@dataclass
class Runtime:
    """Everything an invocation needs that outlives it; tests build one with fakes."""

    settings: Settings
    s3_factory: Callable[[], Any] = lambda: _boto3_client("s3")
    secrets_factory: Callable[[], SecretsProvider] = secrets_provider
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    dynamodb_factory: Callable[[], Any] = _dynamodb_client
    _s3: Any = None
    _baseline: Baseline | None = None
    _api: EventsApi | None = None
    _api_key: str | None = field(default=None, repr=False)
    _key_source: ApiKeySource | None = None

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = self.s3_factory()
        return self._s3

    @property
    def baseline(self) -> Baseline | None:
        """The baseline (docs/architecture.md, The notifier), when BASELINE_TABLE is set."""
        if self._baseline is None and self.settings.baseline is not None:
            self._baseline = Baseline(self.settings.baseline, self.dynamodb_factory)
        return self._baseline

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


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING_OBJECT_CODES


def process_object(rt: Runtime, obj: ObjectRef, remaining_s: Callable[[], float]) -> str:
    """Returns what happened: `posted`, `unreadable`, `refused`, `already-notified`, `already-refused`,
    `empty`, `missing` or `ignored`.

    The path, one step each: the object (skipped when outside the archive or marked) → its lines → its
    summary (`notifier.reading`) → its event drafted once (`notifier.event`) → post → mark."""
    log: dict[str, Any] = {"bucket": obj.bucket, "object_key": obj.key}
    try:
        skipped = _skipped(rt, obj, log)
        if skipped:
            return skipped
        event, facts = _read_and_draft(rt, obj, remaining_s, log)
    except ClientError as error:
        if not _missing(error):
            raise
        # Deleted (or expired) between the notification and now: nothing to summarise, nothing to retry.
        logger.warning("object no longer exists: skipped", extra=log)
        metrics.add_metric(name="ObjectsMissing", unit=MetricUnit.Count, value=1)
        return "missing"
    log.update(facts)
    if event is None:
        logger.info("empty object: nothing posted", extra=log)
        return "empty"
    return _post_and_mark(rt, obj, event, facts, remaining_s, log)


def _skipped(rt: Runtime, obj: ObjectRef, log: dict[str, Any]) -> str | None:
    """`ignored` outside rejected/ and errors/; the mark's outcome when the object carries one; else None."""
    if not (is_data_key(obj.key) or is_error_key(obj.key)):
        logger.warning("object outside rejected/ and errors/: ignored", extra=log)
        return "ignored"
    # The marks are checked before reading: a redelivered notification costs one small request.
    return _already_done(storage.get_tags(rt.s3, obj), log)


def _read_and_draft(rt: Runtime, obj: ObjectRef, remaining_s: Callable[[], float],
                    log: dict[str, Any]) -> tuple[EventDraft | None, Facts]:
    """The object read and summarised, then its event drafted; an unreadable object's error event."""
    now_s = rt.clock()
    try:
        reading = read_object(rt.s3, obj, rt.settings, now_s, remaining_s,
                              rt.policy.safety_margin_s + rt.policy.min_request_s, rt.baseline)
    except SummaryTimeoutError as error:
        # Raised, so Lambda retries with a fresh invocation; counted like an event that was not posted,
        # since the object has none yet (the events-failed alarm watches this count).
        logger.error("event not posted",
                     extra={**log, "error": str(error), "error_type": type(error).__name__})
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        raise
    except ObjectUnreadableError as error:
        event = draft_unreadable(obj, error.reason, rt.settings.event_context(), rt.clock())
        facts: Facts = {"kind": "unreadable", "reason": error.reason}
        logger.error("object cannot be read: posting an error event", extra={**log, **facts})
        return event, facts
    return draft_event(reading, rt.settings.event_context(), now_s), reading.facts


def _post_and_mark(rt: Runtime, obj: ObjectRef, event: EventDraft, facts: Facts,
                   remaining_s: Callable[[], float], log: dict[str, Any]) -> str:
    """Post the event, mark the object (refused, or with the event's id), count what was reported."""
    # The same tag on every post of this object (the event carries it): a repeat is recognisable.
    log["notification"] = notification_tag(obj.uri)
    try:
        event_id = _post(rt, event, remaining_s, log)
    except DatadogRefusedError as error:
        _mark(rt, obj, log, refused=f"HTTP {error.status}: {error.reason}")
        return "refused"
    _mark(rt, obj, log, event_id=event_id)
    logger.info("event posted", extra={**log, "event_id": event_id, "title": event.title,
                                       "alert_type": event.alert_type})
    _count(facts)
    return "unreadable" if facts["kind"] == "unreadable" else "posted"


def _already_done(tags: Mapping[str, str], log: dict[str, Any]) -> str | None:
    """`already-notified` or `already-refused` when the object carries that mark, else None."""
    if storage.MARK_TAG in tags:
        logger.info("object already notified: skipped", extra=log)
        metrics.add_metric(name="ObjectsAlreadyNotified", unit=MetricUnit.Count, value=1)
        return "already-notified"
    if storage.REFUSED_TAG in tags:
        logger.info("Datadog refused this object's event before: skipped (remove the object's "
                    f"{storage.REFUSED_TAG} tag to post it again)",
                    extra={**log, "refused": tags[storage.REFUSED_TAG]})
        return "already-refused"
    return None


def _post(rt: Runtime, draft: EventDraft, remaining_s: Callable[[], float],
          log: dict[str, Any]) -> str | None:
    """Post the event; after a 403 the key is read again (it may have been rotated) and used once more."""

    def repeat(what: str) -> None:
        logger.warning("Datadog may have the event already; posting it again: a second event would carry "
                       "the same notification tag", extra={**log, "error": what})

    def post(api: EventsApi) -> str | None:
        return post_event(api, draft, remaining_s=remaining_s, sleep=rt.sleep, policy=rt.policy,
                          on_repeat=repeat)

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
    except DatadogRefusedError as error:
        # No retry can fix it: counted and logged here, the object marked refused by the caller, and the
        # invocation returns normally (a raise would have Lambda post the same refused event twice more).
        logger.error("Datadog refused the event: the object is marked refused and not retried",
                     extra={**log, "status": error.status, "error": str(error),
                            "error_type": type(error).__name__})
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        raise
    except DatadogError as error:
        # Logged with the object's facts, then raised: Lambda retries and the DLQ keep the notification.
        logger.error("event not posted",
                     extra={**log, "error": str(error), "error_type": type(error).__name__})
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        raise


def _mark(rt: Runtime, obj: ObjectRef, log: dict[str, Any], *, event_id: str | None = None,
          refused: str | None = None) -> None:
    """Tag the object as notified (or, with `refused`, as refused). A failure is logged, not raised:
    raising would make Lambda post the event again, while only a rare S3 redelivery can if we carry on."""
    tag = storage.REFUSED_TAG if refused is not None else storage.MARK_TAG
    try:
        # Tags are read again: another writer may have tagged the object while we summarised it.
        tags = storage.get_tags(rt.s3, obj)
        if tag in tags or len(tags) < storage.MAX_TAGS:
            if refused is not None:
                storage.put_refused(rt.s3, obj, tags, refused)
            else:
                storage.put_mark(rt.s3, obj, tags, event_id or "accepted")
            return
        reason = f"the object has {storage.MAX_TAGS} tags already"
    except ClientError as error:
        reason = f"{error.response.get('Error', {}).get('Code', 'ClientError')}: {error}"
    what = "event refused but the object could not be marked refused" if refused is not None else \
        "event posted but the object could not be marked"
    logger.error(f"{what}; a redelivery would post again",
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
    if facts.get("baseline") == BASELINE_UNAVAILABLE_STATE:
        metrics.add_metric(name=BASELINE_UNAVAILABLE, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    intake = _intake(event)
    objects = intake.created
    # Added first, so that an invocation that raises (even on a bad setting) still publishes a metric.
    metrics.add_metric(name="ObjectsReceived", unit=MetricUnit.Count, value=len(objects))
    rt = runtime()
    outcomes = {obj.uri: process_object(rt, obj, _remaining_s(context)) for obj in objects}
    answer: dict[str, Any] = {"objects": outcomes}
    if intake.skipped:
        answer["skipped"] = [{"event": s.event, "via": s.via, **({"object": s.obj.uri} if s.obj else {})}
                             for s in intake.skipped]
    return answer


def _intake(event: dict[str, Any]) -> Intake:
    """The objects created; what else the notification says is logged and skipped."""
    try:
        intake = read_notification(event)
    except UnrecognisedEventError as error:
        # Raised: Lambda's retries and then the dead-letter queue keep the event for a look.
        logger.error("not an S3 notification the notifier reads", extra={"error": str(error)})
        metrics.add_metric(name="ObjectsReceived", unit=MetricUnit.Count, value=0)
        raise
    for skipped in intake.skipped:
        where = {"bucket": skipped.obj.bucket, "object_key": skipped.obj.key} if skipped.obj else {}
        logger.info("notification skipped: not an object creation",
                    extra={"event_name": skipped.event, "via": skipped.via, **where})
    return intake


def _remaining_s(context: LambdaContext) -> Callable[[], float]:
    return lambda: context.get_remaining_time_in_millis() / 1000
