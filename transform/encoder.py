"""Flow-log lines -> archived NDJSON records (docs/architecture.md, The archived record), fast.

Building a dict and serialising it per line dominates a naive transform. Instead, each format gets a
loop generated once (the way `dataclasses` generates `__init__`) that unpacks each line's fields and
splices them into one f-string. Lines that need JSON escaping, do not split cleanly, or hold a value
that is not a number where one is due take the general path, so the output is identical either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts.flowlog import NOT_APPLICABLE, FlowLogFormat

NEVER_KEPT_STATUSES = frozenset({"NODATA", "SKIPDATA"})
# A string field of `-` as the fast path writes it; values there hold no `"` of their own.
_DASH_STRING = ':"-"'

# encode_block(messages, candidates, suffix, keep_actions, lines, kept_indexes) -> None
BlockEncoder = Callable[[Sequence[str], Sequence[int], str, frozenset[str], list[str], list[int]], None]


class LineFormatError(ValueError):
    """A flow-log line that does not fit the configured format."""


def _number(value: str) -> str:
    """A numeric field as JSON: `-` is null; anything else must be a plain non-negative integer."""
    if value == NOT_APPLICABLE:
        return "null"
    if value.isascii() and value.isdigit():
        return value
    raise LineFormatError(f"expected a number, got {value!r}")


def _string(value: str) -> str:
    return "null" if value == NOT_APPLICABLE else orjson.dumps(value).decode()


def _encode_checked(fmt: FlowLogFormat, parts: Sequence[str]) -> str:
    """The general path: every value checked and escaped on its own."""
    columns = zip(fmt.columns, fmt.numeric, parts, strict=True)
    return "".join(
        ("{" if i == 0 else ",") + f'"{column}":' + (_number(p) if numeric else _string(p))
        for i, (column, numeric, p) in enumerate(columns)
    )


# Printable ASCII that JSON takes as is inside a string: everything but `"` and `\`.
_JSON_SAFE_BYTES = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


def _needs_escaping(text: str) -> bool:
    """Whether any character needs JSON escaping (a byte-table pass: far cheaper than isprintable)."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return True
    return bool(raw.translate(None, _JSON_SAFE_BYTES))


def _compile_block_encoder(fmt: FlowLogFormat) -> BlockEncoder:
    """Generate the fast loop for messages that split cleanly and need no escaping.

    The numeric fields are checked with one `isdigit` over their concatenation; a `-` or a bad value
    there falls back to `_encode_checked`. A string field of `-` comes out as `"-"`:
    `EncodedEvents.ndjson` turns it into null.
    """
    names = [f"v{i}" for i in range(len(fmt.fields))]
    template = "".join(
        ("{{" if i == 0 else ",") + f'"{column}":' + (f"{{{name}}}" if numeric else f'"{{{name}}}"')
        for i, (column, numeric, name) in enumerate(zip(fmt.columns, fmt.numeric, names, strict=True))
    )
    numbers = " + ".join(name for name, numeric in zip(names, fmt.numeric, strict=True) if numeric)
    action = names[fmt.index_of("action")]
    kept_test = f"{action} in keep"
    if "log-status" in fmt.fields:
        kept_test += f" and {names[fmt.index_of('log-status')]} not in never_kept"
    unpacked = ", ".join(names) + ","
    source = f"""
def encode_block(messages, candidates, sfx, keep, lines, kept):
    append, mark = lines.append, kept.append
    for i in candidates:
        {unpacked} = messages[i].split(" ")
        if {kept_test}:
            if {f"({numbers}).isdigit()" if numbers else "True"}:
                append(f'''{template}{{sfx}}''')
            else:
                append(encode_checked(fmt, ({unpacked})) + sfx)
            mark(i)
"""
    namespace: dict[str, Any] = {
        "encode_checked": _encode_checked, "fmt": fmt, "never_kept": NEVER_KEPT_STATUSES,
    }
    exec(compile(source, f"<flow-log encoder for {fmt.text[:60]}>", "exec"), namespace)
    encode_block: BlockEncoder = namespace["encode_block"]
    return encode_block


@dataclass
class EncodedEvents:
    """What one subscription message yields: one NDJSON line per kept flow, and which events they are."""

    lines: list[str] = field(default_factory=list)
    kept_event_indexes: list[int] = field(default_factory=list)
    flows_seen: int = 0

    def ndjson(self) -> bytes:
        return "".join(self.lines).replace(_DASH_STRING, ":null").encode()


class _EventError(Exception):
    """Carries which event failed up to `encode_events`, which words the error."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


@dataclass(frozen=True)
class LineEncoder:
    fmt: FlowLogFormat
    keep_actions: frozenset[str]
    _encode_block: BlockEncoder = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_encode_block", _compile_block_encoder(self.fmt))

    @property
    def field_count(self) -> int:
        return len(self.fmt.fields)

    def split(self, message: str) -> list[str]:
        parts = message.split(" ")
        if len(parts) != self.field_count:
            parts = message.split()  # tolerate stray whitespace before declaring a mismatch
            if len(parts) != self.field_count:
                raise LineFormatError(
                    f"line has {len(parts)} fields, the flow-log format has {self.field_count} "
                    f"(FLOW_LOG_FORMAT must be the format the flow log was created with)"
                )
        return parts

    def parts_of(self, event: Mapping[str, Any]) -> list[str]:
        """An event's field values, for a message that does not split cleanly on single spaces.

        CloudWatch also sends the values as `extractedFields` (named by the filter pattern, which uses
        our column names); they are taken when complete, else the message is split on any whitespace.
        """
        extracted = event.get("extractedFields")
        if isinstance(extracted, dict) and all(column in extracted for column in self.fmt.columns):
            return [str(extracted[column]) for column in self.fmt.columns]
        return self.split(event["message"])

    def is_kept(self, parts: Sequence[str]) -> bool:
        fields = self.fmt.fields
        if parts[fields.index("action")] not in self.keep_actions:
            return False
        return "log-status" not in fields or parts[fields.index("log-status")] not in NEVER_KEPT_STATUSES

    def encode_events(self, events: Sequence[Mapping[str, Any]], log_group: str,
                      log_stream: str) -> EncodedEvents:
        """Every kept flow of a subscription message, in order. Raises LineFormatError naming the event.

        Lines are read from `message` (cheaper than `extractedFields`, and the same values); passes
        over the whole list in C set aside what cannot be kept before any line is split.
        """
        try:
            messages = [event["message"] for event in events]
            joined = "".join(messages)
        except (KeyError, TypeError) as error:
            raise LineFormatError(f"logEvents holds an event without a string message ({error!r})") from error
        spaces = self.field_count - 1
        if len(self.keep_actions) == 1:
            # A line that does not contain the kept action and splits cleanly cannot be kept; every
            # other line is looked at (one that does not split cleanly must still fit the format).
            only_action = next(iter(self.keep_actions))
            candidates = [i for i, message in enumerate(messages)
                          if only_action in message or message.count(" ") != spaces]
        else:
            candidates = list(range(len(messages)))
        suffix = f',"log_group":{_string(log_group)},"log_stream":{_string(log_stream)}}}\n'
        result = EncodedEvents(flows_seen=len(events))
        try:
            if _needs_escaping(joined):
                self._encode_each(events, candidates, suffix, result)
                return result
            try:
                self._encode_block(messages, candidates, suffix, self.keep_actions, result.lines,
                                   result.kept_event_indexes)
            except (ValueError, LineFormatError):  # a line that does not split cleanly, or a bad value
                result = EncodedEvents(flows_seen=len(events))
                self._encode_each(events, candidates, suffix, result)
        except _EventError as failure:
            event = events[failure.index]
            raise LineFormatError(f"log event {failure.index} (id {event.get('id', '?')}): "
                                  f"{failure.__cause__}; line: {event['message'][:120]!r}") from failure
        return result

    def _checked_parts(self, events: Sequence[Mapping[str, Any]], index: int) -> list[str]:
        try:
            return self.parts_of(events[index])
        except LineFormatError as error:
            raise _EventError(index) from error

    def _encode_each(self, events: Sequence[Mapping[str, Any]], candidates: Sequence[int], suffix: str,
                     result: EncodedEvents) -> None:
        """The general path, line by line, for messages with odd spacing or characters to escape."""
        for index in candidates:
            parts = self._checked_parts(events, index)
            if not self.is_kept(parts):
                continue
            try:
                result.lines.append(_encode_checked(self.fmt, parts) + suffix)
            except LineFormatError as error:
                raise _EventError(index) from error
            result.kept_event_indexes.append(index)
