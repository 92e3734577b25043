"""The typed stack settings: one frozen group per concern, so each component takes its group whole.

`contracts.settings` reads Pulumi.yaml's config into these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.collection import Collection
from contracts.flowlog import FlowLogFormat


@dataclass(frozen=True)
class FlowLogTagKeys:
    """flowLogTagKeys: the tag key shown in `${instance-tag}` and in `${interface-tag}` (None: not shown)."""

    instance: str | None = None
    interface: str | None = None

    def __bool__(self) -> bool:
        return self.instance is not None or self.interface is not None


@dataclass(frozen=True)
class FlowLogs:
    """Which flow logs reach the stream, in which format, and the actions the transform keeps."""

    existing_log_group: str | None
    """A log group to subscribe (logGroupName) instead of the one the stack would create."""
    vpc_ids: tuple[str, ...]
    """VPCs the stack creates flow logs for."""
    format: FlowLogFormat
    """The format of every flow line: flowLogFormat, plus the tag fields flowLogTagKeys adds."""
    keep_actions: frozenset[str]
    tag_keys: FlowLogTagKeys = field(default_factory=FlowLogTagKeys)
    """flowLogTagKeys: which tag of the instance and of the interface created flow logs carry."""

    @property
    def keep_actions_env(self) -> str:
        """KEEP_ACTIONS as the transform reads it."""
        return ",".join(sorted(self.keep_actions))

    @property
    def traffic_type(self) -> str:
        """Created flow logs record rejected traffic only: the one action the stack keeps."""
        return "REJECT"


@dataclass(frozen=True)
class Buffers:
    """Firehose buffering: the transform's input (processor) and the archive objects it writes."""

    processor_mb: float
    processor_seconds: int
    archive_mb: int
    archive_seconds: int


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept: Lambda and flow-log groups, archive objects, error objects."""

    log_days: int
    """Days CloudWatch keeps the flow-log group and the functions' and stream's log groups."""
    archive_transition_days: int
    """Days before rejected/ and errors/ objects move to Standard-IA (0: never)."""
    archive_expiration_days: int
    """Days before rejected/ objects expire (0: never)."""
    error_expiration_days: int
    """Days before errors/ objects expire (0: never)."""


@dataclass(frozen=True)
class Notifications:
    """The notifier's Datadog events and how Lambda retries the S3 notifications that trigger them."""

    datadog_site: str
    datadog_tags: tuple[str, ...]
    max_event_age_seconds: int
    retry_attempts: int
    internal_cidrs: tuple[str, ...]

    @property
    def internal_cidrs_env(self) -> str:
        """INTERNAL_CIDRS as the notifier reads it (comma-separated)."""
        return ",".join(self.internal_cidrs)


@dataclass(frozen=True)
class AlarmSettings:
    """Pipeline-health alarms and, with a datadogAppKey, the threshold of the Datadog volume monitor."""

    email: str | None
    topic_arn: str | None
    silence_hours: int
    datadog_monitor_threshold: int


# alertOnInternal: what the internal monitor alerts on.
ALERT_ON_NEW = "new"
ALERT_ON_ANY = "any"
ALERT_ON_INTERNAL = (ALERT_ON_NEW, ALERT_ON_ANY)


@dataclass(frozen=True)
class MonitorSettings:
    """The Datadog monitors (with a datadogAppKey): whom they notify and what they alert on."""

    notify: tuple[str, ...] = ()
    """datadogNotify: notification handles (`@slack-netsec`) written into every monitor's message."""
    alert_on_internal: str = ALERT_ON_ANY
    """alertOnInternal as it applies: `new` (new_internal:true) or `any` (internal_sources:true)."""
    alert_on_new_targets: bool = False
    """alertOnNewTargets: a monitor on new_targets:true."""


@dataclass(frozen=True)
class BaselineSettings:
    """The baseline of what was seen (baselineDays 0: none, and today's events exactly)."""

    days: int
    learning_hours: int
    max_keys: int

    @property
    def enabled(self) -> bool:
        return self.days > 0


@dataclass(frozen=True)
class StackSettings:
    flow_logs: FlowLogs
    buffers: Buffers
    retention: Retention
    notifications: Notifications
    alarms: AlarmSettings
    lambda_architecture: str
    athena_scan_limit_mb: int
    resource_tags: dict[str, str]
    collection: Collection
    baseline: BaselineSettings
    monitors: MonitorSettings

    @property
    def creates_log_group(self) -> bool:
        """The stack makes a flow-log group: not for an existing group, nor for flow logs to Firehose."""
        return self.flow_logs.existing_log_group is None and not self.collection.flow_logs_to_firehose

    @property
    def is_member(self) -> bool:
        return self.collection.is_member
