"""The encoder's two paths and a plain reference parser agree on every line, valid, damaged or hostile.

The reference below is written from the rules in `transform/encoder.py`'s docstring and the shapes AWS
documents for each field (docs/architecture.md, The archived record) with nothing but `str.split`, `int`,
`ipaddress`, a few regular expressions of its own and `json.dumps`; hypothesis generates lines (clean,
damaged values, odd spacing, characters JSON must escape, unicode, markup, control and bidi characters,
zone ids, numbers out of range or zero-padded) and records of them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.flowlog import FlowLogFormat, parse_format
from tests.transform_support import FIELD_VALUES, V5_FORMAT
from transform import encoder as encoder_module
from transform.encoder import LineEncoder

INT_MAX, BIGINT_MAX = 2**31 - 1, 2**63 - 1
INT_FIELDS = {"version", "srcport", "dstport", "tcp-flags", "traffic-path", "encryption-status"}
BIGINT_FIELDS = {"protocol", "packets", "bytes", "start", "end"}
# AWS's documented ranges: 16-bit ports, 8-bit protocol numbers, Unix seconds (2010 up to 2100).
RANGES = {"srcport": (0, 65_535), "dstport": (0, 65_535), "protocol": (0, 255),
          "start": (1_262_304_000, 4_102_444_799), "end": (1_262_304_000, 4_102_444_799)}
ADDRESSES = {"srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"}
HEX_IDS = {"interface-id": "eni", "vpc-id": "vpc", "subnet-id": "subnet", "instance-id": "i"}
PATTERNS = {
    "account-id": r"\d{12}|unknown", "type": r"[A-Za-z][A-Za-z0-9]{0,15}",
    "log-status": r"[A-Z][A-Z0-9_]{0,63}",
    "region": r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}", "az-id": r"[a-z]{2,5}\d{1,2}(-[a-z0-9]+)+",
    "flow-direction": r"ingress|egress", "pkt-src-aws-service": r"[A-Z][A-Z0-9_]{0,63}",
    "pkt-dst-aws-service": r"[A-Z][A-Z0-9_]{0,63}", "reject-reason": r"[A-Za-z][A-Za-z0-9_-]{0,63}",
}
FORMATS = [
    parse_format(None),
    V5_FORMAT,
    parse_format("${version} ${srcaddr} ${dstport} ${action} ${encryption-status} ${flow-hash} ${bytes}"),
    parse_format("${action} ${interface-id} ${srcaddr}"),  # no numbers, no log status
    parse_format("${interface-id} ${action} ${reject-reason} ${start} ${end} ${protocol}"),
]
KEEP_ACTIONS = [frozenset({"REJECT"}), frozenset({"ACCEPT", "REJECT"}), frozenset({"ACCEPT"})]
UNREADABLE = "unreadable"


def reference_string_fits(name: str, value: str) -> bool:
    """A string value as the reference reads AWS's documentation; unknown fields need only be printable."""
    if not value.isprintable():
        return False
    if name in ADDRESSES:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return False
        return "%" not in value and value.isascii()
    if name in HEX_IDS:
        prefix, dash, digits = value.partition("-")
        return prefix == HEX_IDS[name] and dash == "-" and len(digits) in (8, 17) and \
            all(c in "0123456789abcdef" for c in digits)
    if name in PATTERNS:
        return re.fullmatch(PATTERNS[name], value, re.ASCII) is not None
    return True


def reference(line: str, fmt: FlowLogFormat, keep: frozenset[str]) -> dict[str, Any] | str | None:
    """The archived record of `line` (without provenance), None if not kept, UNREADABLE otherwise."""
    if not any(action in line for action in keep) and line.count(" ") == len(fmt.fields) - 1:
        return None
    values = line.split()
    if len(values) != len(fmt.fields):
        return UNREADABLE
    by_field = dict(zip(fmt.fields, values, strict=True))
    if by_field["action"] not in keep or by_field.get("log-status") in ("NODATA", "SKIPDATA"):
        return None
    checked = {name.replace("-", "_"): reference_value(name, value) for name, value in by_field.items()}
    if not all(fits for fits, _ in checked.values()):
        return UNREADABLE
    return {column: archived for column, (_, archived) in checked.items()}


def reference_value(name: str, value: str) -> tuple[bool, int | str | None]:
    """Whether one field can be archived, and as what: None for `-`, a number in range, a string of its
    shape."""
    if value == "-":
        return True, None
    if name in INT_FIELDS or name in BIGINT_FIELDS:
        if not (value.isascii() and value.isdigit()):
            return False, None
        low, high = RANGES.get(name, (0, INT_MAX if name in INT_FIELDS else BIGINT_MAX))
        return low <= int(value) <= high, int(value)
    return reference_string_fits(name, value), value


def realistic(name: str) -> str:
    return FIELD_VALUES.get(name, "1" if name == "encryption-status" else "x1f3")


def numeric_values(name: str) -> st.SearchStrategy[str]:
    low, limit = RANGES.get(name, (0, INT_MAX if name in INT_FIELDS else BIGINT_MAX))
    return st.one_of(
        st.just(realistic(name)),
        st.integers(low, limit).map(str),
        st.integers(limit + 1, 2**70).map(str),  # out of range for the field
        st.integers(0, max(low - 1, 0)).map(str),  # below the range (times before 2010)
        st.just(str(low)), st.just(str(limit)), st.just(str(limit + 1)),
        st.integers(0, 99999).map(lambda n: f"0{n}"),  # zero-padded
        st.tuples(st.integers(1, 40), st.integers(0, 2**63)).map(lambda t: "0" * t[0] + str(t[1])),
        st.sampled_from(["-", "-", "ssh", "-5", "5-", "+5", "1.5", "\u0663", "\uff11", "00", "0"]),
        st.just("1764201600000"),  # milliseconds, not seconds
    )


HOSTILE = [
    "1.2.3.4`[click-me](https://evil.example/phish)", "<b>x</b>", "@here", "fd00::1%eth0", "fe80::1%25eth0",
    "203.0.113.9\u202egpj.exe", "x\x1b[31m", "bell\x07", "nul\x00", "\u200bzero", "[x](y)", "*bold*",
]


def shaped_values(name: str) -> st.SearchStrategy[str]:
    """Values near a field's documented shape: valid ones and near misses."""
    if name in ADDRESSES:
        return st.one_of(
            st.ip_addresses().map(str), st.ip_addresses(v=6).map(lambda a: a.exploded),
            st.ip_addresses(v=6).map(lambda a: str(a).upper()),
            st.sampled_from(["203.0.113.45", "2001:db8::5", "::1", "::ffff:10.0.0.1", "01.2.3.4", "1.2.3",
                             "256.1.1.1", "1.2.3.4.5", "2001:db8::g", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0",
                             "1:2:3:4::5:6:7", "a.b.c.d"]),
        )
    if name in HEX_IDS:
        prefix = HEX_IDS[name]

        def ids(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
            digits = st.text(st.sampled_from(alphabet), min_size=low, max_size=high)
            return digits.map(lambda h: f"{prefix}-{h}")

        return st.one_of(
            ids("0123456789abcdef", 8, 8), ids("0123456789abcdef", 17, 17),
            ids("0123456789abcdefABG-", 6, 19),
            st.sampled_from([f"{prefix}x-0123abcd", f"5{prefix[1:]}-0123abcd", "0123456789abcdef0",
                             f"{prefix}-{prefix}-0123abcd", f"{prefix}-0123ABCD"]),
        )
    if name == "account-id":
        return st.one_of(st.text(st.sampled_from("0123456789"), min_size=11, max_size=13),
                         st.sampled_from(["unknown", "UNKNOWN", "12345678901x"]))
    return st.one_of(st.sampled_from(["BPA", "ingress", "egress", "IPv6", "EFA", "AMAZON", "S3",
                                      "us-gov-west-1", "eusc-de-east-1", "usw2-lax1-az1", "OK", "lower"]),
                     st.text(st.sampled_from("abcXYZ019_-"), min_size=1, max_size=8))


def string_values(name: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(realistic(name)),
        st.just(realistic(name)),
        shaped_values(name),
        st.text(st.sampled_from("abcXYZ019.:-_/"), min_size=1, max_size=6),
        st.sampled_from(["-", "REJECT", "ACCEPT", 'say "hi"', "back\\slash", "caf\u00e9", "\u2028", "x\x7f",
                         "bell\x07", "2001:db8::5", *HOSTILE]),
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6),
    )


@st.composite
def lines(draw: st.DrawFn, fmt: FlowLogFormat) -> str:
    values = []
    for name in fmt.fields:
        if name == "action":
            values.append(draw(st.sampled_from(["REJECT", "ACCEPT", "-", "REJECTED"])))
        elif name == "log-status":
            values.append(draw(st.sampled_from(["OK", "NODATA", "SKIPDATA", "-"])))
        elif name in INT_FIELDS or name in BIGINT_FIELDS:
            values.append(draw(numeric_values(name)))
        else:
            values.append(draw(string_values(name)))
    damage = draw(st.sampled_from(["none", "none", "none", "missing", "empty", "extra", "double", "lead",
                                   "trail", "tab", "value with space"]))
    position = draw(st.integers(0, len(values) - 1))
    if damage == "missing":
        del values[position]
    elif damage == "empty":
        values[position] = ""  # a missing value where its space still stands: `2  123...`
    elif damage == "extra":
        values.insert(position, "extra")
    elif damage == "value with space":
        values[position] = "two words"
    line = ("\t" if damage == "tab" else " ").join(values)
    if damage == "double":
        line = line.replace(" ", "  ", 1)
    return {"lead": " " + line, "trail": line + " "}.get(damage, line)


@st.composite
def records(draw: st.DrawFn) -> tuple[FlowLogFormat, frozenset[str], list[str]]:
    fmt = draw(st.sampled_from(FORMATS))
    return fmt, draw(st.sampled_from(KEEP_ACTIONS)), draw(st.lists(lines(fmt), min_size=1, max_size=4))


def events_of(messages: list[str]) -> list[dict[str, Any]]:
    return [{"id": str(index), "timestamp": 1_764_201_660_000, "message": message}
            for index, message in enumerate(messages)]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_fast_path_checked_path_and_reference_agree_on_every_line(
        case: tuple[FlowLogFormat, frozenset[str], list[str]]) -> None:
    fmt, keep, messages = case
    encoder = LineEncoder(fmt, keep)
    events = events_of(messages)

    either = encoder.encode_events(events, "/vpc/flow-logs/prod", None)
    checked = encoder.encode_events_checked(events, "/vpc/flow-logs/prod", None)

    assert either.ndjson() == checked.ndjson()
    # Again, now that the fast path remembers the values it has seen fit.
    assert encoder.encode_events(events, "/vpc/flow-logs/prod", None).ndjson() == checked.ndjson()
    # What re-ingestion sizes is what is archived, line by line.
    assert "".join(either.final_lines()).encode() == either.ndjson()
    assert either.flows_seen == checked.flows_seen == len(messages)
    assert either.kept_event_indexes == checked.kept_event_indexes
    assert [i for i, _ in either.unreadable] == [i for i, _ in checked.unreadable]
    expected = [reference(m, fmt, keep) for m in messages]
    assert [i for i, r in enumerate(expected) if r == UNREADABLE] == [i for i, _ in checked.unreadable]
    kept = [r for r in expected if isinstance(r, dict)]
    archived = [json.loads(line) for line in either.ndjson().decode().splitlines()]
    assert archived == [{**r, "log_group": "/vpc/flow-logs/prod", "log_stream": None} for r in kept]
    # Keys in the format's order (Athena reads by name, people read the raw objects).
    assert [list(a) for a in archived] == [[*fmt.columns, "log_group", "log_stream"] for _ in archived]


@given(st.lists(st.sampled_from(["clean", "accept", "nodata", "padded", "dash", "signed", "numbers n/a"]),
                min_size=1, max_size=8))
def test_realistic_records_agree_between_paths(kinds: list[str]) -> None:
    fmt = V5_FORMAT
    base = dict(zip(fmt.fields, [realistic(f) for f in fmt.fields], strict=True))
    variants = {
        "clean": {}, "accept": {"action": "ACCEPT"}, "nodata": {"log-status": "NODATA"},
        "padded": {"dstport": "0022", "packets": "007"}, "dash": {"tcp-flags": "-", "az-id": "-"},
        "signed": {"tcp-flags": "-2"}, "numbers n/a": {"tcp-flags": "-", "traffic-path": "-", "srcport": "-"},
    }
    messages = [" ".join({**base, **variants[kind]}.values()) for kind in kinds]
    encoder = LineEncoder(fmt, frozenset({"REJECT"}))

    fast = encoder.encode_events(events_of(messages), "g", "s")

    checked = encoder.encode_events_checked(events_of(messages), "g", "s")
    assert fast.ndjson() == checked.ndjson()
    assert [i for i, _ in fast.unreadable] == [i for i, kind in enumerate(kinds) if kind == "signed"]


@pytest.fixture
def checked_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records went through the checked path (the fast path handled the others)."""
    calls: list[int] = []
    original = LineEncoder._encode_each

    def counting(self: LineEncoder, *args: Any) -> Any:
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(encoder_module.LineEncoder, "_encode_each", counting)
    return calls


CLEAN = ("2 123456789012 eni-0a1b2c3d4e5f60718 203.0.113.45 10.0.1.17 51234 22 6 3 180 1764201600 1764201660 "
         "REJECT OK")


@pytest.mark.parametrize(("line", "fast"), [
    (CLEAN, True),
    (CLEAN.replace(" 22 ", " 0 "), True),  # a zero is not padding
    (CLEAN.replace("203.0.113.45", "-"), True),
    (CLEAN.replace(" 22 ", " 022 "), False),  # zero-padded: checked path normalises it
    (CLEAN.replace(" 180 ", " 99999999999999999999 "), False),  # too long for a BIGINT
    ("1234567890" + CLEAN[1:], True),  # a long INT: that line alone is checked
    (f"{INT_MAX + 1}" + CLEAN[1:], False),  # too large an INT: unreadable
    (CLEAN.replace(" 51234 ", " 65536 "), False),  # not a port: unreadable
    (CLEAN.replace(" 1764201600 ", " 1764201600000 "), False),  # milliseconds: unreadable
    (CLEAN.replace("203.0.113.45", "203.0.113.456"), False),  # not an address: unreadable
    (CLEAN.replace("eni-0a1b", "eni-0A1b"), False),  # not a resource id: unreadable
    (CLEAN.replace(" 22 ", "  "), False),  # a missing value
    (CLEAN.replace(" 22 ", " - "), True),  # not applicable
    (CLEAN.replace(" 22 ", " -22 "), False),  # signed: unreadable
    (CLEAN.replace(" 22 ", " 22- "), False),
    (CLEAN.replace("eni-", 'eni"'), False),  # needs escaping
])
def test_clean_records_take_the_fast_path_and_doubtful_ones_the_checked_path(
        checked_path_calls: list[int], line: str, fast: bool) -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))

    result = encoder.encode_events(events_of([CLEAN, line]), "g", "s")

    assert checked_path_calls == ([] if fast else [1])
    assert result.ndjson() == encoder.encode_events_checked(events_of([CLEAN, line]), "g", "s").ndjson()


@pytest.fixture
def values_checked_one_by_one(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many lines had their values checked one by one (encoders made after this see the count)."""
    calls: list[int] = []
    original = encoder_module.encode_checked

    def counting(*args: Any) -> str:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(encoder_module, "encode_checked", counting)
    return calls


@pytest.mark.parametrize(("line", "checked_alone"), [
    (CLEAN, 0),
    (CLEAN.replace(" 22 ", " - "), 0),  # numbers not applicable: the loop's second look takes them
    (CLEAN.replace(" 51234 22 6 3 180 ", " - - - - - "), 0),
    ("1234567890" + CLEAN[1:], 1),  # a long INT must be compared with INT's maximum
])
def test_the_fast_loop_checks_values_one_by_one_only_on_lines_that_need_it(
        values_checked_one_by_one: list[int], line: str, checked_alone: int) -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))

    result = encoder.encode_events(events_of([CLEAN, line]), "g", "s")

    assert len(values_checked_one_by_one) == checked_alone
    assert result.ndjson() == encoder.encode_events_checked(events_of([CLEAN, line]), "g", "s").ndjson()


def test_zero_padded_numbers_are_archived_as_their_value() -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))
    padded = CLEAN.replace(" 22 ", " 022 ").replace(" 6 ", " 0006 ")

    [archived] = encoder.encode_events(events_of([padded]), "g", "s").ndjson().decode().splitlines()

    assert '"dstport":22,' in archived and '"protocol":6,' in archived


@pytest.mark.parametrize("zeros", [1, 30, 5_000])
def test_zero_padding_of_any_length_is_dropped(zeros: int) -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))
    padded = CLEAN.replace(" 22 ", f" {'0' * zeros}22 ").replace(" 180 ", f" {'0' * zeros} ")

    result = encoder.encode_events(events_of([padded]), "g", "s")

    assert result.unreadable == []
    [archived] = [json.loads(line) for line in result.ndjson().decode().splitlines()]
    assert (archived["dstport"], archived["bytes"]) == (22, 0)


@pytest.mark.parametrize("dashes", ["string", "number", "both", "none"])
def test_each_final_line_is_the_line_as_archived(dashes: str) -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))
    line = CLEAN
    if dashes in ("string", "both"):
        line = line.replace("203.0.113.45", "-")
    if dashes in ("number", "both"):
        line = line.replace(" 22 ", " - ")
    result = encoder.encode_events(events_of([line, CLEAN]), "g", "s")

    archived = result.ndjson().decode()
    assert result.final_lines() == archived.splitlines(keepends=True)
    assert ('"srcaddr":null' in archived, '"dstport":null' in archived) == \
        (dashes in ("string", "both"), dashes in ("number", "both"))


def test_a_long_int_within_range_is_kept_and_one_beyond_is_unreadable() -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))
    lines = [f"{INT_MAX}" + CLEAN[1:], f"{INT_MAX + 1}" + CLEAN[1:],
             CLEAN.replace(" 180 ", f" {BIGINT_MAX} "), CLEAN.replace(" 180 ", f" {BIGINT_MAX + 1} ")]

    result = encoder.encode_events(events_of(lines), "g", "s")

    assert result.kept_event_indexes == [0, 2]
    assert [i for i, _ in result.unreadable] == [1, 3]
    assert [json.loads(line)["version"] for line in result.ndjson().decode().splitlines()] == [INT_MAX, 2]


STRINGS_FIRST = parse_format("${interface-id} ${action} ${reject-reason}")
NUMBER_FIRST = parse_format("${dstport} ${action} ${srcaddr}")


@pytest.mark.parametrize("after_an_accept", [False, True], ids=["every line kept", "after a line not kept"])
@pytest.mark.parametrize(("fmt", "messages", "column", "archived"), [
    (STRINGS_FIRST, ["- REJECT bpa"], "interface_id", [None]),
    (STRINGS_FIRST, ["eni-0a1b2c3d REJECT bpa", "- REJECT bpa"], "interface_id", ["eni-0a1b2c3d", None]),
    (NUMBER_FIRST, ["07 REJECT 10.0.0.1"], "dstport", [7]),
    (NUMBER_FIRST, ["22 REJECT 10.0.0.1", "07 REJECT 10.0.0.1"], "dstport", [22, 7]),
], ids=["dash first", "dash starting a later line", "padding first", "padding starting a later line"])
def test_a_dash_or_zero_padding_at_the_start_of_a_line_is_read_like_any_other(
        fmt: FlowLogFormat, messages: list[str], column: str, archived: list[Any],
        after_an_accept: bool) -> None:
    encoder = LineEncoder(fmt, frozenset({"REJECT"}))
    accepted = ("eni-0a1b2c3d" if fmt is STRINGS_FIRST else "443") + " ACCEPT 10.0.0.1"
    lines = [accepted, *messages] if after_an_accept else messages

    result = encoder.encode_events(events_of(lines), "g", "s")

    assert [json.loads(line)[column] for line in result.ndjson().decode().splitlines()] == archived


def test_values_that_look_like_the_fast_paths_placeholders_are_archived_as_they_are() -> None:
    # Fields the catalogue does not know take any printable text, placeholders' look-alikes included.
    encoder = LineEncoder(parse_format("${flow-note} ${action} ${flow-hash}"), frozenset({"REJECT"}))
    odd = ['eni":-,1', 'x:"-"']

    result = encoder.encode_events(events_of([f"{odd[0]} REJECT {odd[1]}", "eni-2 REJECT -"]), None, None)

    assert [json.loads(line) for line in result.ndjson().decode().splitlines()] == [
        {"flow_note": odd[0], "action": "REJECT", "flow_hash": odd[1], "log_group": None, "log_stream": None},
        {"flow_note": "eni-2", "action": "REJECT", "flow_hash": None, "log_group": None, "log_stream": None},
    ]


def test_a_string_that_starts_like_a_numeric_placeholder_is_archived_as_it_is() -> None:
    encoder = LineEncoder(parse_format("${flow-note} ${action} ${srcport}"), frozenset({"REJECT"}))
    events = events_of([":-,x REJECT -", "a REJECT 5"])

    result = encoder.encode_events(events, None, None)

    assert [json.loads(line)["flow_note"] for line in result.ndjson().decode().splitlines()] == [":-,x", "a"]
    assert result.ndjson() == encoder.encode_events_checked(events, None, None).ndjson()


def test_an_event_without_a_message_is_unreadable_and_the_others_are_still_kept() -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))
    events = [{"id": "1", "message": CLEAN}, {"id": "2", "timestamp": 1_764_201_660_000}]

    result = encoder.encode_events(events, "/vpc/flow-logs/prod", "eni-1-all")

    assert result.unreadable == [(1, "the log event has no string message")]
    assert result.ndjson() == encoder.encode_events(events[:1], "/vpc/flow-logs/prod", "eni-1-all").ndjson()
    [archived] = [json.loads(line) for line in result.ndjson().decode().splitlines()]
    assert (archived["dstport"], archived["log_group"], archived["log_stream"]) == \
        (22, "/vpc/flow-logs/prod", "eni-1-all")


def test_provenance_is_the_envelopes_names_as_they_are() -> None:
    encoder = LineEncoder(parse_format(None), frozenset({"REJECT"}))

    result = encoder.encode_events(events_of([CLEAN]), "-", 'stream "1"')

    [archived] = [json.loads(line) for line in result.ndjson().decode().splitlines()]
    assert (archived["log_group"], archived["log_stream"]) == ("-", 'stream "1"')
