"""A member stack: only what a source account needs to ship its flow logs to the central archive.

Flow logs for `vpcIds` (or an existing `logGroupName`), their log group and role, and the subscription to
the central stack's CloudWatch Logs destination. No stream, bucket, functions, Athena, SNS or Datadog key:
those live once, in the central account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from contracts.naming import Names
from contracts.settings import SettingsError, StackSettings, project_name
from infra import policies
from infra.source import Source, SourceArgs


@dataclass
class MemberStack:
    source: Source

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """Stack outputs, camelCase like the central stack's."""
        subscription = self.source.subscription
        assert subscription is not None, "a member stack always subscribes its group"
        return {**self.source.outputs(), "subscriptionFilterName": subscription.name}


def build_member(settings: StackSettings, stack: str, tags: dict[str, str]) -> MemberStack:
    destination = settings.collection.central_destination
    assert destination is not None, "build_member is for stacks with centralDestinationArn"
    region = aws.config.region
    if region is not None and region != destination.region:
        raise SettingsError(
            f"config centralDestinationArn is a destination in {destination.region} but this stack deploys "
            f"to {region}: a log group can only subscribe to a destination of its own region; use the "
            f"central stack's logDestinationArns entry for {region} (add {region} to its sourceRegions)"
        )
    names = Names(project_name(), stack)
    source = Source("source", SourceArgs(
        stack=stack,
        subscription_name=names.subscription_filter,
        flow_logs=settings.flow_logs,
        log_retention_days=settings.retention.log_days,
        stream_arn=None,
        account=policies.Account.current(),
        tags=tags,
        central_destination_arn=(
            f"arn:{destination.partition}:logs:{destination.region}:{destination.account_id}:"
            f"destination:{destination.name}"
        ),
    ))
    return MemberStack(source)
