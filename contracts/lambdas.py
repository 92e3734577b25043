"""Each Lambda as it is deployed: handler, memory, timeout and environment, written once.

`infra/` deploys the functions with these specs and environments; the local pipeline (`local/pipeline.py`)
runs the same handlers with the same timeouts and the same variables, only the endpoints differ. The
environment's values are plain strings locally and Pulumi inputs (ARNs and names known after creation)
in the stack: the writers are generic over the value type. docs/architecture.md, The stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from contracts import environment as env
from contracts.settings_groups import BaselineSettings, FlowLogs, Notifications

V = TypeVar("V")


@dataclass(frozen=True)
class FunctionSpec:
    handler: str
    memory_mb: int
    timeout_seconds: int
    service: str
    """POWERTOOLS_SERVICE_NAME: the `service` dimension of its metrics."""


# Firehose invokes the processor for up to 5 minutes; a batch plus re-ingestion needs well under 2.
# CPU scales with memory: 512 MB keeps a 0.2 MB (compressed) batch well under a second.
TRANSFORM = FunctionSpec("transform.handler.handler", 512, 120, env.TRANSFORM_SERVICE)
# Posting one event takes well under a second; the rest is room for Datadog's 429/5xx backoff. The
# object is streamed line by line: memory does not grow with it.
NOTIFIER = FunctionSpec("notifier.handler.handler", 256, 120, env.NOTIFIER_SERVICE)


def transform_environment(flow_logs: FlowLogs) -> dict[str, str]:
    """The transform's variables (docs/architecture.md, The transform)."""
    return {
        env.FLOW_LOG_FORMAT: flow_logs.format.text,
        env.KEEP_ACTIONS: flow_logs.keep_actions_env,
        env.POWERTOOLS_SERVICE_NAME: TRANSFORM.service,
        env.POWERTOOLS_METRICS_NAMESPACE: env.METRICS_NAMESPACE,
    }


@dataclass(frozen=True)
class NotifierResources(Generic[V]):
    """What the notifier is pointed at: names and ARNs of resources of the stack (or stand-ins)."""

    api_key_secret_arn: V
    athena_database: V
    athena_table: V
    athena_workgroup: V
    baseline_table: V | None = None
    """The baseline's table; None: no baseline (baselineDays 0), today's events."""


def notifier_environment(
    notifications: Notifications, stack: str, resources: NotifierResources[V],
    baseline: BaselineSettings | None = None,
) -> dict[str, V | str]:
    """The notifier's variables (docs/architecture.md, The notifier); the BASELINE_* ones with a table."""
    variables: dict[str, V | str] = {
        env.DD_SITE: notifications.datadog_site,
        env.DD_API_KEY_SECRET_ARN: resources.api_key_secret_arn,
        env.DD_TAGS: ",".join(notifications.datadog_tags),
        env.ATHENA_DATABASE: resources.athena_database,
        env.ATHENA_TABLE: resources.athena_table,
        env.ATHENA_WORKGROUP: resources.athena_workgroup,
        env.STACK_NAME: stack,
        env.INTERNAL_CIDRS: notifications.internal_cidrs_env,
        env.POWERTOOLS_SERVICE_NAME: NOTIFIER.service,
        env.POWERTOOLS_METRICS_NAMESPACE: env.METRICS_NAMESPACE,
    }
    if resources.baseline_table is not None and baseline is not None and baseline.enabled:
        variables |= {
            env.BASELINE_TABLE: resources.baseline_table,
            env.BASELINE_DAYS: str(baseline.days),
            env.BASELINE_LEARNING_HOURS: str(baseline.learning_hours),
            env.BASELINE_MAX_KEYS: str(baseline.max_keys),
        }
    return variables
