"""A Python Lambda with its own log group and a role limited to what the caller grants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.packaging import LAMBDA_RUNTIME, LambdaPackage


@dataclass
class FunctionArgs:
    function_name: str
    """Explicit, so the log group and the role's statements can name it before it exists."""
    handler: str
    package: LambdaPackage
    architecture: str
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    account: policies.Account
    environment: Mapping[str, pulumi.Input[str]]
    statements: Sequence[Mapping[str, object]]
    """The role's permissions besides writing its own logs."""
    description: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass
class BuiltFunction:
    function: aws.lambda_.Function
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    log_group: aws.cloudwatch.LogGroup


def python_function(name: str, args: FunctionArgs, parent: pulumi.Resource) -> BuiltFunction:
    """Children of `parent`: log group, role (+ inline policy), and the function itself."""
    child = pulumi.ResourceOptions(parent=parent)
    # Created by the stack (with retention) rather than by Lambda on first write (kept forever).
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/lambda/{args.function_name}",
        retention_in_days=args.log_retention_days,
        tags=dict(args.tags),
        opts=child,
    )
    role, role_policy = policies.role(
        f"{name}-role",
        policies.lambda_trust(args.account),
        policies.document(policies.log_writing(log_group.arn), *args.statements),
        description=f"Execution role of the {args.function_name} Lambda",
        tags=args.tags,
        parent=parent,
    )
    function = aws.lambda_.Function(
        f"{name}-function",
        name=args.function_name,
        description=args.description,
        runtime=LAMBDA_RUNTIME,
        architectures=[args.architecture],
        handler=args.handler,
        code=args.package.archive(),
        source_code_hash=args.package.sha256_base64,
        memory_size=args.memory_mb,
        timeout=args.timeout_seconds,
        role=role.arn,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group.name),
        tags=dict(args.tags),
        # The policy must exist before the first invocation, and the group before the first log line.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy, log_group]),
    )
    return BuiltFunction(function, role, role_policy, log_group)
