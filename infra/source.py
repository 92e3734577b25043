"""Where flow logs come from: the log group (created or existing), flow logs per VPC, the subscription."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts.flowlog import FlowLogFormat, subscription_filter_pattern
from infra import policies

# CloudWatch Logs rejects longer filter patterns.
MAX_FILTER_PATTERN = 1024
# One-minute aggregation: alerts within minutes rather than ten.
AGGREGATION_SECONDS = 60


@dataclass
class SourceArgs:
    stack: str
    subscription_name: str
    existing_log_group: str | None
    """Subscribe this group instead of creating /vpc/flow-logs/<stack>."""
    log_retention_days: int
    vpc_ids: Sequence[str]
    flow_log_format: FlowLogFormat
    keep_actions: frozenset[str]
    traffic_type: str
    stream_arn: pulumi.Input[str]
    account: policies.Account
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before CloudWatch Logs test-delivers into the stream (the stream itself)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class Source(pulumi.ComponentResource):
    """The flow-log group, a flow log per VPC into it, and the subscription into Firehose."""

    def __init__(self, name: str, args: SourceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:source:Source", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.log_group: aws.cloudwatch.LogGroup | None = None
        if args.existing_log_group is None:
            self.log_group = aws.cloudwatch.LogGroup(
                f"{name}-logs",
                name=f"/vpc/flow-logs/{args.stack}",
                retention_in_days=args.log_retention_days,
                tags=tags,
                opts=child,
            )
            self.log_group_name: pulumi.Output[str] = self.log_group.name
            log_group_arn = self.log_group.arn
        else:
            self.log_group_name = pulumi.Output.from_input(args.existing_log_group)
            log_group_arn = args.account.arn("logs", f"log-group:{args.existing_log_group}")

        self.flow_logs = self._flow_logs(name, args, log_group_arn, tags)

        pattern = subscription_filter_pattern(args.flow_log_format, args.keep_actions)
        if len(pattern) > MAX_FILTER_PATTERN:
            raise ValueError(
                f"the subscription filter pattern for this flow-log format is {len(pattern)} characters; "
                f"CloudWatch Logs allows {MAX_FILTER_PATTERN}: use a format with fewer fields"
            )
        self.filter_pattern = pattern
        self.subscription_role, subscription_policy = policies.role(
            f"{name}-subscription-role",
            # AWS's documented guard for subscriptions: any log group of this account and region
            # (the ARN carries the account, so no separate aws:SourceAccount key is needed).
            policies.trust_policy("logs.amazonaws.com", {
                "StringLike": {"aws:SourceArn": args.account.arn("logs", "*")},
            }),
            policies.document(policies.statement(
                ["firehose:PutRecord", "firehose:PutRecordBatch"], [args.stream_arn], sid="ShipToFirehose",
            )),
            description="CloudWatch Logs ships flow-log lines to Firehose",
            tags=tags,
            parent=self,
        )
        self.subscription = aws.cloudwatch.LogSubscriptionFilter(
            f"{name}-subscription",
            name=args.subscription_name,
            log_group=self.log_group_name,
            filter_pattern=pattern,
            destination_arn=args.stream_arn,
            role_arn=self.subscription_role.arn,
            # CloudWatch Logs test-delivers on creation: the role's policy and the stream must exist.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[subscription_policy, *args.depends_on, *self._group()],
            ),
        )
        self.register_outputs({"logGroupName": self.log_group_name, "filterPattern": pattern})

    def _group(self) -> list[pulumi.Resource]:
        return [self.log_group] if self.log_group is not None else []

    def _flow_logs(
        self, name: str, args: SourceArgs, log_group_arn: pulumi.Input[str], tags: dict[str, str],
    ) -> list[aws.ec2.FlowLog]:
        if not args.vpc_ids:
            return []
        role, role_policy = policies.role(
            f"{name}-flow-log-role",
            policies.trust_policy(
                "vpc-flow-logs.amazonaws.com",
                policies.source_condition(args.account, args.account.arn("ec2", "vpc-flow-log/*")),
            ),
            policies.document(
                policies.statement(
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [log_group_arn, pulumi.Output.concat(log_group_arn, ":log-stream:*")],
                    sid="WriteFlowLogs",
                ),
            ),
            description="VPC Flow Logs writes into the flow-log group",
            tags=tags,
            parent=self,
        )
        self.flow_log_role = role
        return [
            aws.ec2.FlowLog(
                f"{name}-flow-log-{vpc_id}",
                vpc_id=vpc_id,
                traffic_type=args.traffic_type,
                log_destination_type="cloud-watch-logs",
                log_destination=log_group_arn,
                iam_role_arn=role.arn,
                log_format=args.flow_log_format.text,
                max_aggregation_interval=AGGREGATION_SECONDS,
                tags={**tags, "Name": f"rejected-flows-{args.stack}-{vpc_id}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, *self._group()]),
            )
            for vpc_id in args.vpc_ids
        ]
