"""Plain facts read from AWS and Datadog: what the verdicts judge (no boto3 types past this point)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


class UnavailableError(Exception):
    """A check that cannot be made (access denied, an API the endpoint lacks, the network): a `warn`."""


class CredentialsError(Exception):
    """No credentials, or credentials AWS refuses: a `FAIL`, since `pulumi up` cannot start either."""


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


@dataclass(frozen=True)
class LogGroup:
    name: str
    log_group_class: str = "STANDARD"


@dataclass(frozen=True)
class SubscriptionFilter:
    name: str
    destination_arn: str


@dataclass(frozen=True)
class FlowLog:
    flow_log_id: str
    resource_id: str
    traffic_type: str
    """ACCEPT, REJECT or ALL."""
    destination_type: str
    """cloud-watch-logs, s3 or kinesis-data-firehose."""
    destination: str
    """The log group's name, or the bucket's or stream's ARN."""
    log_format: str
    tags: dict[str, str] = field(default_factory=dict)
    delivery_error: str | None = None
    """DeliverLogsErrorMessage when DeliverLogsStatus is FAILED ("Rate limited", "Access error", ...)."""


@dataclass(frozen=True)
class Existing:
    """A resource found under one of the stack's fixed names, with its tags."""

    kind: str
    name: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Topic:
    arn: str
    kms_master_key_id: str | None


@dataclass(frozen=True)
class Decision:
    """One action of an IAM policy simulation: `allowed`, `implicitDeny` or `explicitDeny`.

    IAM API Reference, EvaluationResult: `EvalDecision` "Valid Values: allowed | explicitDeny |
    implicitDeny" (https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html,
    checked 2026-12).
    """

    action: str
    decision: str


KeyVerdict = Literal["valid", "invalid"]


@dataclass(frozen=True)
class KeyAnswer:
    """Datadog's answer to a key check: valid, or refused with the HTTP status."""

    verdict: KeyVerdict
    status: int
