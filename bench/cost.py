"""What the archive costs per month, per way of feeding it, from list prices and ratios measured here.

`make bench` measures, on the real transform, what one GB of flow-log text shipped by a subscription
becomes: compressed bytes into Firehose (with its 5 KB rounding), archive bytes out (GZIP NDJSON), and
Lambda GB-seconds. `python -m bench cost --gb-per-month N --reject-share P` prints the monthly cost of
each path for N GB of flow logs of which a share P is REJECT. `cost_table` is a pure function of the
prices, the ratios and the volume.

Prices: us-east-1 list prices, checked 2026-11 (the `search` tool's copies of the AWS pricing pages;
those pages render their numbers with a script, so where the stored copy shows no number the figure is
the one AWS has published for years and is marked so below). Check the live pages before budgeting.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from contracts.settings import defaults

GB = 1024**3
MB = 1024**2
# Firehose bills Direct PUT records in 5 KB increments (Firehose pricing page, checked 2026-11).
FIREHOSE_RECORD_INCREMENT = 5 * 1024
# Lambda allocates CPU in proportion to memory: 1,769 MB is one full vCPU (Lambda developer guide,
# "Configure Lambda function memory"). A CPU-bound second below that costs 1769/1024 GB-s whatever
# the memory, so GB-s = CPU seconds × 1769 / 1024.
LAMBDA_MB_PER_VCPU = 1769
# The transform's memory in the stack (infra/delivery.py; a test checks they agree).
TRANSFORM_MEMORY_MB = 512
# Firehose writes an archive object at least every archiveBufferSeconds (default 300 s).
SECONDS_PER_MONTH = 30 * 24 * 3600
# Requests per archive object: Firehose's PUT, the notifier's GET, GetObjectTagging and PutObjectTagging.
PUT_CLASS_PER_OBJECT = 2
GET_CLASS_PER_OBJECT = 2


@dataclass(frozen=True)
class Tier:
    """`price` per GB for the GB of the month up to `up_to_gb` (None: every GB beyond)."""

    up_to_gb: float | None
    price: float


def tiered(gb: float, tiers: Sequence[Tier]) -> float:
    """Cost of `gb` in a month under tiered per-GB prices."""
    cost, below = 0.0, 0.0
    for tier in tiers:
        top = math.inf if tier.up_to_gb is None else tier.up_to_gb
        cost += max(0.0, min(gb, top) - below) * tier.price
        below = top
        if gb <= top:
            break
    return cost


@dataclass(frozen=True)
class Prices:
    cloudwatch_vended_ingestion: tuple[Tier, ...]
    cloudwatch_vended_to_firehose: tuple[Tier, ...]
    cloudwatch_storage_gb_month: float
    firehose_direct_put: tuple[Tier, ...]
    firehose_vended_ingestion: tuple[Tier, ...]
    lambda_arm_gb_second: float
    lambda_per_million_requests: float
    s3_standard_gb_month: float
    s3_put_per_thousand: float
    s3_get_per_thousand: float
    athena_per_tb_scanned: float
    inter_region_per_gb: float


TB = 1024.0
# One cited table: us-east-1, checked 2026-11.
PRICES = Prices(
    # CloudWatch pricing, Logs, "Vended Logs", delivered to CloudWatch Logs: $0.50 first 10 TB, then
    # $0.25 (next 20 TB), $0.10 (next 20 TB), $0.05 (over 50 TB).
    cloudwatch_vended_ingestion=(Tier(10 * TB, 0.50), Tier(30 * TB, 0.25), Tier(50 * TB, 0.10),
                                 Tier(None, 0.05)),
    # Same page, vended logs delivered to S3 or Firehose: $0.25 first 10 TB, $0.15 next 20 TB,
    # $0.075 next 20 TB, $0.05 over 50 TB.
    cloudwatch_vended_to_firehose=(Tier(10 * TB, 0.25), Tier(30 * TB, 0.15), Tier(50 * TB, 0.075),
                                   Tier(None, 0.05)),
    # Same page, archive (storage) $0.03 per GB-month, on the compressed size.
    cloudwatch_storage_gb_month=0.03,
    # Firehose pricing, "Direct PUT and KDS as a source": $0.029 first 500 TB, $0.025 next 1.5 PB,
    # $0.020 next 3 PB; records rounded up to 5 KB.
    firehose_direct_put=(Tier(500 * TB, 0.029), Tier(2000 * TB, 0.025), Tier(None, 0.020)),
    # Firehose pricing, "Vended Logs as a source": tiered per GB with no 5 KB rounding. The stored copy
    # of the page has the wording but not the number: ASSUMED equal to Direct PUT's tiers here. Check
    # it (`--vended-ingestion-price` overrides the first tier).
    firehose_vended_ingestion=(Tier(500 * TB, 0.029), Tier(2000 * TB, 0.025), Tier(None, 0.020)),
    # Lambda pricing, Arm: $0.0000133334 per GB-s, $0.20 per million requests.
    lambda_arm_gb_second=0.0000133334,
    lambda_per_million_requests=0.20,
    # S3 pricing, Standard: $0.023 per GB-month (first 50 TB); PUT/COPY/POST/LIST $0.005 per 1,000;
    # GET $0.0004 per 1,000.
    s3_standard_gb_month=0.023,
    s3_put_per_thousand=0.005,
    s3_get_per_thousand=0.0004,
    # Athena pricing, SQL queries: $5 per TB scanned.
    athena_per_tb_scanned=5.0,
    # EC2 data transfer between regions (us-east-1 to another region): $0.02 per GB.
    inter_region_per_gb=0.02,
)


@dataclass(frozen=True)
class Ratios:
    """Per GB of flow-log text shipped to the transform (every line kept, as a REJECT filter ships it)."""

    compressed_gb: float
    """CloudWatch subscription payloads (gzip), what reaches Firehose and CloudWatch storage."""
    firehose_billed_gb: float
    """The same, each record rounded up to 5 KB as Firehose bills Direct PUT."""
    ndjson_gb: float
    """Archived NDJSON before Firehose compresses it (sets how often objects are written)."""
    archive_gb: float
    """GZIP NDJSON in S3."""
    lambda_gb_seconds: float
    """Transform CPU time as Lambda bills it (see LAMBDA_MB_PER_VCPU)."""


@dataclass(frozen=True)
class PathCost:
    path: str
    source: float
    """CloudWatch Logs ingestion and storage, or vended delivery (and transfer between regions)."""
    firehose: float
    transform: float
    s3: float
    athena: float
    note: str = ""

    @property
    def total(self) -> float:
        return self.source + self.firehose + self.transform + self.s3 + self.athena


def _downstream(
    kept_gb: float, ratios: Ratios, prices: Prices, *, firehose_gb: float, firehose_tiers: Sequence[Tier],
    processor_input_gb: float, processor_buffer_mb: float,
) -> tuple[float, float, float, float]:
    """Firehose, transform, S3 and Athena for `kept_gb` of flow-log text a month."""
    firehose = tiered(firehose_gb, firehose_tiers)
    invocations = processor_input_gb * GB / (processor_buffer_mb * MB)
    transform = (kept_gb * ratios.lambda_gb_seconds * prices.lambda_arm_gb_second
                 + invocations / 1e6 * prices.lambda_per_million_requests)
    archive_gb = kept_gb * ratios.archive_gb
    default_buffers = defaults().buffers
    objects = max(kept_gb * ratios.ndjson_gb * GB / (default_buffers.archive_mb * MB),
                  SECONDS_PER_MONTH / default_buffers.archive_seconds)
    s3 = (archive_gb * prices.s3_standard_gb_month
          + objects / 1000 * (PUT_CLASS_PER_OBJECT * prices.s3_put_per_thousand
                              + GET_CLASS_PER_OBJECT * prices.s3_get_per_thousand))
    athena = archive_gb / TB * prices.athena_per_tb_scanned
    return firehose, transform, s3, athena


def cost_table(
    gb_per_month: float, reject_share: float, ratios: Ratios, prices: Prices = PRICES, *,
    retention_days: int | None = None, processor_buffer_mb: float | None = None,
) -> list[PathCost]:
    """Monthly cost of each way of feeding the archive with `gb_per_month` of flow logs (all traffic),
    of which `reject_share` is REJECT. Athena is one full scan of the month's archive; S3 is the first
    month of storage plus requests; retention and buffer default to the stack's defaults."""
    if gb_per_month < 0 or not 0 <= reject_share <= 1:
        raise ValueError("gb_per_month must be >= 0 and reject_share within 0..1")
    settings = defaults()
    retention = settings.retention.log_days if retention_days is None else retention_days
    buffer_mb = settings.buffers.processor_mb if processor_buffer_mb is None else processor_buffer_mb
    kept = gb_per_month * reject_share
    compressed = kept * ratios.compressed_gb
    via_subscription = _downstream(kept, ratios, prices, firehose_gb=kept * ratios.firehose_billed_gb,
                                   firehose_tiers=prices.firehose_direct_put, processor_input_gb=compressed,
                                   processor_buffer_mb=buffer_mb)
    # Flow logs straight into Firehose: plain-text records, billed as vended logs without rounding; the
    # processor buffer then fills with uncompressed text.
    direct = _downstream(kept, ratios, prices, firehose_gb=kept,
                         firehose_tiers=prices.firehose_vended_ingestion, processor_input_gb=kept,
                         processor_buffer_mb=buffer_mb)
    ingestion = (tiered(kept, prices.cloudwatch_vended_ingestion)
                 + compressed * prices.cloudwatch_storage_gb_month * retention / 30)
    already_paid = tiered(gb_per_month, prices.cloudwatch_vended_ingestion)
    return [
        PathCost("existing group + subscription", 0.0, *via_subscription,
                 note=f"the group's own ingestion (${already_paid:,.2f} for all traffic) is already paid"),
        PathCost("stack-created group (REJECT only)", ingestion, *via_subscription),
        PathCost("straight to Firehose", tiered(kept, prices.cloudwatch_vended_to_firehose), *direct,
                 note="vended delivery; Firehose vended-logs price assumed, see PRICES"),
        PathCost("central collection, same region", ingestion, *via_subscription,
                 note="member pays the group; destinations cost nothing"),
        PathCost("central collection, other region", ingestion + compressed * prices.inter_region_per_gb,
                 *via_subscription, note="plus transfer of the compressed payloads between regions"),
    ]


def format_table(rows: Sequence[PathCost], gb_per_month: float, reject_share: float) -> str:
    head = (f"{gb_per_month:,.0f} GB/month of flow logs, {reject_share:.0%} REJECT "
            f"({gb_per_month * reject_share:,.0f} GB kept), USD per month, us-east-1 list prices")
    lines = [head,
             f"| {'path':<34} | {'source':>9} | {'Firehose':>8} | {'Lambda':>7} | {'S3':>7} | {'Athena':>6} "
             f"| {'total':>9} | note",
             f"|{'-' * 36}|{'-' * 11}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 11}|------"]
    for row in rows:
        lines.append(f"| {row.path:<34} | {row.source:>9,.2f} | {row.firehose:>8,.2f} "
                     f"| {row.transform:>7,.2f} | {row.s3:>7,.2f} | {row.athena:>6,.2f} "
                     f"| {row.total:>9,.2f} | {row.note}")
    return "\n".join(lines)


def measure_ratios(repeats: int | None = None) -> Ratios:
    """Run the real transform on an all-REJECT batch as a subscription ships it (version-2 lines)."""
    from bench import transform as transform_bench
    from transform.handler import logger

    level = logger.log_level
    logger.setLevel("WARNING")  # one info line per invocation would flood the output
    try:
        return _measure(transform_bench, repeats)
    finally:
        logger.setLevel(level)


def _measure(transform_bench: Any, repeats: int | None) -> Ratios:
    event = transform_bench.build_event(1.0)
    payloads = [base64.b64decode(record["data"]) for record in event["records"]]
    raw = sum(len(log_event["message"].encode()) + 1
              for payload in payloads for log_event in json.loads(gzip.decompress(payload))["logEvents"])
    compressed = sum(map(len, payloads))
    billed = sum(math.ceil(len(p) / FIREHOSE_RECORD_INCREMENT) * FIREHOSE_RECORD_INCREMENT for p in payloads)
    response = transform_bench.our_transform(event)
    ndjson = b"".join(base64.b64decode(r["data"]) for r in response["records"] if r["result"] == "Ok")
    archive = len(gzip.compress(ndjson, compresslevel=6))
    if repeats is None:
        (cpu_seconds,) = transform_bench.interleaved_medians(lambda: transform_bench.our_transform(event))
    else:
        runs = [_cpu_seconds(lambda: transform_bench.our_transform(event)) for _ in range(repeats)]
        cpu_seconds = sorted(runs)[len(runs) // 2]
    gb_seconds = cpu_seconds * LAMBDA_MB_PER_VCPU / 1024
    return Ratios(compressed_gb=compressed / raw, firehose_billed_gb=billed / raw,
                  ndjson_gb=len(ndjson) / raw, archive_gb=archive / raw,
                  lambda_gb_seconds=gb_seconds * GB / raw)


def _cpu_seconds(fn: Callable[[], object]) -> float:
    began = time.process_time()
    fn()
    return time.process_time() - began


def describe(ratios: Ratios) -> str:
    per_compressed = ratios.lambda_gb_seconds / ratios.compressed_gb
    return "\n".join([
        "measured on the transform (all-REJECT batches of version-2 lines, as a REJECT subscription ships):",
        f"  compressed bytes in:  {ratios.compressed_gb:.3f} GB per GB of flow-log text "
        f"({1 / ratios.compressed_gb:.1f}x smaller; {ratios.firehose_billed_gb:.3f} GB as Firehose bills "
        "it, 5 KB rounding)",
        f"  archive bytes out:    {ratios.archive_gb:.3f} GB of GZIP NDJSON per GB of flow-log text "
        f"({ratios.ndjson_gb:.2f} GB before compression)",
        f"  Lambda:               {ratios.lambda_gb_seconds:,.0f} GB-s per GB of flow-log text = "
        f"{per_compressed:,.0f} GB-s per GB of compressed input (CPU time here x {LAMBDA_MB_PER_VCPU}/1024)",
    ])


def run() -> None:
    """`make bench`: the measured ratios and the table for 1 TB/month at 5% and 20% REJECT."""
    ratios = measure_ratios()
    print(describe(ratios))
    for share in (0.05, 0.20):
        print()
        print(format_table(cost_table(1024, share, ratios), 1024, share))


def main(argv: Sequence[str], ratios: Ratios | None = None) -> int:
    """`python -m bench cost --gb-per-month N --reject-share P`."""
    parser = argparse.ArgumentParser(prog="python -m bench cost",
                                     description="Monthly cost of each way of feeding the archive.")
    parser.add_argument("--gb-per-month", type=float, required=True,
                        help="GB of flow logs (all traffic) per month")
    parser.add_argument("--reject-share", type=float, required=True,
                        help="share of those flow logs that are REJECT, 0..1 (e.g. 0.05)")
    parser.add_argument("--vended-ingestion-price", type=float, default=None,
                        help="Firehose's first-tier price per GB for vended logs, if you know it")
    args = parser.parse_args(list(argv))
    if args.gb_per_month < 0 or not 0 <= args.reject_share <= 1:
        parser.error("--gb-per-month must be >= 0 and --reject-share within 0..1")
    prices = PRICES
    if args.vended_ingestion_price is not None:
        first, *rest = prices.firehose_vended_ingestion
        prices = replace(prices, firehose_vended_ingestion=(replace(first, price=args.vended_ingestion_price),
                                                            *rest))
    measured = ratios if ratios is not None else measure_ratios()
    print(describe(measured))
    print()
    print(format_table(cost_table(args.gb_per_month, args.reject_share, measured, prices),
                       args.gb_per_month, args.reject_share))
    return 0
