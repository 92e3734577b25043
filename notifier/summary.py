"""Summarise a stream of archived flow records (NDJSON lines) in bounded memory.

Pure: takes lines (bytes) and returns plain data. The handler feeds it lines of a gunzipped S3 body;
the benchmark feeds it a file. Memory is bounded by the counters' capacities, not the batch size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from contracts.protocols import PROTOCOL_NAMES
from notifier.counters import HeavyHitters

# Protocol numbers worth a name in the text; others are shown as numbers.


@dataclass(frozen=True)
class Limits:
    """Capacities of the bounded counters and how many rows a summary keeps."""

    sources: int = 1000
    ports_per_source: int = 32
    destination_ports: int = 1000
    interfaces: int = 500
    # Distinct sources are counted exactly up to here, then reported as "more than".
    distinct_sources: int = 100_000
    # Accounts, regions, VPCs, log groups: a handful is all a tag or a title can use.
    few_values: int = 5
    top_rows: int = 25


@dataclass(frozen=True)
class Distinct:
    """Up to a few distinct values of a field, and whether there were more."""

    values: tuple[str, ...]
    more: bool

    @property
    def single(self) -> str | None:
        return self.values[0] if len(self.values) == 1 and not self.more else None


@dataclass(frozen=True)
class SourceRow:
    address: str
    flows: int
    ports: tuple[int, ...]
    # True when the source tried more distinct ports than were tracked.
    more_ports: bool


@dataclass(frozen=True)
class PortRow:
    port: int | None
    protocol: int | None
    flows: int

    @property
    def label(self) -> str:
        port = "-" if self.port is None else str(self.port)
        if self.protocol is None:
            return port
        return f"{port}/{PROTOCOL_NAMES.get(self.protocol, self.protocol)}"


@dataclass(frozen=True)
class FlowSummary:
    flows: int
    invalid_lines: int
    first_start: int | None
    last_end: int | None
    ipv4_flows: int
    ipv6_flows: int
    packets: int
    bytes: int
    distinct_sources: int
    more_sources: bool
    top_sources: tuple[SourceRow, ...]
    top_ports: tuple[PortRow, ...]
    top_interfaces: tuple[tuple[str, int], ...]
    # Distinct (port, protocol) pairs and interfaces counted (lower bounds once counts are approximate).
    distinct_ports: int
    distinct_interfaces: int
    # Largest undercount of any reported count (0: exact). Non-zero only for very diverse batches.
    count_error: int
    accounts: Distinct
    regions: Distinct
    vpcs: Distinct
    log_groups: Distinct

    @property
    def empty(self) -> bool:
        return self.flows == 0 and self.invalid_lines == 0


class _Few:
    """A set that stops growing at `cap` and remembers that it overflowed."""

    __slots__ = ("cap", "more", "values")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.values: set[str] = set()
        self.more = False

    def add(self, value: object) -> None:
        if value is None or value in self.values:
            return
        if len(self.values) < self.cap:
            self.values.add(str(value))
        else:
            self.more = True

    def result(self) -> Distinct:
        return Distinct(tuple(sorted(self.values)), self.more)


_NO_PORTS: frozenset[int] = frozenset()


class FlowSummariser:
    """Accumulates flow records one by one; `result()` gives the summary."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self.flows = 0
        self.invalid_lines = 0
        self.first_start: int | None = None
        self.last_end: int | None = None
        self.ipv6_flows = 0
        self.packets = 0
        self.bytes = 0
        self.sources: HeavyHitters[str | None] = HeavyHitters(limits.sources)
        self.source_ports: dict[str | None, set[int]] = {}
        self.distinct_sources: set[str | None] = set()
        self.more_sources = False
        # Key: protocol << 16 | port, so one dict lookup counts a (port, protocol) pair.
        self.ports: HeavyHitters[int] = HeavyHitters(limits.destination_ports)
        self.interfaces: HeavyHitters[str | None] = HeavyHitters(limits.interfaces)
        self.accounts = _Few(limits.few_values)
        self.regions = _Few(limits.few_values)
        self.vpcs = _Few(limits.few_values)
        self.log_groups = _Few(limits.few_values)

    def add_lines(self, lines: Iterable[bytes]) -> None:
        loads = orjson.loads
        add = self.add
        for line in lines:
            if not line.strip():
                continue
            try:
                record = loads(line)
            except orjson.JSONDecodeError:
                self.invalid_lines += 1
                continue
            if type(record) is dict:
                add(record)
            else:
                self.invalid_lines += 1

    def add(self, record: dict[str, Any]) -> None:
        get = record.get
        self.flows += 1
        src = get("srcaddr")
        self._add_source(src, get("dstport"))
        if src is not None and ":" in src:
            self.ipv6_flows += 1
        port = get("dstport")
        self.ports.add(((get("protocol") or 0) << 16) | (port or 0) if port is not None else -1)
        self.interfaces.add(get("interface_id"))
        start = get("start")
        if start is not None and (self.first_start is None or start < self.first_start):
            self.first_start = start
        end = get("end")
        if end is not None and (self.last_end is None or end > self.last_end):
            self.last_end = end
        self.packets += get("packets") or 0
        self.bytes += get("bytes") or 0
        # Usually one value per batch: test membership inline, call only for a new value.
        for few, value in ((self.accounts, get("account_id")), (self.regions, get("region")),
                           (self.vpcs, get("vpc_id")), (self.log_groups, get("log_group"))):
            if value is not None and value not in few.values and not few.more:
                few.add(value)

    def _add_source(self, src: str | None, port: int | None) -> None:
        distinct = self.distinct_sources
        if src not in distinct:
            if len(distinct) < self.limits.distinct_sources:
                distinct.add(src)
            else:
                self.more_sources = True
        sources = self.sources
        sources.counts[src] = sources.counts.get(src, 0) + 1
        ports = self.source_ports.get(src)
        if ports is None:
            ports = self.source_ports[src] = set()
        if port is not None and len(ports) <= self.limits.ports_per_source:
            # One past the cap is kept so that "more ports" can be told from "exactly the cap".
            ports.add(port)
        if len(sources.counts) > 2 * sources.capacity:
            for dropped in sources.prune():
                del self.source_ports[dropped]

    def result(self) -> FlowSummary:
        n = self.limits.top_rows
        cap = self.limits.ports_per_source
        top_sources = []
        for src, flows in self.sources.top(n):
            ports = sorted(self.source_ports.get(src, _NO_PORTS))
            top_sources.append(SourceRow(str(src) if src is not None else "-", flows, tuple(ports[:cap]),
                                         len(ports) > cap))
        top_ports = tuple(
            PortRow(None, None, flows) if key < 0 else PortRow(key & 0xFFFF, (key >> 16) or None, flows)
            for key, flows in self.ports.top(n)
        )
        return FlowSummary(
            flows=self.flows,
            invalid_lines=self.invalid_lines,
            first_start=self.first_start,
            last_end=self.last_end,
            ipv4_flows=self.flows - self.ipv6_flows,
            ipv6_flows=self.ipv6_flows,
            packets=self.packets,
            bytes=self.bytes,
            distinct_sources=len(self.distinct_sources),
            more_sources=self.more_sources,
            top_sources=tuple(top_sources),
            top_ports=top_ports,
            top_interfaces=tuple((str(i), c) for i, c in self.interfaces.top(n) if i is not None),
            distinct_ports=len(self.ports),
            distinct_interfaces=len(self.interfaces),
            count_error=max(self.sources.error, self.ports.error, self.interfaces.error),
            accounts=self.accounts.result(),
            regions=self.regions.result(),
            vpcs=self.vpcs.result(),
            log_groups=self.log_groups.result(),
        )


def summarise_flows(lines: Iterable[bytes], limits: Limits = Limits()) -> FlowSummary:
    """Summarise NDJSON flow lines; blank lines are ignored, lines that are not JSON objects counted."""
    summariser = FlowSummariser(limits)
    summariser.add_lines(lines)
    return summariser.result()
