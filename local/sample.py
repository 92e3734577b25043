"""A generated, realistic VPC Flow Logs sample: what `make demo` feeds the pipeline by default.

One small VPC with a handful of interfaces, seen for a few minutes: internet scanners sweeping
22/23/445/3389/1433 (one of them sweeping dozens of ports), a noisy neighbour hammering one port,
ordinary ACCEPT traffic in both directions, an idle interface writing NODATA, a SKIPDATA record, IPv6
on some interfaces. Every field of versions 2-8 is filled, so any format can be rendered from it.
Deterministic for a given seed and start time: the same seed, start and minutes give the same lines.
Generated a minute at a time, so memory does not grow with the number of minutes.

Over several simulated days (`days`), each day has the same minutes of the clock, with traffic of its
own (the chronic noisy neighbour every day), and the last minute of the last day holds a planted
incident for the baseline to report: a host that never talked to the database tries SSH on it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contracts.flowlog import NOT_APPLICABLE, FlowLogFormat

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
VPC_ID = "vpc-0c4f1e2d3a5b69788"
AGGREGATION_SECONDS = 60

TCP, UDP, ICMP = 6, 17, 1
SYN, SYN_ACK, FIN_ACK = 2, 18, 19
SCANNED_PORTS = (22, 23, 445, 3389, 1433)
WIDE_SWEEP_PORTS = (
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433, 1521, 2375, 3306, 3389,
    5432, 5900, 6379, 8080, 8443, 9200, 11211, 27017,
)


@dataclass(frozen=True)
class Interface:
    eni: str
    role: str
    ipv4: str
    ipv6: str | None
    subnet: str
    az_id: str
    instance: str | None


INTERFACES: tuple[Interface, ...] = (
    Interface("eni-0a1b2c3d4e5f60718", "web-a", "10.20.1.10", "2600:1f18:4a3:6101::10",
              "subnet-01f2e3d4c5b6a7980", "use1-az1", "i-0a9b8c7d6e5f40312"),
    Interface("eni-0b2c3d4e5f6071829", "web-b", "10.20.2.10", "2600:1f18:4a3:6102::10",
              "subnet-02e3d4c5b6a798011", "use1-az2", "i-0b8c7d6e5f4031229"),
    Interface("eni-0c3d4e5f607182930", "bastion", "10.20.0.5", None,
              "subnet-03d4c5b6a79801122", "use1-az1", "i-0c7d6e5f403122938"),
    Interface("eni-0d4e5f60718293041", "database", "10.20.11.20", None,
              "subnet-04c5b6a7980112233", "use1-az1", "i-0d6e5f40312293847"),
    Interface("eni-0e5f6071829304152", "windows-app", "10.20.12.30", "2600:1f18:4a3:6112::30",
              "subnet-05b6a798011223344", "use1-az2", "i-0e5f4031229384756"),
    Interface("eni-0f60718293041526a", "idle-nat", "10.20.3.40", None,
              "subnet-06a79801122334455", "use1-az2", None),
)


@dataclass(frozen=True)
class Scanner:
    address: str
    ports: tuple[int, ...]
    targets: tuple[str, ...]  # roles it probes
    active_share: float  # share of the minutes it is active in
    probes_per_minute: int


SCANNERS: tuple[Scanner, ...] = (
    Scanner("198.51.100.23", SCANNED_PORTS, ("bastion", "web-a", "web-b", "windows-app"), 0.9, 24),
    Scanner("203.0.113.77", WIDE_SWEEP_PORTS, ("web-a", "web-b", "windows-app", "bastion"), 0.6, 30),
    Scanner("192.0.2.145", (22,), ("bastion",), 1.0, 12),
    Scanner("198.51.100.200", (445, 3389, 1433), ("windows-app",), 0.7, 10),
    Scanner("2001:db8:5ca7::66", SCANNED_PORTS, ("web-a", "web-b", "windows-app"), 0.5, 8),
)
# A peer in another subnet whose health check still targets a port the security group closed.
NOISY_NEIGHBOUR = "10.20.40.77"
NOISY_TARGET_ROLE = "web-a"
NOISY_PORT = 8080
# The incident of the last day: a new internal pair (windows-app -> database 22/tcp), which is also a
# new target port (nothing else is ever rejected on the database's interface).
PLANTED_SOURCE_ROLE = "windows-app"
PLANTED_TARGET_ROLE = "database"
PLANTED_PORT = 22
PLANTED_FLOWS = 3  # SYN retries, a few seconds apart
DAY = timedelta(days=1)
# Every minute has at least this many REJECT lines: the noisy neighbour (25 or more), the internet's
# background scans (15 or more) and the SSH scanner, active every minute (12). Bounds --damaged.
MIN_REJECTS_PER_MINUTE = 50


def sample_lines(fmt: FlowLogFormat, minutes: int, seed: int, start: datetime) -> list[str]:
    """Flow-log lines as VPC Flow Logs writes them for `minutes` capture windows from `start`."""
    return list(stream_sample(fmt, minutes, seed, start))


def stream_days(fmt: FlowLogFormat, minutes: int, seed: int, start: datetime, damaged: int = 0,
                days: int = 1) -> Iterator[str]:
    """`minutes` from `start` on each of `days` consecutive days; the last day's are damaged and (with
    more than one day) end with the planted incident. One day is `stream_sample` itself."""
    for day in range(days - 1):
        yield from stream_sample(fmt, minutes, seed, start + day * DAY, day=day)
    yield from stream_sample(fmt, minutes, seed, start + (days - 1) * DAY, damaged, day=days - 1,
                             planted=days > 1)


def stream_sample(fmt: FlowLogFormat, minutes: int, seed: int, start: datetime,
                  damaged: int = 0, day: int = 0, planted: bool = False) -> Iterator[str]:
    """The sample's lines a minute at a time, `damaged` REJECT lines spoiled (see `spoil`), spread
    evenly over the minutes. At most `MIN_REJECTS_PER_MINUTE` per minute can be spoiled. `day` (0 for
    the first) gives each simulated day traffic of its own; `planted` adds the incident."""
    if damaged > minutes * MIN_REJECTS_PER_MINUTE:
        raise ValueError(f"{damaged} damaged lines is more than {minutes} minutes of sample are sure to hold")
    chooser = random.Random(seed)
    spoiled = 0
    for minute, flows in enumerate(minute_flows(minutes, seed, start, day, planted)):
        lines = [render(flow, fmt) for flow in flows]
        quota = damaged // minutes + (1 if minute < damaged % minutes else 0)
        rejects = [index for index, flow in enumerate(flows) if flow.get("action") == "REJECT"]
        for index in chooser.sample(rejects, quota):
            lines[index] = spoil(lines[index], fmt, cut=spoiled % 2 == 0)
            spoiled += 1
        yield from lines


def render(flow: dict[str, str], fmt: FlowLogFormat) -> str:
    # AWS stamps each line with the format's version, the highest among its fields.
    values = {**flow, "version": str(fmt.version)}
    return " ".join(values.get(field, NOT_APPLICABLE) for field in fmt.fields)


def default_start(minutes: int, now: datetime | None = None) -> datetime:
    """The sample ends at the last whole minute before now, so the demo's events look current."""
    now = now or datetime.now(UTC)
    return now.replace(second=0, microsecond=0) - timedelta(minutes=minutes)


def sample_flows(minutes: int, seed: int, start: datetime) -> Iterator[dict[str, str]]:
    for flows in minute_flows(minutes, seed, start):
        yield from flows


def minute_flows(minutes: int, seed: int, start: datetime, day: int = 0,
                 planted: bool = False) -> Iterator[list[dict[str, str]]]:
    """Each minute's flows, in the order VPC Flow Logs writes them; `planted`: the incident in the last."""
    rng = random.Random(seed if day == 0 else f"{seed}/day {day}")
    by_role = {interface.role: interface for interface in INTERFACES}
    base = int(start.timestamp())
    for minute in range(minutes):
        window = base + minute * AGGREGATION_SECONDS
        flows: list[dict[str, str]] = []
        flows += _scans(rng, by_role, window)
        flows += _background_scans(rng, by_role, window)
        flows += _noisy_neighbour(rng, by_role[NOISY_TARGET_ROLE], window)
        flows += _normal_traffic(rng, by_role, window)
        flows.append(_no_data(by_role["idle-nat"], window))
        if minute == minutes // 2:
            flows.append(_skip_data(by_role["database"], window))
        if planted and minute == minutes - 1:
            flows += _incident(rng, by_role, window)
        # CloudWatch receives each interface's records of a window together, in one log stream.
        flows.sort(key=lambda flow: (flow["interface-id"], int(flow["start"])))
        yield flows


def _flow(interface: Interface, window: int, rng: random.Random, **values: object) -> dict[str, str]:
    start = window + rng.randrange(0, 50)
    src, dst = str(values["srcaddr"]), str(values["dstaddr"])
    ingress = dst in (interface.ipv4, interface.ipv6)
    flow = {
        "account-id": ACCOUNT_ID, "interface-id": interface.eni,
        "start": str(start), "end": str(window + AGGREGATION_SECONDS), "log-status": "OK",
        "vpc-id": VPC_ID, "subnet-id": interface.subnet, "instance-id": interface.instance or NOT_APPLICABLE,
        "type": "IPv6" if ":" in src else "IPv4", "pkt-srcaddr": src, "pkt-dstaddr": dst,
        "region": REGION, "az-id": interface.az_id,
        "flow-direction": "ingress" if ingress else "egress",
        "traffic-path": NOT_APPLICABLE if ingress else "8",
    }
    flow.update({key.replace("_", "-"): str(value) for key, value in values.items()})
    return flow


def _reject(rng: random.Random, interface: Interface, window: int, source: str, port: int,
            packets: int = 1) -> dict[str, str]:
    destination = interface.ipv6 if ":" in source and interface.ipv6 else interface.ipv4
    return _flow(
        interface, window, rng, srcaddr=source, dstaddr=destination, srcport=rng.randrange(32768, 61000),
        dstport=port, protocol=TCP, packets=packets, bytes=packets * rng.choice((40, 44, 60)),
        action="REJECT", tcp_flags=SYN,
    )


def _scans(rng: random.Random, by_role: dict[str, Interface], window: int) -> list[dict[str, str]]:
    flows = []
    for scanner in SCANNERS:
        if rng.random() > scanner.active_share:
            continue
        targets = [by_role[role] for role in scanner.targets]
        if ":" in scanner.address:
            targets = [target for target in targets if target.ipv6]
        for _ in range(scanner.probes_per_minute):
            flows.append(_reject(rng, rng.choice(targets), window, scanner.address,
                                 rng.choice(scanner.ports), packets=rng.choice((1, 1, 2))))
    return flows


def _background_scans(rng: random.Random, by_role: dict[str, Interface],
                      window: int) -> list[dict[str, str]]:
    """The internet's background noise: many sources, a probe or two each, most of them back every day."""
    public = [by_role[role] for role in ("web-a", "web-b", "bastion", "windows-app")]
    flows = []
    for _ in range(rng.randrange(15, 30)):
        source = rng.choice(RECURRING_SOURCES) if rng.random() < RECURRING_SHARE else _background_source(rng)
        port = rng.choice((*SCANNED_PORTS, 80, 8080, 5900, 6379, 9200))
        flows.append(_reject(rng, rng.choice(public), window, source, port))
    return flows


def _background_source(rng: random.Random) -> str:
    return f"{rng.choice((45, 80, 91, 103, 162, 185, 194))}.{rng.randrange(256)}." \
           f"{rng.randrange(256)}.{rng.randrange(1, 255)}"


# Background scanning comes back day after day from the same scanning services; a few sources are new.
RECURRING_SHARE = 0.9
RECURRING_SOURCES: tuple[str, ...] = tuple(_background_source(random.Random(f"recurring {n}"))
                                           for n in range(60))


def _noisy_neighbour(rng: random.Random, target: Interface, window: int) -> list[dict[str, str]]:
    return [
        _reject(rng, target, window, NOISY_NEIGHBOUR, NOISY_PORT, packets=rng.randrange(2, 6))
        for _ in range(rng.randrange(25, 40))
    ]


def _incident(rng: random.Random, by_role: dict[str, Interface], window: int) -> list[dict[str, str]]:
    """The planted incident, rejected by the database's security group (recorded on its interface)."""
    source = by_role[PLANTED_SOURCE_ROLE].ipv4
    return [_reject(rng, by_role[PLANTED_TARGET_ROLE], window, source, PLANTED_PORT)
            for _ in range(PLANTED_FLOWS)]


def _normal_traffic(rng: random.Random, by_role: dict[str, Interface], window: int) -> list[dict[str, str]]:
    flows = []
    for role in ("web-a", "web-b"):
        web = by_role[role]
        for _ in range(rng.randrange(120, 180)):
            v6 = web.ipv6 is not None and rng.random() < 0.25
            client = _client_ipv6(rng) if v6 else _client_ipv4(rng)
            server = web.ipv6 if v6 else web.ipv4
            port, packets = rng.randrange(1024, 65535), rng.randrange(4, 40)
            flows.append(_flow(web, window, rng, srcaddr=client, dstaddr=server, srcport=port, dstport=443,
                               protocol=TCP, packets=packets, bytes=packets * rng.randrange(80, 1400),
                               action="ACCEPT", tcp_flags=SYN))
            flows.append(_flow(web, window, rng, srcaddr=server, dstaddr=client, srcport=443, dstport=port,
                               protocol=TCP, packets=packets, bytes=packets * rng.randrange(200, 1500),
                               action="ACCEPT", tcp_flags=FIN_ACK))
        database = by_role["database"]
        for _ in range(rng.randrange(20, 40)):
            packets = rng.randrange(6, 200)
            flows.append(_flow(database, window, rng, srcaddr=web.ipv4, dstaddr=database.ipv4,
                               srcport=rng.randrange(32768, 61000), dstport=5432, protocol=TCP,
                               packets=packets, bytes=packets * rng.randrange(100, 1200), action="ACCEPT",
                               tcp_flags=SYN_ACK))
    for interface in INTERFACES[:5]:
        # DNS to the VPC resolver and HTTPS to AWS APIs from every host.
        flows.append(_flow(interface, window, rng, srcaddr=interface.ipv4, dstaddr="10.20.0.2",
                           srcport=rng.randrange(32768, 61000), dstport=53, protocol=UDP,
                           packets=rng.randrange(1, 6), bytes=rng.randrange(60, 400), action="ACCEPT",
                           tcp_flags=0))
        flows.append(_flow(interface, window, rng, srcaddr=interface.ipv4,
                           dstaddr=f"52.216.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                           srcport=rng.randrange(32768, 61000), dstport=443, protocol=TCP,
                           packets=rng.randrange(10, 90), bytes=rng.randrange(2_000, 90_000), action="ACCEPT",
                           tcp_flags=FIN_ACK, pkt_dst_aws_service="S3"))
    bastion = by_role["bastion"]
    flows.append(_flow(bastion, window, rng, srcaddr=bastion.ipv4, dstaddr=by_role["database"].ipv4,
                       srcport=0, dstport=0, protocol=ICMP,
                       packets=2, bytes=168, action="ACCEPT", tcp_flags=0))
    return flows


def _client_ipv4(rng: random.Random) -> str:
    return f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _client_ipv6(rng: random.Random) -> str:
    return f"2a02:{rng.randrange(0x1000, 0xffff):x}:{rng.randrange(0xffff):x}::{rng.randrange(1, 0xfff):x}"


def _status_only(interface: Interface, window: int, status: str) -> dict[str, str]:
    """NODATA / SKIPDATA: only the interface, the window and the status are known."""
    return {
        "account-id": ACCOUNT_ID, "interface-id": interface.eni,
        "start": str(window), "end": str(window + AGGREGATION_SECONDS), "log-status": status,
        "vpc-id": VPC_ID, "subnet-id": interface.subnet, "region": REGION, "az-id": interface.az_id,
    }


def _no_data(interface: Interface, window: int) -> dict[str, str]:
    return _status_only(interface, window, "NODATA")


def _skip_data(interface: Interface, window: int) -> dict[str, str]:
    return _status_only(interface, window, "SKIPDATA")


def spoil(line: str, fmt: FlowLogFormat, cut: bool) -> str:
    """A line spoiled as a corrupted file would spoil it, to show where bad input goes: cut short (the
    CloudWatch filter never ships it) or with a destination port that is not a number (it reaches the
    transform, which fails its record into errors/)."""
    parts = line.split(" ")
    if cut or "dstport" not in fmt.fields:
        return " ".join(parts[:-2])
    parts[fmt.index_of("dstport")] = "ssh"
    return " ".join(parts)
