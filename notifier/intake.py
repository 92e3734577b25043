"""Which archived objects a notification names: S3's own event, SNS-wrapped, or through EventBridge.

docs/architecture.md, The notifier ("Intake"). Each shape is read as Powertools' data classes describe it
(`S3Event`, `SNSEvent`, `S3EventBridgeNotificationEvent`): S3 sends `Records[].s3` with `eventName`
`ObjectCreated:Put` and the like (S3 user guide, "Event message structure"); SNS carries that same
document as the text of `Records[].Sns.Message` (or S3's test event); EventBridge sends `source` `aws.s3`,
`detail-type` `Object Created` and `detail.bucket.name`, `detail.object.key` (S3 user guide, "EventBridge
event message structure"; checked 2026-12). Only object creations are processed; anything else S3 can
say (`ObjectRemoved:*`, `s3:TestEvent`, `Object Deleted`, ...) is returned as skipped, for the handler to
log. An event of no known shape raises `UnrecognisedEventError`, naming its top-level keys, never its
content. Pure: no I/O.

Keys: S3 URL-encodes them (`=` as `%3D`, a space as `+`); Powertools decodes EventBridge's with
`unquote_plus` too. Both raw keys are decoded in one place, `contracts.layout.object_key_from_event`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event, S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.data_classes.sns_event import SNSEvent

from contracts.layout import object_key_from_event
from notifier.model import ObjectRef

S3_SOURCE = "aws:s3"
SNS_SOURCE = "aws:sns"
EVENTBRIDGE_SOURCE = "aws.s3"
# S3's own event names (no `s3:` prefix in the notification; the configuration names them with it).
CREATED_PREFIX = "ObjectCreated:"
EVENTBRIDGE_CREATED = "Object Created"
TEST_EVENT = "s3:TestEvent"


class UnrecognisedEventError(ValueError):
    """The notifier was invoked with an event that is not an S3 notification of a known shape."""


@dataclass(frozen=True)
class Skipped:
    """A notification that names no object to announce: its event name, and the object if it has one."""

    event: str
    via: str
    obj: ObjectRef | None = None


@dataclass
class Intake:
    """The objects created (in notification order) and what was skipped."""

    created: list[ObjectRef] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def read_notification(event: Mapping[str, Any]) -> Intake:
    """The objects an invocation's event names as created; raises UnrecognisedEventError otherwise."""
    intake = Intake()
    _read(event, "s3", intake)
    return intake


def _read(event: Mapping[str, Any], via: str, intake: Intake) -> None:
    if not isinstance(event, Mapping):
        raise UnrecognisedEventError(
            f"the notification ({via}) is a {type(event).__name__}, not a JSON object")
    if event.get("Event") == TEST_EVENT:
        # S3's test event (sent when a notification is configured) has no Records.
        intake.skipped.append(Skipped(TEST_EVENT, via))
    elif "Records" in event:
        for record in _records(event):
            _read_record(record, via, intake)
    elif event.get("source") == EVENTBRIDGE_SOURCE and "detail-type" in event:
        _read_eventbridge(event, via, intake)
    else:
        raise _unrecognised(event, via)


def _records(event: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    records = event["Records"]
    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise UnrecognisedEventError("`Records` is not a list of JSON objects")
    yield from records


def _read_record(record: Mapping[str, Any], via: str, intake: Intake) -> None:
    source = record.get("eventSource") or record.get("EventSource")
    try:
        if source == S3_SOURCE:
            _read_s3_record(record, via, intake)
        elif source == SNS_SOURCE:
            _read_sns_record(record, intake)
        else:
            raise UnrecognisedEventError(
                f"a record from {source!r} ({via}): only S3 notifications ({S3_SOURCE!r}), SNS messages "
                f"carrying them ({SNS_SOURCE!r}) and EventBridge's S3 events are read")
    except (KeyError, TypeError, AttributeError) as error:
        raise UnrecognisedEventError(
            f"a {source} record ({via}) without the fields its shape has: {type(error).__name__} {error}"
        ) from None


def _read_s3_record(raw: Mapping[str, Any], via: str, intake: Intake) -> None:
    record = next(S3Event({"Records": [raw]}).records)
    s3 = record.s3
    obj = ObjectRef(bucket=s3.bucket.name, key=_key(s3.get_object.key))
    name = record.event_name
    if name.removeprefix("s3:").startswith(CREATED_PREFIX):
        # The latest version is the one notified: Firehose never overwrites a key, and the
        # role then needs no *Version* permissions should the bucket ever be versioned.
        intake.created.append(obj)
    else:
        intake.skipped.append(Skipped(name, via, obj))


def _read_sns_record(raw: Mapping[str, Any], intake: Intake) -> None:
    message = next(SNSEvent({"Records": [raw]}).records).sns.message
    try:
        inner = orjson.loads(message)
    except orjson.JSONDecodeError:
        raise UnrecognisedEventError("an SNS message that is not JSON: not an S3 notification") from None
    _read(inner, "sns", intake)


def _read_eventbridge(raw: Mapping[str, Any], via: str, intake: Intake) -> None:
    event = S3EventBridgeNotificationEvent(dict(raw))
    via = "eventbridge" if via == "s3" else f"{via}/eventbridge"
    try:
        detail = event.detail
        # The raw key: Powertools' `.key` would decode it, and keys are decoded in one place only.
        obj = ObjectRef(bucket=detail.bucket.name, key=_key(detail.object["key"]))
    except (KeyError, TypeError, AttributeError) as error:
        raise UnrecognisedEventError(
            f"an EventBridge S3 event without `detail.bucket.name` and `detail.object.key` ({via}): "
            f"{type(error).__name__} {error}") from None
    if event.detail_type == EVENTBRIDGE_CREATED:
        intake.created.append(obj)
    else:
        intake.skipped.append(Skipped(event.detail_type, via, obj))


def _key(raw: object) -> str:
    if not isinstance(raw, str):
        raise TypeError(f"the object key is a {type(raw).__name__}, not a string")
    return object_key_from_event(raw)


def _unrecognised(event: Mapping[str, Any], via: str) -> UnrecognisedEventError:
    keys = ", ".join(sorted(str(k) for k in event)[:12]) or "none"
    return UnrecognisedEventError(
        f"not an S3 notification ({via}): expected `Records` (S3 or SNS), an EventBridge event with source "
        f"{EVENTBRIDGE_SOURCE!r}, or S3's test event; its top-level keys are: {keys}")
