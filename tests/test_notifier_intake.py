"""How notifications come in: S3's own, SNS-wrapped and EventBridge's, from AWS's documented samples.

Only object creations are processed; removals and S3's test event are logged and skipped; an event of
no known shape is a clear error. The samples are tests/events/*.json; tests change only the bucket and
the key they need.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier import handler as notifier
from notifier.intake import Skipped, UnrecognisedEventError, read_notification
from notifier.model import ObjectRef
from notifier.storage import MARK_TAG
from tests.aws_events import load_event
from tests.notifier_support import (
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    EVENTS,
    emf_metrics,
    gz,
    invoke,
    ndjson,
    put,
    scanner_batch,
    tags_of,
)


def s3_sample(name: str = "s3-object-created-put", bucket: str = BUCKET, key: str = DATA_KEY) -> dict:
    """An S3 sample naming `bucket` and `key` (URL-encoded, as S3 sends it)."""
    event = load_event(name)
    s3 = event["Records"][0]["s3"]
    s3["bucket"]["name"], s3["bucket"]["arn"] = bucket, f"arn:aws:s3:::{bucket}"
    s3["object"]["key"] = quote_plus(key)
    return event


def eventbridge_sample(name: str = "eventbridge-s3-object-created", bucket: str = BUCKET,
                       key: str = DATA_KEY) -> dict:
    event = load_event(name)
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = quote_plus(key)
    return event


def via_sns(message: Any) -> dict:
    """AWS's SNS sample carrying `message` (a notification, as S3 or EventBridge publish it to a topic)."""
    event = load_event("sns-notification")
    event["Records"][0]["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
    return event


# --- the shapes, read -------------------------------------------------------------------------------

def test_the_s3_sample_names_its_object_with_the_key_decoded():
    intake = read_notification(load_event("s3-object-created-put"))
    assert intake.created == [ObjectRef("example-bucket", "test/key")] and intake.skipped == []


@pytest.mark.parametrize(("event", "expected"), [
    (lambda: load_event("s3-object-removed-delete"),
     Skipped("ObjectRemoved:Delete", "s3", ObjectRef("example-bucket", "test/key"))),
    (lambda: load_event("s3-test-event"), Skipped("s3:TestEvent", "s3")),
    (lambda: load_event("eventbridge-s3-object-deleted"),
     Skipped("Object Deleted", "eventbridge", ObjectRef("amzn-s3-demo-bucket1", "example-key"))),
    (lambda: via_sns(load_event("s3-test-event")), Skipped("s3:TestEvent", "sns")),
    (lambda: via_sns(load_event("s3-object-removed-delete")),
     Skipped("ObjectRemoved:Delete", "sns", ObjectRef("example-bucket", "test/key"))),
], ids=["s3-removed", "s3-test-event", "eventbridge-deleted", "sns-test-event", "sns-removed"])
def test_what_is_not_an_object_creation_is_skipped(event, expected):
    intake = read_notification(event())
    assert intake.created == [] and intake.skipped == [expected]


@pytest.mark.parametrize(("event", "expected"), [
    (lambda: load_event("eventbridge-s3-object-created"), ObjectRef("amzn-s3-demo-bucket1", "example-key")),
    (lambda: via_sns(load_event("s3-object-created-put")), ObjectRef("example-bucket", "test/key")),
    (lambda: via_sns(load_event("eventbridge-s3-object-created")),
     ObjectRef("amzn-s3-demo-bucket1", "example-key")),
], ids=["eventbridge", "sns-s3", "sns-eventbridge"])
def test_sns_and_eventbridge_notifications_name_the_object_created(event, expected):
    intake = read_notification(event())
    assert intake.created == [expected] and intake.skipped == []


def test_several_records_keep_their_order_and_each_is_judged_alone():
    created = s3_sample(key="rejected/a.gz")
    removed = s3_sample("s3-object-removed-delete", key="rejected/b.gz")
    event = {"Records": [*created["Records"], *removed["Records"], *s3_sample(key="errors/c.gz")["Records"]]}

    intake = read_notification(event)

    assert intake.created == [ObjectRef(BUCKET, "rejected/a.gz"), ObjectRef(BUCKET, "errors/c.gz")]
    assert intake.skipped == [Skipped("ObjectRemoved:Delete", "s3", ObjectRef(BUCKET, "rejected/b.gz"))]


@given(key=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200))
def test_s3_and_eventbridge_decode_any_key_the_same_way_once(key):
    from_s3 = read_notification(s3_sample(key=key)).created
    from_eventbridge = read_notification(eventbridge_sample(key=key)).created
    assert from_s3 == from_eventbridge == [ObjectRef(BUCKET, key)]


def unreadable(event: dict) -> str:
    with pytest.raises(UnrecognisedEventError) as raised:
        read_notification(event)
    return str(raised.value)


def test_an_unknown_shape_names_its_top_level_keys_not_its_content():
    message = unreadable({"invocationId": "x", "deliveryStreamArn": "arn:secret-ish", "records": []})
    assert "not an S3 notification" in message
    assert "deliveryStreamArn, invocationId, records" in message and "arn:secret-ish" not in message


@pytest.mark.parametrize(("event", "says"), [
    (lambda: {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, "only S3 notifications"),
    (lambda: {"Records": "nope"}, "`Records` is not a list"),
    (lambda: {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]},
     "without the fields"),
    (lambda: via_sns("Hello from SNS!"), "SNS message that is not JSON"),
    (lambda: via_sns({"hello": "sns"}), "its top-level keys are: hello"),
    (lambda: {"source": "aws.s3", "detail-type": "Object Created", "detail": {}},
     "without `detail.bucket.name` and `detail.object.key`"),
    (lambda: via_sns([1, 2]), "is a list, not a JSON object"),
], ids=["sqs", "records-not-a-list", "s3-without-object", "sns-text", "sns-other-json", "eventbridge-empty",
        "sns-list"])
def test_a_malformed_notification_is_a_clear_error(event, says):
    assert says in unreadable(event())


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)
shaped = st.fixed_dictionaries({}, optional={"Records": json_values, "source": st.just("aws.s3"),
                                             "detail-type": json_values, "detail": json_values,
                                             "Event": json_values})


@given(event=st.one_of(shaped, st.dictionaries(st.text(max_size=12), json_values, max_size=5)))
def test_any_json_object_is_read_or_refused_clearly(event):
    try:
        intake = read_notification(event)
    except UnrecognisedEventError as error:
        assert str(error)
    else:
        assert all(isinstance(obj, ObjectRef) for obj in intake.created)


# --- the function, end to end --------------------------------------------------------------------

def published(out: str) -> dict[str, list[float]]:
    return {m["name"]: m["value"] for m in emf_metrics(out)}


@pytest.mark.parametrize("event", [
    lambda: via_sns(s3_sample()),
    lambda: eventbridge_sample(),
    lambda: via_sns(eventbridge_sample()),
], ids=["sns", "eventbridge", "sns-eventbridge"])
def test_an_object_notified_through_sns_or_eventbridge_posts_one_event(aws, env, httpserver, clock, event):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))

    assert invoke(event(), clock) == {"objects": {f"s3://{BUCKET}/{DATA_KEY}": "posted"}}
    assert invoke(event(), clock)["objects"] == {f"s3://{BUCKET}/{DATA_KEY}": "already-notified"}

    assert len(httpserver.log) == 1
    assert tags_of(aws, DATA_KEY)[MARK_TAG] == "7700000000000000042"


def test_a_removal_of_an_object_that_still_exists_posts_nothing(aws, env, httpserver, clock, capsys, caplog):
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    capsys.readouterr()

    answer = invoke(s3_sample("s3-object-removed-delete"), clock)

    assert answer == {"objects": {}, "skipped": [
        {"event": "ObjectRemoved:Delete", "via": "s3", "object": f"s3://{BUCKET}/{DATA_KEY}"}]}
    assert httpserver.log == [] and tags_of(aws, DATA_KEY) == {}
    assert published(capsys.readouterr().out) == {"ObjectsReceived": [0.0]}
    lines = [json.loads(notifier.logger.registered_formatter.format(r)) for r in caplog.records
             if r.name == notifier.logger.name]
    skipped = next(x for x in lines if x["message"] == "notification skipped: not an object creation")
    assert (skipped["event_name"], skipped["object_key"], skipped["via"]) == (
        "ObjectRemoved:Delete", DATA_KEY, "s3")


def test_an_unknown_event_raises_a_clear_error_and_posts_nothing(aws, env, httpserver, clock, caplog):
    with pytest.raises(UnrecognisedEventError, match="its top-level keys are: detail, source"):
        invoke({"source": "aws.ec2", "detail": {"instance-id": "i-0123"}}, clock)

    assert httpserver.log == []
    assert any(r.getMessage() == "not an S3 notification the notifier reads" for r in caplog.records)
