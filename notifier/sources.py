"""Rejected sources of a batch, counted in bounded memory: flows per source and the ports each tried.

Internal and internet sources are kept in two tables, so that a handful of internal sources is counted
exactly however many internet sources crowd the other table into its approximate (Misra-Gries) regime.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.protocols import protocol_name
from notifier.counters import HeavyHitters


@dataclass(frozen=True)
class SourceRow:
    address: str
    flows: int
    # Destination ports tried, ascending.
    ports: tuple[int, ...]
    # True when the source tried more distinct ports than were tracked.
    more_ports: bool
    # Protocols without ports the source used (`icmp`...): AWS logs their ports as 0, which means nothing.
    protocols_without_ports: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceGroup:
    """One kind of source (internal or internet): how many, the heaviest, and the single-flow ones."""

    # Distinct sources counted; with `more` a lower bound (counting stopped at the limit).
    distinct: int
    more: bool
    # Heaviest first (ties by address), at most the summary's row limit.
    rows: tuple[SourceRow, ...]
    # Sources seen in exactly one flow; None when counts are approximate (then it cannot be known).
    single_flow: int | None
    # Largest undercount of any row's flows (0: exact).
    count_error: int

    @property
    def empty(self) -> bool:
        return self.distinct == 0


def portless_key(protocol: int) -> int:
    """The negative number that stands for "a flow of this portless protocol" in a port set."""
    return -1 - protocol


class DistinctCounter:
    """Counts distinct values exactly up to `limit`, then only remembers that there were more."""

    __slots__ = ("limit", "more", "values")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.values: set[str | None] = set()
        self.more = False

    def add(self, value: str | None) -> None:
        if value not in self.values:
            if len(self.values) < self.limit:
                self.values.add(value)
            else:
                self.more = True


class SourceTable:
    """Flows per source (a HeavyHitters) and, per kept source, up to `ports_per_source` + 1 ports.

    One port past the cap is kept so that "more ports" can be told from "exactly the cap". A protocol
    without ports is stored as `-1 - protocol` (see `portless_key`), so one set holds both.
    """

    __slots__ = ("counter", "distinct", "ports", "ports_per_source")

    def __init__(self, capacity: int, ports_per_source: int, distinct_limit: int) -> None:
        self.counter: HeavyHitters[str | None] = HeavyHitters(capacity)
        self.ports: dict[str | None, set[int]] = {}
        self.ports_per_source = ports_per_source
        self.distinct = DistinctCounter(distinct_limit)

    def add(self, source: str | None, port_or_protocol: int | None) -> None:
        """Count one flow; `port_or_protocol` is a port (≥ 0), a `portless_key`, or None."""
        distinct = self.distinct
        if source not in distinct.values:  # inline: this runs once per flow
            distinct.add(source)
        counter = self.counter
        counts = counter.counts
        counts[source] = counts.get(source, 0) + 1
        ports = self.ports.get(source)
        if ports is None:
            ports = self.ports[source] = set()
        if port_or_protocol is not None and len(ports) <= self.ports_per_source:
            ports.add(port_or_protocol)
        if len(counts) > 2 * counter.capacity:
            for dropped in counter.prune():
                del self.ports[dropped]

    def result(self, rows: int) -> SourceGroup:
        cap = self.ports_per_source
        top = []
        for source, flows in self.counter.top(rows):
            tried = sorted(self.ports[source])  # every counted source has a port set
            ports = tuple(p for p in tried if p >= 0)
            portless = tuple(protocol_name(-1 - p) for p in reversed(tried) if p < 0)
            top.append(SourceRow("-" if source is None else source, flows, ports[:cap], len(tried) > cap,
                                 portless))
        exact = self.counter.exact
        return SourceGroup(
            distinct=len(self.distinct.values),
            more=self.distinct.more,
            rows=tuple(top),
            single_flow=sum(1 for n in self.counter.counts.values() if n == 1) if exact else None,
            count_error=self.counter.error,
        )
