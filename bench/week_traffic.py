"""A simulated week of one VPC's rejected traffic, an archived object an hour, with planted incidents. Pure.

Besides the incidents, what real VPCs reject every hour:
- **chronic rejects**: a load balancer's health check against a port the security group closed, and a
  monitoring agent scraping a port that is not open on the database;
- **internet scanning**: scanning services that come back every day (a pool of recurring addresses
  probing the public interfaces' usual ports) and one-off sources seen once;
- **a stateless NACL's rejected replies** (well-known port → ephemeral port, a new ephemeral port each
  time): the VPC resolver's answers and an internal HTTPS service's replies to clients in a subnet whose
  inbound NACL lacks the ephemeral range, and S3's replies to the API host;
- **churn**: the health-checking instance is replaced mid-week and comes back with a new address (its
  health check is then a new internal pair: real news, though not an incident).

Planted incidents: new internal pairs (lateral movement) that go on for a few hours once started, and a
new target port probed from the internet. Deterministic for a seed. Records have the archive's shape
(`docs/architecture.md`, The archived record).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

HOUR_S = 3600
TCP, UDP = 6, 17
WEEK_START = 1_795_392_000  # 2026-11-23 00:00 UTC, a Monday
ACCOUNT = "123456789012"
VPC = "vpc-0a1b2c3d4e5f60789"

# The VPC's interfaces: role -> (interface id, address).
HOSTS: dict[str, tuple[str, str]] = {
    "web-1": ("eni-0aa1b2c3d4e5f6001", "10.0.1.10"),
    "web-2": ("eni-0aa1b2c3d4e5f6002", "10.0.1.11"),
    "api": ("eni-0aa1b2c3d4e5f6003", "10.0.2.10"),
    "db": ("eni-0aa1b2c3d4e5f6004", "10.0.3.10"),
    "agent": ("eni-0aa1b2c3d4e5f6005", "10.0.4.10"),
    "bastion": ("eni-0aa1b2c3d4e5f6006", "10.0.0.5"),
}
RESOLVER = "10.0.0.2"
HEALTH_CHECKER = "10.0.5.20"
HEALTH_CHECKER_REPLACED = "10.0.5.37"  # the instance that replaces it
REPLACED_AT_HOUR = 3 * 24 + 6  # Thursday 06:00
HEALTH_PORT = 8081
AGENT_PORT = 9100
PUBLIC = ("web-1", "web-2", "bastion")
SCANNED_PORTS = (22, 23, 80, 443, 445, 3389)
S3_ADDRESSES = tuple(f"52.216.{n}.{n * 7 % 250 + 1}" for n in range(8))


@dataclass(frozen=True)
class Incident:
    """Planted news: `source` rejected towards `target`:`port` from `hour` on for `hours` hours."""

    name: str
    hour: int  # hours since WEEK_START
    source: str
    target_role: str
    port: int
    hours: int = 3
    internal: bool = True  # False: an internet source probing a new port (a new target port, no page)


INCIDENTS: tuple[Incident, ...] = (
    Incident("web-1 tries SSH on the database", 1 * 24 + 14, HOSTS["web-1"][1], "db", 22),
    Incident("api probes redis on the database", 2 * 24 + 3, HOSTS["api"][1], "db", 6379),
    Incident("web-2 tries SSH on the bastion", 3 * 24 + 11, HOSTS["web-2"][1], "bastion", 22),
    Incident("an unknown host tries postgres", 4 * 24 + 20, "10.0.7.33", "db", 5432, hours=1),
    Incident("api tries SMB on the agent host", 5 * 24 + 9, HOSTS["api"][1], "agent", 445),
    Incident("kubelet probed from the internet", 2 * 24 + 16, "198.51.100.250", "web-1", 10250,
             internal=False),
)


@dataclass(frozen=True)
class HourObject:
    """One archived object: its arrival hour (epoch s) and its records."""

    hour: int  # hours since WEEK_START
    hour_start: int
    records: list[dict[str, object]]


def record(rng: random.Random, minute_s: int, interface: str, src: str, dst: str, srcport: int,
           dstport: int, protocol: int = TCP) -> dict[str, object]:
    start = minute_s + rng.randrange(0, 50)
    return {
        "version": 2, "account_id": ACCOUNT, "interface_id": interface, "srcaddr": src, "dstaddr": dst,
        "srcport": srcport, "dstport": dstport, "protocol": protocol, "packets": rng.randrange(1, 4),
        "bytes": rng.randrange(40, 240), "start": start, "end": minute_s + 60, "action": "REJECT",
        "log_status": "OK", "vpc_id": VPC, "region": "us-east-1",
    }


def _ephemeral(rng: random.Random) -> int:
    return rng.randrange(32768, 61000)


def _chronic(rng: random.Random, hour: int, t0: int) -> list[dict[str, object]]:
    web2, db = HOSTS["web-2"], HOSTS["db"]
    checker = HEALTH_CHECKER if hour < REPLACED_AT_HOUR else HEALTH_CHECKER_REPLACED
    flows = [record(rng, t0 + m * 60, web2[0], checker, web2[1], _ephemeral(rng), HEALTH_PORT)
             for m in range(60)]
    flows += [record(rng, t0 + m * 60, db[0], HOSTS["agent"][1], db[1], _ephemeral(rng), AGENT_PORT)
              for m in range(0, 60, 5)]
    return flows


def _nacl_replies(rng: random.Random, t0: int) -> list[dict[str, object]]:
    api, web1 = HOSTS["api"], HOSTS["web-1"]
    flows = []
    for _ in range(rng.randrange(20, 40)):  # the resolver's answers, rejected into the API's subnet
        flows.append(record(rng, t0 + rng.randrange(60) * 60, api[0], RESOLVER, api[1], 53, _ephemeral(rng),
                            UDP))
    for _ in range(rng.randrange(10, 20)):  # the API's HTTPS replies, rejected into web-1's subnet
        flows.append(record(rng, t0 + rng.randrange(60) * 60, web1[0], api[1], web1[1], 443, _ephemeral(rng)))
    for _ in range(rng.randrange(5, 15)):  # S3's replies to the API host
        flows.append(record(rng, t0 + rng.randrange(60) * 60, api[0], rng.choice(S3_ADDRESSES), api[1], 443,
                            _ephemeral(rng)))
    return flows


def _recurring_scanners(seed: int) -> tuple[str, ...]:
    rng = random.Random(f"{seed} recurring scanners")
    return tuple(f"{rng.choice((45, 71, 89, 162, 185, 193))}.{rng.randrange(256)}.{rng.randrange(256)}."
                 f"{rng.randrange(1, 255)}" for _ in range(24))


# First octets of private, shared, loopback and link-local ranges: never an internet scanner's.
NOT_INTERNET = frozenset((0, 10, 100, 127, 169, 172, 192))


def _internet_address(rng: random.Random) -> str:
    first = rng.choice([octet for octet in range(1, 224) if octet not in NOT_INTERNET])
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _scanning(rng: random.Random, t0: int, recurring: tuple[str, ...]) -> list[dict[str, object]]:
    flows = []
    for scanner in recurring:
        if rng.random() < 0.3:  # each recurring scanner shows up in about 3 hours of 10
            for _ in range(rng.randrange(2, 6)):
                interface, address = HOSTS[rng.choice(PUBLIC)]
                flows.append(record(rng, t0 + rng.randrange(60) * 60, interface, scanner, address,
                                    _ephemeral(rng), rng.choice(SCANNED_PORTS)))
    for _ in range(rng.randrange(3, 9)):  # one-off sources, seen once
        source = _internet_address(rng)
        interface, address = HOSTS[rng.choice(PUBLIC)]
        flows.append(record(rng, t0 + rng.randrange(60) * 60, interface, source, address, _ephemeral(rng),
                            rng.choice(SCANNED_PORTS)))
    return flows


def _incidents(rng: random.Random, hour: int, t0: int) -> list[dict[str, object]]:
    flows = []
    for incident in INCIDENTS:
        if incident.hour <= hour < incident.hour + incident.hours:
            interface, address = HOSTS[incident.target_role]
            for _ in range(rng.randrange(2, 6)):
                flows.append(record(rng, t0 + rng.randrange(60) * 60, interface, incident.source, address,
                                    _ephemeral(rng), incident.port))
    return flows


def week(days: int = 7, seed: int = 2026) -> Iterator[HourObject]:
    """An archived object per hour for `days` days from WEEK_START."""
    recurring = _recurring_scanners(seed)
    for hour in range(days * 24):
        rng = random.Random(f"{seed} hour {hour}")
        t0 = WEEK_START + hour * HOUR_S
        flows = (_chronic(rng, hour, t0) + _nacl_replies(rng, t0) + _scanning(rng, t0, recurring)
                 + _incidents(rng, hour, t0))
        flows.sort(key=lambda flow: (str(flow["interface_id"]), int(str(flow["start"]))))
        yield HourObject(hour, t0, flows)


def incidents_within(days: int) -> tuple[Incident, ...]:
    return tuple(incident for incident in INCIDENTS if incident.hour < days * 24)
