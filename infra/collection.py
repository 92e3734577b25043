"""Central collection: a CloudWatch Logs destination per region that other accounts subscribe to.

A log group can only subscribe to a destination in its own region, while the destination may point at
a stream in another region ("Cross-account cross-Region log data sharing using Firehose", CloudWatch
Logs user guide, checked 2026-11). So the central stack creates one destination in its own region and
one in each of `sourceRegions`, all pointing at the one delivery stream. The other regions' destinations
and policies go through the stack's one default provider with pulumi-aws 7's per-resource `region`
("enhanced region support"): an explicit provider would ignore every `aws:*` stack setting (profile,
assumeRoles, allowedAccountIds, defaultTags) by design (pulumi/pulumi-aws#1307, checked 2026-12). Each
has

- a role CloudWatch Logs assumes to put records into the stream, trusted only for the source accounts'
  log groups of that region (and this account's, for the test message CloudWatch Logs sends when the
  destination is created): `aws:SourceArn` = `arn:<partition>:logs:<region>:<account>:*`
  ("Step 2: Create a destination", same guide);
- an access policy letting exactly the source accounts (or, with an organisation, any principal whose
  `aws:PrincipalOrgID` is it, as in AWS's "Updating an existing cross-account subscription" example)
  call `logs:PutSubscriptionFilter` on that destination. Turning an account-list policy into an
  organisation policy needs PutDestinationPolicy's `forceUpdate` (CloudWatch Logs API reference,
  PutDestinationPolicy, checked 2026-12): every organisation policy is written with it, so switching a
  stack from `sourceAccountIds` to `organizationId` works.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import policies

SUBSCRIBE_ACTION = "logs:PutSubscriptionFilter"


@dataclass
class CollectionArgs:
    destination_name: str
    stream_arn: pulumi.Input[str]
    home_region: str | None
    """The stack's own region when known from config (aws:region), to skip it in extra_regions."""
    extra_regions: Sequence[str]
    source_account_ids: Sequence[str]
    organization_id: str | None
    account: policies.Account
    depends_on: Sequence[pulumi.Resource] = ()
    """The stream: CloudWatch Logs test-delivers into it when a destination is created."""
    tags: Mapping[str, str] = field(default_factory=dict)


def destination_trust(args: CollectionArgs, region: pulumi.Input[str]) -> pulumi.Output[str]:
    """CloudWatch Logs may assume the role only for log groups of the source accounts in `region`.

    With an organisation the accounts are not known here; the guard is then the region's log groups of
    any account, and the destination policy (aws:PrincipalOrgID) decides who may subscribe.
    """
    accounts: list[pulumi.Input[str]] = (
        ["*"] if args.organization_id is not None else [*args.source_account_ids, args.account.account_id]
    )
    sources = [pulumi.Output.concat("arn:", args.account.partition, ":logs:", region, ":", account, ":*")
               for account in accounts]
    return policies.trust_policy("logs.amazonaws.com", {"StringLike": {"aws:SourceArn": sources}})


def destination_access_policy(args: CollectionArgs, destination_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Who may subscribe a log group to the destination: the listed accounts, or the organisation."""
    grant: dict[str, object] = {
        "Sid": "SubscribeSourceAccounts", "Effect": "Allow", "Action": SUBSCRIBE_ACTION,
        "Resource": destination_arn,
    }
    if args.organization_id is not None:
        grant["Principal"] = "*"
        grant["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": [args.organization_id]}}
    else:
        grant["Principal"] = {"AWS": list(args.source_account_ids)}
    return pulumi.Output.json_dumps({"Version": policies.POLICY_VERSION, "Statement": [grant]})


class Collection(pulumi.ComponentResource):
    """Destinations (home region plus extra regions), their roles and access policies."""

    def __init__(self, name: str, args: CollectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:collection:Collection", name, None, opts)
        self.destinations: dict[str | None, aws.cloudwatch.LogDestination] = {}
        regions: list[str | None] = [None, *(r for r in args.extra_regions if r != args.home_region)]
        for region in regions:
            self.destinations[region] = self._destination(name, args, region)
        # Region name -> destination ARN; the home region's name comes from the provider's lookup.
        home_arn = self.destinations[None].arn
        extra = {region: destination.arn for region, destination in self.destinations.items() if region}
        self.arns_by_region: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            args.account.region, home_arn, pulumi.Output.from_input(extra),
        ).apply(lambda parts: {parts[0]: parts[1], **parts[2]})
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """This component's stack outputs (camelCase), registered with it and exported by the stack."""
        return {"logDestinationArns": self.arns_by_region}

    def _destination(
        self, name: str, args: CollectionArgs, region: str | None,
    ) -> aws.cloudwatch.LogDestination:
        """One region's destination; None is the stack's own region (the provider's)."""
        suffix = region or "home"
        role, role_policy = policies.role(
            f"{name}-{suffix}-role",
            destination_trust(args, region if region is not None else args.account.region),
            policies.document(policies.statement(
                ["firehose:PutRecord", "firehose:PutRecordBatch"], [args.stream_arn], sid="ShipToFirehose",
            )),
            description=f"CloudWatch Logs destination {args.destination_name} ({region or 'home region'}) "
                        "puts member accounts' flow logs into the stream",
            tags=args.tags,
            parent=self,
        )
        destination = aws.cloudwatch.LogDestination(
            f"{name}-{suffix}-destination",
            name=args.destination_name,
            role_arn=role.arn,
            target_arn=args.stream_arn,
            tags=dict(args.tags),
            region=region,
            # CloudWatch Logs test-delivers through the role when the destination is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, *args.depends_on]),
        )
        aws.cloudwatch.LogDestinationPolicy(
            f"{name}-{suffix}-destination-policy",
            destination_name=destination.name,
            access_policy=destination_access_policy(args, destination.arn),
            # Needed to replace an account-list policy by an organisation policy; harmless otherwise.
            force_update=True if args.organization_id is not None else None,
            region=region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return destination
