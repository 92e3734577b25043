"""Flow-log lines -> archived NDJSON records (contract 2), fast.

Building a dict and serialising it per line dominates a naive transform. Instead, each format gets a
line encoder generated once (the way `dataclasses` generates `__init__`): it splices the fields of a
line straight into a JSON template. Lines holding anything that would need JSON escaping take a slower
path through orjson, so the output is identical either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts.flowlog import NOT_APPLICABLE, FlowLogFormat

NEVER_KEPT_STATUSES = frozenset({"NODATA", "SKIPDATA"})


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


def _compile_fast(fmt: FlowLogFormat) -> Callable[[Sequence[str]], str]:
    """Generated `encode(parts) -> '{"version":2,...'` for values known to need no escaping."""
    terms = []
    for index, (column, numeric) in enumerate(zip(fmt.columns, fmt.numeric, strict=True)):
        key = ("{" if index == 0 else ",") + f'"{column}":'
        value = f"p[{index}]"
        if numeric:
            expr = f"({value} if {value}.isdigit() else _number({value}))"
        else:
            expr = f"('\"' + {value} + '\"' if {value} != '-' else 'null')"
        terms.append(f"    {key!r} + {expr},")
    source = "def encode(p):\n  return ''.join((\n" + "\n".join(terms) + "\n  ))\n"
    namespace: dict[str, Any] = {"_number": _number}
    exec(compile(source, f"<line encoder for {fmt.text[:60]}>", "exec"), namespace)
    return namespace["encode"]


def _needs_escaping(line: str) -> bool:
    return '"' in line or "\\" in line or not line.isascii() or not line.isprintable()


@dataclass
class EncodedEvents:
    """What one subscription message yields: one NDJSON line per kept flow, and which events they are."""

    lines: list[str] = field(default_factory=list)
    kept_event_indexes: list[int] = field(default_factory=list)
    flows_seen: int = 0


@dataclass(frozen=True)
class LineEncoder:
    fmt: FlowLogFormat
    keep_actions: frozenset[str]
    _fast: Callable[[Sequence[str]], str] = field(init=False, repr=False, compare=False)
    _action_index: int = field(init=False, repr=False, compare=False)
    _status_index: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = self.fmt.fields
        object.__setattr__(self, "_fast", _compile_fast(self.fmt))
        object.__setattr__(self, "_action_index", fields.index("action"))
        status_index = fields.index("log-status") if "log-status" in fields else None
        object.__setattr__(self, "_status_index", status_index)

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
        """An event's field values: from `extractedFields` when the filter named every field."""
        extracted = event.get("extractedFields")
        if isinstance(extracted, dict) and len(extracted) == self.field_count:
            try:
                return [str(extracted[column]) for column in self.fmt.columns]
            except KeyError:
                pass  # named differently from our columns: the message is the authority
        return self.split(event["message"])

    def is_kept(self, parts: Sequence[str]) -> bool:
        if parts[self._action_index] not in self.keep_actions:
            return False
        return self._status_index is None or parts[self._status_index] not in NEVER_KEPT_STATUSES

    def encode(self, parts: Sequence[str], suffix: str) -> str:
        """One archived record as a JSON line. `suffix` closes it with the provenance keys."""
        if any(_needs_escaping(p) for p in parts):
            columns = zip(self.fmt.columns, self.fmt.numeric, parts, strict=True)
            body = "".join(
                ("{" if i == 0 else ",") + f'"{column}":' + (_number(p) if numeric else _string(p))
                for i, (column, numeric, p) in enumerate(columns)
            )
        else:
            body = self._fast(parts)
        return body + suffix

    def encode_events(self, events: Iterable[Mapping[str, Any]], log_group: str,
                      log_stream: str) -> EncodedEvents:
        """Every kept flow of a subscription message, in order. Raises LineFormatError naming the event."""
        suffix = f',"log_group":{_string(log_group)},"log_stream":{_string(log_stream)}}}\n'
        action_tokens = tuple(self.keep_actions)
        result = EncodedEvents()
        for index, event in enumerate(events):
            result.flows_seen += 1
            message = event["message"]
            try:
                # Cheap pre-check: a line naming no kept action is not kept, but it must still fit.
                if "extractedFields" not in event and not any(a in message for a in action_tokens):
                    self._check_field_count(message)
                    continue
                parts = self.parts_of(event)
                if not self.is_kept(parts):
                    continue
                result.lines.append(self.encode(parts, suffix))
            except LineFormatError as error:
                raise LineFormatError(f"log event {index} (id {event.get('id', '?')}): {error}; "
                                      f"line: {message[:120]!r}") from error
            result.kept_event_indexes.append(index)
        return result

    def _check_field_count(self, message: str) -> None:
        if message.count(" ") != self.field_count - 1:
            self.split(message)
