"""Stack configuration: the schema and defaults declared in Pulumi.yaml, read and validated into groups.

Pulumi.yaml is the single source of every default. The Pulumi CLI applies those defaults itself; the
mocks in tests and the local pipeline do not, so `load_settings` falls back to the same declarations.
Pure (no Pulumi import): the stack reads it through `infra.config.config_getter`, and the local
pipeline, the benchmarks and the tests read it directly.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

from contracts.collection import (
    FLOW_LOG_DESTINATIONS,
    Collection,
    CollectionError,
    check_collection,
    parse_account_ids,
    parse_destination_arn,
    parse_organization_id,
    parse_regions,
)
from contracts.environment import DATADOG_SITES
from contracts.firehose import PROCESSOR_BUFFER_MB_RANGE
from contracts.flowlog import FlowLogFormat, parse_keep_actions
from contracts.settings_flowlogs import flow_log_format, tag_keys, with_tag_fields
from contracts.settings_groups import ALERT_ON_ANY, ALERT_ON_INTERNAL
from contracts.settings_groups import AlarmSettings as AlarmSettings
from contracts.settings_groups import BaselineSettings as BaselineSettings
from contracts.settings_groups import Buffers as Buffers
from contracts.settings_groups import FlowLogs as FlowLogs
from contracts.settings_groups import FlowLogTagKeys as FlowLogTagKeys
from contracts.settings_groups import MonitorSettings as MonitorSettings
from contracts.settings_groups import Notifications as Notifications
from contracts.settings_groups import Retention as Retention
from contracts.settings_groups import StackSettings as StackSettings

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

ARCHITECTURES = ("arm64", "x86_64")
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)


class SettingsError(ValueError):
    """A stack config value that cannot work; the message names the key and what to set."""


@cache
def declared_config() -> dict[str, dict[str, Any]]:
    """The `config:` section of Pulumi.yaml."""
    declared: dict[str, dict[str, Any]] = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    return declared


def project_name() -> str:
    return str(yaml.safe_load(PROJECT_FILE.read_text())["name"])


Getter = Callable[[str], Any]
T = TypeVar("T")


def load_settings(get: Getter | None = None) -> StackSettings:
    """Read every declared key through `get` (a key's value or None), falling back to its default.

    `get` is `config_getter(pulumi.Config())` in the program; with None, every key takes its default.
    """
    declared = declared_config()

    def value(key: str) -> Any:
        given = get(key) if get is not None else None
        return declared[key].get("default") if given is None else given

    def read(key: str, check: Callable[..., T], *limits: Any) -> T:
        """Every validator has one shape: (config key, raw value, limits...) -> the typed value."""
        return check(key, value(key), *limits)

    flow_logs = _flow_logs(read)
    baseline = BaselineSettings(
        days=read("baselineDays", _integer, 0, MAX_BASELINE_DAYS),
        learning_hours=read("baselineLearningHours", _integer, 0, MAX_BASELINE_LEARNING_HOURS),
        max_keys=read("baselineMaxKeys", _integer, 1, MAX_BASELINE_KEYS),
    )
    return StackSettings(
        flow_logs=flow_logs,
        buffers=Buffers(
            processor_mb=read("processorBufferMb", _megabytes, *PROCESSOR_BUFFER_MB_RANGE),
            processor_seconds=read("processorBufferSeconds", _integer, 0, 900),
            archive_mb=read("archiveBufferMb", _integer, 1, 128),
            archive_seconds=read("archiveBufferSeconds", _integer, 0, 900),
        ),
        retention=Retention(
            log_days=read("logRetentionDays", _retention_days),
            archive_transition_days=read("archiveTransitionDays", _transition_days),
            archive_expiration_days=read("archiveExpirationDays", _integer, 0),
            error_expiration_days=read("errorExpirationDays", _integer, 0),
        ),
        notifications=Notifications(
            datadog_site=read("datadogSite", _one_of, DATADOG_SITES),
            datadog_tags=read("datadogTags", _strings),
            max_event_age_seconds=read("notifierMaxEventAgeSeconds", _integer, 60, 21600),
            retry_attempts=read("notifierRetryAttempts", _integer, 0, 2),
            internal_cidrs=read("internalCidrs", _cidrs),
        ),
        alarms=AlarmSettings(
            email=read("alarmEmail", _optional, _email),
            topic_arn=read("alarmTopicArn", _optional, _topic_arn),
            silence_hours=read("silenceAlarmHours", _integer, 0, MAX_SILENCE_ALARM_HOURS),
            datadog_monitor_threshold=read("datadogMonitorThreshold", _integer, 0),
        ),
        lambda_architecture=read("lambdaArchitecture", _one_of, ARCHITECTURES),
        athena_scan_limit_mb=read("athenaScanLimitMb", _integer, 10),
        resource_tags=read("resourceTags", _key_values),
        collection=_collection(read, flow_logs),
        baseline=baseline,
        monitors=MonitorSettings(
            notify=read("datadogNotify", _handles),
            # Without a baseline no event carries new_internal: the monitor alerts on any internal source.
            alert_on_internal=(read("alertOnInternal", _one_of, ALERT_ON_INTERNAL) if baseline.enabled
                               else ALERT_ON_ANY),
            alert_on_new_targets=read("alertOnNewTargets", _new_targets_alert, baseline),
        ),
    )


Reader = Callable[..., Any]

# A key unseen for this long is new; DynamoDB's TTL deletes it a little later. A year bounds the table.
MAX_BASELINE_DAYS = 366
# Learning longer than the baseline's memory would never end on a quiet VPC: a week at most.
MAX_BASELINE_LEARNING_HOURS = 7 * 24
# DynamoDB BatchGetItem reads 100 keys a call: 20,000 keys is 200 calls, about the notifier's budget.
MAX_BASELINE_KEYS = 20_000


def _flow_logs(read: Reader) -> FlowLogs:
    """logGroupName, vpcIds, flowLogFormat (with flowLogTagKeys' fields), keepActions, flowLogTagKeys."""
    log_group_name = read("logGroupName", _optional_text)
    vpc_ids = read("vpcIds", _strings)
    keys = read("flowLogTagKeys", _parsed_object, tag_keys)
    fmt = read("flowLogFormat", _parsed_format, log_group_name)
    try:
        fmt = with_tag_fields(fmt, keys, vpc_ids=vpc_ids, existing_log_group=log_group_name)
    except ValueError as error:
        raise SettingsError(f"config flowLogTagKeys: {error}") from error
    return FlowLogs(
        existing_log_group=log_group_name,
        vpc_ids=vpc_ids,
        format=fmt,
        keep_actions=read("keepActions", _keep_actions),
        tag_keys=keys,
    )


def _parsed_object(key: str, raw: Any, parse: Callable[[Mapping[str, Any]], Any]) -> Any:
    """An object, given as one JSON string (`pulumi config set flowLogTagKeys '{"instance": "Name"}'`).

    Pulumi.yaml can declare string, integer, boolean and array keys only (the project schema's
    `simpleConfigType`, pulumi/pulumi sdk/go/common/workspace/project.json, checked 2026-12), so an
    object key is declared a string; `config_getter` parses its JSON. Empty means no object.
    """
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raw = {}
        else:
            try:
                raw = json.loads(text)
            except ValueError as error:
                raise SettingsError(f"config {key} must be a JSON object, got {raw!r}") from error
    if not isinstance(raw, Mapping):
        raise SettingsError(f"config {key} must be a JSON object, got {raw!r}")
    return _parsed(key, raw, parse)


def _parsed_format(key: str, raw: Any, existing_log_group: str | None) -> FlowLogFormat:
    return flow_log_format(key, str(raw), existing_log_group, SettingsError)


def _boolean(key: str, raw: Any) -> bool:
    """true/false, as Pulumi types a boolean key, or the strings `pulumi config set` stores."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise SettingsError(f"config {key} must be true or false, got {raw!r}")


def _new_targets_alert(key: str, raw: Any, baseline: BaselineSettings) -> bool:
    wanted = _boolean(key, raw)
    if wanted and not baseline.enabled:
        raise SettingsError(
            f"config {key} alerts on events tagged new_targets:true, which only a baseline posts: set "
            "baselineDays above 0, or unset alertOnNewTargets"
        )
    return wanted


# A Datadog notification handle: `@` and no spaces (`@slack-netsec`, `@pagerduty-oncall`, `@a@b.c`).
_HANDLE = re.compile(r"@[^\s@][^\s]*")


def _handles(key: str, raw: Any) -> tuple[str, ...]:
    handles = _strings(key, raw)
    for handle in handles:
        if not _HANDLE.fullmatch(handle):
            raise SettingsError(
                f"config {key}: {handle!r} is not a Datadog notification handle: each starts with @ and "
                'has no spaces, e.g. ["@slack-netsec", "@pagerduty-oncall", "@oncall@example.com"]'
            )
    return tuple(dict.fromkeys(handles))


def _collection(read: Reader, flow_logs: FlowLogs) -> Collection:
    """sourceAccountIds, organizationId, sourceRegions, centralDestinationArn, flowLogDestination."""
    collection = Collection(
        source_account_ids=read("sourceAccountIds", _parsed_list, parse_account_ids),
        organization_id=read("organizationId", _parsed_text, parse_organization_id),
        source_regions=read("sourceRegions", _parsed_list, parse_regions),
        central_destination=read("centralDestinationArn", _parsed_text, parse_destination_arn),
        flow_log_destination=read("flowLogDestination", _one_of, FLOW_LOG_DESTINATIONS),
    )
    try:
        check_collection(
            collection, vpc_ids=flow_logs.vpc_ids, existing_log_group=flow_logs.existing_log_group,
        )
    except CollectionError as error:
        raise SettingsError(f"config: {error}") from error
    return collection


def _parsed_text(key: str, raw: Any, parse: Callable[[str], Any]) -> Any:
    return _parsed(key, str(raw).strip(), parse)


def _parsed_list(key: str, raw: Any, parse: Callable[[tuple[str, ...]], Any]) -> Any:
    return _parsed(key, _strings(key, raw), parse)


def _parsed(key: str, raw: Any, parse: Callable[[Any], Any]) -> Any:
    """A contracts parser's ValueError as a SettingsError that names the key."""
    try:
        return parse(raw)
    except ValueError as error:
        raise SettingsError(f"config {key}: {error}") from error


def _optional_text(key: str, raw: Any) -> str | None:
    return str(raw).strip() or None


def _integer(key: str, raw: Any, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"config {key} must be an integer, got {raw!r}") from error
    if (low is not None and number < low) or (high is not None and number > high):
        # Every bounded key has a floor (0 or more); some have no ceiling.
        bounds = f"within {low}..{high}" if high is not None else f"at least {low}"
        raise SettingsError(f"config {key} must be {bounds}, got {number}")
    return number


def _one_of(key: str, raw: Any, allowed: tuple[Any, ...]) -> Any:
    if isinstance(raw, str):
        raw = raw.strip()
    if raw not in allowed:
        raise SettingsError(f"config {key} must be one of {', '.join(map(str, allowed))}; got {raw!r}")
    return raw


def _strings(key: str, raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        raise SettingsError(f'config {key} must be a list, e.g. `pulumi config set --path "{key}[0]" value`')
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
        raise SettingsError(f"config {key} must be a list of strings, got {raw!r}")
    return tuple(item.strip() for item in raw if item.strip())


def _retention_days(key: str, raw: Any) -> int:
    return int(_one_of(key, _integer(key, raw), LOG_RETENTION_DAYS))


# A rejected-traffic archive keeps REJECT only. ACCEPT is refused, not half-supported: accepted flows are
# usually most of a VPC's traffic (so the processor buffer, sized for REJECT volume, would overflow into
# re-ingestion), and the events, monitors and named queries all speak of rejected traffic.
ARCHIVED_ACTIONS = frozenset({"REJECT"})


def _keep_actions(key: str, raw: Any) -> frozenset[str]:
    actions: frozenset[str] = _parsed(key, _strings(key, raw), parse_keep_actions)
    if not actions <= ARCHIVED_ACTIONS:
        raise SettingsError(
            f"config {key}: this stack archives and alerts on rejected traffic only, so it must be "
            f'["REJECT"], got {sorted(actions)}. To keep accepted traffic too, send the flow logs to S3 '
            "directly (a flow log with an S3 destination) and query them with AWS's own Athena integration."
        )
    return actions


def _key_values(key: str, raw: Any) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in _strings(key, raw):
        name, sep, val = item.partition("=")
        if not sep or not name.strip():
            raise SettingsError(f"config {key}: {item!r} is not of the form key=value")
        pairs[name.strip()] = val.strip()
    return pairs


# S3 refuses transitions to Standard-IA of objects younger than 30 days.
MIN_IA_TRANSITION_DAYS = 30


def _transition_days(key: str, raw: Any) -> int:
    days = _integer(key, raw, 0)
    if 0 < days < MIN_IA_TRANSITION_DAYS:
        raise SettingsError(
            f"config {key} must be 0 (no transition) or at least {MIN_IA_TRANSITION_DAYS} "
            f"(S3's minimum for Standard-IA), got {days}"
        )
    return days


def _megabytes(key: str, raw: Any, low: float, high: float) -> float:
    try:
        size = float(raw)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"config {key} must be a number of MB, got {raw!r}") from error
    if not low <= size <= high:
        raise SettingsError(f"config {key} must be within {low}-{high} MB, got {size}")
    return size


# CloudWatch: Period x EvaluationPeriods of an alarm with hourly periods is at most 7 days (604,800 s).
MAX_SILENCE_ALARM_HOURS = 7 * 24
# Loose on purpose: one @, no spaces, a dot in the domain. SNS sends the confirmation that proves it.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# arn:<partition>:sns:<region>:<account>:<topic name>
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")


def _optional(key: str, raw: Any, check: Callable[[str, str], str]) -> str | None:
    if not isinstance(raw, str):
        raise SettingsError(f"config {key} must be a string, got {raw!r}")
    text = raw.strip()
    return check(key, text) if text else None


def _email(key: str, text: str) -> str:
    if not _EMAIL.fullmatch(text):
        raise SettingsError(f"config {key} must be an email address, got {text!r}")
    return text


def _topic_arn(key: str, text: str) -> str:
    if not _TOPIC_ARN.fullmatch(text):
        raise SettingsError(
            f"config {key} must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>), got {text!r}"
        )
    return text


def _cidrs(key: str, raw: Any) -> tuple[str, ...]:
    """Networks in CIDR notation, IPv4 or IPv6, normalised (`10.1.2.3/8` is refused: host bits set)."""
    networks = []
    for text in _strings(key, raw):
        try:
            networks.append(str(ipaddress.ip_network(text)))
        except ValueError as error:
            raise SettingsError(f"config {key}: {text!r} is not a network in CIDR notation ({error})") \
                from error
    return tuple(networks)


def defaults() -> StackSettings:
    """The settings of a stack with no config set: what the local pipeline runs."""
    return load_settings(None)


def settings_from(values: Mapping[str, Any]) -> StackSettings:
    """Settings from plain values, as a stack's config would give them (the tests use it)."""
    return load_settings(values.get)
