"""Flow-log lines -> archived NDJSON records (docs/architecture.md, The archived record): strict, fast.

How one line is read (the checked path, `LineEncoder.read_line`, is the definition):
- A line that mentions no kept action and has exactly the format's number of separating spaces cannot
  hold a kept flow: it is not read.
- Every other line is split on runs of whitespace and must have exactly the format's fields (else the
  event's `extractedFields` are taken when complete); a line that cannot be split so is unreadable.
- A line whose action is not kept, or whose log status is NODATA/SKIPDATA, is not kept.
- A kept line's values: `-` is null; a numeric field must be ASCII digits whose value fits its Athena
  type (zero padding is dropped: `022` is archived as 22); a string is JSON-escaped. Anything else
  makes the line unreadable, with the reason.

Building a dict and serialising it per line dominates a naive transform. Instead, each format gets a
loop generated once (the way `dataclasses` generates `__init__`) that unpacks each line's fields and
splices them into one f-string. It runs only on records that cheap whole-record checks show to be
clean, and hands anything doubtful to the checked path, so both give the same outcome for every line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import orjson

from contracts.flowlog import NOT_APPLICABLE, FlowLogFormat, column_name
from contracts.flowrule import ANY_PRINTABLE, number_problem, numeric_range, string_problem, string_shape
from transform.shapes import RememberedValues, ValuesCheck, values_check

NEVER_KEPT_STATUSES = frozenset({"NODATA", "SKIPDATA"})
# A string field of `-` as the fast path writes it; values there hold no `"` of their own.
_DASH_STRING = ':"-"'
# A numeric field of `-` as the fast path writes it (every value is followed by a comma).
_DASH_NUMBER = '":-,'
# A number the fast path wrote with zero padding (`"dstport":022`): the record takes the checked path.
# The output is searched only when some field of the input starts with such digits (most never do).
# (A literal first character keeps the regex search fast: the first line's start is checked apart.)
_PADDED_FIELD = re.compile(r" 0[0-9]")
_PADDED_NUMBER = re.compile(r'":0[0-9]')
# BIGINT's maximum has 19 digits: no value of more significant digits fits. Checking length first keeps
# int() off huge inputs.
_MAX_DIGITS = 19
# The fast path takes INT values below 10**9 and BIGINT values below 10**18 without comparing them.
_FAST_INT_DIGITS = 9
_FAST_BIGINT_DIGITS = 18
# Bytes the fast path cannot take: anything JSON escapes or that is not printable ASCII.
_UNSAFE = b"!"
_DIGIT = b"0"
_CLASSES = bytes(
    _DIGIT[0] if 0x30 <= c <= 0x39 else b"x"[0] if 0x20 <= c < 0x7F and c not in b'"\\' else _UNSAFE[0]
    for c in range(256)
)
_LONG_DIGIT_RUN = _DIGIT * (_FAST_BIGINT_DIGITS + 1)

# encode_block(messages, candidates, suffix, keep, lines, kept_indexes, doubtful) -> wrote a numeric `-`
BlockEncoder = Callable[
    [Sequence[str], Sequence[int], str, frozenset[str], list[str], list[int], list[int]], bool]


class LineFormatError(ValueError):
    """A flow-log line that does not fit the configured format."""


# Per field of a format: its name, its archived column, and its range if it is numeric.
FieldRule = tuple[str, str, "tuple[int, int] | None"]


def field_rules(fmt: FlowLogFormat) -> tuple[FieldRule, ...]:
    return tuple((f, c, numeric_range(f)) for f, c in zip(fmt.fields, fmt.columns, strict=True))


def _number(field: str, value: str, bounds: tuple[int, int]) -> str:
    """A numeric field as JSON: ASCII digits, zero padding dropped, within the field's range."""
    if not (value.isascii() and value.isdigit()):
        raise LineFormatError(f"{column_name(field)}: expected a number, got {value[:40]!r}")
    digits = value.lstrip("0") or "0"  # however long the zero padding
    if len(digits) > _MAX_DIGITS:  # keeps int() off huge inputs
        raise LineFormatError(f"{column_name(field)}: {value[:40]} is out of range "
                              f"({bounds[0]:,} to {bounds[1]:,})")
    problem = number_problem(field, int(digits))
    if problem is not None:
        raise LineFormatError(problem)
    return digits


def _string(field: str, value: str) -> str:
    problem = string_problem(field, value)
    if problem is not None:
        raise LineFormatError(problem)
    return orjson.dumps(value).decode()


def encode_checked(rules: Sequence[FieldRule], parts: Sequence[str]) -> str:
    """The checked path for one kept line's values: every value checked and escaped on its own.

    `-` is null; a number must fit its range and a string its shape (`contracts/flowrule.py`).
    Returns the JSON object without its closing brace (the caller's suffix adds provenance and `}`).
    """
    pieces = []
    for (field_name, column, bounds), value in zip(rules, parts, strict=True):
        if not value:
            raise LineFormatError(f"{column}: the value is empty")
        if value == NOT_APPLICABLE:
            value_json = "null"
        else:
            value_json = _string(field_name, value) if bounds is None else _number(field_name, value, bounds)
        pieces.append(f'"{column}":{value_json}')
    return "{" + ",".join(pieces)


def fast_path_may_apply(joined: str) -> bool:
    """Whether a record's lines (joined by spaces) may take the fast path.

    Not if any character needs JSON escaping or is not ASCII, nor if any run of digits is long enough
    to overflow a BIGINT (one byte-table pass, then C-speed searches).
    """
    try:
        raw = joined.encode("ascii")
    except UnicodeEncodeError:
        return False
    classes = raw.translate(_CLASSES)
    return _UNSAFE not in classes and _LONG_DIGIT_RUN not in classes


# Ranges this small are tested by looking the digits up among the range's numbers written out.
_SMALL_RANGE = 1_000


def _fast_bounds_test(name: str, bounds: tuple[int, int]) -> str | None:
    """An expression true when the digits `name` surely fit `bounds` (None: always, given no run of 19
    digits). Digit strings of one length compare as their numbers do, so no int() is needed; `ln` is
    `len`, `small<high>` the numbers 0 to `high` written out."""
    low, high = bounds
    if low == 0 and high >= 10**_FAST_BIGINT_DIGITS - 1:
        return None
    if low == 0 and high >= 10**_FAST_INT_DIGITS:
        return f"ln({name}) <= {_FAST_INT_DIGITS}"
    if low == 0 and high < _SMALL_RANGE:
        return f"{name} in small{high}"
    width = len(str(high))
    if low == 0:
        return f"({name} <= '{high}' if ln({name}) == {width} else ln({name}) < {width})"
    assert len(str(low)) == width, f"no fast test for the range {bounds}"
    return f"(ln({name}) == {width} and '{low}' <= {name} <= '{high}')"


def _small_ranges(numeric: Sequence[tuple[str, tuple[int, int]]]) -> set[int]:
    """The maxima of the ranges `_fast_bounds_test` tests by lookup (`small<high>` in the loop)."""
    return {high for _, (low, high) in numeric if low == 0 and high < _SMALL_RANGE}


def shaped_fields(fmt: FlowLogFormat) -> list[tuple[int, ValuesCheck]]:
    """The fields the fast path checks record by record, with their checks.

    Not `action` (a kept line's action is one of the kept ones) nor fields that only have to be printable
    (`fast_path_may_apply` lets only printable ASCII through).
    """
    return [(index, values_check(string_shape(name))) for index, name in enumerate(fmt.fields)
            if numeric_range(name) is None and name != "action" and string_shape(name) is not ANY_PRINTABLE]


def _compile_block_encoder(fmt: FlowLogFormat, known: Sequence[set[str]]) -> BlockEncoder:
    """Generate the fast loop over messages of a record that `fast_path_may_apply` accepted.

    Each line's numeric values are checked at once: all digits (one `isdigit` over their
    concatenation), each short enough, or compared as a string of its length, to fit its range; else
    all digits or `-` (a second, dearer look, for formats whose numbers are often not applicable). A
    line failing both (a long INT, a bad value) is encoded by `encode_checked`; one that does not split
    into the format's fields raises ValueError, and the caller gives the whole record to the checked
    path. A kept line with a value of `shaped_fields` not known to fit (`known`, one set per such field)
    is listed in `doubtful`, for the caller to check. A string field of `-` comes out as `"-"`, a
    numeric one as `-`: `EncodedEvents.ndjson` turns both into null.
    """
    names = [f"v{i}" for i in range(len(fmt.fields))]
    rules = field_rules(fmt)
    template = "".join(
        ("{{" if i == 0 else ",") + f'"{column}":' + (f"{{{name}}}" if b is not None else f'"{{{name}}}"')
        for i, ((_, column, b), name) in enumerate(zip(rules, names, strict=True))
    )
    numeric = [(name, b) for (_, _, b), name in zip(rules, names, strict=True) if b is not None]
    numbers = "".join(f"{{{name}}}" for name, _ in numeric)
    # Each value between two spaces of its own, so that removing every " - " leaves only the others.
    spaced = "  ".join(f"{{{name}}}" for name, _ in numeric)
    lengths = [test for name, b in numeric if (test := _fast_bounds_test(name, b)) is not None]
    digits_only = " and ".join([f"f'{numbers}'.isdigit()", *lengths]) if numbers else "True"
    without_dashes = f"f' {spaced} '.replace(' - ', '').replace(' ', '')"
    # (Without numeric fields `digits_only` is True: this second look is never taken.)
    digits_or_dash = " and ".join([f"{without_dashes}.isdigit()", *lengths])
    kept_test = f"{names[fmt.index_of('action')]} in keep"
    if "log-status" in fmt.fields:
        kept_test += f" and {names[fmt.index_of('log-status')]} not in never_kept"
    unpacked = ", ".join(names) + ","
    shaped = [index for index, _ in shaped_fields(fmt)]
    knowns = "".join(f"    k{i} = known[{n}]\n" for n, i in enumerate(shaped))
    smalls = "".join(f"    small{high} = small[{high}]\n" for high in sorted(_small_ranges(numeric)))
    all_known = " and ".join(f"{names[i]} in k{i}" for i in shaped) or "True"
    source = f"""
def encode_block(messages, candidates, sfx, keep, lines, kept, doubtful):
    append, mark, doubt, ln = lines.append, kept.append, doubtful.append, len
{knowns}{smalls}    numeric_dash = False
    for i in candidates:
        {unpacked} = messages[i].split()
        if {kept_test}:
            if not ({all_known}):
                doubt(i)
            if {digits_only}:
                append(f'''{template}{{sfx}}''')
            elif {digits_or_dash}:
                append(f'''{template}{{sfx}}''')
                numeric_dash = True
            else:
                append(encode_checked(rules, ({unpacked})) + sfx)
            mark(i)
    return numeric_dash
"""
    namespace: dict[str, Any] = {"encode_checked": encode_checked, "rules": rules,
                                 "never_kept": NEVER_KEPT_STATUSES, "known": known,
                                 "small": {high: frozenset([*map(str, range(high + 1)), NOT_APPLICABLE])
                                           for high in _small_ranges(numeric)}}
    exec(compile(source, f"<flow-log encoder for {fmt.text[:60]}>", "exec"), namespace)
    encode_block: BlockEncoder = namespace["encode_block"]
    return encode_block


@dataclass
class EncodedEvents:
    """What one record's lines yield: one NDJSON line per kept flow, and which lines could not be read."""

    lines: list[str] = field(default_factory=list)
    kept_event_indexes: list[int] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (event index, reason)
    flows_seen: int = 0
    dashes_possible: bool = False  # the fast path may have written string `-` fields as `"-"`
    numeric_dashes: bool = False  # the fast path wrote numeric `-` fields as `-`

    def _final(self, text: str) -> str:
        if self.dashes_possible:
            text = text.replace(_DASH_STRING, ":null")
        return text.replace(_DASH_NUMBER, '":null,') if self.numeric_dashes else text

    def ndjson(self) -> bytes:
        return self._final("".join(self.lines)).encode()

    def final_lines(self) -> list[str]:
        """Each kept line exactly as archived (for sizing what is re-ingested)."""
        if not (self.dashes_possible or self.numeric_dashes):
            return self.lines
        return [self._final(line) for line in self.lines]


def _message_of(event: object) -> str | None:
    message = event.get("message") if isinstance(event, dict) else None
    return message if isinstance(message, str) else None


@dataclass(frozen=True)
class LineEncoder:
    fmt: FlowLogFormat
    keep_actions: frozenset[str]
    _encode_block: BlockEncoder = field(init=False, repr=False, compare=False)
    _rules: tuple[FieldRule, ...] = field(init=False, repr=False, compare=False)
    _shape_checks: tuple[tuple[Callable[[list[str]], str], RememberedValues], ...] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shaped = [(index, RememberedValues(check)) for index, check in shaped_fields(self.fmt)]
        checks = tuple((itemgetter(index), remembered) for index, remembered in shaped)
        object.__setattr__(self, "_shape_checks", checks)
        object.__setattr__(self, "_encode_block",
                           _compile_block_encoder(self.fmt, [remembered.known for _, remembered in checks]))
        object.__setattr__(self, "_rules", field_rules(self.fmt))

    @property
    def field_count(self) -> int:
        return len(self.fmt.fields)

    def may_hold_kept_flow(self, message: str | None) -> bool:
        """False for a line that mentions no kept action and has the format's shape: it is not read."""
        if message is None or message.count(" ") != self.field_count - 1:
            return True
        return any(action in message for action in self.keep_actions)

    def fields_of(self, message: str | None, event: Mapping[str, Any] | None = None) -> list[str]:
        """A line's values: from the message split on whitespace, else complete `extractedFields`."""
        parts = message.split() if message is not None else []
        if len(parts) == self.field_count:
            return parts
        extracted = event.get("extractedFields") if event is not None else None
        if isinstance(extracted, dict) and all(column in extracted for column in self.fmt.columns):
            return [str(extracted[column]) for column in self.fmt.columns]
        if message is None:
            raise LineFormatError("the log event has no string message")
        raise LineFormatError(
            f"line has {len(parts)} fields, the flow-log format has {self.field_count} "
            f"(FLOW_LOG_FORMAT must be the format the flow log was created with)"
        )

    def is_kept(self, parts: Sequence[str]) -> bool:
        if parts[self.fmt.index_of("action")] not in self.keep_actions:
            return False
        return "log-status" not in self.fmt.fields or \
            parts[self.fmt.index_of("log-status")] not in NEVER_KEPT_STATUSES

    def read_line(self, message: str | None, event: Mapping[str, Any] | None = None) -> str | None:
        """The checked path for one line: its JSON (without the provenance suffix) if kept, else None.

        Raises LineFormatError, saying why, for a line that cannot be read.
        """
        if not self.may_hold_kept_flow(message):
            return None
        parts = self.fields_of(message, event)
        if not self.is_kept(parts):
            return None
        return encode_checked(self._rules, parts)

    def encode_events(self, events: Sequence[Mapping[str, Any]], log_group: str | None,
                      log_stream: str | None) -> EncodedEvents:
        """Every kept flow of a record's events, in order, and every unreadable line with its reason."""
        suffix = f',"log_group":{_provenance(log_group)},"log_stream":{_provenance(log_stream)}}}\n'
        try:
            messages = [event["message"] for event in events]
            joined = " ".join(messages)
        except (KeyError, TypeError):  # an event without a string message: the checked path says which
            return self._encode_each(events, [_message_of(e) for e in events], suffix)
        return self._encode_fast(messages, joined, suffix) or self._encode_each(events, messages, suffix)

    def encode_events_checked(self, events: Sequence[Mapping[str, Any]], log_group: str | None,
                              log_stream: str | None) -> EncodedEvents:
        """`encode_events` on the checked path only: what the fast path must always agree with."""
        suffix = f',"log_group":{_provenance(log_group)},"log_stream":{_provenance(log_stream)}}}\n'
        return self._encode_each(events, [_message_of(e) for e in events], suffix)

    def _fast_candidates(self, messages: list[str]) -> Sequence[int]:
        """The lines the fast loop looks at: any superset of the lines worth reading gives the same
        result (a line that does not split raises, and the checked path takes the record), so the
        filter is skipped when the first lines all carry a kept action, as they do behind the
        subscription filter."""
        actions = tuple(self.keep_actions)
        if all(any(action in m for action in actions) for m in messages[:8]):
            return range(len(messages))
        spaces = self.field_count - 1
        if len(actions) == 1:
            [action] = actions
            return [i for i, m in enumerate(messages) if action in m or m.count(" ") != spaces]
        return [i for i, m in enumerate(messages) if self.may_hold_kept_flow(m)]

    def _encode_fast(self, messages: list[str], joined: str, suffix: str) -> EncodedEvents | None:
        """The generated loop; None when the record must take the checked path instead."""
        candidates = self._fast_candidates(messages)
        # Only the lines looked at matter: the others are never read.
        looked_at = joined if isinstance(candidates, range) else " ".join([messages[i] for i in candidates])
        if not fast_path_may_apply(looked_at):
            return None
        # A string field of `-` shows as " -" (or "-" first): without one, no `"-"` needs rewriting.
        dashes_possible = " -" in looked_at or looked_at[:1] == "-"
        result = EncodedEvents(flows_seen=len(messages), dashes_possible=dashes_possible)
        if not self._encode_loop(messages, candidates, suffix, result):
            return None
        padding_possible = _PADDED_FIELD.search(looked_at) or \
            (looked_at[:1] == "0" and looked_at[1:2].isdigit())
        if padding_possible and _PADDED_NUMBER.search("".join(result.lines)):
            return None
        return result

    def _encode_loop(self, messages: list[str], candidates: Sequence[int], suffix: str,
                     result: EncodedEvents) -> bool:
        """The generated per-line loop into `result`; False when the record must take the checked path."""
        doubtful: list[int] = []
        try:
            result.numeric_dashes = self._encode_block(messages, candidates, suffix, self.keep_actions,
                                                       result.lines, result.kept_event_indexes, doubtful)
        except ValueError:  # a line that does not split into the format's fields, or a bad value
            return False
        # Some kept value may not fit its shape: the checked path says which.
        return not doubtful or self._new_values_fit([messages[i].split() for i in doubtful])

    def _new_values_fit(self, rows: list[list[str]]) -> bool:
        """Whether the shaped values of these kept lines fit (those that do are remembered)."""
        return all(remembered.fits(list(map(value_of, rows))) for value_of, remembered in self._shape_checks)

    def _encode_each(self, events: Sequence[Mapping[str, Any]], messages: Sequence[str | None],
                     suffix: str) -> EncodedEvents:
        """The checked path, line by line: kept flows, and unreadable lines set aside with the reason."""
        result = EncodedEvents(flows_seen=len(events))
        for index, message in enumerate(messages):
            event = events[index]
            try:
                line = self.read_line(message, event if isinstance(event, Mapping) else None)
            except LineFormatError as error:
                result.unreadable.append((index, str(error)))
                continue
            if line is not None:
                result.lines.append(line + suffix)
                result.kept_event_indexes.append(index)
        return result


def _provenance(value: str | None) -> str:
    return orjson.dumps(value).decode()  # a log group named `-` is still that name
