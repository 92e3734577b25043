"""The operations config keys (alarms, the Datadog monitor, internal networks) and name-safe stack names,
read and refused without Pulumi (contracts/settings.py, contracts/naming.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.naming import MAX_NAME, Names, name_safe
from contracts.settings import AlarmSettings, SettingsError, defaults, settings_from

# Lambda function names: letters, digits, hyphens, underscores (1-64); SQS and SNS the same (1-80/256).
LAMBDA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_operations_keys_default_to_off() -> None:
    settings = defaults()
    assert settings.alarms == AlarmSettings(email=None, topic_arn=None, silence_hours=0,
                                            datadog_monitor_threshold=0)
    assert settings.notifications.internal_cidrs == ()
    assert settings.notifications.internal_cidrs_env == ""


def test_operations_keys_are_read_and_normalised() -> None:
    settings = settings_from({
        "alarmEmail": " oncall@example.com ", "alarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops-pager",
        "silenceAlarmHours": 168, "datadogMonitorThreshold": 25,
        "internalCidrs": ["100.127.0.0/16", "2001:DB8::/32", " 192.0.2.0/24"],
    })
    assert settings.alarms.email == "oncall@example.com"
    assert settings.alarms.topic_arn == "arn:aws:sns:eu-west-1:123456789012:ops-pager"
    assert settings.alarms.silence_hours == 168 and settings.alarms.datadog_monitor_threshold == 25
    assert settings.notifications.internal_cidrs == ("100.127.0.0/16", "2001:db8::/32", "192.0.2.0/24")
    assert settings.notifications.internal_cidrs_env == "100.127.0.0/16,2001:db8::/32,192.0.2.0/24"


@pytest.mark.parametrize(("values", "message"), [
    ({"alarmEmail": "oncall-at-example.com"}, "alarmEmail must be an email address"),
    ({"alarmEmail": ["oncall@example.com"]}, "alarmEmail must be a string"),
    ({"alarmTopicArn": "ops-pager"}, "alarmTopicArn must be an SNS topic ARN"),
    ({"alarmTopicArn": "arn:aws:sqs:us-east-1:123456789012:ops"}, "alarmTopicArn must be an SNS topic ARN"),
    ({"silenceAlarmHours": 169}, r"silenceAlarmHours must be within 0..168"),
    ({"silenceAlarmHours": -1}, r"silenceAlarmHours must be within 0..168"),
    ({"datadogMonitorThreshold": -5}, "config datadogMonitorThreshold must be at least 0, got -5$"),
    ({"internalCidrs": ["10.0.0.300/8"]}, "internalCidrs: '10.0.0.300/8' is not a network"),
    ({"internalCidrs": ["10.1.2.3/8"]}, "internalCidrs: '10.1.2.3/8' is not a network.*host bits"),
    ({"internalCidrs": "10.0.0.0/8"}, "internalCidrs must be a list"),
])
def test_bad_operations_values_name_the_key(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(values)


def test_a_stack_name_with_a_dot_gives_valid_names() -> None:
    names = Names("rejected-flows", "prod.eu")
    assert name_safe("rejected-flows-prod.eu") == names.prefix == "rejected-flows-prod-eu"
    assert names.transform_function == "rejected-flows-prod-eu-transform"
    assert names.notifier_function == "rejected-flows-prod-eu-notifier"
    assert names.delivery_stream == "rejected-flows-prod-eu-flows"
    assert names.alarm_topic == "rejected-flows-prod-eu-alarms"
    assert names.glue_database == "rejected_flows_prod_eu"


# Pulumi stack names: letters, digits, hyphens, underscores and periods.
@given(st.from_regex(r"[A-Za-z0-9_.-]{1,40}", fullmatch=True))
def test_every_pulumi_stack_name_gives_valid_names_or_a_clear_error(stack: str) -> None:
    names = Names("rejected-flows", stack)
    try:
        named = [names.transform_function, names.notifier_function, names.delivery_stream, names.alarm_topic]
    except ValueError as error:
        assert f"longer than {MAX_NAME} characters" in str(error)
        return
    assert all(LAMBDA_NAME.fullmatch(name) for name in named), named
    assert all(LAMBDA_NAME.fullmatch(names.alarm(what)) for what in ("dead-letters", "silence"))
