"""Under Pulumi's mocks: the baseline's table and who may use it, the notifier's BASELINE_* variables,
flowLogTagKeys' fields on the flow logs the stack creates, and each Lambda's environment and timeout as
the one contract the stack and the local pipeline share (contracts/lambdas.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts import environment as env
from contracts.baseline import EXPIRY_ATTRIBUTE, NOTIFIER_TABLE_ACTIONS, PARTITION_KEY
from contracts.flowlog import RICH_FORMAT, column_name, subscription_filter_pattern
from contracts.lambdas import NOTIFIER, TRANSFORM
from contracts.settings import settings_from
from local import pipeline
from local.stack import LocalNames
from tests.stack_support import (
    STACK,
    Registered,
    Run,
    as_list,
    components_program,
    pipeline_run,
    policy_documents,
    run_program,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
VPCS = ["vpc-0123456789abcdef0"]
BASELINE_VARIABLES = {env.BASELINE_TABLE, env.BASELINE_DAYS, env.BASELINE_LEARNING_HOURS,
                      env.BASELINE_MAX_KEYS}

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "tuned": {"baselineDays": 30, "baselineLearningHours": 0, "baselineMaxKeys": 500},
    "off": {"baselineDays": 0},
    "tags": {"vpcIds": VPCS, "flowLogTagKeys": '{"instance": "Name", "interface": "team"}'},
    "tags-direct": {"vpcIds": VPCS, "flowLogDestination": "firehose",
                    "flowLogTagKeys": '{"interface": "Name"}'},
}
_RUNS: dict[str, Run] = {}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    packages: Path = tmp_path_factory.mktemp("packages")

    def run(name: str) -> Run:
        if name not in _RUNS:
            _RUNS[name] = run_program(components_program(packages), CONFIGS[name])
        return _RUNS[name]

    return run


def variables(run: Run, which: str) -> dict[str, str]:
    variables: dict[str, str] = run.one(FUNCTION, f"{which}-function").inputs["environment"]["variables"]
    return variables


def table_statements(run: Run) -> list[tuple[str, dict[str, Any]]]:
    """(document name, statement) of every statement naming a DynamoDB action or the table."""
    found = []
    for name, _, document in policy_documents(run):
        for statement in document["Statement"]:
            text = json.dumps(statement)
            if "dynamodb" in text:
                found.append((name, statement))
    return found


# --- the table ----------------------------------------------------------------------------------------

def test_the_baseline_is_one_on_demand_table_with_ttl_and_deletion_protection(runs) -> None:
    run = runs("default")
    table: Registered = run.one(TABLE)
    inputs = table.inputs
    assert inputs["name"] == f"rejected-flows-{STACK}-baseline"
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["hashKey"] == PARTITION_KEY == "pk" and "rangeKey" not in inputs
    assert inputs["attributes"] == [{"name": PARTITION_KEY, "type": "S"}]
    assert inputs["ttl"] == {"attributeName": EXPIRY_ATTRIBUTE, "enabled": True}
    assert inputs["deletionProtectionEnabled"] is True
    assert {"project": "rejected-flows", "stack": STACK}.items() <= inputs["tags"].items()
    assert run.exports["baselineTableName"] == inputs["name"]


def test_only_the_notifier_may_use_the_table_with_exactly_its_actions(runs) -> None:
    run = runs("default")
    table_arn = run.one(TABLE).outputs["arn"]
    (found,) = table_statements(run)
    name, statement = found
    assert name == "notifier-notifier-role-policy"
    assert statement["Effect"] == "Allow"
    assert sorted(as_list(statement["Action"])) == sorted(NOTIFIER_TABLE_ACTIONS)
    assert as_list(statement["Resource"]) == [table_arn]


def test_the_notifier_is_told_the_table_and_the_baselines_settings(runs) -> None:
    defaults = (env.DEFAULT_BASELINE_DAYS, env.DEFAULT_BASELINE_LEARNING_HOURS, env.DEFAULT_BASELINE_MAX_KEYS)
    for name, (days, hours, keys) in {"default": defaults, "tuned": (30, 0, 500)}.items():
        run = runs(name)
        notifier = variables(run, "notifier")
        assert notifier[env.BASELINE_TABLE] == run.one(TABLE).outputs["name"]
        assert (notifier[env.BASELINE_DAYS], notifier[env.BASELINE_LEARNING_HOURS],
                notifier[env.BASELINE_MAX_KEYS]) == (str(days), str(hours), str(keys))
        assert not {env.BASELINE_TABLE, env.BASELINE_DAYS} & set(variables(run, "transform"))


def test_baseline_days_zero_creates_no_table_and_tells_the_notifier_nothing(runs) -> None:
    run = runs("off")
    assert run.of_type(TABLE) == [] and "baselineTableName" not in run.exports
    assert not BASELINE_VARIABLES & set(variables(run, "notifier"))
    assert table_statements(run) == []


# --- flowLogTagKeys -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "specs", "fields"), [
    ("tags", [{"resourceType": "instance", "tagKeys": ["Name"]},
              {"resourceType": "network-interface", "tagKeys": ["team"]}], ["instance-tag", "interface-tag"]),
    ("tags-direct", [{"resourceType": "network-interface", "tagKeys": ["Name"]}], ["interface-tag"]),
])
def test_created_flow_logs_carry_the_tag_fields_and_their_keys(runs, name: str, specs: list[dict[str, Any]],
                                                              fields: list[str]) -> None:
    run = runs(name)
    settings = settings_from(CONFIGS[name])
    expected_format = RICH_FORMAT + "".join(f" ${{{field}}}" for field in fields)
    assert settings.flow_logs.format.text == expected_format
    (flow_log,) = run.of_type(FLOW_LOG)
    assert flow_log.inputs["logFormat"] == expected_format
    assert flow_log.inputs["tagFieldSpecifications"] == specs
    # The transform reads lines of that format; the table has a column for each of its fields.
    assert variables(run, "transform")[env.FLOW_LOG_FORMAT] == expected_format
    columns = {c["name"] for c in run.one("aws:glue/catalogTable:CatalogTable")
               .inputs["storageDescriptor"]["columns"]}
    assert {column_name(field) for field in fields} <= columns


def test_the_subscription_filter_follows_the_format_with_tag_fields(runs) -> None:
    run = runs("tags")
    settings = settings_from(CONFIGS["tags"])
    pattern = run.one("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").inputs["filterPattern"]
    assert pattern == subscription_filter_pattern(settings.flow_logs.format, settings.flow_logs.keep_actions)
    assert pattern.count(" ") >= len(settings.flow_logs.format.fields) - 1 and "interface_tag" in pattern


def test_without_tag_keys_flow_logs_have_no_tag_field_specifications(tmp_path: Path) -> None:
    flow_logs = pipeline_run("vpcs", tmp_path).of_type(FLOW_LOG)
    assert len(flow_logs) == 2
    assert all("tagFieldSpecifications" not in f.inputs and "instance-tag" not in f.inputs["logFormat"]
               for f in flow_logs)


# --- each Lambda's environment and timeout: one contract ------------------------------------------------

@pytest.mark.parametrize("name", ["default", "tags"])
def test_the_local_pipeline_runs_the_handlers_with_the_stacks_variables_and_timeouts(runs, name: str) -> None:
    run = runs(name)
    settings = settings_from(CONFIGS[name])
    transform = run.one(FUNCTION, "transform-function").inputs
    notifier = run.one(FUNCTION, "notifier-function").inputs
    assert (transform["timeout"], transform["memorySize"], transform["handler"]) == (
        TRANSFORM.timeout_seconds, TRANSFORM.memory_mb, TRANSFORM.handler)
    assert (notifier["timeout"], notifier["memorySize"], notifier["handler"]) == (
        NOTIFIER.timeout_seconds, NOTIFIER.memory_mb, NOTIFIER.handler)
    assert transform["timeout"] == pipeline.TRANSFORM_TIMEOUT_S
    assert notifier["timeout"] == pipeline.NOTIFIER_TIMEOUT_S

    secret_arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:local-AbCdEf"
    local = pipeline.handler_environment(settings, settings.flow_logs.format, LocalNames.for_run(settings, 1),
                                         secret_arn)
    deployed = {**variables(run, "transform"), **variables(run, "notifier")}
    # The same variables, but for the one both set differently (each handler names its service) and
    # the baseline's table, which the local stand-ins do not create.
    assert set(local) == set(deployed) - {env.POWERTOOLS_SERVICE_NAME} - BASELINE_VARIABLES
    resource_names = {env.DD_API_KEY_SECRET_ARN, env.ATHENA_DATABASE, env.ATHENA_WORKGROUP,
                      env.STACK_NAME}
    assert {k: v for k, v in local.items() if k not in resource_names} == {
        k: v for k, v in deployed.items() if k in local and k not in resource_names}
    assert local[env.DD_API_KEY_SECRET_ARN] == secret_arn and local[env.STACK_NAME] == "local"
    with_table = pipeline.handler_environment(settings, settings.flow_logs.format,
                                              LocalNames.for_run(settings, 1), secret_arn, "local-baseline")
    assert {k: with_table[k] for k in BASELINE_VARIABLES - {env.BASELINE_TABLE}} == {
        k: deployed[k] for k in BASELINE_VARIABLES - {env.BASELINE_TABLE}}
    assert with_table[env.BASELINE_TABLE] == "local-baseline"


def test_a_member_stack_names_what_was_hit_too() -> None:
    import pulumi

    from infra import program
    from tests.collection_support import CENTRAL_DESTINATION

    config = {"centralDestinationArn": CENTRAL_DESTINATION, "vpcIds": VPCS,
              "flowLogTagKeys": '{"instance": "Name"}'}
    run = run_program(lambda: program.run(pulumi.Config()), config, api_key=None)
    (flow_log,) = run.of_type(FLOW_LOG)
    assert flow_log.inputs["logFormat"] == RICH_FORMAT + " ${instance-tag}"
    assert flow_log.inputs["tagFieldSpecifications"] == [{"resourceType": "instance", "tagKeys": ["Name"]}]
    assert run.of_type(TABLE) == []  # the baseline lives with the central stack's notifier
