"""Where flow logs come from: the log group (created or existing), flow logs per VPC, the subscription.

Three shapes, from the same component:
- into the stream of this stack (a central stack): group, flow logs into it, subscription to the stream;
- into a central stack's CloudWatch Logs destination (a member stack): the same, subscribed to the
  destination instead;
- flow logs straight into the stream as vended logs (`flowLogDestination: firehose`): no group and no
  subscription for them; an existing `logGroupName` is still subscribed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts.flowlog import subscription_filter_pattern
from contracts.settings import FlowLogs
from contracts.settings_flowlogs import tag_specifications
from infra import policies

# CloudWatch Logs rejects longer filter patterns.
MAX_FILTER_PATTERN = 1024
# One-minute aggregation: alerts within minutes rather than ten.
AGGREGATION_SECONDS = 60


def tag_field_specifications(flow_logs: FlowLogs) -> list[aws.ec2.FlowLogTagFieldSpecificationArgs] | None:
    """flowLogTagKeys as the flow log's TagFieldSpecifications: which tag fills `${instance-tag}` and
    `${interface-tag}` (their fields are already in the format). None without tag keys."""
    specs = tag_specifications(flow_logs.tag_keys)
    return [aws.ec2.FlowLogTagFieldSpecificationArgs(resource_type=resource_type, tag_keys=[key])
            for resource_type, key in specs] or None


@dataclass
class SourceArgs:
    stack: str
    subscription_name: str
    flow_logs: FlowLogs
    """An existing group to subscribe instead of creating /vpc/flow-logs/<stack>, or VPCs to log."""
    log_retention_days: int
    stream_arn: pulumi.Input[str] | None
    """This stack's delivery stream; None in a member stack."""
    account: policies.Account
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before CloudWatch Logs test-delivers into the stream (the stream itself)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    central_destination_arn: str | None = None
    """A member stack subscribes to this CloudWatch Logs destination of the central account."""
    flow_logs_to_firehose: bool = False
    """Flow logs for vpc_ids go straight into stream_arn (vended logs), not into a log group."""


class Source(pulumi.ComponentResource):
    """The flow-log group, a flow log per VPC, the subscription (to the stream or a central destination)."""

    def __init__(self, name: str, args: SourceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:source:Source", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.log_group: aws.cloudwatch.LogGroup | None = None
        self.log_group_name: pulumi.Output[str] | None = None
        self.subscription: aws.cloudwatch.LogSubscriptionFilter | None = None
        self.filter_pattern: str | None = None
        log_group_arn: pulumi.Input[str] | None = None
        if args.flow_logs.existing_log_group is None and not args.flow_logs_to_firehose:
            self.log_group = aws.cloudwatch.LogGroup(
                f"{name}-logs",
                name=f"/vpc/flow-logs/{args.stack}",
                retention_in_days=args.log_retention_days,
                tags=tags,
                opts=child,
            )
            self.log_group_name = self.log_group.name
            log_group_arn = self.log_group.arn
        elif args.flow_logs.existing_log_group is not None:
            self.log_group_name = pulumi.Output.from_input(args.flow_logs.existing_log_group)
            log_group_arn = args.account.arn("logs", f"log-group:{args.flow_logs.existing_log_group}")

        if args.flow_logs_to_firehose:
            self.flow_logs = self._flow_logs_to_firehose(name, args, tags)
        else:
            assert log_group_arn is not None
            self.flow_logs = self._flow_logs(name, args, log_group_arn, tags)
        if self.log_group_name is not None:
            assert log_group_arn is not None
            self.subscription = self._subscribe(name, args, self.log_group_name, log_group_arn, tags)
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """This component's stack outputs (camelCase), registered with it and exported by the stack."""
        return {
            "logGroupName": self.log_group_name,
            "flowLogIds": [flow_log.id for flow_log in self.flow_logs],
        }

    def _subscribe(
        self, name: str, args: SourceArgs, log_group_name: pulumi.Output[str],
        log_group_arn: pulumi.Input[str], tags: dict[str, str],
    ) -> aws.cloudwatch.LogSubscriptionFilter:
        """The REJECT subscription: to this stack's stream, or (a member) to the central destination.

        Either way CloudWatch Logs assumes a role of this account, guarded by AWS's documented
        condition for subscriptions: any log group of this account and region (the ARN carries the
        account, so no separate aws:SourceAccount key is needed).

        To a destination the role grants only logs:PutLogEvents on the sender's own group,
        `arn:<partition>:logs:<region>:<account>:log-group:<group>:*`. AWS requires such a role on the
        filter when the destination's policy grants an organisation and the group holds vended logs
        such as flow logs: CloudWatch Logs assumes it to check that this account may send to the
        destination ("Step 2: (Only if using an organization) Create an IAM role", CloudWatch Logs user
        guide; awsdocs/amazon-cloudwatch-logs-user-guide `doc_source/CreateSubscriptionFilter-IAMrole.md`,
        checked 2026-12). PutLogEvents has one resource type, the log stream: a grant on the destination's
        ARN would grant nothing. AWS's "Updating an existing cross-account subscription" adds it to
        filters before a policy switches from account ids to the organisation, so it is harmless with
        a policy listing accounts: the member stack always carries it and works with either.
        """
        pattern = subscription_filter_pattern(args.flow_logs.format, args.flow_logs.keep_actions)
        if len(pattern) > MAX_FILTER_PATTERN:
            raise ValueError(
                f"the subscription filter pattern for this flow-log format is {len(pattern)} characters; "
                f"CloudWatch Logs allows {MAX_FILTER_PATTERN}: use a format with fewer fields"
            )
        self.filter_pattern = pattern
        destination_arn: pulumi.Input[str]
        if args.central_destination_arn is not None:
            destination_arn = args.central_destination_arn
            grant = policies.statement(["logs:PutLogEvents"], [pulumi.Output.concat(log_group_arn, ":*")],
                                       sid="SendToCentralDestination")
            description = "CloudWatch Logs checks this account may send flow logs to the central destination"
            after: list[pulumi.Resource] = []
        else:
            assert args.stream_arn is not None, "a central stack subscribes its own stream"
            destination_arn = args.stream_arn
            grant = policies.statement(["firehose:PutRecord", "firehose:PutRecordBatch"], [destination_arn],
                                       sid="ShipToFirehose")
            description = "CloudWatch Logs ships flow-log lines to Firehose"
            after = list(args.depends_on)
        self.subscription_role, subscription_policy = policies.role(
            f"{name}-subscription-role",
            policies.trust_policy("logs.amazonaws.com", {
                "StringLike": {"aws:SourceArn": args.account.arn("logs", "*")},
            }),
            policies.document(grant),
            description=description,
            tags=tags,
            parent=self,
        )
        return aws.cloudwatch.LogSubscriptionFilter(
            f"{name}-subscription",
            name=args.subscription_name,
            log_group=log_group_name,
            filter_pattern=pattern,
            destination_arn=destination_arn,
            role_arn=self.subscription_role.arn,
            # CloudWatch Logs test-delivers on creation: the role's policy (and our stream) must exist.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[subscription_policy, *after, *self._group()],
            ),
        )

    def _group(self) -> list[pulumi.Resource]:
        return [self.log_group] if self.log_group is not None else []

    def _flow_logs(
        self, name: str, args: SourceArgs, log_group_arn: pulumi.Input[str], tags: dict[str, str],
    ) -> list[aws.ec2.FlowLog]:
        if not args.flow_logs.vpc_ids:
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
                traffic_type=args.flow_logs.traffic_type,
                log_destination_type="cloud-watch-logs",
                log_destination=log_group_arn,
                iam_role_arn=role.arn,
                log_format=args.flow_logs.format.text,
                tag_field_specifications=tag_field_specifications(args.flow_logs),
                max_aggregation_interval=AGGREGATION_SECONDS,
                tags={**tags, "Name": f"rejected-flows-{args.stack}-{vpc_id}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, *self._group()]),
            )
            for vpc_id in args.flow_logs.vpc_ids
        ]

    def _flow_logs_to_firehose(
        self, name: str, args: SourceArgs, tags: dict[str, str],
    ) -> list[aws.ec2.FlowLog]:
        """Flow logs delivered straight into the stream as vended logs ("Publish flow logs to Amazon
        Data Firehose", Amazon VPC user guide, checked 2026-11): plain-text records, no CloudWatch Logs
        ingestion. No role here: same-account delivery goes through the AWSServiceRoleForLogDelivery
        service-linked role, which puts records only into streams tagged LogDeliveryEnabled=true (the
        delivery stream carries that tag). The caller of `pulumi up` needs logs:CreateLogDelivery,
        firehose:TagDeliveryStream and, the first time in an account, iam:CreateServiceLinkedRole.
        """
        assert args.stream_arn is not None, "flow logs go straight into this stack's own stream"
        return [
            aws.ec2.FlowLog(
                f"{name}-flow-log-{vpc_id}",
                vpc_id=vpc_id,
                traffic_type=args.flow_logs.traffic_type,
                log_destination_type="kinesis-data-firehose",
                log_destination=args.stream_arn,
                log_format=args.flow_logs.format.text,
                tag_field_specifications=tag_field_specifications(args.flow_logs),
                max_aggregation_interval=AGGREGATION_SECONDS,
                tags={**tags, "Name": f"rejected-flows-{args.stack}-{vpc_id}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on]),
            )
            for vpc_id in args.flow_logs.vpc_ids
        ]
