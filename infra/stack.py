"""The whole pipeline from settings, in dependency order (docs/architecture.md, The stack)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from contracts.events import SOURCE_TAG, stack_tag
from contracts.flowlog import unknown_fields
from contracts.naming import Names
from contracts.settings import StackSettings, project_name
from infra import policies
from infra.alarms import Alarms, AlarmsArgs, Watched
from infra.analytics import Analytics, AnalyticsArgs
from infra.archive import ATHENA_RESULTS_PREFIX, Archive, ArchiveArgs
from infra.baseline import Baseline, BaselineArgs
from infra.collection import Collection, CollectionArgs
from infra.delivery import Delivery, DeliveryArgs
from infra.monitors import Monitors, MonitorsArgs, Where
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
    collection: Collection | None = None
    alarms: Alarms | None = None
    monitors: Monitors | None = None
    baseline: Baseline | None = None

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """Stack outputs (camelCase like the config keys): each component's own, named once there."""
        components = (self.collection, self.archive, self.delivery, self.notifier, self.source,
                      self.analytics, self.alarms, self.monitors, self.baseline)
        merged: dict[str, pulumi.Input[object]] = {}
        for component in components:
            if component is not None:
                merged |= component.outputs()
        return merged


def build_pipeline(
    settings: StackSettings,
    stack: str,
    datadog_api_key: pulumi.Input[str],
    packages: Packages,
    datadog_app_key: pulumi.Input[str] | None = None,
) -> Pipeline:
    """`datadog_app_key` (config datadogAppKey, a secret) adds the Datadog monitors and dashboard."""
    names = Names(project_name(), stack)
    tags = resource_tags(settings, stack)
    account = policies.Account.current()

    archive = Archive("archive", ArchiveArgs(
        bucket_prefix=names.bucket_prefix,
        retention=settings.retention,
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
        extra_fields=unknown_fields(settings.flow_logs.format),
    ))
    delivery = Delivery("delivery", DeliveryArgs(
        stream_name=names.delivery_stream,
        transform_function_name=names.transform_function,
        bucket_arn=bucket.arn,
        package=packages.transform,
        architecture=settings.lambda_architecture,
        flow_logs=settings.flow_logs,
        buffers=settings.buffers,
        log_retention_days=settings.retention.log_days,
        account=account,
        tags=tags,
        accepts_vended_logs=settings.collection.flow_logs_to_firehose,
    ), opts=pulumi.ResourceOptions(depends_on=[archive]))
    source = Source("source", SourceArgs(
        stack=stack,
        subscription_name=names.subscription_filter,
        flow_logs=settings.flow_logs,
        log_retention_days=settings.retention.log_days,
        stream_arn=delivery.stream.arn,
        account=account,
        depends_on=[delivery],
        tags=tags,
        flow_logs_to_firehose=settings.collection.flow_logs_to_firehose,
    ))
    baseline = None
    if settings.baseline.enabled:
        baseline = Baseline("baseline", BaselineArgs(table_name=names.baseline_table, tags=tags))
    notifier = Notifier("notifier", NotifierArgs(
        function_name=names.notifier_function,
        bucket_name=bucket.bucket,
        bucket_arn=bucket.arn,
        package=packages.notifier,
        architecture=settings.lambda_architecture,
        datadog_api_key=datadog_api_key,
        athena_database=analytics.database.name,
        athena_table=analytics.table.name,
        athena_workgroup=analytics.workgroup.name,
        stack=stack,
        notifications=settings.notifications,
        log_retention_days=settings.retention.log_days,
        account=account,
        tags=tags,
        baseline=settings.baseline,
        baseline_table_name=baseline.table.name if baseline else None,
        baseline_table_arn=baseline.table.arn if baseline else None,
    ))
    collection = None
    if settings.collection.has_destinations:
        collection = Collection("collection", CollectionArgs(
            destination_name=names.log_destination,
            stream_arn=delivery.stream.arn,
            home_region=aws.config.region,
            extra_regions=settings.collection.source_regions,
            source_account_ids=settings.collection.source_account_ids,
            organization_id=settings.collection.organization_id,
            account=account,
            depends_on=[delivery],
            tags=tags,
        ))
    alarms = Alarms("alarms", AlarmsArgs(
        watched=Watched(
            stream_name=names.delivery_stream,
            transform_function=names.transform_function,
            notifier_function=names.notifier_function,
            dead_letter_queue_name=notifier.dead_letter_queue.name,
        ),
        names=names,
        settings=settings.alarms,
        buffers=settings.buffers,
        account=account,
        tags=tags,
        home_region=aws.config.region,
        baseline=settings.baseline.enabled,
    ))
    monitors = build_monitors(settings, stack, datadog_api_key, datadog_app_key, archive, analytics, delivery)
    return Pipeline(archive, analytics, delivery, source, notifier, collection, alarms, monitors, baseline)


def build_monitors(
    settings: StackSettings,
    stack: str,
    datadog_api_key: pulumi.Input[str],
    datadog_app_key: pulumi.Input[str] | None,
    archive: Archive,
    analytics: Analytics,
    delivery: Delivery,
) -> Monitors | None:
    """Datadog monitors and dashboard, only with an application key: nothing in Datadog without one."""
    if datadog_app_key is None:
        return None
    return Monitors("monitors", MonitorsArgs(
        stack=stack,
        site=settings.notifications.datadog_site,
        api_key=datadog_api_key,
        app_key=datadog_app_key,
        where=Where(
            bucket=archive.bucket.bucket,
            stream=delivery.stream.name,
            database=analytics.database.name,
            table=analytics.table.name,
            workgroup=analytics.workgroup.name,
        ),
        volume_threshold=settings.alarms.datadog_monitor_threshold,
        settings=settings.monitors,
        tags=(SOURCE_TAG, stack_tag(stack), *settings.notifications.datadog_tags,
              *(f"{key}:{value}" for key, value in settings.resource_tags.items())),
    ))
