"""The stack's config surface: the example stack, the docs' config table, the processor-buffer arithmetic."""

from __future__ import annotations

import pytest
import yaml

from contracts.flowlog import DEFAULT_FORMAT, parse_format
from contracts.settings import (
    Buffers,
    FlowLogs,
    Notifications,
    Retention,
    SettingsError,
    declared_config,
    defaults,
    project_name,
    settings_from,
)
from infra.config_doc import config_table
from infra.packaging import ROOT

# Measured here: CloudWatch payloads compress ~4.4x, an archived line is ~3x its raw message, and the
# response is base64 (4/3): the factor from processor buffer to Lambda response.
RESPONSE_PER_BUFFER_MB = 4.4 * 3 * 4 / 3
# Measured by `make bench` (bench/transform.py, buffer_sizing) on the rich v2-v5 format as the
# subscription ships it, with extractedFields: the worst case of the formats the stack uses.
MEASURED_RICH_RESPONSE_PER_BUFFER_MB = 22.6
LAMBDA_RESPONSE_MB = 6


def test_example_stack_sets_only_declared_keys_and_loads() -> None:
    config = yaml.safe_load((ROOT / "Pulumi.dev.example.yaml").read_text())["config"]
    prefix = f"{project_name()}:"
    ours = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
    others = {key for key in config if not key.startswith(prefix)}
    assert others <= {"aws:region"}
    assert set(ours) <= set(declared_config())
    assert "datadogApiKey" not in ours  # a secret: set with `pulumi config set --secret`
    settings = settings_from(ours)
    assert settings.resource_tags == {"env": "dev", "owner": "platform"}


def test_readme_lists_every_config_key_as_pulumi_yaml_declares_it() -> None:
    readme = (ROOT / "docs" / "deploy.md").read_text()
    assert config_table() in readme, "regenerate the table: .venv/bin/python -m infra.config_doc"
    for key in declared_config():
        assert f"| `{key}` |" in readme


def test_default_processor_buffer_fits_the_lambda_response() -> None:
    buffer_mb = defaults().buffers.processor_mb
    assert buffer_mb * RESPONSE_PER_BUFFER_MB <= LAMBDA_RESPONSE_MB
    assert buffer_mb * MEASURED_RICH_RESPONSE_PER_BUFFER_MB <= LAMBDA_RESPONSE_MB
    assert round(LAMBDA_RESPONSE_MB / RESPONSE_PER_BUFFER_MB, 2) == 0.34
    assert round(RESPONSE_PER_BUFFER_MB, 1) == 17.6


GROUPED_CONFIG = {
    "processorBufferMb": 0.5, "processorBufferSeconds": 30,
    "archiveBufferMb": 64, "archiveBufferSeconds": 600,
    "logRetentionDays": 30, "archiveTransitionDays": 60,
    "archiveExpirationDays": 400, "errorExpirationDays": 90,
    "logGroupName": " /vpc/shared ", "vpcIds": ["vpc-0a1b2c3d"],
    "datadogSite": "datadoghq.eu", "datadogTags": ["team:net"], "notifierMaxEventAgeSeconds": 600,
    "notifierRetryAttempts": 1, "internalCidrs": ["100.64.0.0/10"],
}


def test_each_group_holds_the_keys_of_its_concern() -> None:
    settings = settings_from(GROUPED_CONFIG)
    assert settings.buffers == Buffers(
        processor_mb=0.5, processor_seconds=30, archive_mb=64, archive_seconds=600,
    )
    assert settings.retention == Retention(
        log_days=30, archive_transition_days=60, archive_expiration_days=400, error_expiration_days=90,
    )
    assert settings.flow_logs == FlowLogs(
        existing_log_group="/vpc/shared", vpc_ids=("vpc-0a1b2c3d",), format=parse_format(DEFAULT_FORMAT),
        keep_actions=frozenset({"REJECT"}),
    )
    assert settings.notifications == Notifications(
        datadog_site="datadoghq.eu", datadog_tags=("team:net",), max_event_age_seconds=600, retry_attempts=1,
        internal_cidrs=("100.64.0.0/10",),
    )


@pytest.mark.parametrize("days", [1, 29])
def test_transition_days_below_the_ia_minimum_are_refused(days: int) -> None:
    with pytest.raises(SettingsError, match="archiveTransitionDays"):
        settings_from({"archiveTransitionDays": days})


def test_transition_days_zero_or_thirty_are_fine() -> None:
    assert settings_from({"archiveTransitionDays": 0}).retention.archive_transition_days == 0
    assert settings_from({"archiveTransitionDays": 30}).retention.archive_transition_days == 30


@pytest.mark.parametrize("actions", [["ACCEPT"], ["ACCEPT", "REJECT"]])
def test_keeping_accepted_traffic_is_refused_with_the_alternative(actions: list[str]) -> None:
    with pytest.raises(SettingsError, match=r"keepActions: this stack archives and alerts on rejected traffic"
                       r" only.*send the flow logs to S3 directly"):
        settings_from({"keepActions": actions})


def test_reject_is_what_the_stack_keeps() -> None:
    assert settings_from({"keepActions": ["REJECT"]}).flow_logs.keep_actions == frozenset({"REJECT"})
    assert defaults().flow_logs.keep_actions == frozenset({"REJECT"})
