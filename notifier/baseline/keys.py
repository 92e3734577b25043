"""The baseline's keys: what a rejected flow says was tried, and when. Pure.

Three kinds of key (docs/architecture.md, The notifier, "The baseline"):
- **internal pair**: an internal source rejected towards a destination address, port and protocol (for a
  reply, the internal source and its service port alone);
- **target port**: a port and protocol rejected on a target, the flow's `interface_id` (or its destination
  address when the format has none);
- **source**: an internet source address.

A rejected *reply* (from a well-known port, 0-1023, to an ephemeral one, 1024-65535) is keyed by its
service side: the source's port, marked as a reply, never the ephemeral port. A stateless network ACL
rejects every reply of a conversation it does not allow, each towards another ephemeral port; AWS's NACL
guidance names 1024-65535 as the range that covers every client (Amazon VPC User Guide, "Ephemeral ports",
https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html, checked 2026-12).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contracts.protocols import PROTOCOLS_WITH_PORTS
from notifier.counters import HeavyHitters
from notifier.networks import InternalNetworks

INTERNAL = "internal"
TARGET = "target"
SOURCE = "source"
# Checked in this order when an object has more keys than it may check.
KINDS: tuple[str, ...] = (INTERNAL, TARGET, SOURCE)

WELL_KNOWN_PORTS = range(0, 1024)
EPHEMERAL_PORTS = range(1024, 65536)
# A flow's time is its `end`, but never later than this past the end of the object's arrival hour: a
# wrong clock in a flow cannot push a key's "last seen" into the future.
ARRIVAL_SLACK_S = 300
HOUR_S = 3600
# DynamoDB's partition key may hold 2048 bytes; a key built from longer values is left unchecked.
MAX_PK_BYTES = 1024
# Distinct keys are counted exactly up to here per kind (for "N keys unchecked"), then as "more than".
DISTINCT_LIMIT = 100_000
# Keys counted per kind before the counts turn approximate (Misra-Gries, as the summary's sources):
# at least this many, or the object's key limit.
MIN_COUNTED_KEYS = 1000

# (kind, source, target, port, protocol, reply): a tuple is cheap to build once per flow.
RawKey = tuple[str, str | None, str | None, int | None, int | None, bool]


@dataclass(frozen=True, order=True)
class Key:
    kind: str
    source: str | None  # the internal source (internal pair) or the internet source (source)
    target: str | None  # the destination address (internal pair), the interface or address (target port)
    port: int | None  # the destination port, or for a reply the service port it came from
    protocol: int | None
    reply: bool = False

    @property
    def pk(self) -> str:
        """The item's partition key: a JSON array, so no value can make two keys collide."""
        return json.dumps([self.kind, self.source, self.target, self.port, self.protocol, self.reply],
                          separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_pk(cls, pk: str) -> Key:
        kind, source, target, port, protocol, reply = json.loads(pk)
        return cls(kind, source, target, port, protocol, bool(reply))


def is_reply(srcport: int | None, dstport: int | None) -> bool:
    """A reply from a service (well-known port) to a client's ephemeral port, as a NACL rejects it."""
    return (srcport is not None and dstport is not None and srcport in WELL_KNOWN_PORTS
            and dstport in EPHEMERAL_PORTS)


def flow_keys(record: dict[str, Any], internal: bool) -> list[RawKey]:
    """The keys of one valid flow record; `internal`: whether its source is internal."""
    get = record.get
    src, dst, protocol = get("srcaddr"), get("dstaddr"), get("protocol")
    reply = False
    if protocol is not None and protocol not in PROTOCOLS_WITH_PORTS:
        port = None  # ICMP and the like: flow logs write 0 as their ports
    elif is_reply(get("srcport"), get("dstport")):
        port, reply = get("srcport"), True
    else:
        port = get("dstport")
    keys: list[RawKey] = []
    if internal:
        # A reply is the service's side of a conversation: its clients (each an address and an ephemeral
        # port) are not part of the key, or a public server's rejected replies would page per client.
        keys.append((INTERNAL, src, None if reply else dst, port, protocol, reply))
    elif src is not None:
        keys.append((SOURCE, src, None, None, None, False))
    target = get("interface_id") or dst
    if target is not None:
        keys.append((TARGET, None, target, port, protocol, reply))
    return keys


def arrival_cap(partition_end_s: float) -> int:
    """The latest flow time an object may claim: a few minutes past the end of its arrival hour."""
    return int(partition_end_s) + ARRIVAL_SLACK_S


def flow_time(record: dict[str, Any], cap_s: int) -> int:
    """A flow's time for the baseline: its `end` (else `start`, else the cap), never later than `cap_s`."""
    end = record.get("end")
    if end is None:
        end = record.get("start")
    return cap_s if end is None or end > cap_s else int(end)


@dataclass(frozen=True)
class Sighting:
    """One key of an object: how many of its flows made it and the latest of their times."""

    key: Key
    flows: int
    time: int


@dataclass(frozen=True)
class ObjectKeys:
    """The keys an object will check (at most the limit), and how many it leaves unchecked."""

    sightings: tuple[Sighting, ...]
    unchecked: int
    # True when more keys were seen than could be counted: `unchecked` is then a lower bound.
    more_unchecked: bool = False

    @property
    def earliest(self) -> int | None:
        return min((s.time for s in self.sightings), default=None)


class _KindTable:
    """Flows and latest time per key of one kind, in bounded memory (HeavyHitters), and distinct keys."""

    __slots__ = ("counter", "distinct", "more", "times")

    def __init__(self, capacity: int) -> None:
        self.counter: HeavyHitters[RawKey] = HeavyHitters(capacity)
        self.times: dict[RawKey, int] = {}
        self.distinct: set[RawKey] = set()
        self.more = False

    def add(self, key: RawKey, time: int) -> None:
        counter = self.counter
        counts = counter.counts
        counts[key] = counts.get(key, 0) + 1
        times = self.times
        if time > times.get(key, -1):
            times[key] = time
        if key not in self.distinct:
            if len(self.distinct) < DISTINCT_LIMIT:
                self.distinct.add(key)
            else:
                self.more = True
        if len(counts) > 2 * counter.capacity:
            for dropped in counter.prune():
                del times[dropped]

    def ranked(self) -> list[tuple[RawKey, int, int]]:
        """(key, flows, time), most flows first, ties by key text (deterministic)."""
        rows = sorted(self.counter.counts.items(), key=lambda item: (-item[1], str(item[0])))
        return [(key, flows, self.times[key]) for key, flows in rows]


class KeyCollector:
    """Collects an object's keys flow by flow; `result()` picks the ones to check."""

    def __init__(self, max_keys: int, cap_s: int) -> None:
        self.max_keys = max_keys
        self.cap_s = cap_s
        capacity = max(max_keys, MIN_COUNTED_KEYS)
        self.tables = {kind: _KindTable(capacity) for kind in KINDS}

    def add(self, record: dict[str, Any], internal: bool) -> None:
        time = flow_time(record, self.cap_s)
        tables = self.tables
        for key in flow_keys(record, internal):
            tables[key[0]].add(key, time)

    def result(self) -> ObjectKeys:
        """Internal pairs first, then target ports, then internet sources, each by flow count."""
        chosen: list[Sighting] = []
        unchecked, more = 0, False
        for kind in KINDS:
            table = self.tables[kind]
            ranked = table.ranked()
            taken = 0
            for raw, flows, time in ranked:
                key = Key(*raw)
                if len(chosen) >= self.max_keys or len(key.pk.encode()) > MAX_PK_BYTES:
                    continue
                chosen.append(Sighting(key, flows, time))
                taken += 1
            unchecked += len(table.distinct) - taken
            more = more or table.more
        return ObjectKeys(tuple(chosen), unchecked, more)


def collect_keys(records: Iterable[dict[str, Any]], networks: InternalNetworks, max_keys: int,
                 cap_s: int) -> ObjectKeys:
    """The keys of valid flow records (the notifier feeds its collector while summarising instead)."""
    collector = KeyCollector(max_keys, cap_s)
    for record in records:
        collector.add(record, networks.contains(record.get("srcaddr")))
    return collector.result()
