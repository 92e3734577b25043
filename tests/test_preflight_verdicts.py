"""preflight's pure core: verdicts over plain facts, the config reader, the actions list (no AWS here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.collection import parse_destination_arn
from contracts.flowlog import DEFAULT_FORMAT, FIELDS_BY_VERSION, RICH_FORMAT, format_string, parse_format
from contracts.settings import SettingsError, settings_from
from preflight import verdicts
from preflight.aws import policy_source_arn
from preflight.config import ConfigFileError, decode, read_config_json, read_stack_file
from preflight.facts import (
    Decision,
    Existing,
    FlowLog,
    Identity,
    KeyAnswer,
    LogGroup,
    SubscriptionFilter,
    Topic,
)
from preflight.model import EXIT_FAILED, EXIT_OK, Finding, exit_code, fail, ok, warn
from preflight.permissions import required_actions
from preflight.resources import FUNCTION, LOG_GROUP, STREAM, fixed_names

ACCOUNT = "111122223333"
V5_FORMAT = format_string(FIELDS_BY_VERSION[2] + FIELDS_BY_VERSION[5])


def flow_log(flow_log_id: str, fmt: str = DEFAULT_FORMAT, **overrides: object) -> FlowLog:
    values: dict = {"flow_log_id": flow_log_id, "resource_id": "vpc-0a1b2c3d4e5f60718",
                    "traffic_type": "ALL", "destination_type": "cloud-watch-logs",
                    "destination": "/vpc/flow-logs", "log_format": fmt}
    values.update(overrides)
    return FlowLog(**values)


def test_finding_line_is_one_line_with_the_status_first() -> None:
    finding = fail("vpcIds", "vpc-1 not found\nin eu-west-1:   check it")
    assert finding.line() == "FAIL vpcIds: vpc-1 not found in eu-west-1: check it"
    assert ok("x", "fine").line() == "ok   x: fine"
    assert warn("x", "maybe").line() == "warn x: maybe"


def test_exit_code_is_one_only_when_a_check_failed() -> None:
    assert exit_code([ok("a", "."), warn("b", ".")]) == EXIT_OK
    assert exit_code([ok("a", "."), fail("b", ".")]) == EXIT_FAILED


def test_credentials_fail_outside_the_allowed_accounts() -> None:
    identity = Identity(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/deployer")
    assert verdicts.credentials(identity, ()).status == "ok"
    assert verdicts.credentials(identity, (ACCOUNT,)).status == "ok"
    refused = verdicts.credentials(identity, ("999999999999",))
    assert refused.status == "FAIL"
    assert ACCOUNT in refused.message and "999999999999" in refused.message
    assert "aws:profile" in refused.message


def test_log_group_missing_fails_and_a_non_standard_class_warns() -> None:
    assert verdicts.log_group("/vpc/flows", None, "eu-west-1").status == "FAIL"
    assert verdicts.log_group("/vpc/flows", LogGroup("/vpc/flows"), "eu-west-1").status == "ok"
    infrequent = verdicts.log_group("/vpc/flows", LogGroup("/vpc/flows", "INFREQUENT_ACCESS"), "eu-west-1")
    assert infrequent.status == "warn" and "INFREQUENT_ACCESS" in infrequent.message


def test_subscription_filters_fail_at_two_others_and_name_them() -> None:
    others = [SubscriptionFilter("datadog-forwarder", "arn:aws:lambda:eu-west-1:1:function:fwd"),
              SubscriptionFilter("siem", "arn:aws:kinesis:eu-west-1:1:stream/siem")]
    full = verdicts.subscription_filters("/g", others, "rejected-flows-prod")
    assert full.status == "FAIL"
    assert "datadog-forwarder (to arn:aws:lambda:eu-west-1:1:function:fwd)" in full.message
    assert "siem (to arn:aws:kinesis:eu-west-1:1:stream/siem)" in full.message
    own = SubscriptionFilter("rejected-flows-prod", "arn:aws:firehose:eu-west-1:1:deliverystream/x")
    with_own = verdicts.subscription_filters("/g", [others[0], own], "rejected-flows-prod")
    assert with_own.status == "ok" and "besides this stack's own" in with_own.message
    assert "1 of 2 free" in with_own.message


def test_flow_log_formats_agree_or_print_the_set_line() -> None:
    configured = parse_format(DEFAULT_FORMAT)
    assert verdicts.flow_log_formats("/g", configured, [flow_log("fl-1"), flow_log("fl-2")]).status == "ok"
    other = verdicts.flow_log_formats("/g", configured, [flow_log("fl-1", RICH_FORMAT)])
    assert other.status == "FAIL"
    assert other.message.endswith(f"run `pulumi config set flowLogFormat '{RICH_FORMAT}'`")


def test_flow_log_formats_several_formats_say_so() -> None:
    mixed = verdicts.flow_log_formats("/g", parse_format(DEFAULT_FORMAT),
                                      [flow_log("fl-1"), flow_log("fl-2", V5_FORMAT), flow_log("fl-3")])
    assert mixed.status == "FAIL"
    assert "3 flow logs" in mixed.message and "2 different formats" in mixed.message
    assert f"fl-1, fl-3: '{DEFAULT_FORMAT}'" in mixed.message and f"fl-2: '{V5_FORMAT}'" in mixed.message


def test_flow_log_formats_refuse_a_format_without_action() -> None:
    tgw = "${version} ${resource-type} ${account-id} ${tgw-id} ${packets-lost-no-route}"
    refused = verdicts.flow_log_formats("/g", parse_format(DEFAULT_FORMAT), [flow_log("fl-tgw", tgw)])
    assert refused.status == "FAIL" and "cannot be archived" in refused.message


def test_flow_log_formats_without_flow_logs_warn() -> None:
    assert verdicts.flow_log_formats("/g", parse_format(DEFAULT_FORMAT), []).status == "warn"


@given(st.permutations(FIELDS_BY_VERSION[2]))
def test_flow_log_formats_only_the_same_order_agrees(fields: list[str]) -> None:
    configured = parse_format(DEFAULT_FORMAT)
    finding = verdicts.flow_log_formats("/g", configured, [flow_log("fl-1", format_string(fields))])
    assert (finding.status == "ok") == (tuple(fields) == FIELDS_BY_VERSION[2])


def test_vpcs_exist_names_the_missing() -> None:
    assert verdicts.vpcs_exist(["vpc-a", "vpc-b"], {"vpc-a", "vpc-b"}, "eu-west-1").status == "ok"
    missing = verdicts.vpcs_exist(["vpc-a", "vpc-b"], {"vpc-a"}, "eu-west-1")
    assert missing.status == "FAIL" and "vpc-b not found in eu-west-1" in missing.message


def test_duplicate_flow_logs_warn_for_paid_reject_capture_but_not_the_stacks_own() -> None:
    own_tags = {"project": "rejected-flows", "stack": "prod"}
    paid = flow_log("fl-old", traffic_type="REJECT")
    s3 = flow_log("fl-s3", traffic_type="ALL", destination_type="s3", destination="arn:aws:s3:::b")
    accept = flow_log("fl-accept", traffic_type="ACCEPT")
    own = flow_log("fl-own", traffic_type="REJECT", tags=dict(own_tags))
    finding = verdicts.duplicate_flow_logs([paid, s3, accept, own], own_tags)
    assert finding.status == "warn"
    assert "fl-old" in finding.message and "paid twice" in finding.message
    assert all(name not in finding.message for name in ("fl-s3", "fl-accept", "fl-own"))
    assert verdicts.duplicate_flow_logs([s3, accept, own], own_tags).status == "ok"
    firehose = flow_log("fl-fh", destination_type="kinesis-data-firehose", destination="arn:aws:firehose:x")
    assert verdicts.duplicate_flow_logs([firehose], own_tags).status == "warn"


def test_log_delivery_role_missing_warns_about_the_service_linked_role() -> None:
    assert verdicts.log_delivery_role(True).status == "ok"
    missing = verdicts.log_delivery_role(False)
    assert missing.status == "warn" and "iam:CreateServiceLinkedRole" in missing.message


def test_central_destination_must_be_in_the_region_and_another_account() -> None:
    destination = parse_destination_arn(
        "arn:aws:logs:eu-west-1:999999999999:destination:rejected-flows-c-flows")
    assert destination is not None
    assert verdicts.central_destination(destination, "eu-west-1", ACCOUNT).status == "ok"
    elsewhere = verdicts.central_destination(destination, "us-east-1", ACCOUNT)
    assert elsewhere.status == "FAIL"
    assert "eu-west-1" in elsewhere.message and "us-east-1" in elsewhere.message
    assert verdicts.central_destination(destination, "eu-west-1", "999999999999").status == "FAIL"


def test_alarm_topic_region_existence_and_key() -> None:
    arn = f"arn:aws:sns:eu-west-1:{ACCOUNT}:alarms"
    assert verdicts.alarm_topic(arn, "eu-west-1", Topic(arn, None)).status == "ok"
    assert verdicts.alarm_topic(arn, "eu-west-1", Topic(arn, "alias/my-key")).status == "ok"
    assert verdicts.alarm_topic(arn, "eu-west-1", None).status == "FAIL"
    assert verdicts.alarm_topic(arn, "eu-west-1", Topic(arn, "alias/aws/sns")).status == "FAIL"
    wrong = verdicts.alarm_topic(arn, "us-east-1", Topic(arn, None))
    assert wrong.status == "FAIL" and "eu-west-1" in wrong.message and "us-east-1" in wrong.message


def test_datadog_key_verdicts() -> None:
    url = "https://api.datadoghq.eu"
    assert verdicts.datadog_api_key("datadoghq.eu", url, KeyAnswer("valid", 200)).status == "ok"
    assert verdicts.datadog_api_key("datadoghq.eu", url, KeyAnswer("invalid", 403)).status == "FAIL"
    unchecked = verdicts.datadog_api_key("datadoghq.eu", url, None)
    assert unchecked.status == "warn" and unchecked.message.startswith("not checked") \
        and "DD_API_KEY=" in unchecked.message
    assert verdicts.datadog_app_key("datadoghq.eu", url, None, configured=False).status == "ok"
    assert verdicts.datadog_app_key("datadoghq.eu", url, None, configured=True).status == "warn"
    assert verdicts.datadog_app_key("datadoghq.eu", url, KeyAnswer("invalid", 403), True).status == "FAIL"


def test_permissions_fail_names_each_denied_action() -> None:
    allowed = [Decision("s3:CreateBucket", "allowed"), Decision("iam:PassRole", "allowed")]
    assert verdicts.permissions("arn:aws:iam::1:role/deployer", allowed).status == "ok"
    denied = verdicts.permissions("arn:aws:iam::1:role/deployer",
                                  [*allowed, Decision("iam:CreateRole", "explicitDeny")])
    assert denied.status == "FAIL" and "iam:CreateRole (explicitDeny)" in denied.message
    assert "s3:CreateBucket" not in denied.message


def test_policy_source_arn_of_an_assumed_role_is_its_role() -> None:
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/jane@example.com"
    assert policy_source_arn(session) == f"arn:aws:iam::{ACCOUNT}:role/Deployer"
    user = f"arn:aws:iam::{ACCOUNT}:user/jane"
    assert policy_source_arn(user) == user


def test_required_actions_follow_the_stack_mode() -> None:
    central = required_actions(settings_from({}))
    assert "firehose:CreateDeliveryStream" in central and "sns:CreateTopic" in central
    assert "logs:PutDestination" not in central and "ec2:CreateFlowLogs" not in central
    with_accounts = required_actions(settings_from({"sourceAccountIds": ["999999999999"],
                                                    "alarmTopicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:a"}))
    assert "logs:PutDestinationPolicy" in with_accounts and "sns:CreateTopic" not in with_accounts
    member = required_actions(settings_from({
        "centralDestinationArn": "arn:aws:logs:eu-west-1:999999999999:destination:x",
        "vpcIds": ["vpc-0a1b2c3d4e5f60718"]}))
    assert {"ec2:CreateFlowLogs", "logs:PutSubscriptionFilter", "iam:PassRole"} <= set(member)
    assert "s3:CreateBucket" not in member and "lambda:CreateFunction" not in member
    assert len(member) == len(set(member))


@pytest.mark.parametrize(("raw", "expected"), [
    ("datadoghq.eu", "datadoghq.eu"), ("14", 14), ("0.2", 0.2), ('["a", "b"]', ["a", "b"]),
    (["already", "typed"], ["already", "typed"]), (30, 30),
])
def test_decode_reads_values_as_the_program_does(raw: object, expected: object) -> None:
    assert decode(raw) == expected


def write_json(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_config_json_reads_values_object_values_and_hidden_secrets(tmp_path: Path) -> None:
    path = write_json(tmp_path / "config.json", {
        "aws:region": {"value": "eu-west-1", "secret": False},
        "aws:allowedAccountIds": {"value": f'["{ACCOUNT}"]', "objectValue": [ACCOUNT], "secret": False},
        "rejected-flows:logRetentionDays": {"value": "14", "secret": False},
        "rejected-flows:vpcIds": {"value": '["vpc-0a1b2c3d4e5f60718"]',
                                  "objectValue": ["vpc-0a1b2c3d4e5f60718"], "secret": False},
        "rejected-flows:datadogApiKey": {"secret": True},
        "rejected-flows:datadogAppKey": {"value": "[secret]", "secret": True},
        "rejected-flows:internalCidrs": {"value": "[secret]", "secret": True},
        "rejected-flows:logRetentionDayz": {"value": "7", "secret": False},
    })
    config = read_config_json(path, "prod")
    assert config.region == "eu-west-1" and config.allowed_account_ids == (ACCOUNT,)
    assert config.settings.retention.log_days == 14
    assert config.settings.flow_logs.vpc_ids == ("vpc-0a1b2c3d4e5f60718",)
    assert config.secrets == {"datadogApiKey", "datadogAppKey", "internalCidrs"}
    assert config.unread_secrets == ("internalCidrs",) and config.undeclared == ("logRetentionDayz",)


def test_config_json_settings_error_names_the_key(tmp_path: Path) -> None:
    path = write_json(tmp_path / "config.json",
                      {"rejected-flows:logRetentionDays": {"value": "13", "secret": False}})
    with pytest.raises(SettingsError, match="logRetentionDays"):
        read_config_json(path, None)


def test_config_json_that_is_not_pulumis_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="not JSON"):
        read_config_json(_write(tmp_path / "b.json", "{not json"), None)
    with pytest.raises(ConfigFileError, match="not an object"):
        read_config_json(write_json(tmp_path / "c.json", {"aws:region": "eu-west-1"}), None)
    with pytest.raises(ConfigFileError, match="cannot read"):
        read_config_json(tmp_path / "missing.json", None)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_stack_file_reads_secure_values_as_set_secrets(tmp_path: Path) -> None:
    _write(tmp_path / "Pulumi.prod.yaml", (
        "encryptionsalt: v1:abc\n"
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  rejected-flows:datadogApiKey:\n"
        "    secure: v1:AAAABBBBCCCC\n"
        "  rejected-flows:vpcIds:\n"
        "    - vpc-0a1b2c3d4e5f60718\n"
        "  rejected-flows:datadogSite: datadoghq.eu\n"
    ))
    config = read_stack_file("prod", tmp_path)
    assert config.source == "Pulumi.prod.yaml" and config.region == "eu-west-1"
    assert config.secrets == {"datadogApiKey"} and config.unread_secrets == ()
    assert config.settings.notifications.datadog_site == "datadoghq.eu"
    assert config.settings.flow_logs.vpc_ids == ("vpc-0a1b2c3d4e5f60718",)
    with pytest.raises(ConfigFileError, match=r"Pulumi\.staging\.yaml not found"):
        read_stack_file("staging", tmp_path)


def test_example_stack_files_load_through_the_programs_loader() -> None:
    # The example files are what a user copies: preflight reads them exactly as Pulumi.<stack>.yaml.
    from contracts.settings import PROJECT_FILE

    dev = read_stack_file("dev.example", PROJECT_FILE.parent)
    member = read_stack_file("member.example", PROJECT_FILE.parent)
    assert dev.region == "us-east-1" and not dev.settings.is_member
    assert member.region == "eu-west-1" and member.settings.is_member


def test_findings_are_frozen_values() -> None:
    assert ok("a", "b") == Finding("ok", "a", "b")


def test_names_free_fails_for_resources_without_the_stacks_tags() -> None:
    own = {"project": "rejected-flows", "stack": "prod"}
    leftover = Existing(STREAM, "rejected-flows-prod-flows", {"owner": "someone"})
    mine = Existing(FUNCTION, "rejected-flows-prod-transform", {**own, "team": "netsec"})
    assert verdicts.names_free(5, [], own) == ok("names", "the stack's 5 fixed names are free")
    assert verdicts.names_free(5, [mine], own).status == "ok"
    refused = verdicts.names_free(5, [leftover, mine], own)
    assert refused.status == "FAIL"
    assert "Firehose stream rejected-flows-prod-flows" in refused.message
    assert "transform" not in refused.message


def test_fixed_names_follow_the_mode() -> None:
    central = fixed_names(settings_from({}), "prod")
    assert {n.name for n in central} == {
        "/vpc/flow-logs/prod", "rejected-flows-prod-flows", "rejected-flows-prod-transform",
        "rejected-flows-prod-notifier", "rejected_flows_prod", "rejected-flows-prod"}
    existing_group = fixed_names(settings_from({"logGroupName": "/mine"}), "prod")
    assert LOG_GROUP not in {n.kind for n in existing_group}
    member = fixed_names(settings_from({
        "centralDestinationArn": "arn:aws:logs:eu-west-1:999999999999:destination:x",
        "vpcIds": ["vpc-0a1b2c3d4e5f60718"]}), "prod")
    assert [n.name for n in member] == ["/vpc/flow-logs/prod"]


CONFIG_TEXT = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"-?\d{1,6}(\.\d{1,3})?", fullmatch=True),
    st.lists(st.text(alphabet="abcvpc-0123456789", max_size=12), max_size=4).map(json.dumps),
    st.sampled_from(["true", "false", "null", "datadoghq.eu", "[]", '{"a": 1}', " 14 "]),
)


@settings(deadline=None)  # the first example imports the Pulumi SDK
@given(CONFIG_TEXT)
def test_decode_agrees_with_the_programs_pulumi_getter(text: str) -> None:
    """preflight reads a config string as `infra.config.config_getter` over `pulumi.Config` does."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    from infra.config import config_getter

    runtime_config.set_config("rejected-flows:probe", text)
    try:
        assert decode(text) == config_getter(pulumi.Config("rejected-flows"))("probe")
    finally:
        runtime_config.CONFIG.get().pop("rejected-flows:probe", None)


def settings_lines(tmp_path: Path, **entries: dict) -> list[str]:
    from preflight.run import settings_findings

    document = {"aws:region": {"value": "eu-west-1", "secret": False}}
    document.update({f"rejected-flows:{key}": entry for key, entry in entries.items()})
    config = read_config_json(write_json(tmp_path / "c.json", document), None)
    return [f.line() for f in settings_findings(config)]


def test_settings_lines_name_missing_and_plain_secrets(tmp_path: Path) -> None:
    lines = settings_lines(tmp_path, datadogAppKey={"value": "fake-app-key", "secret": False})
    assert lines[0] == (
        f"ok   settings: {tmp_path / 'c.json'} over Pulumi.yaml's defaults is valid (central stack)")
    assert lines[1:] == [
        "FAIL datadogApiKey: not set, and a central stack needs it: "
        "`pulumi config set --secret datadogApiKey <key>`",
        "FAIL datadogAppKey: stored in plain text, which the program refuses: "
        "`pulumi config rm datadogAppKey`, then `pulumi config set --secret datadogAppKey <key>`",
    ]


def test_settings_lines_of_a_member_need_no_datadog_key(tmp_path: Path) -> None:
    member = {"value": "arn:aws:logs:eu-west-1:999999999999:destination:x", "secret": False}
    lines = settings_lines(tmp_path, centralDestinationArn=member)
    assert [line.split(":")[0] for line in lines] == ["ok   settings"] and "(member stack)" in lines[0]


def test_settings_lines_warn_about_unknown_format_fields(tmp_path: Path) -> None:
    fmt = DEFAULT_FORMAT + " ${future-field}"
    lines = settings_lines(tmp_path, datadogApiKey={"secret": True},
                           logGroupName={"value": "/g", "secret": False},
                           flowLogFormat={"value": fmt, "secret": False})
    assert lines[1].startswith("warn flowLogFormat: fields future-field are not in the catalogue")


def test_flow_log_delivery_warns_only_for_failing_flow_logs() -> None:
    assert verdicts.flow_log_delivery([flow_log("fl-1")]) is None
    failing = verdicts.flow_log_delivery([flow_log("fl-1"), flow_log("fl-2", delivery_error="Access error")])
    assert failing is not None and failing.status == "warn"
    assert "fl-2 (Access error)" in failing.message and "fl-1" not in failing.message
