"""S3 edges of the notifier: the 'already notified' mark (an object tag) and the object's body.

The mark makes redelivered S3 notifications harmless: it is set only after Datadog accepted the
event, and an object that carries it is skipped before its body is read. The tags and their limits are
`contracts.object_tags` (replay tags the same objects).
"""

from __future__ import annotations

from typing import Any

from contracts.object_tags import MAX_TAGS, MAX_VALUE_CHARS, NOTIFIED_TAG, REFUSED_TAG, ObjectTags
from notifier.model import ObjectRef

# The object tag that says "Datadog accepted this object's event"; its value is the event id.
MARK_TAG = NOTIFIED_TAG
__all__ = ["MARK_TAG", "MAX_TAGS", "REFUSED_TAG", "can_mark", "get_tags", "open_body", "put_mark",
           "put_refused"]


def get_tags(s3: Any, obj: ObjectRef) -> ObjectTags:
    response = s3.get_object_tagging(Bucket=obj.bucket, Key=obj.key)
    return ObjectTags.from_tag_set(response.get("TagSet", []))


def can_mark(tags: ObjectTags | dict[str, str]) -> bool:
    return ObjectTags(dict(tags)).room_for(MARK_TAG)


def put_mark(s3: Any, obj: ObjectRef, tags: ObjectTags | dict[str, str], value: str) -> None:
    """Add the mark to the object's tags; `put_object_tagging` replaces the set, so merge first."""
    merged = ObjectTags(dict(tags)).with_tag(MARK_TAG, value)
    s3.put_object_tagging(Bucket=obj.bucket, Key=obj.key, Tagging={"TagSet": merged.tag_set()})


def open_body(s3: Any, obj: ObjectRef) -> Any:
    """The object's StreamingBody: read incrementally, never whole."""
    return s3.get_object(Bucket=obj.bucket, Key=obj.key)["Body"]


# A refused object (REFUSED_TAG) is skipped like a notified one: the same event would be refused again.
# Remove the tag to have the next notification post it.
_TAG_VALUE_PUNCTUATION = frozenset("_.:/=+-@ ")


def tag_value(text: str) -> str:
    """`text` as an S3 tag value: other characters become spaces, runs of spaces one, at most 256."""
    kept = "".join(c if c.isalnum() or c in _TAG_VALUE_PUNCTUATION else " " for c in text)
    return " ".join(kept.split())[:MAX_VALUE_CHARS]


def put_refused(s3: Any, obj: ObjectRef, tags: ObjectTags | dict[str, str], reason: str) -> None:
    """Add the refused tag (Datadog's reason, as S3 allows it) to the object's tags, which are kept."""
    merged = ObjectTags(dict(tags)).with_tag(REFUSED_TAG, tag_value(reason))
    s3.put_object_tagging(Bucket=obj.bucket, Key=obj.key, Tagging={"TagSet": merged.tag_set()})
