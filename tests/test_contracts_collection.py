"""The cross-account values of the settings: ids, regions and destination ARNs, read or refused."""

from __future__ import annotations

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
