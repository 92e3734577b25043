"""Firehose (Direct PUT → extended S3) with the transform Lambda as its processor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from contracts import environment as env
from contracts.collection import LOG_DELIVERY_TAG
from contracts.firehose import (
    PROCESSOR_BUFFER_MB_DEFAULT,
    PROCESSOR_BUFFER_SECONDS_DEFAULT,
    PROCESSOR_RETRIES,
)
from contracts.flowlog import parse_format, unknown_fields
from contracts.layout import FIREHOSE_DATA_PREFIX, FIREHOSE_ERROR_PREFIX
from contracts.settings import Buffers, FlowLogs
from infra import policies
from infra.functions import FunctionArgs, python_function
from infra.packaging import LambdaPackage

# Firehose invokes the processor for up to 5 minutes; a batch plus re-ingestion needs well under 2.
TRANSFORM_TIMEOUT_SECONDS = 120
# CPU scales with memory: 512 MB keeps a batch of the default 0.2 MB (compressed) well under a second.
TRANSFORM_MEMORY_MB = 512
ERROR_LOG_STREAM = "DestinationDelivery"


@dataclass
class DeliveryArgs:
    stream_name: str
    """Explicit, so the transform's role can name the stream's ARN before it exists (no cycle)."""
    transform_function_name: str
    bucket_arn: pulumi.Input[str]
    package: LambdaPackage
    architecture: str
    flow_logs: FlowLogs
    """The format and the kept actions the transform is told (the rest is the source's)."""
    buffers: Buffers
    log_retention_days: int
    account: policies.Account
    tags: Mapping[str, str] = field(default_factory=dict)
    accepts_vended_logs: bool = False
    """Flow logs are delivered straight into the stream: it carries the tag AWS's log delivery needs."""


def warn_about_unknown_fields(format_text: str) -> None:
    """Fields newer than the catalogue are archived as strings: say so at `pulumi up`, not silently."""
    unknown = unknown_fields(parse_format(format_text))
    if unknown:
        pulumi.log.warn(
            f"flow-log format fields {', '.join(unknown)} are not in this stack's field catalogue; they are "
            f"archived as strings (Glue columns of type string). Upgrade rejected-flows for typed columns."
        )


class Delivery(pulumi.ComponentResource):
    """The delivery stream, its role and error logs, and the transform function it calls."""

    def __init__(self, name: str, args: DeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rejected-flows:delivery:Delivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.stream_arn = args.account.arn("firehose", f"deliverystream/{args.stream_name}")
        warn_about_unknown_fields(args.flow_logs.format.text)

        self.transform = python_function(f"{name}-transform", FunctionArgs(
            function_name=args.transform_function_name,
            handler="transform.handler.handler",
            package=args.package,
            architecture=args.architecture,
            memory_mb=TRANSFORM_MEMORY_MB,
            timeout_seconds=TRANSFORM_TIMEOUT_SECONDS,
            log_retention_days=args.log_retention_days,
            account=args.account,
            environment={
                env.FLOW_LOG_FORMAT: args.flow_logs.format.text,
                env.KEEP_ACTIONS: args.flow_logs.keep_actions_env,
                env.POWERTOOLS_SERVICE_NAME: env.TRANSFORM_SERVICE,
                env.POWERTOOLS_METRICS_NAMESPACE: env.METRICS_NAMESPACE,
            },
            # Re-ingesting what does not fit the 6 MB response back into this stream.
            statements=[policies.statement(["firehose:PutRecordBatch"], [self.stream_arn], sid="Reingest")],
            description="Firehose processor: keeps the flows of KEEP_ACTIONS as NDJSON",
            tags=tags,
        ), parent=self)
        function = self.transform.function

        self.error_log_group = aws.cloudwatch.LogGroup(
            f"{name}-errors",
            name=f"/aws/kinesisfirehose/{args.stream_name}",
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        self.error_log_stream = aws.cloudwatch.LogStream(
            f"{name}-errors-stream", name=ERROR_LOG_STREAM, log_group_name=self.error_log_group.name,
            opts=child,
        )
        self.role, self.role_policy = policies.role(
            f"{name}-role",
            policies.trust_policy("firehose.amazonaws.com", policies.external_id_condition(args.account)),
            policies.document(
                policies.statement(
                    ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    [pulumi.Output.concat(args.bucket_arn, "/*")], sid="WriteArchive",
                ),
                policies.statement(
                    ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                    [args.bucket_arn], sid="ListArchive",
                ),
                policies.statement(
                    ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"],
                    [function.arn, pulumi.Output.concat(function.arn, ":*")], sid="InvokeTransform",
                ),
                policies.statement(
                    ["logs:PutLogEvents"],
                    [pulumi.Output.concat(self.error_log_group.arn, ":log-stream:", ERROR_LOG_STREAM)],
                    sid="LogDeliveryErrors",
                ),
            ),
            description=f"Delivery role of the {args.stream_name} Firehose stream",
            tags=tags,
            parent=self,
        )
        self.stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-stream",
            name=args.stream_name,
            destination="extended_s3",
            server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
                enabled=True, key_type="AWS_OWNED_CMK",
            ),
            extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
                bucket_arn=args.bucket_arn,
                role_arn=self.role.arn,
                prefix=FIREHOSE_DATA_PREFIX,
                error_output_prefix=FIREHOSE_ERROR_PREFIX,
                compression_format="GZIP",
                buffering_size=args.buffers.archive_mb,
                buffering_interval=args.buffers.archive_seconds,
                cloudwatch_logging_options=aws.kinesis.
                FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                    enabled=True,
                    log_group_name=self.error_log_group.name,
                    log_stream_name=self.error_log_stream.name,
                ),
                processing_configuration=aws.kinesis.
                FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs(
                    enabled=True,
                    processors=[processor(function.arn, args)],
                ),
            ),
            tags={**tags, **dict([LOG_DELIVERY_TAG])} if args.accepts_vended_logs else tags,
            # Firehose checks its role when the stream is created: the policy must be in place.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
        )
        self.transform_function_name = function.name
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """This component's stack outputs (camelCase), registered with it and exported by the stack."""
        return {
            "deliveryStreamName": self.stream.name,
            "deliveryStreamArn": self.stream.arn,
            "transformFunctionName": self.transform_function_name,
        }


def processor_parameters(
    function_arn: pulumi.Input[str], buffer_mb: float, buffer_seconds: int, retries: int = PROCESSOR_RETRIES,
) -> dict[str, pulumi.Input[str]]:
    """The Lambda processor's parameters, without those equal to Firehose's defaults.

    Firehose does not store a parameter equal to its default (nor does the provider read it back), so
    sending `NumberOfRetries=3` or `BufferIntervalInSeconds=60` would show as a change on every
    `pulumi up` and bump the stream's version. Firehose's retries of a failed invocation before the
    records go to errors/ stay at its default of 3.
    """
    parameters: dict[str, pulumi.Input[str]] = {"LambdaArn": pulumi.Output.concat(function_arn, ":$LATEST")}
    # Sized so an all-REJECT batch fits the transform's 6 MB response (docs/cost.md, "The processor buffer").
    if buffer_mb != PROCESSOR_BUFFER_MB_DEFAULT:
        parameters["BufferSizeInMBs"] = f"{buffer_mb:g}"
    if buffer_seconds != PROCESSOR_BUFFER_SECONDS_DEFAULT:
        parameters["BufferIntervalInSeconds"] = str(buffer_seconds)
    if retries != PROCESSOR_RETRIES:
        parameters["NumberOfRetries"] = str(retries)
    return parameters


def processor(
    function_arn: pulumi.Input[str], args: DeliveryArgs,
) -> aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs:
    parameter = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs  # noqa: E501
    parameters = processor_parameters(function_arn, args.buffers.processor_mb, args.buffers.processor_seconds)
    return aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs(
        type="Lambda",
        parameters=[parameter(parameter_name=key, parameter_value=value)
                    for key, value in parameters.items()],
    )
