"""Summarise a stream of archived flow records (NDJSON lines, one flow each) in bounded memory.

Pure: takes lines (bytes) and returns plain data. The handler feeds it lines of a gunzipped S3 body;
the benchmark feeds it a file. Memory is bounded by the counters' capacities, not the batch size.

A line counts as a flow only when it is a JSON object whose counted fields are what the transform
archives, by the one validity rule of `contracts/flowrule.py` (strings or null for addresses and names;
integers or null within each field's range for numbers: ports 0-65,535, protocol 0-255, start/end Unix
seconds). Any other line is counted as invalid and skipped, so every line is either a flow or an invalid
line, and whatever the transform archives is counted as a flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from contracts.flowrule import FIRST_FLOW_TIME, LAST_FLOW_TIME, MAX_PORT, MAX_PROTOCOL, numeric_range
from contracts.protocols import PROTOCOLS_WITH_PORTS
from notifier.counters import HeavyHitters
from notifier.networks import InternalNetworks
from notifier.ports import PortRow, port_key, port_row
from notifier.sources import SourceGroup, SourceTable, portless_key

_NONE = type(None)
_TEXT = frozenset({str, _NONE})
_NUMBER = frozenset({int, _NONE})  # `type(x) is bool` is not int: `true` is not a number here
_COUNT_MAX = (numeric_range("packets") or (0, 0))[1]  # BIGINT, as for `bytes`
# (src, dstport, protocol, packets, bytes, start, end, interface, account, region, vpc, log group)
FlowValues = tuple[Any, ...]


def _counts_fit(port: int | None, protocol: int | None, packets: int | None, nbytes: int | None) -> bool:
    return ((port is None or 0 <= port <= MAX_PORT) and (protocol is None or 0 <= protocol <= MAX_PROTOCOL)
            and (packets is None or 0 <= packets <= _COUNT_MAX)
            and (nbytes is None or 0 <= nbytes <= _COUNT_MAX))


def _times_fit(start: int | None, end: int | None) -> bool:
    return ((start is None or FIRST_FLOW_TIME <= start <= LAST_FLOW_TIME)
            and (end is None or FIRST_FLOW_TIME <= end <= LAST_FLOW_TIME))


def flow_values(record: dict[str, Any]) -> FlowValues | None:
    """The values a summary counts, or None when `record` is not a flow by the archive's rule."""
    get = record.get
    src, port, protocol = get("srcaddr"), get("dstport"), get("protocol")
    packets, nbytes, start, end = get("packets"), get("bytes"), get("start"), get("end")
    interface, account, region = get("interface_id"), get("account_id"), get("region")
    vpc, log_group = get("vpc_id"), get("log_group")
    # Two C-level passes instead of twelve comparisons: this runs once per flow.
    if not (_TEXT.issuperset(map(type, (src, interface, account, region, vpc, log_group)))
            and _NUMBER.issuperset(map(type, (port, protocol, packets, nbytes, start, end)))):
        return None
    if not (_counts_fit(port, protocol, packets, nbytes) and _times_fit(start, end)):
        return None
    return src, port, protocol, packets, nbytes, start, end, interface, account, region, vpc, log_group


@dataclass(frozen=True)
class Limits:
    """Capacities of the bounded counters and how many rows a summary keeps."""

    sources: int = 1000
    internal_sources: int = 1000
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
class InvalidLines:
    """Why lines were not counted as flows."""

    not_json: int = 0  # of which `not_utf8` are not even UTF-8 text
    not_utf8: int = 0
    not_flow_records: int = 0  # JSON, but not an object or with values of the wrong type or range

    @property
    def total(self) -> int:
        return self.not_json + self.not_flow_records


@dataclass(frozen=True)
class FlowSummary:
    flows: int
    invalid: InvalidLines
    first_start: int | None
    last_end: int | None
    ipv4_flows: int
    ipv6_flows: int
    # Sums over the flows that carry the field; flows without it (null) are counted apart, never as 0.
    packets: int
    bytes: int
    flows_without_packets: int
    flows_without_bytes: int
    # Counted exactly whatever the batch's diversity: one internal flow among millions still shows.
    internal_flows: int
    internal: SourceGroup
    internet: SourceGroup
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
    def invalid_lines(self) -> int:
        return self.invalid.total

    @property
    def lines(self) -> int:
        return self.flows + self.invalid.total

    @property
    def distinct_sources(self) -> int:
        return self.internal.distinct + self.internet.distinct

    @property
    def more_sources(self) -> bool:
        return self.internal.more or self.internet.more

    @property
    def has_internal_sources(self) -> bool:
        return self.internal_flows > 0

    @property
    def empty(self) -> bool:
        return self.lines == 0

    @property
    def no_flow_records(self) -> bool:
        """Lines, but not one flow among them: the object is not an archive of flow records."""
        return self.flows == 0 and self.invalid.total > 0


class _Few:
    """A set that stops growing at `cap` and remembers that it overflowed."""

    __slots__ = ("cap", "more", "values")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.values: set[str] = set()
        self.more = False

    def add(self, value: str) -> None:
        if value in self.values:
            return
        if len(self.values) < self.cap:
            self.values.add(value)
        else:
            self.more = True

    def result(self) -> Distinct:
        return Distinct(tuple(sorted(self.values)), self.more)


class FlowSummariser:
    """Accumulates flow records one by one; `result()` gives the summary."""

    def __init__(self, limits: Limits = Limits(), internal: InternalNetworks | None = None) -> None:
        self.limits = limits
        self.networks = internal or InternalNetworks()
        self.flows = 0
        self.not_json = self.not_utf8 = self.not_flow_records = 0
        self.first_start: int | None = None
        self.last_end: int | None = None
        self.ipv6_flows = 0
        self.packets = self.bytes = 0
        self.flows_without_packets = self.flows_without_bytes = 0
        self.internal_flows = 0
        self.internal = SourceTable(limits.internal_sources, limits.ports_per_source, limits.distinct_sources)
        self.internet = SourceTable(limits.sources, limits.ports_per_source, limits.distinct_sources)
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
                self._not_json(line)
                continue
            if type(record) is not dict or not add(record):
                self.not_flow_records += 1

    def _not_json(self, line: bytes) -> None:
        self.not_json += 1
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            self.not_utf8 += 1

    def add(self, record: dict[str, Any]) -> bool:
        """Count one record; False (nothing counted) when it is not a flow by the archive's rule."""
        values = flow_values(record)
        if values is None:
            return False
        self._count(*values)
        return True

    def _count(self, src: str | None, port: int | None, protocol: int | None, packets: int | None,
               nbytes: int | None, start: int | None, end: int | None, interface: str | None,
               account: str | None, region: str | None, vpc: str | None, log_group: str | None) -> None:
        """Count one flow's values (checked by `flow_values`)."""
        self.flows += 1
        if src is not None and ":" in src:
            self.ipv6_flows += 1
        if protocol is not None and protocol not in PROTOCOLS_WITH_PORTS:
            port_or_protocol: int | None = portless_key(protocol)
            self.ports.add(port_key(None, protocol))
        else:
            port_or_protocol = port
            self.ports.add(port_key(port, protocol))
        # Known sources skip the range test; a new one is tested once while its table keeps it.
        internal = self.internal
        if src in internal.counter.counts or (src not in self.internet.counter.counts
                                              and self.networks.contains(src)):
            self.internal_flows += 1
            internal.add(src, port_or_protocol)
        else:
            self.internet.add(src, port_or_protocol)
        self.interfaces.add(interface)
        self._count_extent(start, end, packets, nbytes)
        # Usually one value per batch: test membership inline, call only for a new value.
        for few, value in ((self.accounts, account), (self.regions, region), (self.vpcs, vpc),
                           (self.log_groups, log_group)):
            if value is not None and value not in few.values and not few.more:
                few.add(value)

    def _count_extent(self, start: int | None, end: int | None, packets: int | None,
                      nbytes: int | None) -> None:
        """The flows' time window and their packets and bytes (flows without counts are counted apart)."""
        if start is not None and (self.first_start is None or start < self.first_start):
            self.first_start = start
        if end is not None and (self.last_end is None or end > self.last_end):
            self.last_end = end
        if packets is None:
            self.flows_without_packets += 1
        else:
            self.packets += packets
        if nbytes is None:
            self.flows_without_bytes += 1
        else:
            self.bytes += nbytes

    def result(self) -> FlowSummary:
        n = self.limits.top_rows
        top_ports = [port_row(key, flows) for key, flows in self.ports.top(n)]
        internal, internet = self.internal.result(n), self.internet.result(n)
        return FlowSummary(
            flows=self.flows,
            invalid=InvalidLines(self.not_json, self.not_utf8, self.not_flow_records),
            first_start=self.first_start,
            last_end=self.last_end,
            ipv4_flows=self.flows - self.ipv6_flows,
            ipv6_flows=self.ipv6_flows,
            packets=self.packets,
            bytes=self.bytes,
            flows_without_packets=self.flows_without_packets,
            flows_without_bytes=self.flows_without_bytes,
            internal_flows=self.internal_flows,
            internal=internal,
            internet=internet,
            top_ports=tuple(top_ports),
            top_interfaces=tuple((str(i), c) for i, c in self.interfaces.top(n) if i is not None),
            distinct_ports=len(self.ports),
            distinct_interfaces=len(self.interfaces),
            count_error=max(internal.count_error, internet.count_error, self.ports.error,
                            self.interfaces.error),
            accounts=self.accounts.result(),
            regions=self.regions.result(),
            vpcs=self.vpcs.result(),
            log_groups=self.log_groups.result(),
        )


def summarise_flows(lines: Iterable[bytes], limits: Limits = Limits(),
                    internal: InternalNetworks | None = None) -> FlowSummary:
    """Summarise NDJSON flow lines; blank lines are ignored, lines that are not flow records counted."""
    summariser = FlowSummariser(limits, internal)
    summariser.add_lines(lines)
    return summariser.result()
