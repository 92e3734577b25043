"""The encoder's two paths and a plain reference parser agree on every line, valid or damaged.

The reference below is written from the rules in `transform/encoder.py`'s docstring with nothing but
`str.split`, `int` and `json.dumps`; hypothesis generates lines (clean, damaged values, odd spacing,
characters JSON must escape, unicode, numbers out of range or zero-padded) and records of them.
"""

from __future__ import annotations

import json
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
FORMATS = [
    parse_format(None),
    V5_FORMAT,
    parse_format("${version} ${srcaddr} ${dstport} ${action} ${encryption-status} ${flow-hash} ${bytes}"),
    parse_format("${action} ${interface-id} ${srcaddr}"),  # no numbers, no log status
]
KEEP_ACTIONS = [frozenset({"REJECT"}), frozenset({"ACCEPT", "REJECT"}), frozenset({"ACCEPT"})]
UNREADABLE = "unreadable"


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
    archived: dict[str, Any] = {}
    for name, value in by_field.items():
        column = name.replace("-", "_")
        if value == "-":
            archived[column] = None
        elif name in INT_FIELDS or name in BIGINT_FIELDS:
            if not (value.isascii() and value.isdigit()):
                return UNREADABLE
            number = int(value)
            if number > (INT_MAX if name in INT_FIELDS else BIGINT_MAX):
                return UNREADABLE
            archived[column] = number
        else:
            archived[column] = value
    return archived


def realistic(name: str) -> str:
    return FIELD_VALUES.get(name, "1" if name == "encryption-status" else "x1f3")


def numeric_values(name: str) -> st.SearchStrategy[str]:
    limit = INT_MAX if name in INT_FIELDS else BIGINT_MAX
    return st.one_of(
        st.just(realistic(name)),
        st.integers(0, limit).map(str),
        st.integers(limit + 1, 2**70).map(str),  # out of range for the column
        st.integers(0, 99999).map(lambda n: f"0{n}"),  # zero-padded
        st.tuples(st.integers(1, 40), st.integers(0, 2**63)).map(lambda t: "0" * t[0] + str(t[1])),
        st.sampled_from(["-", "-", "ssh", "-5", "5-", "+5", "1.5", "\u0663", "\uff11", "00", "0"]),
    )


def string_values(name: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(realistic(name)),
        st.just(realistic(name)),
        st.text(st.sampled_from("abcXYZ019.:-_/"), min_size=1, max_size=6),
        st.sampled_from(["-", "REJECT", "ACCEPT", 'say "hi"', "back\\slash", "caf\u00e9", "\u2028", "x\x7f",
                         "bell\x07", "2001:db8::5"]),
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
    (CLEAN.replace(" 51234 ", " 1234567890 "), True),  # a long INT: that line alone is checked
    (CLEAN.replace(" 51234 ", f" {INT_MAX + 1} "), False),  # too large an INT: unreadable
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
    (CLEAN.replace(" 51234 ", " 1234567890 "), 1),  # a long INT must be compared with INT's maximum
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
    lines = [CLEAN.replace(" 51234 ", f" {INT_MAX} "), CLEAN.replace(" 51234 ", f" {INT_MAX + 1} "),
             CLEAN.replace(" 180 ", f" {BIGINT_MAX} "), CLEAN.replace(" 180 ", f" {BIGINT_MAX + 1} ")]

    result = encoder.encode_events(events_of(lines), "g", "s")

    assert result.kept_event_indexes == [0, 2]
    assert [i for i, _ in result.unreadable] == [1, 3]
    assert [json.loads(line)["srcport"] for line in result.ndjson().decode().splitlines()] == [INT_MAX, 51234]


STRINGS_FIRST = parse_format("${interface-id} ${action} ${reject-reason}")
NUMBER_FIRST = parse_format("${dstport} ${action} ${srcaddr}")


@pytest.mark.parametrize("after_an_accept", [False, True], ids=["every line kept", "after a line not kept"])
@pytest.mark.parametrize(("fmt", "messages", "column", "archived"), [
    (STRINGS_FIRST, ["- REJECT bpa"], "interface_id", [None]),
    (STRINGS_FIRST, ["eni-1 REJECT bpa", "- REJECT bpa"], "interface_id", ["eni-1", None]),
    (NUMBER_FIRST, ["07 REJECT 10.0.0.1"], "dstport", [7]),
    (NUMBER_FIRST, ["22 REJECT 10.0.0.1", "07 REJECT 10.0.0.1"], "dstport", [22, 7]),
], ids=["dash first", "dash starting a later line", "padding first", "padding starting a later line"])
def test_a_dash_or_zero_padding_at_the_start_of_a_line_is_read_like_any_other(
        fmt: FlowLogFormat, messages: list[str], column: str, archived: list[Any],
        after_an_accept: bool) -> None:
    encoder = LineEncoder(fmt, frozenset({"REJECT"}))
    accepted = ("eni-0" if fmt is STRINGS_FIRST else "443") + " ACCEPT 10.0.0.1"
    lines = [accepted, *messages] if after_an_accept else messages

    result = encoder.encode_events(events_of(lines), "g", "s")

    assert [json.loads(line)[column] for line in result.ndjson().decode().splitlines()] == archived


def test_values_that_look_like_the_fast_paths_placeholders_are_archived_as_they_are() -> None:
    encoder = LineEncoder(STRINGS_FIRST, frozenset({"REJECT"}))
    odd = ['eni":-,1', 'x:"-"']

    result = encoder.encode_events(events_of([f"{odd[0]} REJECT {odd[1]}", "eni-2 REJECT -"]), None, None)

    assert [json.loads(line) for line in result.ndjson().decode().splitlines()] == [
        {"interface_id": odd[0], "action": "REJECT", "reject_reason": odd[1], "log_group": None,
         "log_stream": None},
        {"interface_id": "eni-2", "action": "REJECT", "reject_reason": None, "log_group": None,
         "log_stream": None},
    ]


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
