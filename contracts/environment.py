"""Environment variable names and defaults of both Lambdas: set by the stack and the local pipeline."""

from __future__ import annotations

# Transform (docs/architecture.md, The transform).
FLOW_LOG_FORMAT = "FLOW_LOG_FORMAT"
KEEP_ACTIONS = "KEEP_ACTIONS"

# Notifier (docs/architecture.md, The notifier), named as the Datadog Forwarder names them.
DD_SITE = "DD_SITE"
DD_API_KEY_SECRET_ARN = "DD_API_KEY_SECRET_ARN"
DD_API_KEY = "DD_API_KEY"
DD_API_URL = "DD_API_URL"
DD_TAGS = "DD_TAGS"
DEFAULT_DD_SITE = "datadoghq.com"
# Where the notifier points readers of an event: the Athena table, workgroup and the stack.
ATHENA_DATABASE = "ATHENA_DATABASE"
ATHENA_TABLE = "ATHENA_TABLE"
ATHENA_WORKGROUP = "ATHENA_WORKGROUP"
STACK_NAME = "STACK_NAME"
# Comma-separated CIDRs counted as internal sources beside RFC 1918, RFC 6598 and IPv6 ULA (stack config
# `internalCidrs`): an event is a `warning` when any rejected source is internal, else `info`.
INTERNAL_CIDRS = "INTERNAL_CIDRS"
# The baseline of what was seen (docs/architecture.md, The notifier, "The baseline").
# Without BASELINE_TABLE the notifier keeps no baseline and posts today's events.
BASELINE_TABLE = "BASELINE_TABLE"
# A key is new when it was not seen for this many days.
BASELINE_DAYS = "BASELINE_DAYS"
DEFAULT_BASELINE_DAYS = 14
# Nothing is new for this many hours after the baseline first sees a flow (0: no learning).
BASELINE_LEARNING_HOURS = "BASELINE_LEARNING_HOURS"
DEFAULT_BASELINE_LEARNING_HOURS = 24
# At most this many keys are checked per archived object.
BASELINE_MAX_KEYS = "BASELINE_MAX_KEYS"
DEFAULT_BASELINE_MAX_KEYS = 2000

# Powertools: both functions publish metrics under one namespace.
METRICS_NAMESPACE = "RejectedFlows"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
TRANSFORM_SERVICE = "rejected-flows-transform"
NOTIFIER_SERVICE = "rejected-flows-notifier"

# Default table names when the notifier runs outside the stack (local pipeline, tests).
DEFAULT_ATHENA_TABLE = "rejected_flows"

# Datadog sites (DD_SITE values); the notifier's API host is `https://api.<site>`.
DATADOG_SITES: tuple[str, ...] = (
    "datadoghq.com", "datadoghq.eu", "us3.datadoghq.com", "us5.datadoghq.com",
    "ap1.datadoghq.com", "ap2.datadoghq.com", "ddog-gov.com",
)
