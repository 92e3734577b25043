"""The cross-account values of the settings: ids, regions and destination ARNs, read or refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.collection import (
    CollectionError,
    parse_account_ids,
    parse_destination_arn,
    parse_organization_id,
    parse_regions,
)
from contracts.settings import SettingsError, settings_from
from tests.collection_support import (
    CENTRAL_ACCOUNT,
    CENTRAL_CONFIGS,
    CENTRAL_DESTINATION,
    MEMBER_CONFIGS,
    ORGANIZATION,
    SOURCE_ACCOUNTS,
    VPCS,
)
from tests.stack_support import REGION

account_ids = st.from_regex(r"\d{12}", fullmatch=True)
regions = st.sampled_from(["us-east-1", "us-west-2", "eu-west-1", "eu-central-2", "ap-southeast-4",
                           "us-gov-west-1", "il-central-1", "ca-west-1"])
destination_names = st.from_regex(r"[A-Za-z0-9_./-]{1,60}", fullmatch=True)


@given(account_ids, regions, destination_names, st.sampled_from(["aws", "aws-cn", "aws-us-gov"]))
def test_a_destination_arn_reads_back_its_parts(account: str, region: str, name: str, partition: str) -> None:
    parsed = parse_destination_arn(f"arn:{partition}:logs:{region}:{account}:destination:{name}")
    assert parsed is not None
    parts = (parsed.partition, parsed.region, parsed.account_id, parsed.name)
    assert parts == (partition, region, account, name)


@pytest.mark.parametrize("text", [
    "arn:aws:firehose:us-east-1:999999999999:deliverystream/flows",  # the stream, not a destination
    "arn:aws:logs:us-east-1:999999999999:log-group:/vpc/flow-logs/prod",
    "arn:aws:logs:us-east-1:9999:destination:flows",
    "arn:aws:logs:us-east-1:999999999999:destination:",
    "arn:aws:logs:us-east-1:999999999999:destination:a*b",
    "rejected-flows-central-flows",
])
def test_anything_but_a_destination_arn_is_refused_naming_the_output_to_use(text: str) -> None:
    with pytest.raises(CollectionError, match="logDestinationArns"):
        parse_destination_arn(text)


def test_empty_values_mean_not_set() -> None:
    assert parse_destination_arn("") is None
    assert parse_organization_id("") is None


@given(st.lists(account_ids, max_size=5))
def test_account_ids_keep_their_order_once_each(ids: list[str]) -> None:
    assert parse_account_ids(tuple(ids + ids)) == tuple(dict.fromkeys(ids))


@pytest.mark.parametrize("bad", ["12345678901", "1234567890123", "12345678901a", " 123456789012"])
def test_account_ids_are_exactly_twelve_digits(bad: str) -> None:
    with pytest.raises(CollectionError, match="12-digit"):
        parse_account_ids((bad,))


@pytest.mark.parametrize(("text", "ok"), [
    ("o-a1b2c3d4e5", True), ("o-abcdefghijklmnopqrstuvwxyz012345", True), ("o-short", False),
    ("O-A1B2C3D4E5", False), ("r-a1b2", False), ("123456789012", False),
])
def test_organization_ids(text: str, ok: bool) -> None:
    if ok:
        assert parse_organization_id(text) == text
    else:
        with pytest.raises(CollectionError, match="Organizations id"):
            parse_organization_id(text)


@given(st.lists(regions, max_size=6))
def test_regions_are_read_once_each(names: list[str]) -> None:
    assert parse_regions(tuple(names)) == tuple(dict.fromkeys(names))


@pytest.mark.parametrize("bad", ["Europe", "us-east", "useast1", "eu-west-1 "])
def test_region_names_are_refused_when_not_shaped_like_one(bad: str) -> None:
    with pytest.raises(CollectionError, match="region names"):
        parse_regions((bad,))


# --- config combinations that cannot work -----------------------------------------------------------

@pytest.mark.parametrize(("config", "message"), [
    ({"centralDestinationArn": CENTRAL_DESTINATION, "sourceAccountIds": SOURCE_ACCOUNTS},
     "member stack, which owns no destinations: unset sourceAccountIds"),
    ({"centralDestinationArn": CENTRAL_DESTINATION, "organizationId": ORGANIZATION,
      "sourceRegions": ["eu-west-1"]},
     "unset organizationId, sourceRegions"),
    ({"centralDestinationArn": CENTRAL_DESTINATION, "flowLogDestination": "firehose", "vpcIds": VPCS},
     "a member stack ships through the central CloudWatch Logs destination"),
    ({"sourceAccountIds": SOURCE_ACCOUNTS, "organizationId": ORGANIZATION},
     "either sourceAccountIds or organizationId"),
    ({"sourceRegions": ["eu-west-1"]}, "set sourceAccountIds or organizationId too"),
    ({"flowLogDestination": "firehose"}, "applies to flow logs the stack creates: set vpcIds"),
    ({"flowLogDestination": "s3"}, "flowLogDestination must be one of cloudwatch, firehose"),
    ({"sourceAccountIds": ["12345"]}, r"sourceAccountIds: \['12345'\] are not 12-digit AWS account ids"),
    ({"sourceAccountIds": "111111111111"}, "sourceAccountIds must be a list"),
    ({"organizationId": "org-1"}, "organizationId: 'org-1' is not an AWS Organizations id"),
    ({"sourceAccountIds": SOURCE_ACCOUNTS, "sourceRegions": ["Europe"]}, "are not AWS region names"),
    ({"centralDestinationArn": "arn:aws:firehose:us-east-1:999999999999:deliverystream/x"},
     "is not a CloudWatch Logs destination ARN"),
])
def test_settings_refuse_combinations_that_cannot_work(config: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(config)


def test_settings_read_each_mode() -> None:
    member = settings_from(MEMBER_CONFIGS["member"]).collection
    assert member.is_member and not member.has_destinations
    assert member.central_destination is not None
    destination = member.central_destination
    assert (destination.region, destination.account_id) == (REGION, CENTRAL_ACCOUNT)
    twice = {**CENTRAL_CONFIGS["regions"], "sourceRegions": ["us-west-2", "us-west-2"]}
    central = settings_from(twice).collection
    assert central.has_destinations and not central.is_member and central.source_regions == ("us-west-2",)
    direct = settings_from(CENTRAL_CONFIGS["direct"])
    assert direct.collection.flow_logs_to_firehose and not direct.creates_log_group
    assert settings_from({}).collection.flow_log_destination == "cloudwatch"


def test_a_member_stack_names_every_central_key_it_must_unset() -> None:
    config = {"centralDestinationArn": CENTRAL_DESTINATION, "sourceAccountIds": SOURCE_ACCOUNTS,
              "organizationId": ORGANIZATION, "sourceRegions": ["eu-west-1"]}
    expected = ("config: centralDestinationArn makes this a member stack, which owns no destinations: unset "
                "sourceAccountIds, organizationId, sourceRegions (they belong to the central stack's config)")
    with pytest.raises(SettingsError) as raised:
        settings_from(config)
    assert str(raised.value) == expected


@pytest.mark.parametrize(("config", "expected"), [
    ({"flowLogDestination": "firehose"},
     "flowLogDestination firehose applies to flow logs the stack creates: set vpcIds"),
    ({"flowLogDestination": "firehose", "logGroupName": "/existing/flow-logs"},
     "flowLogDestination firehose applies to flow logs the stack creates: set vpcIds (the existing group "
     "/existing/flow-logs is subscribed either way)"),
])
def test_direct_flow_logs_without_vpcs_say_what_to_set(config: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from(config)
    assert str(raised.value).endswith(expected)


@pytest.mark.parametrize("name", sorted(CENTRAL_CONFIGS) + sorted(MEMBER_CONFIGS))
def test_every_example_mode_is_accepted(name: str) -> None:
    config = {**CENTRAL_CONFIGS, **MEMBER_CONFIGS}[name]
    collection = settings_from(config).collection
    assert collection.is_member == (name in MEMBER_CONFIGS)
    assert collection.has_destinations == (name in ("accounts", "organization", "regions"))
    assert collection.flow_logs_to_firehose == name.startswith("direct")
