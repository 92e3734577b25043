"""The shared definitions: formats, keep actions, filter patterns, the S3 layout."""

from __future__ import annotations

import pytest

from contracts.flowlog import (
    ALL_FIELDS,
    DEFAULT_FORMAT,
    RICH_FORMAT,
    FlowLogFormatError,
    athena_type,
    parse_format,
    parse_keep_actions,
    subscription_filter_pattern,
    unknown_fields,
)
from contracts.layout import (
    FIREHOSE_DATA_PREFIX,
    FIREHOSE_ERROR_PREFIX,
    object_key_from_event,
    partition_of,
    storage_location_template,
)


def test_default_format_is_version_two() -> None:
    fmt = parse_format(None)

    assert fmt.text == DEFAULT_FORMAT
    assert fmt.columns == ("version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport",
                           "dstport", "protocol", "packets", "bytes", "start", "end", "action", "log_status")
    assert fmt.version == 2


def test_rich_format_carries_versions_two_to_five() -> None:
    fmt = parse_format(RICH_FORMAT)

    assert fmt.version == 5
    expected = {"vpc_id", "tcp_flags", "pkt_srcaddr", "az_id", "flow_direction", "traffic_path"}
    assert expected <= set(fmt.columns)


def test_every_catalogued_field_parses() -> None:
    assert parse_format(" ".join(f"${{{f}}}" for f in ALL_FIELDS)).version == 11


@pytest.mark.parametrize(("text", "message"), [
    ("${version} srcaddr ${action}", "token 'srcaddr' is not of the form"),
    ("${version} ${action} ${action}", "'action' appears twice"),
    ("${version} ${srcaddr} ${dstaddr}", "has no ${action} field"),
])
def test_bad_format_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(FlowLogFormatError, match=message.replace("$", r"\$").replace("{", r"\{")):
        parse_format(text)


def test_unknown_field_is_accepted_as_a_string_and_listed() -> None:
    fmt = parse_format("${version} ${srcaddr} ${encryption-status} ${flow-hash} ${action}")

    assert unknown_fields(fmt) == ("flow-hash",)
    assert fmt.columns == ("version", "srcaddr", "encryption_status", "flow_hash", "action")
    assert [athena_type(f) for f in fmt.fields] == ["int", "string", "int", "string", "string"]
    assert fmt.version == 12  # newer than every field the catalogue knows


def test_keep_actions_parse_and_reject_unknown_actions() -> None:
    assert parse_keep_actions(None) == {"REJECT"}
    assert parse_keep_actions(" accept ,REJECT") == {"ACCEPT", "REJECT"}
    assert parse_keep_actions(["REJECT"]) == {"REJECT"}
    with pytest.raises(FlowLogFormatError, match=r"\['DENY'\] are not flow-log actions"):
        parse_keep_actions("REJECT,DENY")


def test_filter_pattern_ships_only_reject_lines_of_the_right_shape() -> None:
    assert subscription_filter_pattern(parse_format(None), {"REJECT"}) == (
        "[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, "
        "bytes, start, end, action = REJECT, log_status]"
    )


def test_filter_pattern_with_both_actions_has_no_action_condition() -> None:
    pattern = subscription_filter_pattern(parse_format(None), {"ACCEPT", "REJECT"})

    assert "=" not in pattern and pattern.count(",") == 13


def test_filter_pattern_of_every_field_fits_cloudwatch_limit() -> None:
    every = parse_format(" ".join(f"${{{f}}}" for f in ALL_FIELDS))

    assert len(subscription_filter_pattern(every, {"REJECT"})) <= 1024


def test_firehose_prefixes_and_table_template_agree() -> None:
    assert FIREHOSE_DATA_PREFIX == (
        "rejected/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )
    assert FIREHOSE_ERROR_PREFIX == (
        "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
        "day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )
    assert storage_location_template("archive") == (
        "s3://archive/rejected/year=${year}/month=${month}/day=${day}/hour=${hour}/"
    )


def test_event_keys_are_unquoted_and_partitions_parsed() -> None:
    key = object_key_from_event("rejected/year%3D2026/month%3D11/day%3D27/hour%3D08/stream-1-2026+x.gz")

    assert key == "rejected/year=2026/month=11/day=27/hour=08/stream-1-2026 x.gz"
    assert partition_of(key) == {"year": 2026, "month": 11, "day": 27, "hour": 8}
