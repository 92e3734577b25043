"""IAM documents built from outputs: trust policies with confused-deputy guards, scoped statements.

Every allow statement names its actions one by one (no wildcards) and the exact resources of this
stack; documents are rendered with `Output.json_dumps`, so they resolve with the resources they name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

POLICY_VERSION = "2012-10-17"


@dataclass(frozen=True)
class Account:
    """Where the stack runs: partition, region and account id, resolved once by the program."""

    partition: pulumi.Input[str]
    region: pulumi.Input[str]
    account_id: pulumi.Input[str]

    @staticmethod
    def current(opts: pulumi.InvokeOptions | None = None) -> Account:
        return Account(
            partition=aws.get_partition_output(opts=opts).partition,
            region=aws.get_region_output(opts=opts).region,
            account_id=aws.get_caller_identity_output(opts=opts).account_id,
        )

    def arn(self, service: str, resource: pulumi.Input[str], *, regional: bool = True) -> pulumi.Output[str]:
        """`arn:<partition>:<service>:<region>:<account>:<resource>`."""
        region = self.region if regional else ""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", region, ":", self.account_id, ":", resource
        )


def statement(
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]],
    *,
    sid: str | None = None,
    effect: str = "Allow",
    condition: Mapping[str, object] | None = None,
) -> dict[str, object]:
    if effect == "Allow" and any("*" in action for action in actions):
        raise ValueError(f"wildcard action in {actions}: name each action")
    doc: dict[str, object] = {"Effect": effect, "Action": sorted(actions), "Resource": list(resources)}
    if sid:
        doc["Sid"] = sid
    if condition:
        doc["Condition"] = dict(condition)
    return doc


def document(*statements: Mapping[str, object]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": POLICY_VERSION, "Statement": list(statements)})


def trust_policy(service: str, condition: Mapping[str, object] | None = None) -> pulumi.Output[str]:
    """Trust of one AWS service principal, guarded by `condition` (aws:SourceAccount/SourceArn)."""
    trust: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        trust["Condition"] = dict(condition)
    return document(trust)


def source_condition(account: Account, source_arn: pulumi.Input[str]) -> dict[str, object]:
    """The confused-deputy guard: only this account's `source_arn` may make the service assume the role."""
    return {
        "StringEquals": {"aws:SourceAccount": account.account_id},
        "ArnLike": {"aws:SourceArn": source_arn},
    }


def external_id_condition(account: Account) -> dict[str, object]:
    """Firehose's documented guard: it assumes delivery roles with the account id as external id."""
    return {"StringEquals": {"sts:ExternalId": account.account_id}}


def lambda_trust(account: Account) -> pulumi.Output[str]:
    """Lambda execution roles: only Lambda acting for this account may assume them (Lambda's docs
    allow aws:SourceAccount in execution-role trust policies; AWS's own samples use it)."""
    return trust_policy("lambda.amazonaws.com", {"StringEquals": {"aws:SourceAccount": account.account_id}})


def log_writing(log_group_arn: pulumi.Input[str]) -> dict[str, object]:
    """CreateLogStream/PutLogEvents into one log group's streams (the group is made by the stack)."""
    return statement(
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [pulumi.Output.concat(log_group_arn, ":log-stream:*")],
        sid="WriteOwnLogs",
    )


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> dict[str, object]:
    """Bucket policy statement refusing every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def role(
    name: str,
    trust: pulumi.Input[str],
    policy: pulumi.Input[str],
    *,
    description: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role with one inline policy, both children of `parent`."""
    created = aws.iam.Role(
        name,
        assume_role_policy=trust,
        description=description,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    inline = aws.iam.RolePolicy(
        f"{name}-policy",
        role=created.id,
        policy=policy,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return created, inline
