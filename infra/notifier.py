"""The notifier: Datadog key in Secrets Manager, the S3-triggered function, retries, a dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts.baseline import NOTIFIER_TABLE_ACTIONS
from contracts.lambdas import NOTIFIER, NotifierResources, notifier_environment
from contracts.layout import DATA_PREFIX, ERROR_PREFIX
from contracts.settings import BaselineSettings, Notifications
from infra import policies
from infra.functions import FunctionArgs, python_function
from infra.packaging import LambdaPackage

# The notifier's handler, memory and timeout: contracts/lambdas.py (shared with the local pipeline).
# SQS keeps a message at most 14 days: the longest time to notice and redrive a failed notification.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# Objects the notifier reads and marks (the archive layout's prefixes, contracts/layout.py).
NOTIFIED_PREFIXES: tuple[str, ...] = (DATA_PREFIX, ERROR_PREFIX)


@dataclass
class NotifierArgs:
    function_name: str
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    package: LambdaPackage
    architecture: str
    datadog_api_key: pulumi.Input[str]
    """A secret Output: it only ever reaches the SecretVersion."""
    athena_database: pulumi.Input[str]
    athena_table: pulumi.Input[str]
    athena_workgroup: pulumi.Input[str]
    stack: str
    notifications: Notifications
    """Datadog site and tags, internal networks (config internalCidrs), Lambda's retries of S3 events."""
    log_retention_days: int
    account: policies.Account
    tags: Mapping[str, str] = field(default_factory=dict)
    baseline: BaselineSettings | None = None
    """The baseline's days, learning hours and keys per object; None or 0 days: no baseline."""
    baseline_table_name: pulumi.Input[str] | None = None
    baseline_table_arn: pulumi.Input[str] | None = None
    """The baseline's table: the notifier's role is the only one granted it."""


def baseline_statements(table_arn: pulumi.Input[str] | None) -> list[dict[str, object]]:
    """Exactly the notifier's item actions (contracts/baseline.py) on the one table, or none."""
    if table_arn is None:
        return []
    return [policies.statement(list(NOTIFIER_TABLE_ACTIONS), [table_arn], sid="UseBaseline")]


class Notifier(pulumi.ComponentResource):
    """Posts one Datadog event per object under rejected/ and errors/."""

    def __init__(self, name: str, args: NotifierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:notifier:Notifier", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        self.secret = aws.secretsmanager.Secret(
            f"{name}-datadog-api-key",
            description=f"Datadog API key of the rejected-flows notifier ({args.stack})",
            tags=tags,
            opts=child,
        )
        self.secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-datadog-api-key-version",
            secret_id=self.secret.id,
            secret_string=pulumi.Output.secret(args.datadog_api_key),
            opts=child,
        )
        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            tags=tags,
            opts=child,
        )

        objects = [pulumi.Output.concat(args.bucket_arn, "/", prefix, "*") for prefix in NOTIFIED_PREFIXES]
        self.built = python_function(f"{name}-notifier", FunctionArgs(
            function_name=args.function_name,
            handler=NOTIFIER.handler,
            package=args.package,
            architecture=args.architecture,
            memory_mb=NOTIFIER.memory_mb,
            timeout_seconds=NOTIFIER.timeout_seconds,
            log_retention_days=args.log_retention_days,
            account=args.account,
            environment=notifier_environment(
                args.notifications, args.stack,
                NotifierResources[pulumi.Input[str]](
                    api_key_secret_arn=self.secret.arn,
                    athena_database=args.athena_database,
                    athena_table=args.athena_table,
                    athena_workgroup=args.athena_workgroup,
                    baseline_table=args.baseline_table_name,
                ),
                args.baseline,
            ),
            statements=[
                # Read the object, and tag it once Datadog accepted its event (at most one event each).
                policies.statement(["s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"], objects,
                                   sid="ReadAndMarkObjects"),
                # Without ListBucket, S3 answers a deleted key with 403 AccessDenied instead of 404
                # NoSuchKey (S3 API reference, GetObject, "Permissions", checked 2026-11): the notifier
                # skips a notification for an object that no longer exists only if it can tell.
                policies.statement(["s3:ListBucket"], [args.bucket_arn], sid="TellMissingObjects"),
                policies.statement(["secretsmanager:GetSecretValue"], [self.secret.arn], sid="ReadApiKey"),
                # Lambda's on-failure destination sends with the function's own role.
                policies.statement(["sqs:SendMessage"], [self.dead_letter_queue.arn], sid="DeadLetter"),
                *baseline_statements(args.baseline_table_arn),
            ],
            description="Posts one Datadog event per archived object",
            tags=tags,
        ), parent=self)
        function = self.built.function

        self.invoke_config = aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-invoke-config",
            function_name=function.name,
            maximum_retry_attempts=args.notifications.retry_attempts,
            maximum_event_age_in_seconds=args.notifications.max_event_age_seconds,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=self.dead_letter_queue.arn,
                ),
            ),
            # Lambda checks the role can send to the destination when the config is saved.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.built.role_policy]),
        )
        self.permission = aws.lambda_.Permission(
            f"{name}-s3-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="s3.amazonaws.com",
            source_arn=args.bucket_arn,
            source_account=args.account.account_id,
            opts=child,
        )
        self.bucket_notification = aws.s3.BucketNotification(
            f"{name}-bucket-notification",
            bucket=args.bucket_name,
            lambda_functions=[
                aws.s3.BucketNotificationLambdaFunctionArgs(
                    id=f"notify-{prefix.rstrip('/')}",
                    lambda_function_arn=function.arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=prefix,
                )
                for prefix in NOTIFIED_PREFIXES
            ],
            # S3 validates the destination: it refuses the configuration until the permission exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission, self.invoke_config]),
        )
        self.function_name = function.name
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """This component's stack outputs (camelCase), registered with it and exported by the stack."""
        return {
            "notifierFunctionName": self.function_name,
            "deadLetterQueueUrl": self.dead_letter_queue.url,
            "datadogApiKeySecretArn": self.secret.arn,
        }
