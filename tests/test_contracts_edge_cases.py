"""The shared definitions at their edges: formats, keep actions, S3 layout, named queries, names, tags.

Every part of the stack reads these facts from one place, so a slip here shows up everywhere at once:
a filter that lets the wrong lines through, a partition the table cannot find, a query with a
missing parameter, a resource name AWS refuses.
"""

from __future__ import annotations

import pytest

from contracts.events import internal_sources_tag, stack_tag
from contracts.flowlog import (
    DEFAULT_FORMAT,
    FIELDS_BY_VERSION,
    FlowLogFormat,
    FlowLogFormatError,
    athena_type,
    column_name,
    format_string,
    parse_format,
    parse_keep_actions,
    subscription_filter_pattern,
)
from contracts.layout import (
    DATA_PREFIX,
    ERROR_PREFIX,
    PARTITION_KEYS,
    is_data_key,
    is_error_key,
    object_key_from_event,
    partition_of,
    table_location,
)
from contracts.naming import MAX_NAME, Names
from contracts.protocols import protocol_name
from contracts.queries import NAMED_QUERIES, PORT_SCANNERS, NamedQuery, hour_query

# --- flow-log formats ----------------------------------------------------------------------------

def test_field_names_become_column_names_and_athena_types() -> None:
    assert column_name("pkt-src-aws-service") == "pkt_src_aws_service"
    assert column_name("srcaddr") == "srcaddr"
    assert [athena_type(f) for f in ("version", "srcport", "protocol", "bytes", "tcp-flags")] == [
        "int", "int", "bigint", "bigint", "int"]
    assert athena_type("srcaddr") == athena_type("reject-reason") == "string"


def test_format_strings_are_written_as_aws_writes_them() -> None:
    assert format_string(("version", "srcaddr", "action")) == "${version} ${srcaddr} ${action}"
    assert format_string(FIELDS_BY_VERSION[2]) == DEFAULT_FORMAT


@pytest.mark.parametrize("blank", [None, "", "   ", "\n\t"])
def test_no_format_means_the_default_version_two_format(blank: str | None) -> None:
    assert parse_format(blank) == FlowLogFormat(FIELDS_BY_VERSION[2])


def test_a_format_may_be_spaced_and_wrapped_freely() -> None:
    fmt = parse_format("  ${srcaddr}\t${dstaddr}\n  ${action}   ${bytes} ")

    assert fmt.fields == ("srcaddr", "dstaddr", "action", "bytes")
    assert fmt.text == "${srcaddr} ${dstaddr} ${action} ${bytes}"


def test_a_format_without_log_status_or_numbers_is_valid() -> None:
    fmt = parse_format("${srcaddr} ${dstaddr} ${action}")

    assert fmt.columns == ("srcaddr", "dstaddr", "action")
    assert fmt.numeric == (False, False, False)
    assert fmt.version == 2
    assert fmt.index_of("action") == 2


def test_a_format_knows_which_fields_are_numbers_and_its_version() -> None:
    fmt = parse_format("${traffic-path} ${srcaddr} ${packets} ${action} ${reject-reason}")

    assert fmt.numeric == (True, False, True, False, False)
    assert fmt.version == 8  # the highest version among its fields, as AWS stamps it
    assert parse_format("${action} ${az-id}").version == 4


@pytest.mark.parametrize(("text", "expected"), [
    ("", {"REJECT"}), (" , ", {"REJECT"}), ([], {"REJECT"}), (["", " "], {"REJECT"}),
    ("ACCEPT", {"ACCEPT"}), ("reject,accept,", {"ACCEPT", "REJECT"}),
    (("ACCEPT", " REJECT "), {"ACCEPT", "REJECT"}),
])
def test_keep_actions_default_to_reject_when_nothing_is_named(text: str | list[str],
                                                              expected: set[str]) -> None:
    assert parse_keep_actions(text) == expected


def test_keep_actions_name_every_unknown_action() -> None:
    with pytest.raises(FlowLogFormatError, match=r"\['DENY', 'NODATA'\] are not flow-log actions"):
        parse_keep_actions("NODATA,REJECT,DENY")


def test_filter_pattern_for_accept_only_matches_accept_lines() -> None:
    pattern = subscription_filter_pattern(parse_format("${srcaddr} ${action} ${log-status}"), ["ACCEPT"])

    assert pattern == "[srcaddr, action = ACCEPT, log_status]"


def test_filter_pattern_treats_a_repeated_action_as_one() -> None:
    fmt = parse_format("${srcaddr} ${action}")

    assert subscription_filter_pattern(fmt, ["REJECT", "REJECT"]) == "[srcaddr, action = REJECT]"
    assert subscription_filter_pattern(fmt, ["REJECT", "ACCEPT", "REJECT"]) == "[srcaddr, action]"


# --- the S3 layout ---------------------------------------------------------------------------

def test_the_table_lives_under_the_data_prefix() -> None:
    assert table_location("archive-bucket") == "s3://archive-bucket/rejected/"
    assert PARTITION_KEYS == ("year", "month", "day", "hour")


@pytest.mark.parametrize(("key", "data", "error"), [
    ("rejected/year=2026/month=11/day=27/hour=18/flows-1.gz", True, False),
    ("errors/processing-failed/year=2026/month=11/day=27/hour=18/flows-1.gz", False, True),
    ("athena-results/rejected/x.csv", False, False),
    ("Rejected/year=2026/x.gz", False, False),
    ("", False, False),
])
def test_data_and_error_objects_are_told_apart_by_prefix(key: str, data: bool, error: bool) -> None:
    assert (is_data_key(key), is_error_key(key)) == (data, error)
    assert DATA_PREFIX == "rejected/" and ERROR_PREFIX == "errors/"


def test_a_key_outside_the_partitions_has_no_partition() -> None:
    assert partition_of("rejected/flows-1.gz") == {}
    assert partition_of("errors/processing-failed/year=2025/month=01/day=02/hour=00/f.gz") == {
        "year": 2025, "month": 1, "day": 2, "hour": 0}


def test_event_keys_decode_plus_and_percent_escapes_once() -> None:
    assert object_key_from_event("rejected/a+b%2Bc%253D.gz") == "rejected/a b+c%3D.gz"


# --- the named queries -----------------------------------------------------------------------

def test_every_named_query_binds_exactly_its_parameters_and_reads_one_day_of_rejects() -> None:
    assert len({q.name for q in NAMED_QUERIES}) == len(NAMED_QUERIES) == 4
    for query in NAMED_QUERIES:
        sql = query.sql('"db"."flows"')
        assert sql.count("?") == len(query.parameters), query.name
        assert query.parameters[:3] == ("year", "month", "day")
        assert 'FROM "db"."flows"' in sql and "{table}" not in sql
        assert "year = ? AND month = ? AND day = ?" in sql and "action = 'REJECT'" in sql


def test_a_query_template_takes_the_table_name_only() -> None:
    query = NamedQuery("q", "d", "SELECT count(*) FROM {table} WHERE srcaddr = ?", ("srcaddr",))

    assert query.sql("t1") == "SELECT count(*) FROM t1 WHERE srcaddr = ?"
    assert PORT_SCANNERS.sql("t").startswith("SELECT srcaddr,")


def test_the_hour_query_pins_every_partition_of_the_object() -> None:
    partition = {"year": 2026, "month": 11, "day": 27, "hour": 8}

    assert hour_query('"rejected_flows_dev"."rejected_flows"', partition) == (
        'SELECT srcaddr, dstport, count(*) AS flows FROM "rejected_flows_dev"."rejected_flows" '
        "WHERE year = 2026 AND month = 11 AND day = 27 AND hour = 8 AND action = 'REJECT' "
        "GROUP BY srcaddr, dstport ORDER BY flows DESC LIMIT 50"
    )


# --- names and tags --------------------------------------------------------------------------

def test_resource_names_derive_from_project_and_stack() -> None:
    names = Names("rejected-flows", "Dev.EU")

    # A `.` is not allowed in Lambda, SQS or SNS names: anything but letters, digits, - and _ becomes -.
    assert names.prefix == "rejected-flows-Dev-EU"
    assert names.delivery_stream == "rejected-flows-Dev-EU-flows"
    assert names.transform_function == "rejected-flows-Dev-EU-transform"
    assert names.notifier_function == "rejected-flows-Dev-EU-notifier"
    assert names.athena_workgroup == names.subscription_filter == "rejected-flows-Dev-EU"
    assert names.glue_database == "rejected_flows_dev_eu"
    assert names.glue_table == "rejected_flows"
    assert names.bucket_prefix == "rejected-flows-dev-eu-"


def test_a_long_stack_name_gives_a_bucket_prefix_s3_accepts() -> None:
    names = Names("rejected-flows", "a-very-long-stack-name-for-testing")

    assert names.bucket_prefix == "rejected-flows-a-very-long-stack-nam-"
    assert len(names.bucket_prefix) <= 37
    assert Names("rejected-flows", "x" * 20 + "-" * 20).bucket_prefix == "rejected-flows-" + "x" * 20 + "-"


def test_names_up_to_the_limit_are_accepted_and_longer_ones_refused() -> None:
    stack = "s" * (MAX_NAME - len("rejected-flows--flows"))
    assert len(Names("rejected-flows", stack).delivery_stream) == MAX_NAME == 64

    with pytest.raises(ValueError, match=r"is longer than 64 characters: use a shorter stack name"):
        _ = Names("rejected-flows", stack + "s").delivery_stream


def test_event_tags_are_key_value_pairs() -> None:
    assert stack_tag("prod") == "stack:prod"
    assert internal_sources_tag(True) == "internal_sources:true"
    assert internal_sources_tag(False) == "internal_sources:false"


@pytest.mark.parametrize(("number", "name"), [(6, "tcp"), (17, "udp"), (1, "icmp"), (58, "icmpv6"),
                                              (0, "0"), (253, "253"), (None, "-")])
def test_protocols_are_named_where_common_and_numbered_otherwise(number: int | None, name: str) -> None:
    assert protocol_name(number) == name
