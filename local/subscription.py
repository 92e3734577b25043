"""The CloudWatch Logs stand-in: the subscription filter and the batching of matching log events.

The filter pattern is the stack's own (`contracts.flowlog.subscription_filter_pattern`), evaluated as
CloudWatch evaluates a space-delimited pattern: a line matches only if it has exactly as many fields as
the pattern names and every condition holds. A line with another field count is never shipped in
production, so it is reported here, not silently dropped. Matching lines are grouped per log stream
and capture window into subscription messages, at most 10,000 events and ~1 MB each, with
`extractedFields` as CloudWatch adds them when the pattern names fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from contracts.flowlog import FlowLogFormat
from local.cloudwatch import LogEvent, SubscriptionMessage

MAX_EVENTS_PER_MESSAGE = 10_000
# CloudWatch caps a delivered payload near 1 MB (of JSON, before gzip). Per event, the JSON adds ~50 bytes
# to the id and message, plus the keys and quotes of the extracted fields.
MAX_MESSAGE_BYTES = 1_000_000
EVENT_OVERHEAD_BYTES = 50
# CloudWatch delivers a batch a few seconds after the events were ingested.
DELIVERY_DELAY_MS = 5_000
DEFAULT_WINDOW_MS = 60_000

_TERM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:(?P<op>!=|=)\s*(?P<value>\S+))?$")


class FilterPatternError(ValueError):
    """A filter pattern this stand-in cannot evaluate (only space-delimited `=`/`!=` terms)."""


@dataclass(frozen=True)
class FilterPattern:
    names: tuple[str, ...]
    conditions: tuple[tuple[int, str, str], ...]  # (field index, operator, value)

    def extract(self, line: str) -> dict[str, str] | None:
        """The named fields of a matching line, or None when the line does not match."""
        values = line.split()
        if len(values) != len(self.names):
            return None
        for index, op, expected in self.conditions:
            if (values[index] == expected) != (op == "="):
                return None
        return dict(zip(self.names, values, strict=True))


def compile_pattern(pattern: str) -> FilterPattern:
    """`[version, account_id, ..., action = REJECT, log_status]` -> a FilterPattern."""
    text = pattern.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise FilterPatternError(f"not a space-delimited filter pattern: {pattern!r}")
    names: list[str] = []
    conditions: list[tuple[int, str, str]] = []
    for index, term in enumerate(part.strip() for part in text[1:-1].split(",")):
        match = _TERM.match(term)
        if match is None:
            raise FilterPatternError(f"unsupported term {term!r} in filter pattern {pattern!r}")
        names.append(match["name"])
        if match["op"]:
            conditions.append((index, match["op"], match["value"].strip('"')))
    return FilterPattern(tuple(names), tuple(conditions))


@dataclass
class FilterOutcome:
    """What CloudWatch did with the input lines."""

    shipped: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)  # (line no, line, fields)
    not_shipped: list[tuple[int, str]] = field(default_factory=list)  # wrong field count
    filtered_out: int = 0  # right shape, action not kept (ACCEPT, NODATA, SKIPDATA)
    blank: int = 0


def apply_filter(lines: Iterable[str], pattern: FilterPattern) -> FilterOutcome:
    outcome = FilterOutcome()
    width = len(pattern.names)
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            outcome.blank += 1
            continue
        extracted = pattern.extract(line)
        if extracted is not None:
            outcome.shipped.append((number, line, extracted))
        elif len(line.split()) != width:
            outcome.not_shipped.append((number, line))
        else:
            outcome.filtered_out += 1
    return outcome


@dataclass(frozen=True)
class Delivery:
    """One subscription message and when CloudWatch hands it to Firehose (simulated clock)."""

    arrival_ms: int
    message: SubscriptionMessage


def event_time_ms(fields: dict[str, str], fmt: FlowLogFormat, fallback_ms: int) -> int:
    """When the flow record was ingested: the end of its capture window, if the format has one."""
    for name in ("end", "start"):
        if name in fmt.fields:
            value = fields.get(fmt.columns[fmt.index_of(name)], "")
            if value.isdigit():
                return int(value) * 1000
    return fallback_ms


def log_stream_of(fields: dict[str, str], fmt: FlowLogFormat) -> str:
    """VPC Flow Logs writes one log stream per interface, named `<eni>-all`."""
    if "interface-id" in fmt.fields:
        eni = fields.get(fmt.columns[fmt.index_of("interface-id")], "-")
        if eni != "-":
            return f"{eni}-all"
    return "flow-logs"


def deliveries(
    outcome: FilterOutcome,
    fmt: FlowLogFormat,
    log_group: str,
    owner: str,
    filter_name: str,
    start_ms: int,
    window_ms: int = DEFAULT_WINDOW_MS,
    with_extracted_fields: bool = True,
) -> Iterator[Delivery]:
    """Batch the shipped lines per (log stream, capture window), in order of delivery."""
    groups: dict[tuple[int, str], list[LogEvent]] = {}
    clock = start_ms
    for sequence, (_, line, extracted) in enumerate(outcome.shipped):
        clock = event_time_ms(extracted, fmt, clock)
        key = (clock // window_ms, log_stream_of(extracted, fmt))
        groups.setdefault(key, []).append(LogEvent(
            message=line,
            timestamp_ms=clock,
            # CloudWatch event ids are 56 digits; unique and ordered is what matters downstream.
            id=f"{clock:020d}{sequence:036d}",
            extracted_fields=extracted if with_extracted_fields else None,
        ))
    for (window, stream), events in sorted(groups.items()):
        arrival = (window + 1) * window_ms + DELIVERY_DELAY_MS
        for chunk in _chunks(events):
            yield Delivery(arrival, SubscriptionMessage(
                log_events=chunk, log_group=log_group, log_stream=stream, owner=owner,
                subscription_filters=(filter_name,),
            ))


def _json_size(event: LogEvent) -> int:
    """The event's size in the message's JSON, closely enough to keep a message under the cap."""
    size = EVENT_OVERHEAD_BYTES + len(event.id) + len(event.message)
    if event.extracted_fields:
        size += 20 + sum(len(key) + len(value) + 6 for key, value in event.extracted_fields.items())
    return size


def _chunks(events: list[LogEvent]) -> Iterator[list[LogEvent]]:
    chunk: list[LogEvent] = []
    size = 0
    for event in events:
        event_size = _json_size(event)
        if chunk and (len(chunk) >= MAX_EVENTS_PER_MESSAGE or size + event_size > MAX_MESSAGE_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(event)
        size += event_size
    if chunk:
        yield chunk
