"""The whole pipeline from settings: which component gets what, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from contracts.flowlog import unknown_fields
from contracts.naming import Names
from contracts.settings import StackSettings, project_name
from infra import policies
from infra.analytics import Analytics, AnalyticsArgs
from infra.archive import ATHENA_RESULTS_PREFIX, Archive, ArchiveArgs
from infra.delivery import Delivery, DeliveryArgs
from infra.notifier import Notifier, NotifierArgs
from infra.packaging import LambdaPackage, Target, build_function
from infra.source import Source, SourceArgs


@dataclass(frozen=True)
class Packages:
    transform: LambdaPackage
    notifier: LambdaPackage


def build_packages(architecture: str) -> Packages:
    """Both zips for the functions' architecture (cached under build/; seconds once cached)."""
    target = Target(architecture)
    return Packages(build_function("transform", target), build_function("notifier", target))


def resource_tags(settings: StackSettings, stack: str) -> dict[str, str]:
    """Every resource carries the project and stack; the stack's resourceTags may add to them."""
    return {"project": project_name(), "stack": stack, **settings.resource_tags}


@dataclass
class Pipeline:
    archive: Archive
    analytics: Analytics
    delivery: Delivery
    source: Source
    notifier: Notifier

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """Stack outputs, camelCase like the config keys."""
        return {
            "bucketName": self.archive.bucket.bucket,
            "deliveryStreamName": self.delivery.stream.name,
            "deliveryStreamArn": self.delivery.stream.arn,
            "transformFunctionName": self.delivery.transform.function.name,
            "notifierFunctionName": self.notifier.built.function.name,
            "logGroupName": self.source.log_group_name,
            "glueDatabaseName": self.analytics.database.name,
            "glueTableName": self.analytics.table.name,
            "athenaWorkgroupName": self.analytics.workgroup.name,
            "athenaNamedQueryIds": {name: query.id for name, query in self.analytics.named_queries.items()},
            "deadLetterQueueUrl": self.notifier.dead_letter_queue.url,
            "datadogApiKeySecretArn": self.notifier.secret.arn,
            "flowLogIds": [flow_log.id for flow_log in self.source.flow_logs],
        }


def build_pipeline(
    settings: StackSettings,
    stack: str,
    datadog_api_key: pulumi.Input[str],
    packages: Packages,
) -> Pipeline:
    names = Names(project_name(), stack)
    tags = resource_tags(settings, stack)
    account = policies.Account.current()

    archive = Archive("archive", ArchiveArgs(
        bucket_prefix=names.bucket_prefix,
        transition_days=settings.archive_transition_days,
        expiration_days=settings.archive_expiration_days,
        error_expiration_days=settings.error_expiration_days,
        tags=tags,
    ))
    bucket = archive.bucket
    analytics = Analytics("analytics", AnalyticsArgs(
        database_name=names.glue_database,
        table_name=names.glue_table,
        workgroup_name=names.athena_workgroup,
        bucket_name=bucket.bucket,
        results_prefix=ATHENA_RESULTS_PREFIX,
        scan_limit_mb=settings.athena_scan_limit_mb,
        tags=tags,
        extra_fields=unknown_fields(settings.flow_log_format),
    ))
    delivery = Delivery("delivery", DeliveryArgs(
        stream_name=names.delivery_stream,
        transform_function_name=names.transform_function,
        bucket_arn=bucket.arn,
        package=packages.transform,
        architecture=settings.lambda_architecture,
        flow_log_format=settings.flow_log_format.text,
        keep_actions=settings.keep_actions_env,
        processor_buffer_mb=settings.processor_buffer_mb,
        processor_buffer_seconds=settings.processor_buffer_seconds,
        archive_buffer_mb=settings.archive_buffer_mb,
        archive_buffer_seconds=settings.archive_buffer_seconds,
        log_retention_days=settings.log_retention_days,
        account=account,
        tags=tags,
    ), opts=pulumi.ResourceOptions(depends_on=[archive]))
    source = Source("source", SourceArgs(
        stack=stack,
        subscription_name=names.subscription_filter,
        existing_log_group=settings.log_group_name,
        log_retention_days=settings.log_retention_days,
        vpc_ids=settings.vpc_ids,
        flow_log_format=settings.flow_log_format,
        keep_actions=settings.keep_actions,
        traffic_type=settings.flow_log_traffic_type,
        stream_arn=delivery.stream.arn,
        account=account,
        depends_on=[delivery],
        tags=tags,
    ))
    notifier = Notifier("notifier", NotifierArgs(
        function_name=names.notifier_function,
        bucket_name=bucket.bucket,
        bucket_arn=bucket.arn,
        package=packages.notifier,
        architecture=settings.lambda_architecture,
        datadog_api_key=datadog_api_key,
        datadog_site=settings.datadog_site,
        datadog_tags=settings.datadog_tags,
        athena_database=analytics.database.name,
        athena_table=analytics.table.name,
        athena_workgroup=analytics.workgroup.name,
        stack=stack,
        max_event_age_seconds=settings.notifier_max_event_age_seconds,
        retry_attempts=settings.notifier_retry_attempts,
        log_retention_days=settings.log_retention_days,
        account=account,
        tags=tags,
    ))
    return Pipeline(archive, analytics, delivery, source, notifier)
