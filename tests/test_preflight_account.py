"""`python -m preflight` against moto's server, reached only through AWS_ENDPOINT_URL as a user's would be.

Each test builds a realistic account (VPCs, flow logs in AWS's formats, subscription filters to real
streams, topics), runs the CLI's `main` and reads its lines as the user sees them.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from contracts.flowlog import DEFAULT_FORMAT, RICH_FORMAT
from contracts.settings import settings_from
from local.datadog import DatadogIntake, serve
from local.loopback import LoopbackServer
from preflight import config as preflight_config
from preflight.__main__ import main
from preflight.permissions import required_actions
from tests.preflight_support import PolicySimulator

# Starts moto's server and runs the whole command: minutes, not seconds.
pytestmark = pytest.mark.slow

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
CENTRAL_ACCOUNT = "999999999999"
GROUP = "/vpc/flow-logs/shared"
STACK = "prod"
API_KEY = "fake-api-key-for-tests-0000"
APP_KEY = "fake-app-key-for-tests-0000"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh moto account; boto3 finds it through AWS_ENDPOINT_URL and fake keys only."""
    urllib.request.urlopen(urllib.request.Request(moto_url + "/moto-api/reset", method="POST"), timeout=10)
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", "DD_API_KEY",
                 "DD_APP_KEY", "DD_API_URL", "DD_SITE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-tests")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield moto_url


def client(service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region)


def config_file(tmp_path: Path, region: str = REGION, aws_extra: dict | None = None, **keys: object) -> Path:
    """The JSON `pulumi config --json` prints: strings as given, structured values with objectValue."""
    document: dict[str, dict] = {"aws:region": {"value": region, "secret": False}}
    for key, value in (aws_extra or {}).items():
        document[f"aws:{key}"] = _entry(value)
    document["rejected-flows:datadogApiKey"] = {"secret": True}
    for key, value in keys.items():
        document[f"rejected-flows:{key}"] = _entry(value)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    return path


def _entry(value: object) -> dict:
    if isinstance(value, list | dict):
        return {"value": json.dumps(value), "objectValue": value, "secret": False}
    return {"value": str(value), "secret": False}


def run(capsys: pytest.CaptureFixture[str], path: Path, stack: str | None = STACK) -> tuple[int, dict]:
    """Exit code and {check: [(status, message), ...]} from the lines printed (every line parsed)."""
    code = main(["--config", str(path), *(["--stack", stack] if stack else [])])
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("preflight: ")
    findings: dict[str, list[tuple[str, str]]] = {}
    for line in out[:-1]:
        status, rest = line[:4].strip(), line[5:]
        check, _, message = rest.partition(": ")
        assert status in {"ok", "warn", "FAIL"}, line
        findings.setdefault(check, []).append((status, message))
    return code, findings


def statuses(findings: dict) -> dict[str, list[str]]:
    return {check: [status for status, _ in entries] for check, entries in findings.items()}


def make_vpc() -> str:
    return str(client("ec2").create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"])


def make_flow_log(vpc: str, fmt: str, group: str = GROUP, traffic: str = "ALL",
                  tags: dict | None = None) -> str:
    spec = [{"ResourceType": "vpc-flow-log", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] \
        if tags else []
    answer = client("ec2").create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType=traffic, LogDestinationType="cloud-watch-logs",
        LogGroupName=group, DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs", LogFormat=fmt,
        TagSpecifications=spec,
    )
    return str(answer["FlowLogIds"][0])


def make_stream(name: str) -> str:
    kinesis = client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return str(kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"])


def subscribe(name: str, group: str = GROUP) -> None:
    client("logs").put_subscription_filter(
        logGroupName=group, filterName=name, filterPattern="", destinationArn=make_stream(name),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/cwl-to-kinesis",
    )


def moto_state(url: str) -> dict:
    """Every resource moto holds, by service and type (its dashboard's data).

    Reading a service makes moto list its (empty) backend: empty types are not state, so they are left out.
    """
    with urllib.request.urlopen(url + "/moto-api/data.json", timeout=30) as response:
        data: dict = json.loads(response.read())
    state = {service: {kind: items for kind, items in kinds.items() if items}
             for service, kinds in data.items()}
    return {service: kinds for service, kinds in state.items() if kinds}


def test_existing_group_with_the_configured_format_passes(aws: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    client("logs").create_log_group(logGroupName=GROUP)
    flow_log_id = make_flow_log(make_vpc(), DEFAULT_FORMAT)
    subscribe("siem-kinesis")
    code, findings = run(capsys, config_file(tmp_path, logGroupName=GROUP))
    assert statuses(findings) == {
        "settings": ["ok"], "credentials": ["ok"], "logGroupName": ["ok"], "subscriptionFilters": ["ok"],
        "flowLogFormat": ["ok"], "names": ["ok"], "datadogApiKey": ["warn"], "datadogAppKey": ["ok"],
        "permissions": ["warn"],
    }
    assert findings["names"] == [("ok", "the stack's 5 fixed names are free")]
    assert code == 0
    assert findings["credentials"][0][1].startswith(f"account {ACCOUNT} as arn:aws:")
    assert findings["subscriptionFilters"][0][1] == (
        f"log group {GROUP} has 1 other subscription filter(s) (siem-kinesis): 1 of 2 free for the stack")
    assert findings["flowLogFormat"][0][1] == (
        f"1 flow log(s) delivering into {GROUP} use the configured format")
    # moto does not implement iam:SimulatePrincipalPolicy: the check says so instead of failing.
    assert findings["permissions"] == [("warn", (
        "not checked: iam:simulate_principal_policy: the endpoint's answer is not AWS's (it may lack this "
        "API); IAM policy simulation needs iam:SimulatePrincipalPolicy on the caller; without it `pulumi up` "
        "is the test"))]
    assert flow_log_id


def test_existing_group_whose_flow_logs_use_another_format_prints_the_set_line(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client("logs").create_log_group(logGroupName=GROUP)
    flow_log_id = make_flow_log(make_vpc(), RICH_FORMAT)
    code, findings = run(capsys, config_file(tmp_path, logGroupName=GROUP))
    assert code == 1
    [(status, message)] = findings["flowLogFormat"]
    assert status == "FAIL" and flow_log_id in message
    assert message.endswith(f"run `pulumi config set flowLogFormat '{RICH_FORMAT}'`")


def test_existing_group_with_two_formats_fails_and_says_so(aws: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    client("logs").create_log_group(logGroupName=GROUP)
    first, second = make_flow_log(make_vpc(), DEFAULT_FORMAT), make_flow_log(make_vpc(), RICH_FORMAT)
    code, findings = run(capsys, config_file(tmp_path, logGroupName=GROUP))
    [(status, message)] = findings["flowLogFormat"]
    assert code == 1 and status == "FAIL"
    assert "use 2 different formats" in message and first in message and second in message


def test_missing_group_fails_and_skips_the_group_checks(aws: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = run(capsys, config_file(tmp_path, logGroupName="/vpc/flow-logs/typo"))
    assert code == 1
    assert findings["logGroupName"] == [("FAIL", (
        f"log group /vpc/flow-logs/typo does not exist in {REGION}: give the name of the group your flow "
        "logs deliver into (`aws logs describe-log-groups`), or unset logGroupName to let the stack create "
        "one"
    ))]
    assert "subscriptionFilters" not in findings and "flowLogFormat" not in findings


def test_group_with_two_other_subscription_filters_fails_naming_them(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client("logs").create_log_group(logGroupName=GROUP)
    make_flow_log(make_vpc(), DEFAULT_FORMAT)
    subscribe("siem-kinesis")
    subscribe("datadog-kinesis")
    code, findings = run(capsys, config_file(tmp_path, logGroupName=GROUP))
    [(status, message)] = findings["subscriptionFilters"]
    assert code == 1 and status == "FAIL"
    assert f"siem-kinesis (to arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/siem-kinesis)" in message
    assert f"datadog-kinesis (to arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/datadog-kinesis)" in message


def test_the_stacks_own_filter_does_not_count(aws: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    client("logs").create_log_group(logGroupName=GROUP)
    make_flow_log(make_vpc(), DEFAULT_FORMAT)
    subscribe("siem-kinesis")
    subscribe(f"rejected-flows-{STACK}")
    _, findings = run(capsys, config_file(tmp_path, logGroupName=GROUP))
    [(status, message)] = findings["subscriptionFilters"]
    assert status == "ok" and "besides this stack's own" in message


def test_vpcs_missing_fail_and_existing_reject_capture_warns(aws: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    client("logs").create_log_group(logGroupName="/vpc/flow-logs/legacy")
    paid_twice, own, quiet = make_vpc(), make_vpc(), make_vpc()
    old = make_flow_log(paid_twice, DEFAULT_FORMAT, group="/vpc/flow-logs/legacy", traffic="REJECT")
    mine = make_flow_log(own, RICH_FORMAT, group=f"/vpc/flow-logs/{STACK}", traffic="REJECT",
                         tags={"project": "rejected-flows", "stack": STACK})
    code, findings = run(capsys, config_file(tmp_path, vpcIds=[paid_twice, own, quiet]))
    assert findings["vpcIds"][0][0] == "ok"
    [(status, message)] = findings["vpcFlowLogs"]
    assert status == "warn" and old in message and paid_twice in message and "paid twice" in message
    assert mine not in message and own not in message
    code, findings = run(capsys, config_file(tmp_path, vpcIds=[quiet, "vpc-0123456789abcdef0"]))
    assert code == 1
    assert findings["vpcIds"] == [("FAIL", (
        f"vpc-0123456789abcdef0 not found in {REGION}: check aws:region and the account, or remove them "
        "from vpcIds"))]


def test_flow_logs_into_firehose_warn_without_the_log_delivery_role(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_file(tmp_path, vpcIds=[make_vpc()], flowLogDestination="firehose")
    _, findings = run(capsys, path)
    [(status, message)] = findings["logDeliveryRole"]
    assert status == "warn" and "iam:CreateServiceLinkedRole" in message
    client("iam").create_role(
        RoleName="AWSServiceRoleForLogDelivery", Path="/aws-service-role/delivery.logs.amazonaws.com/",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}),
    )
    _, findings = run(capsys, path)
    assert findings["logDeliveryRole"][0][0] == "ok"


def test_member_destination_must_be_in_the_region_and_another_account(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vpc = make_vpc()

    def member(destination_account: str, region: str) -> tuple[int, dict]:
        arn = f"arn:aws:logs:{region}:{destination_account}:destination:rejected-flows-central-flows"
        return run(capsys, config_file(tmp_path, centralDestinationArn=arn, vpcIds=[vpc]))

    code, findings = member(CENTRAL_ACCOUNT, REGION)
    assert findings["centralDestinationArn"][0][0] == "ok"
    assert "datadogApiKey" not in findings  # a member needs no Datadog key
    code, findings = member(ACCOUNT, REGION)
    assert code == 1 and findings["centralDestinationArn"][0][0] == "FAIL"
    assert f"belongs to this account ({ACCOUNT})" in findings["centralDestinationArn"][0][1]
    code, findings = member(CENTRAL_ACCOUNT, "us-east-1")
    assert code == 1 and findings["centralDestinationArn"][0][0] == "FAIL"


def test_alarm_topic_must_exist_in_the_region_without_the_aws_managed_key(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sns = client("sns")
    plain = sns.create_topic(Name="netsec-alarms")["TopicArn"]
    managed = sns.create_topic(Name="encrypted-alarms",
                               Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    elsewhere = client("sns", "us-east-1").create_topic(Name="netsec-alarms")["TopicArn"]
    expected = {
        plain: "ok", managed: "FAIL", elsewhere: "FAIL",
        f"arn:aws:sns:{REGION}:{ACCOUNT}:deleted-topic": "FAIL",
    }
    for arn, status in expected.items():
        _, findings = run(capsys, config_file(tmp_path, alarmTopicArn=arn))
        assert findings["alarmTopicArn"][0][0] == status, (arn, findings["alarmTopicArn"])


def test_credentials_missing_fail(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, findings = run(capsys, config_file(tmp_path))
    assert code == 1
    [(status, message)] = findings["credentials"]
    assert status == "FAIL" and message.startswith("no AWS credentials found")
    assert findings["permissions"][0][0] == "warn"


def test_account_outside_allowed_account_ids_fails(aws: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = config_file(tmp_path, aws_extra={"allowedAccountIds": [CENTRAL_ACCOUNT]})
    code, findings = run(capsys, path)
    assert code == 1 and findings["credentials"][0][0] == "FAIL"
    path = config_file(tmp_path, aws_extra={"allowedAccountIds": [ACCOUNT]})
    _, findings = run(capsys, path)
    assert findings["credentials"][0] == ("ok", f"account {ACCOUNT} (in aws:allowedAccountIds) as "
                                                f"arn:aws:sts::{ACCOUNT}:user/moto")


def test_datadog_keys_are_checked_against_the_intake(aws: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    intake = DatadogIntake(API_KEY, APP_KEY)
    path = config_file(tmp_path, datadogSite="datadoghq.eu")
    with serve(intake) as server:
        monkeypatch.setenv("DD_API_URL", server.url)
        monkeypatch.setenv("DD_API_KEY", API_KEY)
        monkeypatch.setenv("DD_APP_KEY", APP_KEY)
        _, findings = run(capsys, path)
        assert findings["datadogApiKey"] == [("ok", "DD_API_KEY is valid for datadoghq.eu")]
        assert findings["datadogAppKey"] == [("ok", "DD_APP_KEY and DD_API_KEY are valid for datadoghq.eu")]
        monkeypatch.setenv("DD_APP_KEY", "fake-wrong-app-key")
        code, findings = run(capsys, path)
        assert code == 1
        assert findings["datadogApiKey"][0][0] == "ok" and findings["datadogAppKey"][0][0] == "FAIL"
        monkeypatch.setenv("DD_API_KEY", "fake-wrong-api-key")
        code, findings = run(capsys, path)
        assert code == 1 and findings["datadogApiKey"][0][0] == "FAIL"
        assert f"{server.url} refused DD_API_KEY (403)" in findings["datadogApiKey"][0][1]
    assert intake.events == []  # key checks post nothing
    # The intake is gone: a network error is a warn, not a traceback.
    _, findings = run(capsys, path)
    assert findings["datadogApiKey"][0][0] == "warn" and findings["datadogApiKey"][0][1].startswith(
        "not checked: GET ")


def test_preflight_never_changes_the_account(aws: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    client("logs").create_log_group(logGroupName=GROUP)
    vpc = make_vpc()
    make_flow_log(vpc, RICH_FORMAT)
    subscribe("siem-kinesis")
    topic = client("sns").create_topic(Name="netsec-alarms")["TopicArn"]
    # moto builds a service's backend, with its built-in defaults (Athena's `primary` workgroup), on
    # its first request: one read of each service first, so that only writes could change the state.
    client("athena").list_work_groups()
    client("glue").get_databases()
    client("lambda").list_functions()
    client("firehose").list_delivery_streams()
    client("iam").list_roles()
    before = moto_state(aws)
    assert before["logs"] and before["ec2"] and before["sns"]  # the snapshot sees what was made
    run(capsys, config_file(tmp_path, logGroupName=GROUP, vpcIds=[vpc, "vpc-0123456789abcdef0"],
                            flowLogDestination="firehose", alarmTopicArn=topic,
                            sourceAccountIds=[CENTRAL_ACCOUNT]))
    run(capsys, config_file(tmp_path, centralDestinationArn=(
        f"arn:aws:logs:{REGION}:{CENTRAL_ACCOUNT}:destination:rejected-flows-central-flows"), vpcIds=[vpc]))
    assert moto_state(aws) == before


def test_stack_file_mode_prints_one_line_per_check(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    client("logs").create_log_group(logGroupName=GROUP)
    make_flow_log(make_vpc(), DEFAULT_FORMAT)
    monkeypatch.setattr(preflight_config, "PROJECT_DIR", tmp_path)
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(
        f"config:\n  aws:region: {REGION}\n  rejected-flows:logGroupName: {GROUP}\n"
        "  rejected-flows:datadogApiKey:\n    secure: v1:AAAAfakeciphertext\n"
        "  rejected-flows:datadogAppKey:\n    secure: v1:BBBBfakeciphertext\n"
    )
    assert main(["--stack", STACK]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"ok   settings: Pulumi.{STACK}.yaml over Pulumi.yaml's defaults is valid (central stack)")
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        "ok   credentials", "ok   logGroupName", "ok   subscriptionFilters", "ok   flowLogFormat",
        "ok   names", "warn datadogApiKey", "warn datadogAppKey", "warn permissions",
    ]
    assert lines[-1] == "preflight: 6 ok, 3 warn, 0 FAIL: nothing failed"


def test_per_service_endpoints_are_honoured_and_an_unreachable_one_warns(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Every service but STS points at a closed port: STS answers, the rest are network errors (warns).
    with serve(DatadogIntake(API_KEY)) as closed:
        dead = closed.url
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", aws)
    code, findings = run(capsys, config_file(tmp_path, logGroupName=GROUP, vpcIds=["vpc-0123456789abcdef0"]))
    assert findings["credentials"][0][0] == "ok"
    for check in ("logGroupName", "vpcIds", "vpcFlowLogs", "permissions"):
        status, message = findings[check][0]
        assert status == "warn" and message.startswith("not checked: "), (check, message)
    assert code == 0


def test_fixed_names_left_behind_fail_and_the_stacks_own_pass(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    role = client("iam").create_role(RoleName="leftover", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    client("s3").create_bucket(Bucket="leftover-archive",
                               CreateBucketConfiguration={"LocationConstraint": REGION})
    client("firehose").create_delivery_stream(
        DeliveryStreamName=f"rejected-flows-{STACK}-flows",
        ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": "arn:aws:s3:::leftover-archive"},
    )
    client("logs").create_log_group(logGroupName=f"/vpc/flow-logs/{STACK}",
                                    tags={"project": "rejected-flows", "stack": STACK})
    code, findings = run(capsys, config_file(tmp_path, vpcIds=[make_vpc()]))
    [(status, message)] = findings["names"]
    assert code == 1 and status == "FAIL"
    assert message.startswith(f"Firehose stream rejected-flows-{STACK}-flows already exist without this "
                              f"stack's tags (project=rejected-flows, stack={STACK})")
    assert "/vpc/flow-logs/" not in message  # the group carries the stack's tags: a re-deploy
    client("firehose").tag_delivery_stream(DeliveryStreamName=f"rejected-flows-{STACK}-flows", Tags=[
        {"Key": "project", "Value": "rejected-flows"}, {"Key": "stack", "Value": STACK}])
    _, findings = run(capsys, config_file(tmp_path, vpcIds=[make_vpc()]))
    assert findings["names"] == [("ok", "2 of the stack's 6 fixed names exist and carry its tags "
                                        "(a re-deploy); the others are free")]
    _, findings = run(capsys, config_file(tmp_path, vpcIds=[make_vpc()]), stack=None)
    assert findings["names"][0][0] == "warn" and "--stack NAME" in findings["names"][0][1]


def test_permissions_from_the_policy_simulation(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # moto has no SimulatePrincipalPolicy: IAM alone goes to a stand-in that answers as IAM does.
    path = config_file(tmp_path, vpcIds=[make_vpc()])
    for simulator, expected in (
        (PolicySimulator(), "ok"),
        (PolicySimulator({"iam:PassRole": "explicitDeny", "firehose:CreateDeliveryStream": "implicitDeny"}),
         "FAIL"),
        (PolicySimulator(refuse=True), "warn"),
    ):
        with LoopbackServer(simulator, "iam-simulator") as server:
            monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", server.url)
            code, findings = run(capsys, path)
        [(status, message)] = findings["permissions"]
        assert status == expected, message
        if expected == "ok":
            assert simulator.principals and set(simulator.principals) == {f"arn:aws:sts::{ACCOUNT}:user/moto"}
            assert message.startswith(f"arn:aws:sts::{ACCOUNT}:user/moto may call all ")
        if expected == "FAIL":
            assert code == 1
            assert "iam:PassRole (explicitDeny)" in message
            assert "firehose:CreateDeliveryStream (implicitDeny)" in message
        if expected == "warn":
            assert message.startswith("not checked: iam:simulate_principal_policy answered AccessDenied: ")


def test_the_command_as_a_user_runs_it(aws: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = config_file(tmp_path, vpcIds=["vpc-0123456789abcdef0"])
    result = subprocess.run([sys.executable, "-m", "preflight", "--config", str(path), "--stack", STACK],
                            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
                            timeout=120, env=dict(os.environ))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert all(line[:5] in {"ok   ", "warn ", "FAIL "} for line in lines[:-1])
    assert f"FAIL vpcIds: vpc-0123456789abcdef0 not found in {REGION}: check aws:region and the account, " \
           "or remove them from vpcIds" in lines
    assert lines[-1].startswith("preflight: ")
    assert lines[-1].endswith("FAIL: fix the FAIL lines before `pulumi up`")
    assert "Traceback" not in result.stderr


def test_an_assumed_role_is_simulated_as_its_role_with_its_path(
        aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    role = client("iam").create_role(RoleName="AWSReservedSSO_Deployer_0123456789abcdef",
                                     Path="/aws-reserved/sso.amazonaws.com/",
                                     AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    session = client("sts").assume_role(RoleArn=role, RoleSessionName="jane@example.com")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", session["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", session["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", session["SessionToken"])
    name = "AWSReservedSSO_Deployer_0123456789abcdef"
    for simulator, simulated in (
        (PolicySimulator(roles={name: role}), role),  # GetRole answers: the role with its path
        (PolicySimulator(), f"arn:aws:iam::{ACCOUNT}:role/{name}"),  # GetRole refused: the session's name
    ):
        with LoopbackServer(simulator, "iam-simulator") as server:
            monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", server.url)
            _, findings = run(capsys, config_file(tmp_path))
        assert findings["credentials"][0][1].endswith(
            f"as arn:aws:sts::{ACCOUNT}:assumed-role/{name}/jane@example.com")
        assert set(simulator.principals) == {simulated}
        needed = len(required_actions(settings_from({})))
        assert findings["permissions"][0] == ("ok", (
            f"{simulated} may call all {needed} actions `pulumi up` needs (IAM policy simulation, without "
            "resource policies or SCP details)"))
