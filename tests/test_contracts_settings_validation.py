"""Stack config validation without Pulumi: every value AWS would refuse fails early, naming the key.

`settings_from` reads plain values and falls back to Pulumi.yaml's defaults, as the program does
through Pulumi's config. The bounds are AWS's: Firehose buffering ranges, S3's 30-day minimum before
Standard-IA, Lambda's asynchronous retry limits, CloudWatch Logs' retention values.
"""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Any

import pytest

from contracts.flowlog import DEFAULT_FORMAT, RICH_FORMAT, parse_format
from contracts.settings import (
    LOG_RETENTION_DAYS,
    MIN_IA_TRANSITION_DAYS,
    SettingsError,
    defaults,
    load_settings,
    project_name,
    settings_from,
)


def test_the_project_is_named_in_pulumi_yaml() -> None:
    assert project_name() == "rejected-flows"


def test_defaults_come_from_pulumi_yaml() -> None:
    settings = defaults()

    assert settings.notifications.datadog_site == "datadoghq.com"
    assert settings.flow_logs.existing_log_group is None and settings.creates_log_group
    assert settings.flow_logs.format == parse_format(RICH_FORMAT)
    assert settings.flow_logs.keep_actions == {"REJECT"} and settings.flow_logs.keep_actions_env == "REJECT"
    assert settings.flow_logs.traffic_type == "REJECT"
    assert settings.buffers.processor_mb == 0.2
    retention = settings.retention
    assert (retention.archive_transition_days, retention.archive_expiration_days) == (30, 365)
    assert settings.notifications.retry_attempts == 2 and settings.lambda_architecture == "arm64"
    assert settings.resource_tags == {} and settings.flow_logs.vpc_ids == ()
    assert settings.notifications.datadog_tags == ()


def test_a_getter_that_knows_nothing_gives_the_defaults() -> None:
    assert load_settings(lambda key: None) == defaults() == load_settings(None)


def test_an_existing_log_group_defaults_to_the_version_two_format() -> None:
    settings = settings_from({"logGroupName": "  /my/existing/flow-logs "})

    assert settings.flow_logs.existing_log_group == "/my/existing/flow-logs"
    assert not settings.creates_log_group
    assert settings.flow_logs.format.text == DEFAULT_FORMAT


def test_a_blank_log_group_means_the_stack_creates_one() -> None:
    assert settings_from({"logGroupName": "   "}).creates_log_group


def test_a_given_format_wins_over_the_default_for_either_kind_of_log_group() -> None:
    text = "${srcaddr} ${dstaddr} ${action}"
    assert settings_from({"flowLogFormat": text}).flow_logs.format.text == text
    assert settings_from({"flowLogFormat": text, "logGroupName": "/x"}).flow_logs.format.text == text


def test_keep_actions_are_read_case_and_space_insensitively_and_flow_logs_record_rejects() -> None:
    settings = settings_from({"keepActions": [" reject "]})

    assert settings.flow_logs.keep_actions == {"REJECT"}
    assert settings.flow_logs.keep_actions_env == "REJECT"
    assert settings.flow_logs.traffic_type == "REJECT"


def test_lists_are_trimmed_and_blank_items_dropped() -> None:
    settings = settings_from({"vpcIds": [" vpc-0a1b2c3d ", "", "vpc-0e1f2a3b"],
                              "datadogTags": ["team:netsec", "  "],
                              "resourceTags": [" owner = platform ", "cost-centre=42=a", "empty="]})

    assert settings.flow_logs.vpc_ids == ("vpc-0a1b2c3d", "vpc-0e1f2a3b")
    assert settings.notifications.datadog_tags == ("team:netsec",)
    assert settings.resource_tags == {"owner": "platform", "cost-centre": "42=a", "empty": ""}


@pytest.mark.parametrize(("key", "low", "high"), [
    ("processorBufferSeconds", 0, 900),
    ("archiveBufferMb", 1, 128),
    ("archiveBufferSeconds", 0, 900),
    ("notifierMaxEventAgeSeconds", 60, 21600),
    ("notifierRetryAttempts", 0, 2),
])
def test_bounded_integers_accept_their_range_and_refuse_past_it(key: str, low: int, high: int) -> None:
    read = attrgetter({"processorBufferSeconds": "buffers.processor_seconds",
                       "archiveBufferMb": "buffers.archive_mb",
                       "archiveBufferSeconds": "buffers.archive_seconds",
                       "notifierMaxEventAgeSeconds": "notifications.max_event_age_seconds",
                       "notifierRetryAttempts": "notifications.retry_attempts"}[key])
    assert read(settings_from({key: low})) == low
    assert read(settings_from({key: str(high)})) == high
    within = rf"^config {key} must be within {low}\.\.{high}, got "
    with pytest.raises(SettingsError, match=within + rf"{low - 1}$"):
        settings_from({key: low - 1})
    with pytest.raises(SettingsError, match=within + rf"{high + 1}$"):
        settings_from({key: high + 1})


@pytest.mark.parametrize(("key", "low", "attribute"), [
    ("athenaScanLimitMb", 10, "athena_scan_limit_mb"),
    ("archiveExpirationDays", 0, "retention.archive_expiration_days"),
    ("errorExpirationDays", 0, "retention.error_expiration_days"),
    ("archiveTransitionDays", 0, "retention.archive_transition_days"),
])
def test_integers_with_only_a_floor_accept_it_and_any_larger_value(key: str, low: int,
                                                                    attribute: str) -> None:
    assert attrgetter(attribute)(settings_from({key: low})) == low
    assert attrgetter(attribute)(settings_from({key: 10**9})) == 10**9
    with pytest.raises(SettingsError, match=rf"^config {key} must be at least {low}, got {low - 1}$"):
        settings_from({key: low - 1})


@pytest.mark.parametrize("raw", ["thirty", "1.5", [30]], ids=["word", "decimal", "list"])
def test_an_integer_that_is_not_one_says_what_it_got(raw: Any) -> None:
    message = f"config logRetentionDays must be an integer, got {raw!r}"
    with pytest.raises(SettingsError, match="^" + re.escape(message)):
        settings_from({"logRetentionDays": raw})


def test_an_unset_value_takes_the_default() -> None:
    assert settings_from({"logRetentionDays": None}).retention.log_days == 30


def test_log_retention_takes_only_values_cloudwatch_offers() -> None:
    for days in (1, 3, 3653):
        assert settings_from({"logRetentionDays": days}).retention.log_days == days
    assert 3653 in LOG_RETENTION_DAYS and 4 not in LOG_RETENTION_DAYS
    with pytest.raises(SettingsError, match=r"^config logRetentionDays must be one of 1, 3, .*, 3653; got 4"):
        settings_from({"logRetentionDays": 4})


@pytest.mark.parametrize(("days", "accepted"), [(0, True), (1, False), (MIN_IA_TRANSITION_DAYS - 1, False),
                                                (MIN_IA_TRANSITION_DAYS, True), (400, True)])
def test_standard_ia_transitions_are_off_or_at_least_thirty_days(days: int, accepted: bool) -> None:
    assert MIN_IA_TRANSITION_DAYS == 30
    if accepted:
        assert settings_from({"archiveTransitionDays": days}).retention.archive_transition_days == days
    else:
        with pytest.raises(SettingsError, match=rf"must be 0 \(no transition\) or at least 30 .*got {days}$"):
            settings_from({"archiveTransitionDays": days})


@pytest.mark.parametrize(("raw", "size"), [("0.2", 0.2), ("3", 3.0), (1, 1.0), ("1.5", 1.5)])
def test_processor_buffer_takes_firehoses_range_in_mb(raw: Any, size: float) -> None:
    assert settings_from({"processorBufferMb": raw}).buffers.processor_mb == size


@pytest.mark.parametrize(("raw", "message"), [
    ("0.1", r"must be within 0\.2-3\.0 MB, got 0\.1$"),
    ("3.5", r"must be within 0\.2-3\.0 MB, got 3\.5$"),
    ("one", r"must be a number of MB, got 'one'$"),
    ([1], r"must be a number of MB, got \[1\]$"),
])
def test_processor_buffer_outside_firehoses_range_is_refused(raw: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=r"^config processorBufferMb " + message):
        settings_from({"processorBufferMb": raw})


@pytest.mark.parametrize(("key", "raw"), [("datadogSite", "datadog.com"), ("lambdaArchitecture", "aarch64")])
def test_choices_name_every_allowed_value(key: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=rf"^config {key} must be one of .*; got '{raw}'$"):
        settings_from({key: raw})


def test_every_datadog_site_and_architecture_is_accepted() -> None:
    assert settings_from({"datadogSite": "datadoghq.eu"}).notifications.datadog_site == "datadoghq.eu"
    assert settings_from({"lambdaArchitecture": "x86_64"}).lambda_architecture == "x86_64"


@pytest.mark.parametrize("key", ["vpcIds", "datadogTags", "keepActions", "resourceTags"])
def test_a_list_given_as_text_says_how_to_set_a_list(key: str) -> None:
    how = f'config {key} must be a list, e.g. `pulumi config set --path "{key}[0]" value`'
    with pytest.raises(SettingsError, match="^" + re.escape(how) + "$"):
        settings_from({key: "vpc-0a1b2c3d"})


@pytest.mark.parametrize("raw", [[1, 2], ["a", None], {"a": "b"}])
def test_a_list_of_other_things_is_refused(raw: Any) -> None:
    with pytest.raises(SettingsError, match=r"^config vpcIds must be a list of strings, got "):
        settings_from({"vpcIds": raw})


@pytest.mark.parametrize(("item", "shown"), [("owner", "owner"), ("=platform", "=platform"),
                                             (" = x ", "= x")])
def test_resource_tags_must_be_key_value_pairs(item: str, shown: str) -> None:
    with pytest.raises(SettingsError, match=rf"^config resourceTags: {shown!r} is not of the form key=value"):
        settings_from({"resourceTags": [item]})


def test_a_bad_format_or_action_is_reported_under_its_key() -> None:
    with pytest.raises(SettingsError, match=r"^config flowLogFormat has no \$\{action\} field: it is requir"):
        settings_from({"flowLogFormat": "${srcaddr} ${dstaddr}"})
    with pytest.raises(SettingsError, match=r"^config keepActions: keep actions \['DROP'\] are not"):
        settings_from({"keepActions": ["DROP"]})
