"""Pipeline-health alarms: CloudWatch metric alarms on Firehose, both Lambdas, the dead-letter queue and
the pipeline's own metrics, all publishing to one SNS topic.

`alarm_specs` is pure (what to watch, how, and why); `Alarms` wires the specs to CloudWatch and SNS.
Metric names and dimensions: AWS/Firehose, AWS/Lambda and AWS/SQS metric references, and
contracts/metrics.py for the handlers' own (checked 2026-11).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts import metrics
from contracts.naming import Names
from contracts.settings import AlarmSettings, Buffers
from contracts.settings_checks import check_alarm_topic, partition_of
from infra import policies

# Firehose needs, for a record, at most: the processor buffer (it waits up to processorBufferSeconds
# before calling the transform), the transform (up to its 120 s timeout, and Firehose retries a failed
# invocation 3 times: 4 x 120 s = 480 s before the records go to errors/), then the S3 buffer (up to
# archiveBufferSeconds) and the S3 write. The margin covers the invocations and S3's own retries:
# DataFreshness above buffers + 900 s means records are stuck, not merely buffered. With the defaults:
# 60 + 300 + 900 = 1,260 s (21 minutes).
FRESHNESS_MARGIN_SECONDS = 900
PERIOD_SECONDS = 300

GREATER = "GreaterThanThreshold"
LESS = "LessThanThreshold"
LESS_OR_EQUAL = "LessThanOrEqualToThreshold"
# Missing data: `notBreaching` where a metric exists only while there is traffic (no data = nothing
# wrong), `breaching` where silence is the problem, `ignore` where the metric may stop while the
# condition persists (keep the last state): SQS publishes metrics only while a queue is active, and a
# dead-letter queue is idle.
NOT_BREACHING = "notBreaching"
BREACHING = "breaching"
IGNORE = "ignore"


def freshness_threshold_seconds(archive_buffer_seconds: int, processor_buffer_seconds: int) -> int:
    """The oldest undelivered record's age above which delivery is stuck (see FRESHNESS_MARGIN_SECONDS)."""
    return archive_buffer_seconds + processor_buffer_seconds + FRESHNESS_MARGIN_SECONDS


@dataclass(frozen=True)
class AlarmSpec:
    key: str
    """Suffix of the alarm's name and resource name."""
    description: str
    """What it means and what to do: the text of the notification."""
    namespace: str
    metric_name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: str
    threshold: float
    comparison: str
    treat_missing_data: str
    period_seconds: int = PERIOD_SECONDS
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1


@dataclass(frozen=True)
class Watched:
    """The names of what the alarms watch (plain names: they are known before the resources exist)."""

    stream_name: str
    transform_function: str
    notifier_function: str
    dead_letter_queue_name: pulumi.Input[str]


def alarm_specs(watched: Watched, *, archive_buffer_seconds: int, processor_buffer_seconds: int,
                silence_alarm_hours: int, baseline: bool = False) -> list[AlarmSpec]:
    stream = {"DeliveryStreamName": watched.stream_name}
    freshness = freshness_threshold_seconds(archive_buffer_seconds, processor_buffer_seconds)
    specs = [
        AlarmSpec(
            "firehose-freshness",
            f"Records have waited more than {freshness} s in Firehose {watched.stream_name} "
            f"(buffers {processor_buffer_seconds} s + {archive_buffer_seconds} s + "
            f"{FRESHNESS_MARGIN_SECONDS} s margin): delivery to S3 is stuck. Check the stream's error "
            "log group /aws/kinesisfirehose/<stream> and the transform's logs.",
            "AWS/Firehose", "DeliveryToS3.DataFreshness", stream, "Maximum", freshness, GREATER,
            NOT_BREACHING, evaluation_periods=2, datapoints_to_alarm=2,
        ),
        AlarmSpec(
            "firehose-processing",
            f"Firehose {watched.stream_name} failed to invoke the transform at least once in each of two "
            "consecutive 5-minute periods (ExecuteProcessing.Success averaged below 1 in both): failed "
            "batches are retried, then kept under errors/processing-failed/. Check the transform's logs "
            "and errors/ (replay them once fixed).",
            "AWS/Firehose", "ExecuteProcessing.Success", stream, "Average", 1, LESS, NOT_BREACHING,
            evaluation_periods=2, datapoints_to_alarm=2,
        ),
        AlarmSpec(
            "firehose-delivery",
            f"Firehose {watched.stream_name} failed to write to the archive bucket at least once in each of "
            "two consecutive 5-minute periods (DeliveryToS3.Success averaged below 1 in both): check the "
            "delivery role, the bucket policy and the stream's error log group.",
            "AWS/Firehose", "DeliveryToS3.Success", stream, "Average", 1, LESS, NOT_BREACHING,
            evaluation_periods=2, datapoints_to_alarm=2,
        ),
    ]
    functions = (("transform", watched.transform_function), ("notifier", watched.notifier_function))
    for role, function in functions:
        dimensions = {"FunctionName": function}
        specs += [
            AlarmSpec(
                f"{role}-errors",
                f"The {function} Lambda failed (timeout, crash or a raised error). "
                + ("Firehose retries the batch, then keeps it under errors/." if role == "transform" else
                   "Lambda retries the notification, then parks it in the dead-letter queue.")
                + f" Read /aws/lambda/{function}.",
                "AWS/Lambda", "Errors", dimensions, "Sum", 0, GREATER, NOT_BREACHING,
            ),
            AlarmSpec(
                f"{role}-throttles",
                f"The {function} Lambda was throttled: the account's or function's concurrency is "
                "exhausted, so records or notifications wait. Raise the concurrency limit or find what "
                "consumes it.",
                "AWS/Lambda", "Throttles", dimensions, "Sum", 0, GREATER, NOT_BREACHING,
            ),
        ]
    specs += [
        AlarmSpec(
            "dead-letters",
            "Notifications were parked in the notifier's dead-letter queue after Lambda's retries: "
            "their objects have no Datadog event. Fix the cause (the notifier's logs: key, site, "
            "outage), then redrive the queue's messages to the notifier.",
            "AWS/SQS", "ApproximateNumberOfMessagesVisible",
            {"QueueName": watched.dead_letter_queue_name}, "Maximum", 0, GREATER, IGNORE,
        ),
        AlarmSpec(
            "records-failed",
            "The transform returned records it could not read (ProcessingFailed): Firehose keeps them "
            "under errors/processing-failed/ and the notifier posts an error event. Read the "
            "transform's `record failed` log lines; replay errors/ once fixed.",
            metrics.NAMESPACE, metrics.RECORDS_FAILED, metrics.transform_dimensions(), "Sum", 0, GREATER,
            NOT_BREACHING,
        ),
        AlarmSpec(
            "events-failed",
            "Datadog did not accept an event after the notifier's retries (wrong API key, site, or an "
            "outage): Lambda retries, then the dead-letter queue keeps it. Read the notifier's "
            "`event not posted` log lines.",
            metrics.NAMESPACE, metrics.EVENTS_FAILED, metrics.notifier_dimensions(), "Sum", 0, GREATER,
            NOT_BREACHING,
        ),
    ]
    if baseline:
        specs.append(AlarmSpec(
            "baseline-unavailable",
            "The notifier could not read or write the baseline (DynamoDB failed, throttled or refused "
            "access): events went out without verdicts, tagged baseline:unavailable, and the new_* "
            "monitors cannot see them. Read the notifier's baseline log lines and the table's metrics "
            "(throttles, the role's dynamodb permissions).",
            metrics.NAMESPACE, metrics.BASELINE_UNAVAILABLE, metrics.notifier_dimensions(), "Sum", 0,
            GREATER, NOT_BREACHING,
        ))
    if silence_alarm_hours:
        specs.append(AlarmSpec(
            "silence",
            f"Firehose {watched.stream_name} received no records for {silence_alarm_hours} h: flow logs "
            "or the subscription stopped (deleted flow log, subscription filter, or a destination "
            "policy). Check the flow logs and the log group's subscription filters.",
            # IncomingRecords is not published while nothing arrives: missing data is the silence.
            "AWS/Firehose", "IncomingRecords", stream, "Sum", 0, LESS_OR_EQUAL, BREACHING,
            period_seconds=3600, evaluation_periods=silence_alarm_hours,
            datapoints_to_alarm=silence_alarm_hours,
        ))
    return specs


def topic_policy(topic_arn: pulumi.Input[str], account: policies.Account) -> pulumi.Output[str]:
    """CloudWatch alarms of this account (and only those) may publish: the confused-deputy guards."""
    return pulumi.Output.json_dumps({
        "Version": policies.POLICY_VERSION,
        "Statement": [{
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account.account_id},
                "ArnLike": {"aws:SourceArn": account.arn("cloudwatch", "alarm:*")},
            },
        }],
    })


@dataclass
class AlarmsArgs:
    watched: Watched
    names: Names
    """The stack's names: the topic's and each alarm's."""
    settings: AlarmSettings
    """Where alarms go (an existing topic or a new one, an email) and how long they stay silent."""
    buffers: Buffers
    """Firehose's buffering: how long records may wait before the freshness alarm."""
    account: policies.Account
    tags: Mapping[str, str] = field(default_factory=dict)
    home_region: str | None = None
    """The stack's region from its config (aws:region), when set; else the provider's is looked up."""
    baseline: bool = False
    """The stack keeps a baseline: alarm when the notifier cannot use it."""


def checked_topic_arn(
    topic_arn: str, home_region: str | None, account: policies.Account,
) -> pulumi.Output[str]:
    """alarmTopicArn, refused unless in the stack's region and partition (AlarmTopicRegionError).

    With aws:region the check runs as the program starts; without it, once the provider's region is
    looked up (still before any resource is created or changed).
    """
    if home_region is not None:
        return pulumi.Output.from_input(
            check_alarm_topic(topic_arn, region=home_region, partition=partition_of(home_region)))
    return pulumi.Output.all(account.region, account.partition).apply(
        lambda where: check_alarm_topic(topic_arn, region=where[0], partition=where[1]))


class Alarms(pulumi.ComponentResource):
    """The alarm topic (or an existing one), its email subscription and every pipeline-health alarm.

    The topic is not encrypted: CloudWatch cannot publish to a topic under the AWS-managed `aws/sns`
    key, and alarm notifications carry alarm names and metric values only (no flow data, no secret).
    A team that must encrypt brings its own topic (`alarmTopicArn`) under a customer key whose policy
    lets cloudwatch.amazonaws.com use it.
    """

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:alarms:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.topic: aws.sns.Topic | None = None
        self.topic_policy: aws.sns.TopicPolicy | None = None
        if args.settings.topic_arn:
            self.topic_arn: pulumi.Output[str] = checked_topic_arn(
                args.settings.topic_arn, args.home_region, args.account)
        else:
            self.topic = aws.sns.Topic(f"{name}-topic", name=args.names.alarm_topic, tags=tags, opts=child)
            self.topic_arn = self.topic.arn
            self.topic_policy = aws.sns.TopicPolicy(
                f"{name}-topic-policy", arn=self.topic.arn,
                policy=topic_policy(self.topic.arn, args.account), opts=child,
            )
        self.subscription: aws.sns.TopicSubscription | None = None
        if args.settings.email:
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-email", topic=self.topic_arn, protocol="email", endpoint=args.settings.email,
                opts=child,
            )
        specs = alarm_specs(
            args.watched, archive_buffer_seconds=args.buffers.archive_seconds,
            processor_buffer_seconds=args.buffers.processor_seconds,
            silence_alarm_hours=args.settings.silence_hours, baseline=args.baseline,
        )
        # Alarms wait for the topic policy: CloudWatch's first publish must be allowed.
        after_policy = pulumi.ResourceOptions(
            parent=self, depends_on=[self.topic_policy] if self.topic_policy else [],
        )
        self.alarms = {spec.key: self._alarm(name, spec, args.names.alarm(spec.key), tags, after_policy)
                       for spec in specs}
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        return {"alarmTopicArn": self.topic_arn}

    def _alarm(self, name: str, spec: AlarmSpec, alarm_name: str, tags: Mapping[str, str],
               opts: pulumi.ResourceOptions) -> aws.cloudwatch.MetricAlarm:
        actions: Sequence[pulumi.Input[str]] = [self.topic_arn]
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{spec.key}",
            name=alarm_name,
            alarm_description=spec.description,
            namespace=spec.namespace,
            metric_name=spec.metric_name,
            dimensions=dict(spec.dimensions),
            statistic=spec.statistic,
            period=spec.period_seconds,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            treat_missing_data=spec.treat_missing_data,
            # Recovery is worth a message too: the operator knows the fix worked.
            alarm_actions=list(actions),
            ok_actions=list(actions),
            tags=dict(tags),
            opts=opts,
        )
