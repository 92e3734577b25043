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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from contracts.cloudwatch_logs import LogEvent, SubscriptionMessage, data_message
from contracts.flowlog import FlowLogFormat
from local.batching import WindowBatcher, drain

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

    def matches(self, values: Sequence[str]) -> bool:
        """Whether a line's values (as many as the pattern names) meet every condition."""
        return all((values[index] == expected) == (op == "=") for index, op, expected in self.conditions)

    def extract(self, line: str) -> dict[str, str] | None:
        """The named fields of a matching line, or None when the line does not match."""
        values = line.split()
        if len(values) != len(self.names) or not self.matches(values):
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


Shipped = tuple[int, str, dict[str, str]]  # (line number, line, the pattern's named fields)


@dataclass
class FilterCounts:
    """What CloudWatch did with each input line; `lines` is always the sum of the others."""

    lines: int = 0
    header: int = 0  # a header line naming the format's fields (S3-delivered files start with one)
    blank: int = 0
    shipped: int = 0
    not_shipped: int = 0  # wrong field count: CloudWatch's filter never ships it
    filtered_out: int = 0  # right shape, action not kept (ACCEPT, NODATA, SKIPDATA)

    def adds_up(self) -> bool:
        return self.lines == (self.header + self.blank + self.shipped + self.not_shipped
                              + self.filtered_out)


def filter_lines(
    lines: Iterable[str],
    pattern: FilterPattern,
    counts: FilterCounts,
    header: Sequence[str] = (),
    on_not_shipped: Callable[[int, str], None] | None = None,
) -> Iterator[Shipped]:
    """Stream the lines CloudWatch ships; count the others (`on_not_shipped` sees the wrong-width ones)."""
    width = len(pattern.names)
    header_tuple = tuple(header)
    for number, raw in enumerate(lines, start=1):
        counts.lines += 1
        line = raw.rstrip("\r\n")
        values = line.split()
        if not values:
            counts.blank += 1
        elif header_tuple and values[0] == header_tuple[0] and tuple(values) == header_tuple:
            counts.header += 1
        elif len(values) != width:
            counts.not_shipped += 1
            if on_not_shipped is not None:
                on_not_shipped(number, line)
        elif pattern.matches(values):
            counts.shipped += 1
            yield number, line, dict(zip(pattern.names, values, strict=True))
        else:
            counts.filtered_out += 1


@dataclass
class FilterOutcome:
    """The filter's result held in lists, for small inputs (tests)."""

    shipped: list[Shipped] = field(default_factory=list)
    not_shipped: list[tuple[int, str]] = field(default_factory=list)
    counts: FilterCounts = field(default_factory=FilterCounts)

    @property
    def filtered_out(self) -> int:
        return self.counts.filtered_out

    @property
    def blank(self) -> int:
        return self.counts.blank


def apply_filter(lines: Iterable[str], pattern: FilterPattern, header: Sequence[str] = ()) -> FilterOutcome:
    outcome = FilterOutcome()
    outcome.shipped = list(filter_lines(lines, pattern, outcome.counts, header,
                                        lambda number, line: outcome.not_shipped.append((number, line))))
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
    shipped: Iterable[Shipped] | FilterOutcome,
    fmt: FlowLogFormat,
    log_group: str,
    owner: str,
    filter_name: str,
    start_ms: int,
    window_ms: int = DEFAULT_WINDOW_MS,
    with_extracted_fields: bool = True,
) -> Iterator[Delivery]:
    """Batch the shipped lines per (log stream, capture window), streaming, in order of delivery."""
    lines = shipped.shipped if isinstance(shipped, FilterOutcome) else shipped

    def keyed() -> Iterator[tuple[int, str, LogEvent, int]]:
        clock = start_ms
        for sequence, (_, line, extracted) in enumerate(lines):
            clock = event_time_ms(extracted, fmt, clock)
            event = LogEvent(
                message=line,
                timestamp_ms=clock,
                # CloudWatch event ids are 56 digits; unique and ordered is what matters downstream.
                id=f"{clock:020d}{sequence:036d}",
                extracted_fields=extracted if with_extracted_fields else None,
            )
            yield clock // window_ms, log_stream_of(extracted, fmt), event, _json_size(event)

    batcher: WindowBatcher[LogEvent] = WindowBatcher(MAX_EVENTS_PER_MESSAGE, MAX_MESSAGE_BYTES)
    for batch in drain(batcher, keyed()):
        yield Delivery((batch.window + 1) * window_ms + DELIVERY_DELAY_MS, data_message(
            batch.items, log_group=log_group, log_stream=batch.stream, owner=owner,
            subscription_filters=(filter_name,),
        ))


def _json_size(event: LogEvent) -> int:
    """The event's size in the message's JSON, closely enough to keep a message under the cap."""
    size = EVENT_OVERHEAD_BYTES + len(event.id) + len(event.message)
    if event.extracted_fields:
        size += 20 + sum(len(key) + len(value) + 6 for key, value in event.extracted_fields.items())
    return size
