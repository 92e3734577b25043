"""Under Pulumi's mocks: central destinations (accounts, organisation, regions), member stacks, flow logs
straight into Firehose; every IAM and access policy of them linted, no unconditioned wildcard principal."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from contracts.collection import LOG_DELIVERY_TAG
from contracts.flowlog import subscription_filter_pattern
from contracts.settings import SettingsError, settings_from
from infra import program
from infra.packaging import ROOT
from tests.collection_support import (
    CENTRAL_ACCOUNT,
    CENTRAL_CONFIGS,
    CENTRAL_DESTINATION,
    MEMBER_CONFIGS,
    ORGANIZATION,
    SOURCE_ACCOUNTS,
    VPCS,
)
from tests.stack_support import (
    ACCOUNT_ID,
    FAKE_API_KEY,
    REGION,
    STACK,
    Registered,
    Run,
    as_list,
    components_program,
    policy_documents,
    run_program,
)
from tests.test_stack_security import _lint

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

DESTINATION = "aws:cloudwatch/logDestination:LogDestination"
DESTINATION_POLICY = "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"
PROVIDER = "pulumi:providers:aws"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

_RUNS: dict[str, Run] = {}


def central_run(name: str, tmp: Path) -> Run:
    if name not in _RUNS:
        tmp.mkdir(exist_ok=True)
        _RUNS[name] = run_program(components_program(tmp), CENTRAL_CONFIGS[name])
    return _RUNS[name]


def member_run(name: str) -> Run:
    """The stack program `__main__.py` runs, with no datadogApiKey in the config at all."""
    if name not in _RUNS:
        _RUNS[name] = run_program(lambda: program.run(pulumi.Config()), MEMBER_CONFIGS[name], api_key=None)
    return _RUNS[name]


@pytest.fixture(autouse=True)
def no_region_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack reads aws:region, else AWS_REGION: a developer's shell must not change the results."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "collection-packages"


@pytest.fixture(params=sorted(CENTRAL_CONFIGS) + sorted(MEMBER_CONFIGS))
def any_run(request: pytest.FixtureRequest, packages: Path) -> tuple[str, Run]:
    name = request.param
    return name, member_run(name) if name in MEMBER_CONFIGS else central_run(name, packages)


def trust_statement(role: Registered) -> dict[str, Any]:
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statement


def grants(run: Run, role: Registered) -> dict[str, set[str]]:
    (policy,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["name"]]
    granted: dict[str, set[str]] = {}
    for statement in json.loads(policy.inputs["policy"])["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            granted.setdefault(action, set()).update(as_list(statement["Resource"]))
    return granted


def destination_policy(run: Run, destination: Registered) -> Registered:
    (policy,) = [p for p in run.of_type(DESTINATION_POLICY)
                 if p.inputs["destinationName"] == destination.outputs["name"]
                 and p.inputs.get("region") == destination.inputs.get("region")]
    return policy


def access_policy(run: Run, destination: Registered) -> dict[str, Any]:
    return json.loads(destination_policy(run, destination).inputs["accessPolicy"])


def region_of(run: Run, resource: Registered) -> str:
    """pulumi-aws 7's per-resource `region`; without it the stack's own (the default provider's)."""
    return resource.inputs.get("region") or REGION


# --- central stack with source accounts -------------------------------------------------------------

def test_central_with_accounts_has_one_destination_into_the_stream(packages: Path) -> None:
    run = central_run("accounts", packages)
    (destination,) = run.of_type(DESTINATION)
    stream = run.one(STREAM).outputs["arn"]
    assert destination.inputs["name"] == f"rejected-flows-{STACK}-flows"
    assert destination.inputs["targetArn"] == stream
    assert region_of(run, destination) == REGION and run.of_type(PROVIDER) == []
    role = next(r for r in run.of_type(ROLE) if r.outputs["arn"] == destination.inputs["roleArn"])
    statement = trust_statement(role)
    assert statement["Principal"] == {"Service": "logs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    # The source accounts' log groups of this region, and this account's (CloudWatch Logs test-delivers
    # on its behalf when the destination is created).
    assert statement["Condition"] == {"StringLike": {"aws:SourceArn": [
        f"arn:aws:logs:{REGION}:{account}:*" for account in [*SOURCE_ACCOUNTS, ACCOUNT_ID]]}}
    assert grants(run, role) == {"firehose:PutRecord": {stream}, "firehose:PutRecordBatch": {stream}}
    role_policy = run.one(ROLE_POLICY, role.name)
    assert role_policy.urn in destination.dependencies


def test_central_with_accounts_lets_exactly_those_accounts_subscribe(packages: Path) -> None:
    run = central_run("accounts", packages)
    (destination,) = run.of_type(DESTINATION)
    (grant,) = access_policy(run, destination)["Statement"]
    assert grant == {
        "Sid": "SubscribeSourceAccounts", "Effect": "Allow", "Principal": {"AWS": SOURCE_ACCOUNTS},
        "Action": "logs:PutSubscriptionFilter", "Resource": destination.outputs["arn"],
    }
    assert run.exports["logDestinationArns"] == {REGION: destination.outputs["arn"]}
    expected_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:destination:rejected-flows-{STACK}-flows"
    assert destination.outputs["arn"] == expected_arn


# --- central stack with an organisation -------------------------------------------------------------

def test_central_with_an_organisation_grants_its_accounts_through_principal_org_id(packages: Path) -> None:
    run = central_run("organization", packages)
    destinations = run.of_type(DESTINATION)
    assert {region_of(run, d) for d in destinations} == {REGION, "eu-west-1"}
    for destination in destinations:
        (grant,) = access_policy(run, destination)["Statement"]
        assert grant["Principal"] == "*"
        assert grant["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": [ORGANIZATION]}}
        assert grant["Action"] == "logs:PutSubscriptionFilter"
        assert grant["Resource"] == destination.outputs["arn"]
        role = next(r for r in run.of_type(ROLE) if r.outputs["arn"] == destination.inputs["roleArn"])
        region = region_of(run, destination)
        assert trust_statement(role)["Condition"] == {
            "StringLike": {"aws:SourceArn": [f"arn:aws:logs:{region}:*:*"]}}


def test_an_organisation_policy_is_written_with_force_update(packages: Path) -> None:
    """PutDestinationPolicy needs forceUpdate to turn an account-list policy into an organisation one."""
    policies = central_run("organization", packages).of_type(DESTINATION_POLICY)
    assert len(policies) == 2 and all(p.inputs["forceUpdate"] is True for p in policies)
    for name in ("accounts", "regions"):
        others = central_run(name, packages).of_type(DESTINATION_POLICY)
        assert others and all("forceUpdate" not in p.inputs for p in others)


# --- central stack with more regions ----------------------------------------------------------------

def test_each_source_region_gets_a_destination_on_the_default_provider(packages: Path) -> None:
    run = central_run("regions", packages)
    collection = next(r for r in run.resources if r.type == "rejected-flows:collection:Collection")
    # pulumi-aws 7's per-resource region: no explicit provider, which would ignore the aws:* settings.
    assert run.of_type(PROVIDER) == []
    for resource in [*run.of_type(DESTINATION), *run.of_type(DESTINATION_POLICY)]:
        assert resource.provider == "" or "::default" in resource.provider, resource.name
    extra = {d.inputs["region"]: d for d in run.of_type(DESTINATION) if d.inputs.get("region")}
    assert set(extra) == {"us-west-2", "eu-west-1"}
    for region, destination in extra.items():
        assert destination.name == f"collection-{region}-destination"
        assert destination_policy(run, destination).inputs["region"] == region
    by_region = {region_of(run, d): d for d in run.of_type(DESTINATION)}
    assert set(by_region) == {REGION, "us-west-2", "eu-west-1"}
    stream = run.one(STREAM).outputs["arn"]
    for region, destination in by_region.items():
        assert destination.inputs["targetArn"] == stream  # every region ships into the one stream
        assert destination.parent == collection.urn
        role = next(r for r in run.of_type(ROLE) if r.outputs["arn"] == destination.inputs["roleArn"])
        assert trust_statement(role)["Condition"]["StringLike"]["aws:SourceArn"] == [
            f"arn:aws:logs:{region}:{SOURCE_ACCOUNTS[0]}:*", f"arn:aws:logs:{region}:{ACCOUNT_ID}:*"]
        (grant,) = access_policy(run, destination)["Statement"]
        assert grant["Principal"] == {"AWS": SOURCE_ACCOUNTS[:1]}
    assert run.exports["logDestinationArns"] == {
        region: f"arn:aws:logs:{region}:{ACCOUNT_ID}:destination:rejected-flows-test-flows"
        for region in (REGION, "us-west-2", "eu-west-1")}


def test_the_stacks_own_region_in_source_regions_is_not_created_twice(
    packages: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", REGION)
    config = {"sourceAccountIds": SOURCE_ACCOUNTS[:1], "sourceRegions": [REGION, "us-west-2"]}
    run = run_program(components_program(packages), config)
    assert sorted(region_of(run, d) for d in run.of_type(DESTINATION)) == sorted([REGION, "us-west-2"])
    # The stack's own region takes the default provider's; the other names its `region` (in any order:
    # Pulumi registers the two as their inputs resolve).
    assert sorted(str(d.inputs.get("region")) for d in run.of_type(DESTINATION)) == ["None", "us-west-2"]


def test_a_stack_without_source_accounts_creates_no_destination(packages: Path) -> None:
    run = central_run("direct", packages)
    assert run.of_type(DESTINATION) == [] and run.of_type(PROVIDER) == []
    assert "logDestinationArns" not in run.exports


# --- member stack -----------------------------------------------------------------------------------

CENTRAL_ONLY_TYPES = {
    STREAM, "aws:s3/bucket:Bucket", "aws:lambda/function:Function", "aws:secretsmanager/secret:Secret",
    "aws:secretsmanager/secretVersion:SecretVersion", "aws:sqs/queue:Queue", "aws:sns/topic:Topic",
    "aws:glue/catalogDatabase:CatalogDatabase", "aws:glue/catalogTable:CatalogTable",
    "aws:athena/workgroup:Workgroup", "aws:athena/namedQuery:NamedQuery", DESTINATION,
}


def test_member_stack_needs_no_datadog_key_and_owns_only_its_flow_logs() -> None:
    run = member_run("member")
    types = sorted(r.type for r in run.resources)
    assert types == sorted([
        "rejected-flows:source:Source", LOG_GROUP, ROLE, ROLE_POLICY, FLOW_LOG, FLOW_LOG,
        ROLE, ROLE_POLICY, SUBSCRIPTION,
    ])
    assert not {r.type for r in run.resources} & CENTRAL_ONLY_TYPES
    assert set(run.exports) == {"logGroupName", "flowLogIds", "subscriptionFilterName"}
    assert run.exports["logGroupName"] == f"/vpc/flow-logs/{STACK}"
    ids = run.exports["flowLogIds"]
    assert len(set(ids)) == len(VPCS) and all(i.startswith("fl-") for i in ids)
    assert run.exports["subscriptionFilterName"] == f"rejected-flows-{STACK}"


def test_member_flow_logs_record_only_rejects_into_their_group() -> None:
    run = member_run("member")
    group = run.one(LOG_GROUP)
    settings = settings_from(MEMBER_CONFIGS["member"])
    assert sorted(f.inputs["vpcId"] for f in run.of_type(FLOW_LOG)) == sorted(VPCS)
    for flow_log in run.of_type(FLOW_LOG):
        assert flow_log.inputs["trafficType"] == "REJECT"
        assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
        assert flow_log.inputs["logDestination"] == group.outputs["arn"]
        assert flow_log.inputs["logFormat"] == settings.flow_logs.format.text


def test_member_subscribes_its_group_to_the_central_destination() -> None:
    run = member_run("member")
    subscription = run.one(SUBSCRIPTION).inputs
    settings = settings_from(MEMBER_CONFIGS["member"])
    assert subscription["destinationArn"] == CENTRAL_DESTINATION
    assert subscription["logGroup"] == run.one(LOG_GROUP).inputs["name"]
    assert subscription["filterPattern"] == subscription_filter_pattern(settings.flow_logs.format,
                                                                        settings.flow_logs.keep_actions)
    assert "action = REJECT" in subscription["filterPattern"]
    role = run.one(ROLE, "subscription-role")
    assert subscription["roleArn"] == role.outputs["arn"]
    assert trust_statement(role)["Condition"] == {
        "StringLike": {"aws:SourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:*"}}
    # What CloudWatch Logs' organisation check needs: PutLogEvents on the member's own group, with :*
    # (AWS's "Step 2: (Only if using an organization) Create an IAM role"); nothing on the destination.
    group = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/vpc/flow-logs/{STACK}:*"
    assert grants(run, role) == {"logs:PutLogEvents": {group}}


def test_member_with_an_existing_group_grants_put_log_events_on_that_group() -> None:
    run = member_run("member-existing")
    role = run.one(ROLE, "subscription-role")
    group = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/existing/flow-logs:*"
    assert grants(run, role) == {"logs:PutLogEvents": {group}}


def test_member_with_an_existing_group_creates_no_group_and_no_flow_log_role() -> None:
    run = member_run("member-existing")
    assert run.of_type(LOG_GROUP) == [] and run.of_type(FLOW_LOG) == []
    assert run.one(SUBSCRIPTION).inputs["logGroup"] == "/existing/flow-logs"
    assert [r.name for r in run.of_type(ROLE)] == ["source-subscription-role"]
    assert run.exports["flowLogIds"] == []


def test_member_refuses_a_destination_of_another_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with pytest.raises(SettingsError, match=f"a destination in {REGION} but this stack deploys to eu-west-1"):
        run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                    MEMBER_CONFIGS["member"], api_key=None)


def test_member_example_stack_loads_as_a_member_without_a_datadog_key() -> None:
    import yaml

    from contracts.settings import declared_config, project_name

    config = yaml.safe_load((ROOT / "Pulumi.member.example.yaml").read_text())["config"]
    prefix = f"{project_name()}:"
    ours = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
    assert set(config) - {prefix + key for key in ours} == {"aws:region"}
    assert set(ours) <= set(declared_config()) and "datadogApiKey" not in ours
    settings = settings_from(ours)
    assert settings.is_member and settings.flow_logs.vpc_ids
    assert settings.collection.central_destination is not None
    assert settings.collection.central_destination.region == config["aws:region"]


def test_central_stack_still_requires_the_datadog_key() -> None:
    with pytest.raises(pulumi.ConfigMissingError, match="datadogApiKey"):
        run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                    CENTRAL_CONFIGS["accounts"], api_key=None)


# --- flow logs straight into Firehose ---------------------------------------------------------------

def test_direct_flow_logs_target_the_stream_with_no_group_or_subscription(packages: Path) -> None:
    run = central_run("direct", packages)
    stream = run.one(STREAM)
    settings = settings_from(CENTRAL_CONFIGS["direct"])
    flow_logs = run.of_type(FLOW_LOG)
    assert sorted(f.inputs["vpcId"] for f in flow_logs) == sorted(VPCS)
    for flow_log in flow_logs:
        inputs = flow_log.inputs
        assert inputs["logDestinationType"] == "kinesis-data-firehose"
        assert inputs["logDestination"] == stream.outputs["arn"]
        assert "iamRoleArn" not in inputs  # the log-delivery service-linked role delivers
        assert inputs["trafficType"] == "REJECT"
        assert inputs["logFormat"] == settings.flow_logs.format.text
        assert inputs["maxAggregationInterval"] == 60
    assert run.of_type(SUBSCRIPTION) == []
    assert not [g for g in run.of_type(LOG_GROUP) if g.inputs["name"].startswith("/vpc/flow-logs/")]
    assert not [r for r in run.of_type(ROLE) if "subscription" in r.name or "flow-log" in r.name]
    assert run.exports["logGroupName"] is None
    assert len(set(run.exports["flowLogIds"])) == len(VPCS)


def test_direct_stream_carries_the_log_delivery_tag_and_others_do_not(packages: Path) -> None:
    key, value = LOG_DELIVERY_TAG
    assert (key, value) == ("LogDeliveryEnabled", "true")
    assert central_run("direct", packages).one(STREAM).inputs["tags"][key] == value
    assert key not in central_run("accounts", packages).one(STREAM).inputs["tags"]


def test_direct_with_an_existing_group_still_subscribes_that_group(packages: Path) -> None:
    run = central_run("direct-existing", packages)
    (flow_log,) = run.of_type(FLOW_LOG)
    assert flow_log.inputs["logDestinationType"] == "kinesis-data-firehose"
    subscription = run.one(SUBSCRIPTION).inputs
    assert subscription["logGroup"] == "/existing/flow-logs"
    assert subscription["destinationArn"] == run.one(STREAM).outputs["arn"]
    assert run.exports["logGroupName"] == "/existing/flow-logs"


# --- every configuration: IAM and access policies ---------------------------------------------------

def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal is None or isinstance(principal, str):
        return [principal] if principal else []
    return [p for values in principal.values() for p in as_list(values)]


def test_no_explicit_aws_provider_in_any_configuration(any_run) -> None:
    """Every AWS resource goes through the default provider, which honours the stack's aws:* settings."""
    _, run = any_run
    assert run.of_type(PROVIDER) == []
    assert [r.name for r in run.resources if r.type.startswith("aws:") and r.provider
            and "::default" not in r.provider] == []


def test_the_program_source_names_no_explicit_aws_provider() -> None:
    sources = [ROOT / "__main__.py", *sorted((ROOT / "infra").glob("*.py"))]
    assert [p.name for p in sources if "aws.Provider(" in p.read_text()] == []


def test_no_wildcard_principal_without_an_organisation_condition(any_run) -> None:
    _, run = any_run
    for name, kind, document in policy_documents(run):
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow" or "*" not in _principals(statement):
                continue
            assert kind == "resource", name
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": [ORGANIZATION]}}, name


def test_the_wildcard_check_would_catch_an_open_destination_policy() -> None:
    open_policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                  "Action": "logs:PutSubscriptionFilter", "Resource": "arn"}]}
    (statement,) = open_policy["Statement"]
    assert "*" in _principals(statement) and "Condition" not in statement


# parliament's action table knows logs:PutSubscriptionFilter on log groups only; AWS documents it on a
# destination ARN in the destination's access policy ("Updating an existing cross-account
# subscription", CloudWatch Logs user guide, checked 2026-11).
DESTINATION_RESOURCE_GAPS = {
    "RESOURCE_MISMATCH [{'action': 'logs:PutSubscriptionFilter', "
    "'required_format': 'arn:*:logs:*:*:log-group:*'}]",
}


def _destination_statements_only(document: dict[str, Any]) -> bool:
    return all(":destination:" in resource
               for statement in document["Statement"] for resource in as_list(statement["Resource"]))


def test_parliament_finds_nothing_in_any_collection_document(any_run) -> None:
    _, run = any_run
    findings = []
    for name, kind, document in policy_documents(run):
        for finding in _lint(name, kind, document):
            issue = finding.split(": ", 1)[1]
            excused = kind != "trust" and _destination_statements_only(document)
            if issue in DESTINATION_RESOURCE_GAPS and excused:
                continue
            findings.append(finding)
    assert findings == []


def test_parliament_gaps_are_only_the_destination_arns(packages: Path) -> None:
    """The exceptions above are real findings of these documents, and nothing else is excused."""
    issues = {finding.split(": ", 1)[1]
              for run in (central_run("accounts", packages), member_run("member"))
              for name, kind, document in policy_documents(run) for finding in _lint(name, kind, document)}
    assert issues == DESTINATION_RESOURCE_GAPS


def test_no_allow_grants_a_wildcard_action_or_a_resource_outside_the_accounts(any_run) -> None:
    _, run = any_run
    for name, kind, document in policy_documents(run):
        if kind == "trust":
            continue
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            assert all("*" not in action for action in as_list(statement["Action"])), name
            for resource in as_list(statement["Resource"]):
                assert resource != "*", name
                assert any(f":{account}:" in resource for account in (ACCOUNT_ID, CENTRAL_ACCOUNT)) or \
                    resource.startswith("arn:aws:s3:::"), resource


def test_no_api_key_anywhere_but_the_secret(any_run) -> None:
    name, run = any_run
    for resource in run.resources:
        if resource.type != "aws:secretsmanager/secretVersion:SecretVersion":
            assert FAKE_API_KEY not in json.dumps(resource.inputs, default=str), (name, resource.name)


def test_every_taggable_collection_resource_carries_the_stack_tags(any_run) -> None:
    import inspect

    import pulumi_aws as aws

    from tests.test_stack_wiring import UNTAGGABLE

    assert "tags" not in inspect.signature(aws.cloudwatch.LogDestinationPolicyArgs).parameters
    untaggable = UNTAGGABLE | {DESTINATION_POLICY}
    _, run = any_run
    for resource in run.resources:
        if not resource.type.startswith("aws:") or resource.type in untaggable:
            continue
        tags = resource.inputs.get("tags") or {}
        assert {"project": "rejected-flows", "stack": STACK}.items() <= tags.items(), resource.name
