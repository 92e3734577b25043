"""Where the operations config values and a stack name with a period land, under Pulumi's mocks.

The keys themselves are validated without Pulumi in tests/test_contracts_operations_config.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from contracts import environment as env
from infra.delivery import processor_parameters
from infra.monitors import event_alert_query, new_internal_rejections
from tests.pulumi_adapter import resolved
from tests.stack_support import FAKE_APP_KEY, Run, components_program, run_program

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

# --- under Pulumi's mocks ------------------------------------------------------------------------

_RUNS: dict[str, Run] = {}


@pytest.fixture(scope="module")
def prod_eu(tmp_path_factory: pytest.TempPathFactory) -> Run:
    packages: Path = tmp_path_factory.mktemp("packages")
    if "prod.eu" not in _RUNS:
        _RUNS["prod.eu"] = run_program(components_program(packages), {
            "datadogAppKey": FAKE_APP_KEY, "alarmEmail": "oncall@example.com", "silenceAlarmHours": 2,
            "internalCidrs": ["100.127.0.0/16", "2001:db8::/32"], "vpcIds": ["vpc-0123456789abcdef0"],
        }, stack="prod.eu")
    return _RUNS["prod.eu"]


def test_stack_prod_eu_deploys_with_valid_physical_names(prod_eu: Run) -> None:
    functions = [f.inputs["name"] for f in prod_eu.of_type("aws:lambda/function:Function")]
    assert sorted(functions) == ["rejected-flows-prod-eu-notifier", "rejected-flows-prod-eu-transform"]
    stream = prod_eu.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs["name"]
    topic = prod_eu.one("aws:sns/topic:Topic").inputs["name"]
    queue = prod_eu.one("aws:sqs/queue:Queue").outputs["name"]
    roles = [role.outputs["name"] for role in prod_eu.of_type("aws:iam/role:Role")]
    alarms = [alarm.inputs["name"] for alarm in prod_eu.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    for name in [*functions, stream, topic, queue, *roles, *alarms]:
        # Letters, digits, hyphens, underscores: what Lambda, SQS and SNS accept (Firehose and IAM, more).
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name
    assert all(len(name) <= 64 for name in [*functions, stream])
    assert prod_eu.one("aws:athena/workgroup:Workgroup").inputs["name"] == "rejected-flows-prod-eu"


def test_stack_prod_eu_keeps_its_real_name_where_people_read_it(prod_eu: Run) -> None:
    notifier = prod_eu.one("aws:lambda/function:Function", "notifier-function").inputs
    variables = notifier["environment"]["variables"]
    assert variables[env.STACK_NAME] == "prod.eu"
    assert variables[env.INTERNAL_CIDRS] == "100.127.0.0/16,2001:db8::/32"
    assert notifier["tags"]["stack"] == "prod.eu"
    queries = {m.inputs["query"] for m in prod_eu.of_type("datadog:index/monitor:Monitor")}
    assert event_alert_query(new_internal_rejections("prod.eu"), "15m") in queries
    flow_log_group = prod_eu.one("aws:cloudwatch/logGroup:LogGroup", "source").inputs["name"]
    assert flow_log_group == "/vpc/flow-logs/prod.eu"  # log group names allow periods


def test_internal_cidrs_default_to_an_empty_variable(tmp_path: Path) -> None:
    run = run_program(components_program(tmp_path), {})
    notifier = run.one("aws:lambda/function:Function", "notifier-function").inputs
    assert notifier["environment"]["variables"][env.INTERNAL_CIDRS] == ""


def _resolved(parameters: dict[str, Any]) -> dict[str, str]:
    return {key: resolved(value)[0] for key, value in parameters.items()}


@pytest.mark.parametrize(("buffer_mb", "buffer_seconds", "retries", "expected"), [
    # Firehose's defaults are left out: sending them would be an update on every `pulumi up`.
    (1.0, 60, 3, {}),
    (0.2, 60, 3, {"BufferSizeInMBs": "0.2"}),
    (3.0, 0, 3, {"BufferSizeInMBs": "3", "BufferIntervalInSeconds": "0"}),
    (1.0, 900, 5, {"BufferIntervalInSeconds": "900", "NumberOfRetries": "5"}),
])
def test_processor_parameters_are_only_those_that_differ_from_firehoses_defaults(
        buffer_mb: float, buffer_seconds: int, retries: int, expected: dict[str, str]) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:rejected-flows-test-transform"
    parameters = _resolved(processor_parameters(arn, buffer_mb, buffer_seconds, retries))
    assert parameters == {"LambdaArn": f"{arn}:$LATEST", **expected}
