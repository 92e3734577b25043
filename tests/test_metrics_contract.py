"""The alarms' custom metrics are the ones the handlers really publish: same namespace, name, dimensions.

Each handler runs on an input that makes it count a failure; its Powertools EMF line (stdout) is read
back and compared with contracts/metrics.py, which the alarms use.
"""

from __future__ import annotations

import pytest

from contracts import metrics
from notifier.datadog import DatadogAuthError
from tests.notifier_support import (
    BUCKET,
    DATA_KEY,
    EVENTS,
    emf_metrics,
    gz,
    invoke,
    ndjson,
    put,
    s3_event,
    scanner_batch,
)
from tests.transform_support import data_message, event_of, flow_line, lambda_context, raw_record, record
from transform.handler import handler as transform_handler


def test_transform_publishes_records_failed_as_the_alarm_watches_it(capsys: pytest.CaptureFixture) -> None:
    event = event_of(record(data_message([flow_line()]), "ok"))
    event["records"].append(raw_record("%%% not base64 %%%", "bad"))

    transform_handler(event, lambda_context())

    published = emf_metrics(capsys.readouterr().out)
    assert {"namespace": metrics.NAMESPACE, "name": metrics.RECORDS_FAILED,
            "dimensions": metrics.transform_dimensions(), "unit": "Count", "value": [1.0]} in published


def test_notifier_publishes_events_failed_as_the_alarm_watches_it(aws, env, httpserver, clock,
                                                                  capsys: pytest.CaptureFixture) -> None:
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["Forbidden"]}, status=403)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    with pytest.raises(DatadogAuthError):
        invoke(s3_event(BUCKET, DATA_KEY), clock)

    published = emf_metrics(capsys.readouterr().out)
    assert {"namespace": metrics.NAMESPACE, "name": metrics.EVENTS_FAILED,
            "dimensions": metrics.notifier_dimensions(), "unit": "Count", "value": [1.0]} in published
