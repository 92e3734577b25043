"""Pipeline-health alarms under Pulumi's mocks: what each watches, how, and whom it tells."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from contracts.environment import NOTIFIER_SERVICE, TRANSFORM_SERVICE
from contracts.settings_checks import AlarmTopicRegionError
from infra.alarms import FRESHNESS_MARGIN_SECONDS, freshness_threshold_seconds
from tests.stack_support import ACCOUNT_ID, REGION, Run, components_program, run_program

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
EXISTING_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:ops-pager"
PREFIX = "rejected-flows-test"

_RUNS: dict[str, Run] = {}
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "no-baseline": {"baselineDays": 0},
    "email": {"alarmEmail": "netsec-oncall@example.com", "silenceAlarmHours": 6,
              "archiveBufferSeconds": 600, "processorBufferSeconds": 120},
    "existing-topic": {"alarmTopicArn": EXISTING_TOPIC, "alarmEmail": "netsec-oncall@example.com"},
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("packages")


@pytest.fixture(scope="module")
def runs(packages: Path):
    def run(name: str) -> Run:
        if name not in _RUNS:
            _RUNS[name] = run_program(components_program(packages), CONFIGS[name])
        return _RUNS[name]

    return run


def alarms_by_name(run: Run) -> dict[str, dict[str, Any]]:
    return {alarm.inputs["name"]: alarm.inputs for alarm in run.of_type(ALARM)}


def watched(alarm: dict[str, Any]) -> tuple:
    return (alarm["namespace"], alarm["metricName"], alarm["dimensions"], alarm["statistic"], alarm["period"],
            alarm["evaluationPeriods"], alarm["datapointsToAlarm"], alarm["comparisonOperator"],
            alarm["threshold"], alarm["treatMissingData"])


def expected_alarms(dlq_name: str, freshness: int) -> dict[str, tuple]:
    stream = {"DeliveryStreamName": f"{PREFIX}-flows"}
    transform = {"FunctionName": f"{PREFIX}-transform"}
    notifier = {"FunctionName": f"{PREFIX}-notifier"}
    return {
        f"{PREFIX}-firehose-freshness": ("AWS/Firehose", "DeliveryToS3.DataFreshness", stream, "Maximum", 300,
                                         2, 2, "GreaterThanThreshold", freshness, "notBreaching"),
        f"{PREFIX}-firehose-processing": ("AWS/Firehose", "ExecuteProcessing.Success", stream, "Average", 300,
                                          2, 2, "LessThanThreshold", 1, "notBreaching"),
        f"{PREFIX}-firehose-delivery": ("AWS/Firehose", "DeliveryToS3.Success", stream, "Average", 300,
                                        2, 2, "LessThanThreshold", 1, "notBreaching"),
        f"{PREFIX}-transform-errors": ("AWS/Lambda", "Errors", transform, "Sum", 300, 1, 1,
                                       "GreaterThanThreshold", 0, "notBreaching"),
        f"{PREFIX}-transform-throttles": ("AWS/Lambda", "Throttles", transform, "Sum", 300, 1, 1,
                                          "GreaterThanThreshold", 0, "notBreaching"),
        f"{PREFIX}-notifier-errors": ("AWS/Lambda", "Errors", notifier, "Sum", 300, 1, 1,
                                      "GreaterThanThreshold", 0, "notBreaching"),
        f"{PREFIX}-notifier-throttles": ("AWS/Lambda", "Throttles", notifier, "Sum", 300, 1, 1,
                                         "GreaterThanThreshold", 0, "notBreaching"),
        f"{PREFIX}-dead-letters": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": dlq_name},
                                   "Maximum", 300, 1, 1, "GreaterThanThreshold", 0, "ignore"),
        f"{PREFIX}-records-failed": ("RejectedFlows", "RecordsFailed", {"service": TRANSFORM_SERVICE}, "Sum",
                                     300, 1, 1, "GreaterThanThreshold", 0, "notBreaching"),
        f"{PREFIX}-events-failed": ("RejectedFlows", "EventsFailed", {"service": NOTIFIER_SERVICE}, "Sum",
                                    300, 1, 1, "GreaterThanThreshold", 0, "notBreaching"),
        # The baseline (baselineDays 14 by default): DynamoDB failed, events went without verdicts.
        f"{PREFIX}-baseline-unavailable": ("RejectedFlows", "BaselineUnavailable",
                                           {"service": NOTIFIER_SERVICE}, "Sum", 300, 1, 1,
                                           "GreaterThanThreshold", 0, "notBreaching"),
    }


def dlq_name(run: Run) -> str:
    return run.one("aws:sqs/queue:Queue").outputs["name"]


def test_default_alarms_watch_each_metric_as_specified(runs) -> None:
    run = runs("default")
    alarms = alarms_by_name(run)
    expected = expected_alarms(dlq_name(run), 300 + 60 + FRESHNESS_MARGIN_SECONDS)
    assert {name: watched(alarm) for name, alarm in alarms.items()} == expected


def test_every_alarm_notifies_the_stack_topic_on_alarm_and_recovery(runs) -> None:
    run = runs("default")
    topic = run.one(TOPIC)
    assert topic.inputs["name"] == f"{PREFIX}-alarms"
    policy = run.one(TOPIC_POLICY)
    for alarm in run.of_type(ALARM):
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [topic.outputs["arn"]]
        assert alarm.inputs["alarmDescription"]
        assert policy.urn in alarm.dependencies
    assert run.exports["alarmTopicArn"] == topic.outputs["arn"]
    assert not run.of_type(SUBSCRIPTION)


def test_topic_is_not_under_the_aws_sns_key_and_only_this_accounts_alarms_publish(runs) -> None:
    run = runs("default")
    topic = run.one(TOPIC)
    assert "kmsMasterKeyId" not in topic.inputs  # CloudWatch cannot publish under aws/sns
    policy = run.one(TOPIC_POLICY).inputs
    assert policy["arn"] == topic.outputs["arn"]
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic.outputs["arn"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:*"},
            },
        }],
    }


def test_alarm_email_subscribes_the_address_and_silence_alarm_watches_incoming_records(runs) -> None:
    run = runs("email")
    topic = run.one(TOPIC)
    subscription = run.one(SUBSCRIPTION).inputs
    assert (subscription["topic"], subscription["protocol"], subscription["endpoint"]) == (
        topic.outputs["arn"], "email", "netsec-oncall@example.com")
    alarms = alarms_by_name(run)
    freshness = 600 + 120 + FRESHNESS_MARGIN_SECONDS
    expected = {
        **expected_alarms(dlq_name(run), freshness),
        # Six hourly periods, all empty or zero; missing data is the silence itself.
        f"{PREFIX}-silence": ("AWS/Firehose", "IncomingRecords", {"DeliveryStreamName": f"{PREFIX}-flows"},
                              "Sum", 3600, 6, 6, "LessThanOrEqualToThreshold", 0, "breaching"),
    }
    assert {name: watched(alarm) for name, alarm in alarms.items()} == expected
    assert all(alarm["alarmActions"] == [topic.outputs["arn"]] for alarm in alarms.values())


def test_alarm_topic_arn_uses_that_topic_and_creates_none(runs) -> None:
    run = runs("existing-topic")
    assert not run.of_type(TOPIC) and not run.of_type(TOPIC_POLICY)
    alarms = run.of_type(ALARM)
    assert len(alarms) == 11
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [EXISTING_TOPIC]
    assert run.one(SUBSCRIPTION).inputs["topic"] == EXISTING_TOPIC
    assert run.exports["alarmTopicArn"] == EXISTING_TOPIC


def test_freshness_threshold_is_both_buffers_plus_the_margin() -> None:
    assert freshness_threshold_seconds(300, 60) == 1260 == 300 + 60 + 900
    assert freshness_threshold_seconds(900, 900) == 2700


def test_alarm_names_are_unique_and_carry_the_stack(runs) -> None:
    names = [alarm.inputs["name"] for alarm in runs("email").of_type(ALARM)]
    assert len(names) == len(set(names)) == 12
    assert all(re.fullmatch(rf"{PREFIX}-[a-z-]+", name) for name in names)


def test_without_a_baseline_there_is_no_baseline_alarm(runs) -> None:
    run = runs("no-baseline")
    expected = expected_alarms(dlq_name(run), 300 + 60 + FRESHNESS_MARGIN_SECONDS)
    del expected[f"{PREFIX}-baseline-unavailable"]
    assert {name: watched(alarm) for name, alarm in alarms_by_name(run).items()} == expected


def test_the_two_firehose_success_alarms_say_what_fires_them(runs) -> None:
    """Average below 1 in each of two 5-minute periods: one failed call in each fires them."""
    alarms = alarms_by_name(runs("default"))
    for key, metric in (("firehose-processing", "ExecuteProcessing.Success"),
                        ("firehose-delivery", "DeliveryToS3.Success")):
        description = alarms[f"{PREFIX}-{key}"]["alarmDescription"]
        assert "10 minutes" not in description
        assert "at least once in each of two consecutive 5-minute periods" in description
        assert f"{metric} averaged below 1 in both" in description


@pytest.mark.parametrize(("topic", "shown"), [
    (f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:ops-pager", "eu-west-1 (aws)"),
    (f"arn:aws-cn:sns:{REGION}:{ACCOUNT_ID}:ops-pager", f"{REGION} (aws-cn)"),
])
def test_an_alarm_topic_of_another_region_or_partition_is_refused(
    packages: Path, monkeypatch: pytest.MonkeyPatch, topic: str, shown: str,
) -> None:
    monkeypatch.setenv("AWS_REGION", REGION)
    with pytest.raises(AlarmTopicRegionError, match=re.escape(
            f"alarmTopicArn is a topic in {shown} but this stack deploys to {REGION} (aws)")):
        run_program(components_program(packages), {"alarmTopicArn": topic})


def test_an_alarm_topic_is_checked_against_the_providers_region_without_aws_region(
    packages: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    # Raised once the provider's region is looked up; Pulumi wraps it in the resource's ValueError.
    with pytest.raises(ValueError, match=f"alarmTopicArn is a topic in eu-west-1 .* deploys to {REGION}"):
        run_program(components_program(packages), {"alarmTopicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:x"})
