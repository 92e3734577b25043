"""The tags every Datadog event of the notifier carries: monitors and dashboards select on exactly these.

The notifier posts them; the stack's Datadog monitors and dashboard query them. One definition, so a
monitor can never look for a tag the notifier does not post.
"""

from __future__ import annotations

import hashlib

SOURCE_TAG = "source:rejected-flows"
# One `kind:` tag per event: a batch of archived rejected flows, or records Firehose could not process.
KIND_REJECTED = "kind:rejected-flows"
KIND_ERRORS = "kind:processing-errors"
# On rejected-flow events: whether any rejected source is internal (true -> warning, false -> info).
INTERNAL_SOURCES_KEY = "internal_sources"


# On rejected-flow events with a baseline (docs/architecture.md, The notifier): whether the object has a
# key not seen within the baseline's days, per kind of key, and the baseline's state. No `new_*` tag when
# the baseline is unavailable; no tag at all without a baseline.
NEW_INTERNAL_KEY = "new_internal"
NEW_TARGETS_KEY = "new_targets"
NEW_SOURCES_KEY = "new_sources"
BASELINE_KEY = "baseline"
BASELINE_LEARNING = "learning"
BASELINE_ACTIVE = "active"
BASELINE_UNAVAILABLE = "unavailable"


def flag_tag(key: str, value: bool) -> str:
    """`new_internal:true` and the like."""
    return f"{key}:{'true' if value else 'false'}"


def baseline_tag(state: str) -> str:
    return f"{BASELINE_KEY}:{state}"


def stack_tag(stack: str) -> str:
    return f"stack:{stack}"


def internal_sources_tag(internal: bool) -> str:
    return f"{INTERNAL_SOURCES_KEY}:{'true' if internal else 'false'}"

# On the `kind:processing-errors` event posted for an archived object the notifier could not read (not
# gzip, truncated, not UTF-8 text, no flow record in it): no retry can fix it, so it is reported once.
UNREADABLE_OBJECT_TAG = "error:unreadable-object"

# On every event: a digest of the object's s3:// URI, the same for every post of one object. Datadog keeps
# every event it accepts (there is no idempotency key in Events v1), so when a request timed out after
# being sent and was posted again, two events with one `notification:` tag are one alert, posted twice.
NOTIFICATION_KEY = "notification"
NOTIFICATION_DIGEST_CHARS = 16


def notification_tag(uri: str) -> str:
    """`notification:<16 hex digits>` for `s3://bucket/key`: deterministic, within Datadog's tag rules."""
    return f"{NOTIFICATION_KEY}:{hashlib.sha256(uri.encode()).hexdigest()[:NOTIFICATION_DIGEST_CHARS]}"
