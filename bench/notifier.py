"""Notifier benchmark: summarising a 400k-flow archived object against the decode floor.

Floor: gunzip + `json.loads` of each line of the same object (what any reader must at least do).
Summarising includes checking every value's type and testing each new source against the internal ranges.
Targets: summarise ≤ 1.5× the floor; memory growth < 50 MB. Both measured in one run (2026-11, this
machine shared with other jobs: 1.01× the floor and 12.3 MB, was 0.77× before the type and range checks).
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson

from notifier.stream import iter_lines
from notifier.summary import summarise_flows

FLOWS = 400_000
REPEATS = 3
TIME_TARGET = 1.5
MEMORY_TARGET_MB = 50.0
START = 1_795_802_400  # 2026-11-27 18:00 UTC

SCAN_PORTS = (22, 23, 80, 443, 445, 1433, 3306, 3389, 5432, 5900, 6379, 8080, 9200, 27017)


def _flow(rng: random.Random, i: int, interfaces: list[str]) -> dict:
    """A rich-format (v2-v5) REJECT record as the transform archives it."""
    roll = rng.random()
    if roll < 0.25:  # a handful of scanners sweeping many ports
        src, port = f"198.51.100.{rng.randrange(1, 12)}", rng.choice((*SCAN_PORTS, rng.randrange(1, 65536)))
    elif roll < 0.35:  # a noisy IPv6 neighbour
        src, port = "2001:db8:bad::1", 443
    elif roll < 0.45:  # IPv6 background
        src, port = f"2001:db8:{rng.randrange(1 << 16):x}::{rng.randrange(1 << 16):x}", rng.choice(SCAN_PORTS)
    else:  # internet background radiation: tens of thousands of one-off sources
        src = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        port = rng.choice(SCAN_PORTS) if rng.random() < 0.7 else rng.randrange(1, 65536)
    start = START + i * 3600 // FLOWS
    ipv6 = ":" in src
    return {
        "version": 5, "account_id": "123456789012", "interface_id": rng.choice(interfaces),
        "srcaddr": src,
        "dstaddr": "2001:db8::10" if ipv6 else f"10.0.{rng.randrange(4)}.{rng.randrange(2, 250)}",
        "srcport": rng.randrange(1024, 65536), "dstport": port, "protocol": 6 if rng.random() < 0.9 else 17,
        "packets": rng.randrange(1, 4), "bytes": rng.randrange(40, 240), "start": start, "end": start + 59,
        "action": "REJECT", "log_status": "OK", "vpc_id": "vpc-0123456789abcdef0",
        "subnet_id": "subnet-0123456789abcdef0", "instance_id": "i-0123456789abcdef0", "tcp_flags": 2,
        "type": "IPv6" if ipv6 else "IPv4", "pkt_srcaddr": src, "pkt_dstaddr": "10.0.1.25",
        "region": "eu-west-1", "az_id": "euw1-az1", "sublocation_type": None, "sublocation_id": None,
        "pkt_src_aws_service": None, "pkt_dst_aws_service": None, "flow_direction": "ingress",
        "traffic_path": None, "log_group": "/vpc/flow-logs/prod", "log_stream": "eni-0a1b2c3d4e5f60718-all",
    }


def build_object(path: Path) -> tuple[int, int]:
    rng = random.Random(20261127)
    interfaces = [f"eni-{rng.randrange(1 << 68):017x}" for _ in range(40)]
    raw = 0
    with gzip.open(path, "wb", compresslevel=6) as out:
        batch = []
        for i in range(FLOWS):
            line = orjson.dumps(_flow(rng, i, interfaces)) + b"\n"
            raw += len(line)
            batch.append(line)
            if len(batch) == 10_000:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return raw, path.stat().st_size


def floor(path: Path) -> int:
    n = 0
    loads = json.loads
    with gzip.open(path, "rb") as lines:
        for line in lines:
            loads(line)
            n += 1
    return n


def summarise(path: Path) -> int:
    with path.open("rb") as body:
        return summarise_flows(iter_lines(body)).flows


def _timed(fn: Callable[[Path], int], path: Path) -> float:
    started = time.perf_counter()
    fn(path)
    return time.perf_counter() - started


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rejected-flows-400k.gz"
        raw, compressed = build_object(path)
        print(f"object: {FLOWS:,} flows, {raw / 1e6:.0f} MB NDJSON, {compressed / 1e6:.1f} MB gzip")
        assert summarise(path) == FLOWS == floor(path)  # also warms the page cache and imports

        floors, ours = [], []
        for _ in range(REPEATS):  # interleaved so that machine noise hits both alike
            floors.append(_timed(floor, path))
            ours.append(_timed(summarise, path))
        floor_s, ours_s = statistics.median(floors), statistics.median(ours)
        ratio = ours_s / floor_s

        tracemalloc.start()
        summary_flows = summarise(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mb = peak / 1e6

    print(f"floor (gunzip + json.loads per line): {floor_s:.2f} s  (median of {REPEATS})")
    print(f"notifier summarise (stream + orjson + counters): {ours_s:.2f} s  "
          f"({FLOWS / ours_s / 1e3:.0f}k flows/s)")
    print(f"ratio: {ratio:.2f}x the floor (target <= {TIME_TARGET}x)  "
          f"{'OK' if ratio <= TIME_TARGET else 'MISSED'}")
    print(f"memory growth while summarising {summary_flows:,} flows (tracemalloc peak): {peak_mb:.1f} MB "
          f"(target < {MEMORY_TARGET_MB:.0f} MB)  {'OK' if peak_mb < MEMORY_TARGET_MB else 'MISSED'}")
