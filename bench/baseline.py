"""The baseline's cost: DynamoDB reads and writes per object, and the notifier's time with and without it.

Side by side in one run, through the notifier's own one-pass step (`summarise_and_assess`), with
moto's DynamoDB in-process behind a counting client (`bench.dynamo_counting`):

- one object of 400k flows (`bench.notifier`'s, thousands of one-off internet sources): on an empty
  table (every key claimed), the same object again (an S3 redelivery: reads only), and the next hour's
  object (new one-off sources claimed, the recurring keys refreshed once for the hour);
- the demo's objects (`make demo`'s two simulated days, archived by the local pipeline), in order.

moto's UpdateItem costs ~9 ms of CPU here (it parses and validates each expression in Python), far
more than a DynamoDB request costs the Lambda (a few ms of network wait, 8 in flight): the times "with"
are an upper bound, the request counts are exact.
"""

from __future__ import annotations

import gzip
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import orjson
from moto import mock_aws

from bench.dynamo_counting import CountingClient, Usage, item_bytes
from bench.notifier import FLOWS, START, _flow
from contracts.settings import defaults
from local.baseline import create_table
from notifier.baseline.settings import BaselineOptions
from notifier.baseline.step import Baseline, KeyedSummariser, Observed, collector_for, summarise_and_assess
from notifier.networks import InternalNetworks
from notifier.stream import iter_lines

REPEATS = 3
TABLE = "rejected-flows-bench-baseline"
REGION = "us-east-1"
HOUR_S = 3600


def dynamo_client() -> Any:
    """A client of moto's in-process DynamoDB (call inside `mock_aws`)."""
    return boto3.client("dynamodb", region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing", aws_session_token="testing")


def fresh_baseline(client: CountingClient, table: str = TABLE) -> Baseline:
    """A notifier's baseline (the stack's defaults) on a new, empty table."""
    create_table(client, table)
    stack = defaults().baseline  # the stack's defaults (Pulumi.yaml): baselineDays and the rest
    settings = BaselineOptions(table=table, days=stack.days, learning_hours=stack.learning_hours,
                                max_keys=stack.max_keys)
    return Baseline(settings, lambda: client)


def object_uri(path: Path) -> str:
    """`s3://bucket/key` of an object mirrored under an `s3/` folder (as the demo writes them)."""
    parts = path.parts
    return "s3://" + "/".join(parts[parts.index("s3") + 1:]) if "s3" in parts else f"s3://bench/{path.name}"


def notify(path: Path, baseline: Baseline | None, networks: InternalNetworks) -> tuple[float, Observed]:
    """The notifier's step over one archived object (gzip NDJSON): seconds, and what it found."""
    started = time.perf_counter()
    with path.open("rb") as body:
        observed = summarise_and_assess(baseline, object_uri(path), iter_lines(body), networks,
                                        _hour_start(path))
    return time.perf_counter() - started, observed


def _hour_start(path: Path) -> float:
    """The object's arrival hour: its flows' latest hour (as the partition of its arrival would be)."""
    with gzip.open(path, "rb") as lines:
        latest = max(orjson.loads(line)["end"] or 0 for line in lines)
    return float(latest - latest % HOUR_S)


def build_hour(path: Path, seed: int, hour: int) -> int:
    """`bench.notifier`'s 400k-flow object, `hour` hours later, its random part drawn from `seed`."""
    interfaces_rng = random.Random(20261127)
    interfaces = [f"eni-{interfaces_rng.randrange(1 << 68):017x}" for _ in range(40)]
    rng = random.Random(seed)
    with gzip.open(path, "wb", compresslevel=6) as out:
        batch = []
        for i in range(FLOWS):
            record = _flow(rng, i, interfaces)
            record["start"] += hour * HOUR_S
            record["end"] += hour * HOUR_S
            batch.append(orjson.dumps(record) + b"\n")
            if len(batch) == 10_000:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return path.stat().st_size


def measured(client: CountingClient, path: Path, baseline: Baseline,
             networks: InternalNetworks) -> tuple[float, Usage, Observed]:
    """The notifier's step over `path` with the baseline, and what it asked of DynamoDB."""
    before = client.usage.copy()
    seconds, observed = notify(path, baseline, networks)
    return seconds, client.usage.minus(before), observed


def usage_line(usage: Usage) -> str:
    calls = ", ".join(f"{count:,} {name}" for name, count in sorted(usage.calls.items())) or "no requests"
    return (f"{calls}; {usage.items_read:,} items read ({usage.read_units:,.1f} RRU), "
            f"{usage.items_written:,} written ({usage.write_units:,.0f} WRU, "
            f"{usage.conditions_failed:,} conditions failed)")


def _verdicts(observed: Observed) -> str:
    assessment = observed.assessment
    if assessment is None:
        return "no baseline"
    new = sum(1 for v in assessment.verdicts if v.verdict in ("new", "learning"))
    return (f"{assessment.state}: {len(assessment.verdicts):,} keys checked, {new:,} first seen, "
            f"{assessment.unchecked:,} unchecked")


def bench_large(tmp: Path, client: CountingClient, networks: InternalNetworks) -> list[Usage]:
    first, nxt = tmp / "hour-0.gz", tmp / "hour-1.gz"
    build_hour(first, 20261127, 0)
    build_hour(nxt, 20261128, 1)
    hour = datetime.fromtimestamp(START, UTC)
    print(f"object: {FLOWS:,} flows ({first.stat().st_size / 1e6:.1f} MB gzip), {hour:%Y-%m-%d %H:00} "
          "UTC, and the next hour's")
    notify(first, None, networks)  # warms imports and the page cache
    without_s, keyed_s = [], []
    for _ in range(REPEATS):  # interleaved, so that machine noise hits both alike
        without_s.append(notify(first, None, networks)[0])
        keyed_s.append(_keyed_pass(first, networks)[0])
    without, keyed = statistics.median(without_s), statistics.median(keyed_s)
    peak_mb = _keyed_pass(first, networks, trace=True)[1]
    print(f"  the notifier's pass without the baseline: {without:.2f} s; collecting the baseline's keys in "
          f"the same pass: {keyed:.2f} s ({keyed / without:.2f}x, median of {REPEATS}, no DynamoDB); "
          f"memory peak with the keys {peak_mb:.1f} MB")
    baseline = fresh_baseline(client)
    runs = [("empty table (all claimed)", first), ("same object again (redelivery)", first),
            ("next hour's object", nxt)]
    usages = []
    for label, path in runs:
        alone = notify(path, None, networks)[0]  # just before, so that the machine's load is alike
        seconds, usage, observed = measured(client, path, baseline, networks)
        usages.append(usage)
        print(f"  with, {label}: {seconds:.2f} s = {seconds / alone:.2f}x the pass without just before "
              f"({alone:.2f} s; moto's CPU included); {_verdicts(observed)}")
        print(f"      {usage_line(usage)}")
    return usages


def _keyed_pass(path: Path, networks: InternalNetworks, trace: bool = False) -> tuple[float, float]:
    """The summary's pass collecting the baseline's keys (as with BASELINE_TABLE), without DynamoDB:
    seconds, and with `trace` the tracemalloc peak in MB."""
    settings = BaselineOptions(table=TABLE)
    summariser = KeyedSummariser(collector_for(settings, _hour_start(path)), internal=networks)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with path.open("rb") as body:
        summariser.add_lines(iter_lines(body))
    summariser.keys.result()  # type: ignore[union-attr]
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return seconds, peak / 1e6


def demo_objects(tmp: Path) -> list[Path]:
    """The archived objects of `make demo`'s default sample (two simulated days), in order."""
    from contracts.flowlog import parse_format
    from local.__main__ import DEFAULT_DAYS, DEFAULT_MINUTES, DEFAULT_SEED
    from local.pipeline import RunOptions, run
    from local.sample import stream_days

    start = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    fmt = parse_format(None)
    lines = stream_days(fmt, DEFAULT_MINUTES, DEFAULT_SEED, start, 0, DEFAULT_DAYS)
    out = tmp / "demo"
    run(RunOptions(lines=lines, fmt=fmt, out=out, settings=defaults(), source="bench", progress=False))
    return sorted((out / "s3").rglob("rejected/**/*.gz"))


def bench_demo(objects: list[Path], client: CountingClient, networks: InternalNetworks) -> list[Usage]:
    baseline = fresh_baseline(client, TABLE + "-demo")
    without, with_, usages = [], [], []
    for path in objects:
        without.append(min(notify(path, None, networks)[0] for _ in range(REPEATS)))
        seconds, usage, observed = measured(client, path, baseline, networks)
        with_.append(seconds)
        usages.append(usage)
        written = path.name.split("-flows-1-")[-1][:19]  # the object's name holds when Firehose wrote it
        print(f"  object of {written}: {without[-1] * 1000:.0f} ms "
              f"without, {seconds * 1000:.0f} ms with; {_verdicts(observed)}")
        print(f"      {usage_line(usage)}")
    median_without, median_with = statistics.median(without), statistics.median(with_)
    print(f"  median per object: {median_without * 1000:.0f} ms without, {median_with * 1000:.0f} ms with "
          f"({median_with / median_without:.1f}x, moto's CPU); median "
          f"{statistics.median(u.items_read for u in usages):,.0f} items read, "
          f"{statistics.median(u.items_written for u in usages):,.0f} written per object")
    return usages


def item_sizes(client: CountingClient, table: str) -> float:
    """The mean size of the table's key items, as DynamoDB counts it (without its 100-byte overhead)."""
    items = client.scan(TableName=table)["Items"]
    keys = [item for item in items if item["pk"]["S"] != "learning"]
    return sum(map(item_bytes, keys)) / max(len(keys), 1)


def run() -> None:
    networks = InternalNetworks()
    with tempfile.TemporaryDirectory() as tmp:
        # First, outside the in-process mock: the local pipeline runs its own moto server.
        objects = demo_objects(Path(tmp))
        with mock_aws():
            client = CountingClient(dynamo_client())
            print("one object of 400k flows (BASELINE_MAX_KEYS 2,000):")
            bench_large(Path(tmp), client, networks)
            print(f"the demo's {len(objects)} objects (make demo: 15 minutes on 2 simulated days, in order):")
            bench_demo(objects, client, networks)
            size = item_sizes(client, TABLE + "-demo")
            print(f"mean key item of the demo: {size:.0f} bytes (+100 bytes DynamoDB counts per item for "
                  "storage): one read or write request unit each")
