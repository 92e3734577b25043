"""Plain data the notifier's parts pass each other: the object notified, the deployment, the event."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class EventContext:
    """What the text and tags need from the deployment (from the environment, see settings.py)."""

    stack: str
    athena_table: str  # qualified and quoted: "db"."table"
    athena_workgroup: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventDraft:
    """A Datadog v1 event as plain data; delivery turns it into an EventCreateRequest."""

    title: str
    text: str
    alert_type: str
    aggregation_key: str
    date_happened: int
    tags: tuple[str, ...] = field(default=())
    priority: str = "normal"
