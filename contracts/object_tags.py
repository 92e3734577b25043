"""S3 object tags: the marks the notifier and replay leave on the archive's objects, and S3's limits.

S3 allows at most 10 tags per object; a key is 1-128 Unicode characters, a value 0-256, both of letters,
digits, spaces and `_ . : / = + - @` (Amazon S3 User Guide, "Categorizing your storage using tags";
API reference `S3Tag`, pattern `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`; checked 2026-12). `PutObjectTagging`
replaces the whole set, so every writer keeps the tags it does not own: `ObjectTags` is the one reader
(`from_tag_set`) and writer (`tag_set`) of that wire format, with the limits checked on write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

MAX_TAGS = 10
MAX_KEY_CHARS = 128
MAX_VALUE_CHARS = 256
# Letters and digits in any script, the space and S3's few others (a little stricter than S3: no other
# Unicode spaces).
_ALLOWED = re.compile(r"[\w .:/=+\-@]*")

# The notifier's mark: Datadog accepted this object's event (value: the event id).
NOTIFIED_TAG = "rejected-flows-notified"
# Replay's marks on an error object: all its records are back (value: when, UTC), or how far a run got.
REPLAYED_TAG = "rejected-flows-replayed"
PROGRESS_TAG = "rejected-flows-replay-progress"
REPLAY_TAGS = frozenset({REPLAYED_TAG, PROGRESS_TAG})
# The notifier's other mark: Datadog refused this object's event (400, or 413 twice); value: its reason.
REFUSED_TAG = "rejected-flows-refused"


class TagError(ValueError):
    """A tag S3 would refuse (too long, a character outside S3's set)."""


def check_tag(key: str, value: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        raise TagError(f"tag key {key[:40]!r} must have 1 to {MAX_KEY_CHARS} characters")
    if len(value) > MAX_VALUE_CHARS:
        raise TagError(f"the value of tag {key!r} has {len(value)} characters, over S3's {MAX_VALUE_CHARS}")
    for text in (key, value):
        if not _ALLOWED.fullmatch(text):
            raise TagError(f"tag {key!r}={value[:40]!r} has a character S3 refuses (allowed: letters, "
                           "digits, spaces and _ . : / = + - @)")


@dataclass(frozen=True)
class ObjectTags(Mapping[str, str]):
    """An object's tags, read-only: `with_tag` and `without` give the set to write back."""

    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tag_set(cls, tag_set: Iterable[Mapping[str, str]]) -> ObjectTags:
        """From GetObjectTagging's `TagSet` (`[{"Key": ..., "Value": ...}]`)."""
        return cls({tag["Key"]: tag["Value"] for tag in tag_set})

    def tag_set(self) -> list[dict[str, str]]:
        """PutObjectTagging's `TagSet`, in the order the tags were read or added."""
        return [{"Key": key, "Value": value} for key, value in self.tags.items()]

    def with_tag(self, key: str, value: str) -> ObjectTags:
        """These tags with `key` set to `value`; TagError if S3 would refuse the tag or the count."""
        check_tag(key, value)
        if key not in self.tags and len(self.tags) >= MAX_TAGS:
            raise TagError(f"the object has {len(self.tags)} tags, S3's maximum")
        return ObjectTags({**self.tags, key: value})

    def without(self, keys: Iterable[str]) -> ObjectTags:
        drop = frozenset(keys)
        return ObjectTags({key: value for key, value in self.tags.items() if key not in drop})

    def room_for(self, key: str) -> bool:
        """Whether `key` can be set without going over S3's maximum."""
        return key in self.tags or len(self.tags) < MAX_TAGS

    def __getitem__(self, key: str) -> str:
        return self.tags[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tags)

    def __len__(self) -> int:
        return len(self.tags)
