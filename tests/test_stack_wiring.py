"""Under Pulumi's mocks: what calls what, with which prefixes, formats, columns and queries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts import environment as env
from contracts.flowlog import (
    ALL_FIELDS,
    DEFAULT_FORMAT,
    FIELDS_BY_VERSION,
    PROVENANCE_COLUMNS,
    RICH_FORMAT,
    athena_type,
    column_name,
    subscription_filter_pattern,
)
from contracts.layout import (
    DATA_PREFIX,
    ERROR_PREFIX,
    FIREHOSE_DATA_PREFIX,
    FIREHOSE_ERROR_PREFIX,
    PARTITION_KEYS,
    storage_location_template,
)
from contracts.queries import NAMED_QUERIES
from infra.packaging import LAMBDA_RUNTIME
from tests.stack_support import ACCOUNT_ID, CONFIGS, REGION, STACK, Run, pipeline_run, settings_of

# pulumi_aws warns about its own deprecated classes while importing a module.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

FUNCTION = "aws:lambda/function:Function"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
TABLE = "aws:glue/catalogTable:CatalogTable"


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Run]:
    return request.param, pipeline_run(request.param, tmp_path_factory.getbasetemp() / "packages")


@pytest.fixture(scope="module", autouse=True)
def packages_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.getbasetemp() / "packages"
    directory.mkdir(exist_ok=True)
    return directory


def function(run: Run, which: str):
    return run.one(FUNCTION, f"{which}-function")


def processor_parameters(run: Run) -> dict[str, str]:
    processors = run.one(STREAM).inputs["extendedS3Configuration"]["processingConfiguration"]["processors"]
    assert len(processors) == 1 and processors[0]["type"] == "Lambda"
    return {p["parameterName"]: p["parameterValue"] for p in processors[0]["parameters"]}


def test_processor_calls_the_transform_with_the_sized_buffer(run) -> None:
    name, result = run
    settings = settings_of(name)
    parameters = processor_parameters(result)
    # Only what differs from Firehose's defaults (1 MB, 60 s, 3 retries): a default is not stored, so
    # sending it would show as a change on every `pulumi up`.
    assert parameters == {
        "LambdaArn": function(result, "transform").outputs["arn"] + ":$LATEST",
        "BufferSizeInMBs": "0.2",
    } == {"LambdaArn": parameters["LambdaArn"], "BufferSizeInMBs": f"{settings.buffers.processor_mb:g}"}
    s3 = result.one(STREAM).inputs["extendedS3Configuration"]
    assert s3["bucketArn"] == result.one("aws:s3/bucket:Bucket").outputs["arn"]
    assert s3["compressionFormat"] == "GZIP"
    assert s3["bufferingSize"] == settings.buffers.archive_mb
    assert s3["bufferingInterval"] == settings.buffers.archive_seconds
    logging = s3["cloudwatchLoggingOptions"]
    assert logging["enabled"] is True
    group = result.one("aws:cloudwatch/logGroup:LogGroup", "delivery-errors").inputs["name"]
    stream = result.one("aws:cloudwatch/logStream:LogStream", "delivery-errors-stream").inputs
    assert logging["logGroupName"] == group == stream["logGroupName"]
    assert logging["logStreamName"] == stream["name"]


def test_firehose_prefixes_are_the_layout_and_match_the_table_template(run) -> None:
    _, result = run
    s3 = result.one(STREAM).inputs["extendedS3Configuration"]
    assert s3["prefix"] == FIREHOSE_DATA_PREFIX
    assert s3["errorOutputPrefix"] == FIREHOSE_ERROR_PREFIX
    bucket = result.one("aws:s3/bucket:Bucket").outputs["bucket"]
    table = result.one(TABLE).inputs
    template = table["parameters"]["storage.location.template"]
    assert template == storage_location_template(bucket)
    # Firehose's !{timestamp:...} partitions and the template's ${key} name the same directories.
    as_template = re.sub(r"(\w+)=!\{timestamp:[^}]+\}", r"\1=${\1}", s3["prefix"])
    assert f"s3://{bucket}/{as_template}" == template
    assert table["storageDescriptor"]["location"] == f"s3://{bucket}/{DATA_PREFIX}"


def test_transform_function_env_runtime_and_limits(run) -> None:
    name, result = run
    settings = settings_of(name)
    transform = function(result, "transform").inputs
    assert transform["handler"] == "transform.handler.handler"
    assert transform["runtime"] == LAMBDA_RUNTIME
    assert transform["architectures"] == [settings.lambda_architecture]
    assert transform["timeout"] >= 60
    assert transform["memorySize"] >= 256
    variables = transform["environment"]["variables"]
    assert variables[env.FLOW_LOG_FORMAT] == settings.flow_logs.format.text
    assert variables[env.KEEP_ACTIONS] == settings.flow_logs.keep_actions_env
    assert variables[env.POWERTOOLS_SERVICE_NAME] == env.TRANSFORM_SERVICE
    assert transform["sourceCodeHash"]


def test_notification_calls_the_notifier_for_rejected_and_errors(run) -> None:
    _, result = run
    notifier = function(result, "notifier")
    bucket = result.one("aws:s3/bucket:Bucket").outputs
    notification = result.one("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["bucket"] == bucket["bucket"]
    targets = notification.inputs["lambdaFunctions"]
    assert {t["filterPrefix"] for t in targets} == {DATA_PREFIX, ERROR_PREFIX} == {"rejected/", "errors/"}
    for target in targets:
        assert target["lambdaFunctionArn"] == notifier.outputs["arn"]
        assert target["events"] == ["s3:ObjectCreated:*"]
    permission = result.one("aws:lambda/permission:Permission")
    assert permission.urn in notification.dependencies
    assert permission.inputs["principal"] == "s3.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["function"] == notifier.outputs["name"]
    assert permission.inputs["sourceArn"] == bucket["arn"]
    assert permission.inputs["sourceAccount"] == ACCOUNT_ID


def test_notifier_env_points_at_the_key_secret_the_catalogue_and_the_stack_never_the_key(run) -> None:
    name, result = run
    settings = settings_of(name)
    notifier = function(result, "notifier").inputs
    assert notifier["handler"] == "notifier.handler.handler"
    assert notifier["runtime"] == LAMBDA_RUNTIME
    variables = notifier["environment"]["variables"]
    assert env.DD_API_KEY not in variables
    secret = result.one("aws:secretsmanager/secret:Secret").outputs
    assert variables[env.DD_API_KEY_SECRET_ARN] == secret["arn"]
    assert variables[env.DD_SITE] == settings.notifications.datadog_site
    assert variables[env.DD_TAGS] == ",".join(settings.notifications.datadog_tags)
    database = result.one("aws:glue/catalogDatabase:CatalogDatabase").inputs
    assert variables[env.ATHENA_DATABASE] == database["name"]
    assert variables[env.ATHENA_TABLE] == result.one(TABLE).inputs["name"] == env.DEFAULT_ATHENA_TABLE
    assert variables[env.ATHENA_WORKGROUP] == result.one("aws:athena/workgroup:Workgroup").inputs["name"]
    assert variables[env.STACK_NAME] == STACK


def test_notifier_retries_then_dead_letters(run) -> None:
    name, result = run
    settings = settings_of(name)
    config = result.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs
    assert config["functionName"] == function(result, "notifier").outputs["name"]
    assert config["maximumRetryAttempts"] == settings.notifications.retry_attempts
    assert config["maximumEventAgeInSeconds"] == settings.notifications.max_event_age_seconds
    queue = result.one("aws:sqs/queue:Queue").outputs
    assert config["destinationConfig"]["onFailure"]["destination"] == queue["arn"]


def test_log_group_created_or_existing(run) -> None:
    name, result = run
    settings = settings_of(name)
    groups = {g.inputs["name"]: g for g in result.of_type("aws:cloudwatch/logGroup:LogGroup")}
    subscription = result.one("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").inputs
    if settings.flow_logs.existing_log_group is None:
        created = groups[f"/vpc/flow-logs/{STACK}"]
        assert created.inputs["retentionInDays"] == settings.retention.log_days
        assert subscription["logGroup"] == created.inputs["name"]
        assert result.exports["logGroupName"] == f"/vpc/flow-logs/{STACK}"
    else:
        assert not any(g.startswith("/vpc/flow-logs/") for g in groups)
        assert subscription["logGroup"] == settings.flow_logs.existing_log_group
        assert result.exports["logGroupName"] == settings.flow_logs.existing_log_group


def test_subscription_ships_only_kept_actions_into_the_stream(run) -> None:
    name, result = run
    settings = settings_of(name)
    subscription = result.one("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").inputs
    expected = subscription_filter_pattern(settings.flow_logs.format, settings.flow_logs.keep_actions)
    assert subscription["filterPattern"] == expected
    assert len(expected) <= 1024
    assert "action = REJECT" in expected
    assert subscription["destinationArn"] == result.one(STREAM).outputs["arn"]
    role = result.one("aws:iam/role:Role", "subscription-role")
    assert subscription["roleArn"] == role.outputs["arn"]


def test_flow_logs_per_vpc_with_role_format_and_one_minute_aggregation(run) -> None:
    name, result = run
    settings = settings_of(name)
    flow_logs = result.of_type("aws:ec2/flowLog:FlowLog")
    assert sorted(f.inputs["vpcId"] for f in flow_logs) == sorted(settings.flow_logs.vpc_ids)
    assert len(result.exports["flowLogIds"]) == len(settings.flow_logs.vpc_ids)
    if not flow_logs:
        assert not [r for r in result.of_type("aws:iam/role:Role") if "flow-log" in r.name]
        return
    role = result.one("aws:iam/role:Role", "flow-log-role")
    group_arn = (f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{settings.flow_logs.existing_log_group}"
                 if settings.flow_logs.existing_log_group else
                 result.one("aws:cloudwatch/logGroup:LogGroup", "source-logs").outputs["arn"])
    expected_format = RICH_FORMAT if settings.flow_logs.existing_log_group is None else DEFAULT_FORMAT
    for flow_log in flow_logs:
        inputs = flow_log.inputs
        assert inputs["iamRoleArn"] == role.outputs["arn"]
        assert inputs["logDestinationType"] == "cloud-watch-logs"
        assert inputs["logDestination"] == group_arn
        assert inputs["logFormat"] == expected_format == settings.flow_logs.format.text
        assert inputs["maxAggregationInterval"] == 60
        assert inputs["trafficType"] == settings.flow_logs.traffic_type


def test_table_columns_are_every_catalogued_field_plus_provenance(run) -> None:
    _, result = run
    table = result.one(TABLE).inputs
    assert table["tableType"] == "EXTERNAL_TABLE"
    fields = [f for version in range(2, 12) for f in FIELDS_BY_VERSION.get(version, ())]
    assert fields == list(ALL_FIELDS)
    expected = [(column_name(f), athena_type(f)) for f in fields]
    expected += [(c, "string") for c in PROVENANCE_COLUMNS]
    columns = table["storageDescriptor"]["columns"]
    assert [(c["name"], c["type"]) for c in columns] == expected
    assert ("srcport", "int") in expected and ("end", "bigint") in expected
    assert [(k["name"], k["type"]) for k in table["partitionKeys"]] == [(k, "int") for k in PARTITION_KEYS]
    serde = table["storageDescriptor"]["serDeInfo"]
    assert serde["serializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_table_uses_partition_projection(run) -> None:
    _, result = run
    parameters = result.one(TABLE).inputs["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.year.type"] == "integer"
    assert parameters["projection.year.range"] == "2020,2100"
    for key, value_range in (("month", "1,12"), ("day", "1,31"), ("hour", "0,23")):
        assert parameters[f"projection.{key}.type"] == "integer"
        assert parameters[f"projection.{key}.range"] == value_range
        assert parameters[f"projection.{key}.digits"] == "2"


def test_named_queries_are_the_shared_sql(run) -> None:
    _, result = run
    database = result.one("aws:glue/catalogDatabase:CatalogDatabase").inputs["name"]
    table = result.one(TABLE).inputs["name"]
    workgroup = result.one("aws:athena/workgroup:Workgroup").inputs["name"]
    queries = {q.inputs["name"]: q.inputs for q in result.of_type("aws:athena/namedQuery:NamedQuery")}
    assert set(queries) == {q.name for q in NAMED_QUERIES}
    for query in NAMED_QUERIES:
        assert queries[query.name]["query"] == query.sql(f"{database}.{table}")
        assert queries[query.name]["database"] == database
        assert queries[query.name]["workgroup"] == workgroup
    assert set(result.exports["athenaNamedQueryIds"]) == set(queries)


def test_workgroup_enforces_encrypted_results_and_a_scan_limit(run) -> None:
    name, result = run
    settings = settings_of(name)
    configuration = result.one("aws:athena/workgroup:Workgroup").inputs["configuration"]
    bucket = result.one("aws:s3/bucket:Bucket").outputs["bucket"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["bytesScannedCutoffPerQuery"] == settings.athena_scan_limit_mb * 1024 * 1024
    results = configuration["resultConfiguration"]
    assert results["outputLocation"].startswith(f"s3://{bucket}/")
    assert not results["outputLocation"].startswith((f"s3://{bucket}/{DATA_PREFIX}", f"s3://{bucket}/{ERROR_PREFIX}"))
    assert results["encryptionConfiguration"]["encryptionOption"] == "SSE_S3"


def test_outputs_are_camel_case_and_complete(run) -> None:
    _, result = run
    expected = {
        "bucketName", "deliveryStreamName", "deliveryStreamArn", "transformFunctionName",
        "notifierFunctionName", "logGroupName", "glueDatabaseName", "glueTableName", "athenaWorkgroupName",
        "athenaNamedQueryIds", "deadLetterQueueUrl", "datadogApiKeySecretArn", "flowLogIds",
        "alarmTopicArn", "baselineTableName",
    }
    assert set(result.exports) == expected
    assert all(re.fullmatch(r"[a-z][A-Za-z]*", key) for key in result.exports)


# Resource types whose AWS API takes no tags (checked against the pulumi_aws classes below).
UNTAGGABLE = {
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketNotification:BucketNotification",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:cloudwatch/logStream:LogStream",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
    "aws:lambda/permission:Permission",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:glue/catalogTable:CatalogTable",
    "aws:athena/namedQuery:NamedQuery",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sns/topicSubscription:TopicSubscription",
}


def test_every_taggable_resource_carries_the_stack_tags(run) -> None:
    name, result = run
    settings = settings_of(name)
    expected = {"project": "rejected-flows", "stack": STACK, **settings.resource_tags}
    for resource in result.resources:
        if not resource.type.startswith("aws:"):
            continue
        if resource.type in UNTAGGABLE:
            assert "tags" not in resource.inputs, resource.type
            continue
        tags = resource.inputs.get("tags") or {}
        assert expected.items() <= tags.items(), f"{resource.type} {resource.name}: {tags}"


def test_untaggable_types_really_take_no_tags() -> None:
    import importlib
    import inspect

    for token in UNTAGGABLE:
        module_path, type_name = token.split(":")[1].split("/")[0], token.split(":")[2]
        python_module = "lambda_" if module_path == "lambda" else module_path
        module = importlib.import_module(f"pulumi_aws.{python_module}")
        # The resource's public arguments class: what a program can pass it.
        parameters = inspect.signature(getattr(module, f"{type_name}Args")).parameters
        assert "tags" not in parameters, token


def test_existing_group_keeps_the_default_format_and_created_flow_logs_record_rejects_only() -> None:
    settings = settings_of("existing")
    assert settings.flow_logs.format.text == DEFAULT_FORMAT
    assert settings.flow_logs.traffic_type == "REJECT"
    assert settings_of("default").flow_logs.traffic_type == "REJECT"


def test_physical_names_carry_the_stack(run) -> None:
    _, result = run
    prefix = result.one("aws:s3/bucket:Bucket").inputs["bucketPrefix"]
    assert prefix == f"rejected-flows-{STACK}-" and len(prefix) <= 37
    assert result.one(STREAM).inputs["name"] == f"rejected-flows-{STACK}-flows"
    assert {f.inputs["name"] for f in result.of_type(FUNCTION)} == {
        f"rejected-flows-{STACK}-transform", f"rejected-flows-{STACK}-notifier"}


def test_every_aws_resource_uses_the_default_provider(run) -> None:
    """No explicit AWS provider: the stack's aws:* settings (profile, assumeRoles, allowedAccountIds,
    defaultTags) reach every resource (pulumi/pulumi-aws#1307)."""
    _, result = run
    assert result.of_type("pulumi:providers:aws") == []
    assert [r.name for r in result.resources
            if r.type.startswith("aws:") and r.provider and "::default" not in r.provider] == []
