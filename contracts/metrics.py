"""The pipeline's own CloudWatch metrics, as the handlers publish them with Powertools (EMF).

Both functions publish under one namespace with Powertools' default dimension `service` (the
`service=` each handler gives `Metrics`); the stack's alarms select on exactly these. A test runs each
handler and reads its EMF output, so a renamed metric breaks the build, not the alarm.
"""

from __future__ import annotations

from contracts.environment import METRICS_NAMESPACE, NOTIFIER_SERVICE, TRANSFORM_SERVICE

NAMESPACE = METRICS_NAMESPACE
# Powertools adds this dimension to every metric of a `Metrics(service=...)`.
SERVICE_DIMENSION = "service"

# transform/handler.py: `records_failed` of the batch summary, CamelCased; records Firehose then keeps
# under errors/processing-failed/.
RECORDS_FAILED = "RecordsFailed"
# notifier/handler.py: an event Datadog did not accept after the in-invocation retries.
EVENTS_FAILED = "EventsFailed"
# notifier/handler.py: the baseline (DynamoDB) failed or throttled, so an event went out without verdicts
# (tagged `baseline:unavailable`); the stack's baseline alarm watches it.
BASELINE_UNAVAILABLE = "BaselineUnavailable"


def transform_dimensions() -> dict[str, str]:
    return {SERVICE_DIMENSION: TRANSFORM_SERVICE}


def notifier_dimensions() -> dict[str, str]:
    return {SERVICE_DIMENSION: NOTIFIER_SERVICE}
