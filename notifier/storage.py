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


# The object tag that says "Datadog refused this object's event (400, or 413 twice)"; its value is Datadog's
# reason. A refused object is skipped like a notified one: the same event would be refused again. Remove
# the tag to have the next notification post it.
REFUSED_TAG = "rejected-flows-refused"
# S3 tag values: at most 256 characters matching ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ (S3 API reference, S3Tag,
# checked 2026-12).
TAG_VALUE_LIMIT = 256
_TAG_VALUE_PUNCTUATION = frozenset("_.:/=+-@ ")


def tag_value(text: str) -> str:
    """`text` as an S3 tag value: other characters become spaces, runs of spaces one, at most 256."""
    kept = "".join(c if c.isalnum() or c in _TAG_VALUE_PUNCTUATION else " " for c in text)
    return " ".join(kept.split())[:TAG_VALUE_LIMIT]


def put_refused(s3: Any, obj: ObjectRef, tags: dict[str, str], reason: str) -> None:
    """Add the refused tag (Datadog's reason) to the object's tags, which are kept."""
    merged = {**tags, REFUSED_TAG: tag_value(reason)}
    s3.put_object_tagging(
        Bucket=obj.bucket,
        Key=obj.key,
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
    )
