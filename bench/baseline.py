"""Baseline benchmark: its cost per object, and a simulated week of one VPC's rejected traffic.

1. One object of 400k flows (bench/notifier.py's): the notifier's summary alone, and with the baseline's
   key collection in the same pass (median of 3, interleaved); then the DynamoDB requests the baseline
   makes for it against moto (a cold table, the same keys 2 hours later, and 10 minutes later).
2. A week, one object per hour, with the traffic real VPCs have (a chronic internal reject, a monitoring
   agent refused every hour, internet scanning, a stateless NACL's rejected replies from internet HTTPS
   servers and from the internal DNS resolver) and three planted incidents (new internal pairs). Reports
   the pages (events tagged `new_internal:true`) that were planted news and those that were not, against
   today's rule (a `warning` for any internal source).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from contracts.baseline import EXPIRY_ATTRIBUTE, PARTITION_KEY
from notifier.baseline.keys import HOUR_S
from notifier.baseline.settings import BaselineSettings
from notifier.baseline.step import Baseline, summarise_and_assess
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.render import flow_event
from notifier.stream import iter_lines
from notifier.summary import summarise_flows

REPEATS = 3
START = 1_795_802_400  # 2026-11-27 18:00 UTC, as bench/notifier.py
TABLE = "rejected-flows-baseline-bench"
CTX = EventContext(stack="bench", athena_table='"rejected_flows"."rejected_flows"')
WEEK_HOURS = 7 * 24
LEARNING_HOURS = 24
# Planted incidents: hour of the week -> the new internal pairs (source, destination, ports).
INCIDENTS: dict[int, tuple[str, str, tuple[int, ...]]] = {
    2 * 24 + 14: ("10.20.1.10", "10.20.11.20", (22, 3306, 5432, 6379)),  # a compromised web host sweeps
    4 * 24 + 9: ("10.20.2.10", "10.20.11.20", (5433,)),  # a deploy points an app at the wrong port
    5 * 24 + 20: ("10.20.12.30", "10.20.0.5", (3389,)),  # RDP towards the bastion
}
ENI = {"10.20.1.10": "eni-0a1b2c3d4e5f60718", "10.20.2.10": "eni-0b2c3d4e5f6071829",
       "10.20.11.20": "eni-0d4e5f60718293041", "10.20.0.5": "eni-0c3d4e5f607182930",
       "10.20.12.30": "eni-0e5f6071829304152"}


def _moto_dynamodb() -> Any:
    import boto3
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        os.environ.setdefault(name, value)
    mock = mock_aws()
    mock.start()
    client = boto3.client("dynamodb")
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}])
    client.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE})
    return mock, client


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- 1. the cost per object -----------------------------------------------------------------------

def cost() -> None:
    from bench.notifier import FLOWS, build_object

    settings = BaselineSettings(TABLE, days=14, learning_hours=0, max_keys=2000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rejected-flows-400k.gz"
        build_object(path)
        hour = float(START)

        def plain() -> None:
            with path.open("rb") as body:
                summarise_flows(iter_lines(body))

        def keyed() -> None:
            with path.open("rb") as body:
                summarise_and_assess(None, "", iter_lines(body), InternalNetworks(), hour)

        plain_s, keyed_s = [], []
        for _ in range(REPEATS):
            plain_s.append(_timed(plain))
            keyed_s.append(_timed(keyed))
        without, with_names = statistics.median(plain_s), statistics.median(keyed_s)

        mock, client = _moto_dynamodb()
        try:
            baseline = Baseline(settings, lambda: client)
            from notifier.baseline.step import KeyedSummariser, collector_for

            keys = collector_for(settings, hour)
            summariser = KeyedSummariser(keys)
            tracemalloc.start()
            with path.open("rb") as body:
                summariser.add_lines(iter_lines(body))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            object_keys = keys.result()
            rows = []
            for label, object_id in (("cold table", "s3://b/first"), ("same keys, 2 h later", "s3://b/later"),
                                     ("same keys, 10 min after that", "s3://b/soon")):
                shift = {"cold table": 0, "same keys, 2 h later": 7200}.get(label, 7800)
                shifted = type(object_keys)(tuple(type(s)(s.key, s.flows, s.time + shift)
                                                  for s in object_keys.sightings), object_keys.unchecked)
                store = baseline.store
                reads, writes = store.reads, store.writes
                seconds = _timed(lambda oid=object_id, k=shifted: baseline.assess(oid, k))  # type: ignore
                rows.append((label, store.reads - reads, store.writes - writes, seconds))
        finally:
            mock.stop()
    print(f"object: {FLOWS:,} flows; {len(object_keys.sightings):,} keys checked, {object_keys.unchecked:,} "
          f"unchecked{' (a lower bound)' if object_keys.more_unchecked else ''}")
    print(f"summary alone: {without:.2f} s; with the baseline's keys and names in the same pass: "
          f"{with_names:.2f} s ({with_names / without:.2f}x, median of {REPEATS})")
    print(f"memory while collecting (summary + keys, tracemalloc peak): {peak / 1e6:.1f} MB")
    for label, reads, writes, seconds in rows:
        print(f"DynamoDB, {label}: {reads:,} item reads ({-(-reads // 100)} BatchGetItem), {writes:,} "
              f"UpdateItem; {seconds:.2f} s against moto in-process (not DynamoDB's latency)")


# --- 2. a simulated week --------------------------------------------------------------------------

def _flow(rng: random.Random, hour_start: int, src: str, dst: str, srcport: int, dstport: int,
          protocol: int = 6) -> dict[str, Any]:
    start = hour_start + rng.randrange(0, 3000)
    return {"version": 5, "account_id": "123456789012", "interface_id": ENI.get(dst, ENI["10.20.1.10"]),
            "srcaddr": src, "dstaddr": dst, "srcport": srcport, "dstport": dstport, "protocol": protocol,
            "packets": 1, "bytes": 60, "start": start, "end": start + 59, "action": "REJECT",
            "log_status": "OK", "vpc_id": "vpc-0c4f1e2d3a5b69788", "region": "eu-west-1",
            "flow_direction": "ingress", "log_group": "/vpc/flow-logs/prod"}


def _internet_address(rng: random.Random) -> str:
    """A random public IPv4 address (never one of the internal ranges, which would be internal news)."""
    networks = InternalNetworks()
    while True:
        address = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if not networks.contains(address):
            return address


def week_flows(hour: int, rng: random.Random) -> list[dict[str, Any]]:
    """One hour of the VPC's rejected flows; the planted incident of that hour, if any."""
    at = START + hour * HOUR_S
    flows = [_flow(rng, at, "10.20.40.77", "10.20.1.10", 40000 + i, 8080) for i in range(30)]  # chronic
    flows += [_flow(rng, at, "10.20.0.9", "10.20.11.20", 50000 + i, 9100) for i in range(6)]  # agent
    # A stateless NACL rejects the replies of HTTPS servers on the internet and of the DNS resolver.
    flows += [_flow(rng, at, f"52.94.{rng.randrange(2)}.{rng.randrange(1, 6)}", "10.20.1.10", 443,
                    rng.randrange(1024, 65536)) for _ in range(20)]
    flows += [_flow(rng, at, "10.20.0.2", "10.20.2.10", 53, rng.randrange(32768, 61000), 17)
              for _ in range(10)]
    # Internet scanning: three regulars and a stream of one-off sources, on common and random ports.
    for scanner in ("198.51.100.23", "203.0.113.77", "192.0.2.145"):
        flows += [_flow(rng, at, scanner, rng.choice(("10.20.1.10", "10.20.0.5")), rng.randrange(1024, 65536),
                        rng.choice((22, 23, 445, 3389, 1433))) for _ in range(8)]
    flows += [_flow(rng, at, _internet_address(rng), "10.20.1.10", rng.randrange(1024, 65536),
                    rng.choice((22, 80, 443, 3389, rng.randrange(1, 65536)))) for _ in range(15)]
    if hour in INCIDENTS:
        src, dst, ports = INCIDENTS[hour]
        flows += [_flow(rng, at, src, dst, rng.randrange(32768, 61000), port)
                  for port in ports for _ in range(3)]
    return flows


def week() -> None:
    settings = BaselineSettings(TABLE + "-week", days=14, learning_hours=LEARNING_HOURS, max_keys=2000)
    rng = random.Random(20261202)
    mock, client = _moto_dynamodb()
    try:
        client.create_table(TableName=settings.table, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}])
        baseline = Baseline(settings, lambda: client)
        pages_planted: list[tuple[int, str]] = []
        pages_other: list[tuple[int, str]] = []
        warnings_today = learning = new_targets = new_sources = 0
        started = time.perf_counter()
        for hour in range(WEEK_HOURS):
            at = datetime.fromtimestamp(START + hour * HOUR_S, UTC)
            key = (f"rejected/year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}/"
                   f"rejected-flows-1-{at:%Y-%m-%d-%H}-10-00-bench.gz")
            obj = ObjectRef("bench-archive", key)
            lines = [orjson.dumps(f) for f in week_flows(hour, rng)]
            observed = summarise_and_assess(baseline, obj.uri, lines, InternalNetworks(), at.timestamp())
            event = flow_event(observed.summary, obj, CTX, at.timestamp() + 900, observed.assessment,
                               observed.names)
            warnings_today += observed.summary.has_internal_sources
            tags = set(event.tags)
            learning += "baseline:learning" in tags
            new_targets += "new_targets:true" in tags
            new_sources += "new_sources:true" in tags
            if "new_internal:true" in tags:
                (pages_planted if hour in INCIDENTS else pages_other).append((hour, event.title))
        seconds = time.perf_counter() - started
        store = baseline.store
    finally:
        mock.stop()
    print(f"week: {WEEK_HOURS} hourly objects, learning {LEARNING_HOURS} h ({learning} objects learning), "
          f"{seconds:.1f} s against moto")
    print(f"today's rule (warning for any internal source): {warnings_today} warnings")
    print(f"with the baseline: {len(pages_planted) + len(pages_other)} pages (new_internal:true): "
          f"{len(pages_planted)} of {len(INCIDENTS)} planted incidents, {len(pages_other)} not planted")
    for hour, title in pages_planted + pages_other:
        print(f"  {'planted' if hour in INCIDENTS else 'NOT planted'}, hour {hour} of the week: {title}")
    print(f"info events with new_targets:true {new_targets}, with new_sources:true {new_sources} "
          "(internet scanning: not pages)")
    print(f"DynamoDB over the week: {store.reads:,} item reads, {store.writes:,} writes "
          f"({store.reads / WEEK_HOURS:.0f} reads, {store.writes / WEEK_HOURS:.0f} writes per object)")


def run() -> None:
    cost()
    week()


if __name__ == "__main__":
    run()
