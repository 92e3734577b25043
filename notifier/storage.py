"""S3 edges of the notifier: the 'already notified' mark (an object tag) and the object's body.

The mark makes redelivered S3 notifications harmless: it is set only after Datadog accepted the
event, and an object that carries it is skipped before its body is read.
"""

from __future__ import annotations

from typing import Any

from notifier.model import ObjectRef

# The object tag that says "Datadog accepted this object's event"; its value is the event id.
MARK_TAG = "rejected-flows-notified"
# S3 allows at most 10 tags per object.
MAX_TAGS = 10


def get_tags(s3: Any, obj: ObjectRef) -> dict[str, str]:
    response = s3.get_object_tagging(Bucket=obj.bucket, Key=obj.key)
    return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}


def can_mark(tags: dict[str, str]) -> bool:
    return MARK_TAG in tags or len(tags) < MAX_TAGS


def put_mark(s3: Any, obj: ObjectRef, tags: dict[str, str], value: str) -> None:
    """Add the mark to the object's tags; `put_object_tagging` replaces the set, so merge first."""
    merged = {**tags, MARK_TAG: value}
    s3.put_object_tagging(
        Bucket=obj.bucket,
        Key=obj.key,
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
    )


def open_body(s3: Any, obj: ObjectRef) -> Any:
    """The object's StreamingBody: read incrementally, never whole."""
    return s3.get_object(Bucket=obj.bucket, Key=obj.key)["Body"]
