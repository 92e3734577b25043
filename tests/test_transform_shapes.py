"""Typed at the door: every documented field's shape, on both paths, and AWS's own example lines.

The shapes are `contracts/flowrule.py`'s (docs/architecture.md, The archived record); the fast path's
whole-record checks (`transform/shapes.py`) must accept exactly what the rule accepts, or send the record
to the checked path.
"""

from __future__ import annotations

import json
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.flowlog import DEFAULT_FORMAT, parse_format
from contracts.flowrule import STRING_SHAPES, is_address, string_problem
from tests.transform_support import V5_FORMAT, flow_line
from transform.encoder import LineEncoder
from transform.shapes import accounts_fit, addresses_fit, values_check

# AWS's documented example lines ("Flow log record examples",
# https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html, checked 2026-12).
AWS_EXAMPLES = [
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
    "1418530010 1418530070 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 "
    "1418530010 1418530070 REJECT OK",
    "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 "
    "1432917027 1432917142 REJECT OK",
    "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 "
    "2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
]
NUMERIC_COLUMNS = ("version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end")
NOT_KEPT_EXAMPLES = [
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
    "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
]
HOSTILE = [
    "1.2.3.4`[click-me](https://evil.example/phish)![x](https://evil.example/p.png)<b>x</b>@here",
    "fd00::1%eth0", "203.0.113.9\u202egpj.exe", "x\x1b[31m", "bell\x07", "<script>", "@here", "a\u200bb",
]


def events_of(messages: list[str]) -> list[dict[str, str]]:
    return [{"id": str(i), "message": m} for i, m in enumerate(messages)]


def test_awss_documented_examples_are_read_exactly_on_both_paths() -> None:
    encoder = LineEncoder(parse_format(DEFAULT_FORMAT), frozenset({"ACCEPT", "REJECT"}))
    events = events_of(AWS_EXAMPLES + NOT_KEPT_EXAMPLES)

    fast, checked = encoder.encode_events(events, "g", "s"), encoder.encode_events_checked(events, "g", "s")

    assert fast.ndjson() == checked.ndjson()
    assert fast.unreadable == checked.unreadable == []
    archived = [json.loads(line) for line in fast.ndjson().decode().splitlines()]
    fields = parse_format(DEFAULT_FORMAT)
    assert archived == [
        {**{c: int(v) if c in NUMERIC_COLUMNS else v
            for c, v in zip(fields.columns, line.split(" "), strict=True)},
         "log_group": "g", "log_stream": "s"}
        for line in AWS_EXAMPLES
    ]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["srcaddr", "dstaddr", "pkt_srcaddr", "account_id", "interface_id",
                                   "vpc_id", "region", "az_id", "type", "flow_direction",
                                   "pkt_src_aws_service", "log_status", "subnet_id", "instance_id"])
def test_a_hostile_value_in_a_documented_field_makes_its_line_unreadable_on_both_paths(
        field: str, value: str) -> None:
    encoder = LineEncoder(V5_FORMAT, frozenset({"REJECT"}))
    good, bad = flow_line(V5_FORMAT), flow_line(V5_FORMAT, **{field: value})
    events = events_of([good, bad, good])

    fast, checked = encoder.encode_events(events, "g", "s"), encoder.encode_events_checked(events, "g", "s")

    alone = encoder.encode_events(events_of([good, good]), "g", "s")
    assert fast.ndjson() == checked.ndjson() == alone.ndjson()
    assert [i for i, _ in fast.unreadable] == [i for i, _ in checked.unreadable] == [1]
    assert checked.unreadable[0][1].startswith(f"{field}: ")


@pytest.mark.parametrize("value", ["say\x00nul", "bidi\u202e", "zero\u200bwidth", "bell\x07"])
def test_a_field_the_catalogue_does_not_know_takes_any_printable_text_but_no_control_character(
        value: str) -> None:
    encoder = LineEncoder(parse_format("${action} ${flow-note}"), frozenset({"REJECT"}))
    events = events_of(["REJECT <b>@here</b>[x](y)", f"REJECT {value}"])

    result = encoder.encode_events(events, None, None)

    assert [json.loads(line)["flow_note"] for line in result.ndjson().decode().splitlines()] == \
        ["<b>@here</b>[x](y)"]
    assert [i for i, _ in result.unreadable] == [1]


def test_an_account_id_is_twelve_digits_or_unknown() -> None:
    values = ("123456789012", "unknown", "12345678901", "x" * 12)
    assert [string_problem("account-id", v) is None for v in values] == [True, True, False, False]


ADDRESS_LIKE = st.one_of(
    st.ip_addresses().map(str), st.ip_addresses(v=6).map(lambda a: a.exploded.upper()),
    st.text(st.sampled_from("0123456789abcdefABCDEF.:%-"), min_size=1, max_size=24),
    st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(map(str, t))),
    st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(f"0{n}" for n in t)),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(ADDRESS_LIKE, min_size=1, max_size=6))
def test_the_fast_address_check_accepts_exactly_what_the_rule_accepts(values: list[str]) -> None:
    assert addresses_fit(values) == all(v == "-" or is_address(v) for v in values)


@settings(max_examples=300, deadline=None)
@given(ADDRESS_LIKE)
def test_the_c_address_parsers_never_accept_what_the_rule_refuses(value: str) -> None:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
        except OSError:
            continue
        assert is_address(value)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(STRING_SHAPES)), st.lists(st.one_of(
    st.text(st.sampled_from("0123456789abcdefgnivpcsubetA-_:./"), min_size=1, max_size=24),
    st.sampled_from(["eni-0a1b2c3d", "vpc-0123456789abcdef0", "subnet-0a1b2c3d4e5f60718", "i-0123abcd",
                     "unknown", "123456789012", "us-east-1", "use1-az4", "ingress", "IPv4", "BPA", "-"]),
), min_size=1, max_size=5))
def test_each_fast_whole_record_check_agrees_with_the_rule_value_by_value(
        field: str, values: list[str]) -> None:
    expected = all(v == "-" or string_problem(field, v) is None for v in values)
    assert values_check(STRING_SHAPES[field])(values) == expected


def test_accounts_of_several_values_are_checked_each() -> None:
    assert accounts_fit(["123456789012", "unknown", "-"])
    assert not accounts_fit(["123456789012", "12345678901x"])


@pytest.mark.parametrize(("log_group", "log_stream", "readable"), [
    ("/vpc/flow-logs/prod", "eni-0a1b2c3d4e5f60718-all", True),
    ("a" * 512, "s" * 512, True),
    ("/aws/vpc#flows_1.2-x", "any name, even with spaces", True),
    ("a" * 513, "s", False),
    ("/vpc/flow logs", "s", False),
    ("/vpc/flow-logs\n# injected", "s", False),
    ("/vpc/<b>x</b>", "s", False),
    ("/vpc/flow-logs", "", False),
    ("/vpc/flow-logs", "a:b", False),
    ("/vpc/flow-logs", "a*", False),
    ("/vpc/flow-logs", "bidi\u202e", False),
    ("/vpc/flow-logs", "s" * 513, False),
])
def test_envelope_names_are_checked_against_cloudwatch_logs_naming_rules(
        log_group: str, log_stream: str, readable: bool) -> None:
    from tests.transform_support import data_message, record
    from transform.batch import transform_record
    from transform.firehose import InputRecord

    message = data_message([flow_line()], log_group=log_group, log_stream=log_stream)
    outcome = transform_record(InputRecord.from_event(record(message, "r1").as_dict()),
                               LineEncoder(parse_format(None), frozenset({"REJECT"})))

    assert outcome.output.result == ("Ok" if readable else "ProcessingFailed")
    if not readable:
        assert outcome.error is not None and "CloudWatch Logs log" in outcome.error
