"""The config keys of the baseline, the monitors, datadogNotify, flowLogTagKeys and the flow-log format's
refusals, and the alarm topic's region check, as pure functions (contracts/settings*.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import environment as env
from contracts.environment import (
    DEFAULT_BASELINE_DAYS,
    DEFAULT_BASELINE_LEARNING_HOURS,
    DEFAULT_BASELINE_MAX_KEYS,
)
from contracts.flowlog import RICH_FORMAT, parse_format
from contracts.lambdas import (
    NOTIFIER,
    TRANSFORM,
    NotifierResources,
    notifier_environment,
    transform_environment,
)
from contracts.settings import (
    BaselineSettings,
    FlowLogTagKeys,
    MonitorSettings,
    SettingsError,
    defaults,
    settings_from,
)
from contracts.settings_checks import AlarmTopicRegionError, check_alarm_topic, partition_of
from contracts.settings_flowlogs import tag_specifications

VPC = ["vpc-0123456789abcdef0"]
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops-pager"


# --- the baseline and the monitors -------------------------------------------------------------------

def test_baseline_and_monitor_keys_default_as_the_notifier_does() -> None:
    settings = defaults()
    assert settings.baseline == BaselineSettings(
        days=DEFAULT_BASELINE_DAYS, learning_hours=DEFAULT_BASELINE_LEARNING_HOURS,
        max_keys=DEFAULT_BASELINE_MAX_KEYS)
    assert settings.baseline.enabled
    assert settings.monitors == MonitorSettings(notify=(), alert_on_internal="new",
                                                alert_on_new_targets=False)


def test_baseline_days_zero_is_kept_and_turns_the_baseline_and_new_alerts_off() -> None:
    settings = settings_from({"baselineDays": 0, "baselineLearningHours": 0, "alertOnInternal": "new"})
    assert settings.baseline == BaselineSettings(days=0, learning_hours=0, max_keys=DEFAULT_BASELINE_MAX_KEYS)
    assert not settings.baseline.enabled
    # No event carries new_internal without a baseline: the internal monitor keeps today's query.
    assert settings.monitors.alert_on_internal == "any"


def test_baseline_keys_are_read_from_strings_as_the_cli_stores_them() -> None:
    settings = settings_from({"baselineDays": "30", "baselineLearningHours": "0", "baselineMaxKeys": "500",
                              "alertOnInternal": " any ", "alertOnNewTargets": "true"})
    assert settings.baseline == BaselineSettings(days=30, learning_hours=0, max_keys=500)
    assert settings.monitors.alert_on_internal == "any" and settings.monitors.alert_on_new_targets is True


@pytest.mark.parametrize(("config", "message"), [
    ({"baselineDays": -1}, r"^config baselineDays must be within 0\.\.366, got -1$"),
    ({"baselineDays": 400}, r"^config baselineDays must be within 0\.\.366, got 400$"),
    ({"baselineLearningHours": 169}, r"^config baselineLearningHours must be within 0\.\.168, got 169$"),
    ({"baselineMaxKeys": 0}, r"^config baselineMaxKeys must be within 1\.\.20000, got 0$"),
    ({"baselineDays": "two weeks"}, r"^config baselineDays must be an integer, got 'two weeks'$"),
    ({"alertOnInternal": "always"}, r"^config alertOnInternal must be one of new, any; got 'always'$"),
    ({"alertOnNewTargets": "yes"}, r"^config alertOnNewTargets must be true or false, got 'yes'$"),
    ({"alertOnNewTargets": True, "baselineDays": 0},
     r"^config alertOnNewTargets alerts on events tagged new_targets:true, which only a baseline posts"),
])
def test_bad_baseline_and_monitor_values_name_the_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(config)


# --- datadogNotify -----------------------------------------------------------------------------------

def test_notification_handles_are_kept_in_order_once_each() -> None:
    handles = ["@slack-netsec", " @pagerduty-oncall ", "@oncall@example.com", "@slack-netsec"]
    assert settings_from({"datadogNotify": handles}).monitors.notify == (
        "@slack-netsec", "@pagerduty-oncall", "@oncall@example.com")


@pytest.mark.parametrize("handle", ["slack-netsec", "@", "@ slack", "oncall@example.com", "@@x"])
def test_a_handle_without_its_at_sign_is_refused_with_examples(handle: str) -> None:
    shown = re.escape(repr(handle.strip()))
    with pytest.raises(SettingsError, match=rf"^config datadogNotify: {shown} is not a Datadog notification "
                                            r"handle: each starts with @"):
        settings_from({"datadogNotify": [handle]})


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=30))
def test_any_word_after_an_at_sign_is_a_handle(word: str) -> None:
    handle = "@" + word.lstrip("@")
    if handle == "@" or handle.strip() != handle:
        return
    assert settings_from({"datadogNotify": [handle]}).monitors.notify == (handle,)


# --- flow-log formats --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", [
    "${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${srcaddr} ${dstaddr} "
    "${packets-lost-no-route} ${packets-lost-blackhole} ${log-status}",
    "${version} ${srcaddr} ${dstaddr} ${action} ${tgw-src-eni}",
])
def test_a_transit_gateway_format_is_refused_as_out_of_scope(fmt: str) -> None:
    expected = (r"^config flowLogFormat names Transit Gateway fields \(.*tgw-.*\)\. Transit Gateway flow "
                r"logs are out of scope: their records have no action field .*packets-lost-no-route")
    with pytest.raises(SettingsError, match=expected):
        settings_from({"flowLogFormat": fmt})


def test_a_format_without_action_says_it_is_required_and_why_transit_gateway_logs_cannot_have_it() -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from({"flowLogFormat": "${version} ${srcaddr} ${dstaddr} ${log-status}"})
    message = str(raised.value)
    assert message.startswith("config flowLogFormat has no ${action} field: it is required")
    assert "If these are Transit Gateway flow logs, they are out of scope: their records have no" in message


# --- flowLogTagKeys ----------------------------------------------------------------------------------

def test_tag_keys_add_the_v11_fields_to_the_created_flow_logs_format() -> None:
    settings = settings_from({"vpcIds": VPC, "flowLogTagKeys": '{"instance": "Name", "interface": "team"}'})
    flow_logs = settings.flow_logs
    assert flow_logs.tag_keys == FlowLogTagKeys(instance="Name", interface="team")
    assert flow_logs.format == parse_format(RICH_FORMAT + " ${instance-tag} ${interface-tag}")
    assert tag_specifications(flow_logs.tag_keys) == [("instance", "Name"), ("network-interface", "team")]


def test_tag_keys_as_an_object_and_one_kind_only() -> None:
    flow_logs = settings_from({"vpcIds": VPC, "flowLogTagKeys": {"interface": " Name "}}).flow_logs
    assert flow_logs.tag_keys == FlowLogTagKeys(interface="Name")
    assert flow_logs.format.fields[-1] == "interface-tag" and "instance-tag" not in flow_logs.format.fields


def test_tag_fields_already_in_the_format_are_not_added_twice() -> None:
    fmt = "${srcaddr} ${dstaddr} ${action} ${instance-tag}"
    flow_logs = settings_from({"vpcIds": VPC, "flowLogFormat": fmt, "flowLogTagKeys": '{"instance": "Name"}'})
    assert flow_logs.flow_logs.format == parse_format(fmt)


def test_no_tag_keys_keep_the_format_as_configured() -> None:
    assert settings_from({"vpcIds": VPC, "flowLogTagKeys": ""}).flow_logs.format == parse_format(RICH_FORMAT)
    assert not defaults().flow_logs.tag_keys


@pytest.mark.parametrize(("config", "message"), [
    ({"flowLogTagKeys": '{"instance": "Name"}'},
     r"^config flowLogTagKeys: the tag fields go into flow logs the stack creates, and this stack creates "
     r"none \(vpcIds is empty\)"),
    ({"flowLogTagKeys": '{"instance": "Name"}', "logGroupName": "/shared/flow-logs", "vpcIds": VPC},
     r"^config flowLogTagKeys: the stack's flow logs deliver into the existing group /shared/flow-logs"),
    ({"flowLogTagKeys": '{"subnet": "Name"}', "vpcIds": VPC},
     r"^config flowLogTagKeys: \['subnet'\] are not flow-log tag kinds"),
    ({"flowLogTagKeys": '{"instance": ""}', "vpcIds": VPC}, r"^config flowLogTagKeys: instance: a tag key"),
    ({"flowLogTagKeys": '{"instance": "aws:cloudformation:stack-name"}', "vpcIds": VPC},
     r"^config flowLogTagKeys: instance: 'aws:cloudformation:stack-name' is not a tag key you can set"),
    ({"flowLogTagKeys": "Name", "vpcIds": VPC}, r"^config flowLogTagKeys must be a JSON object, got 'Name'$"),
    ({"flowLogTagKeys": '["Name"]', "vpcIds": VPC}, r"^config flowLogTagKeys must be a JSON object"),
])
def test_tag_keys_that_cannot_work_are_refused_with_the_reason(config: dict[str, object],
                                                               message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(config)


# --- the alarm topic's region -------------------------------------------------------------------------

def test_a_topic_of_the_stacks_region_and_partition_is_kept() -> None:
    assert check_alarm_topic(TOPIC, region="eu-west-1", partition="aws") == TOPIC


@pytest.mark.parametrize(("region", "partition", "shown"), [
    ("us-east-1", "aws", "a topic in eu-west-1 (aws) but this stack deploys to us-east-1 (aws)"),
    ("eu-west-1", "aws-cn", "a topic in eu-west-1 (aws) but this stack deploys to eu-west-1 (aws-cn)"),
])
def test_a_topic_elsewhere_is_refused_naming_both_regions(region: str, partition: str, shown: str) -> None:
    with pytest.raises(AlarmTopicRegionError, match=re.escape(f"config alarmTopicArn is {shown}: CloudWatch "
                                                              "alarms can notify only a topic of their own")):
        check_alarm_topic(TOPIC, region=region, partition=partition)


def test_a_topic_that_is_no_arn_is_refused() -> None:
    with pytest.raises(AlarmTopicRegionError, match="must be an SNS topic ARN"):
        check_alarm_topic("ops-pager", region="eu-west-1", partition="aws")


@pytest.mark.parametrize(("region", "partition"), [
    ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"),
])
def test_each_region_has_its_partition(region: str, partition: str) -> None:
    assert partition_of(region) == partition


@given(st.sampled_from(["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2"]),
       st.sampled_from(["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2"]))
def test_a_topic_is_accepted_exactly_in_its_own_region(topic_region: str, stack_region: str) -> None:
    topic = f"arn:{partition_of(topic_region)}:sns:{topic_region}:123456789012:alarms"
    if topic_region == stack_region:
        assert check_alarm_topic(topic, region=stack_region, partition=partition_of(stack_region)) == topic
    else:
        expected = f"topic in {topic_region} .* deploys to {stack_region}"
        with pytest.raises(AlarmTopicRegionError, match=expected):
            check_alarm_topic(topic, region=stack_region, partition=partition_of(stack_region))


# --- each Lambda's environment (contracts/lambdas.py) -------------------------------------------------

def _resources(table: str | None) -> NotifierResources[str]:
    return NotifierResources[str](api_key_secret_arn="arn:secret", athena_database="db", athena_table="t",
                                  athena_workgroup="wg", baseline_table=table)


def test_the_transform_is_told_the_format_and_the_kept_actions() -> None:
    settings = settings_from({"vpcIds": VPC, "flowLogTagKeys": '{"interface": "Name"}'})
    assert transform_environment(settings.flow_logs) == {
        env.FLOW_LOG_FORMAT: RICH_FORMAT + " ${interface-tag}", env.KEEP_ACTIONS: "REJECT",
        env.POWERTOOLS_SERVICE_NAME: env.TRANSFORM_SERVICE,
        env.POWERTOOLS_METRICS_NAMESPACE: env.METRICS_NAMESPACE,
    }


def test_the_notifier_is_told_its_resources_and_with_a_table_the_baselines_settings() -> None:
    settings = settings_from({"datadogTags": ["env:prod", "team:net"], "internalCidrs": ["192.0.2.0/24"],
                              "baselineDays": 7, "baselineLearningHours": 0, "baselineMaxKeys": 300})
    without = notifier_environment(settings.notifications, "prod", _resources(None), settings.baseline)
    assert without == {
        env.DD_SITE: "datadoghq.com", env.DD_API_KEY_SECRET_ARN: "arn:secret",
        env.DD_TAGS: "env:prod,team:net",
        env.ATHENA_DATABASE: "db", env.ATHENA_TABLE: "t", env.ATHENA_WORKGROUP: "wg", env.STACK_NAME: "prod",
        env.INTERNAL_CIDRS: "192.0.2.0/24", env.POWERTOOLS_SERVICE_NAME: env.NOTIFIER_SERVICE,
        env.POWERTOOLS_METRICS_NAMESPACE: env.METRICS_NAMESPACE,
    }
    with_table = notifier_environment(settings.notifications, "prod", _resources("tbl"), settings.baseline)
    assert with_table == {**without, env.BASELINE_TABLE: "tbl", env.BASELINE_DAYS: "7",
                          env.BASELINE_LEARNING_HOURS: "0", env.BASELINE_MAX_KEYS: "300"}
    off = settings_from({"baselineDays": 0}).baseline
    unused = notifier_environment(settings.notifications, "prod", _resources("tbl"), off)
    assert env.BASELINE_TABLE not in unused


def test_both_functions_have_the_timeouts_the_stack_deploys() -> None:
    assert (TRANSFORM.timeout_seconds, NOTIFIER.timeout_seconds) == (120, 120)
    assert (TRANSFORM.handler, NOTIFIER.handler) == ("transform.handler.handler", "notifier.handler.handler")
