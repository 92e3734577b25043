"""Transform speed: the handler against the decode floor and a naive transform, side by side.

The decode floor is what any transform must do (base64, gunzip, parse each CloudWatch message). Targets:
the handler takes at most 2.0x the floor's CPU time at 20% REJECT and at most 3.5x at 100% REJECT, and
is at least 2x faster than a naive transform (a dict and json.dumps per kept line) at 100% REJECT.
Inputs are ~0.4 MB of compressed CloudWatch payloads, as Firehose would buffer them.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from contracts.cloudwatch_logs import LogEvent, data_message
from contracts.firehose import RESPONSE_LIMIT_BYTES
from contracts.flowlog import DEFAULT_FORMAT, NUMERIC_FIELDS, RICH_FORMAT, parse_format
from contracts.settings import defaults
from local.cloudwatch import FirehoseRecord, transformation_event
from local.lambdas import FakeContext
from local.sample import sample_lines
from transform.encoder import LineEncoder
from transform.firehose import base64_size
from transform.handler import handler, logger

TARGET_COMPRESSED_BYTES = 400_000
EVENTS_PER_MESSAGE = 400
REPEATS = 15
SCANNED_PORTS = (22, 23, 445, 3389, 1433, 3306, 5432, 6379)
SAMPLE_START = datetime(2026, 11, 27, tzinfo=UTC)
SAMPLE_START_MS = int(SAMPLE_START.timestamp() * 1000)
CONTEXT = FakeContext("rejected-flows-bench-transform",
                      "arn:aws:lambda:us-east-1:123456789012:function:rejected-flows-bench-transform")


def flow_line(rng: random.Random, reject: bool, start: int) -> str:
    """A version-2 flow-log line with realistic spreads of addresses, ports and counters."""
    eni = f"eni-0{rng.randrange(16**16):016x}"[:21]
    if rng.random() < 0.1:
        src, dst = f"2600:1f18:{rng.randrange(65536):x}::{rng.randrange(65536):x}", "2600:1f18:abcd::10"
    else:
        octets = (rng.choice((45, 89, 185, 193)), rng.randrange(256), rng.randrange(256), rng.randrange(256))
        src = ".".join(map(str, octets))
        dst = f"10.0.{rng.randrange(4)}.{rng.randrange(1, 255)}"
    dstport = rng.choice(SCANNED_PORTS) if reject else rng.choice((443, 80, 8080))
    packets = rng.randrange(1, 40)
    action = "REJECT" if reject else "ACCEPT"
    return (f"2 123456789012 {eni} {src} {dst} {rng.randrange(1024, 65536)} {dstport} 6 {packets} "
            f"{packets * rng.randrange(40, 1500)} {start} {start + 60} {action} OK")


def build_event(reject_share: float, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    records: list[FirehoseRecord] = []
    compressed = 0
    start = 1_764_201_600
    while compressed < TARGET_COMPRESSED_BYTES:
        lines = [flow_line(rng, rng.random() < reject_share, start) for _ in range(EVENTS_PER_MESSAGE)]
        payload = data_message([LogEvent(line, start * 1000) for line in lines]).encode()
        records.append(FirehoseRecord(payload))
        compressed += len(payload)
    return transformation_event(records)


def decode_floor(event: dict[str, Any]) -> None:
    for record in event["records"]:
        json.loads(gzip.decompress(base64.b64decode(record["data"])))


def naive_transform(event: dict[str, Any]) -> dict[str, Any]:
    """What a first version does: a dict and json.dumps per kept line."""
    fmt = parse_format(None)
    out = []
    for record in event["records"]:
        message = json.loads(gzip.decompress(base64.b64decode(record["data"])))
        lines = []
        for log_event in message["logEvents"]:
            values = log_event["message"].split(" ")
            flow = {
                column: None if value == "-" else int(value) if field in NUMERIC_FIELDS else value
                for field, column, value in zip(fmt.fields, fmt.columns, values, strict=True)
            }
            if flow["action"] != "REJECT":
                continue
            flow["log_group"], flow["log_stream"] = message["logGroup"], message["logStream"]
            lines.append(json.dumps(flow) + "\n")
        data = base64.b64encode("".join(lines).encode()).decode()
        out.append({"recordId": record["recordId"], "result": "Ok" if lines else "Dropped", "data": data})
    return {"records": out}


def our_transform(event: dict[str, Any]) -> dict[str, Any]:
    """The real handler; its one log line and metrics flush per invocation go to /dev/null."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return handler(event, CONTEXT)


def interleaved_medians(*fns: Callable[[], Any]) -> list[float]:
    """Median CPU seconds of each function, run in turn so machine noise hits them alike.

    CPU time, not wall time: this machine is shared, and time spent descheduled is not ours.
    """
    samples: list[list[float]] = [[] for _ in fns]
    for round_ in range(REPEATS + 1):
        for fn, times in zip(fns, samples, strict=True):
            began = time.process_time()
            fn()
            if round_:  # the first round warms caches
                times.append(time.process_time() - began)
    return [statistics.median(times) for times in samples]


def run() -> None:
    logger.setLevel("WARNING")  # one info line per invocation would flood the table
    print(f"{'REJECT share':>12} {'input':>10} {'flows':>7} {'floor cpu ms':>12} {'ours':>8} {'naive':>9} "
          f"{'ours/floor':>10} {'naive/ours':>10}")
    for share, target in ((0.2, 2.0), (1.0, 3.5)):
        event = build_event(share)
        size = sum(len(base64.b64decode(r["data"])) for r in event["records"])
        flows = len(event["records"]) * EVENTS_PER_MESSAGE
        floor, ours, naive = interleaved_medians(
            partial(decode_floor, event), partial(our_transform, event), partial(naive_transform, event),
        )
        print(f"{share:>12.0%} {size:>10,} {flows:>7,} {floor * 1e3:>12.1f} {ours * 1e3:>8.1f} "
              f"{naive * 1e3:>9.1f} {ours / floor:>9.2f}x {naive / ours:>9.2f}x"
              f"   (target ours/floor <= {target}x{', naive/ours >= 2x' if share == 1.0 else ''})")
        out_bytes = sum(len(r["data"]) for r in our_transform(event)["records"])
        print(f"{'':>12} response data {out_bytes:,} bytes (base64) = {out_bytes / size:.1f}x the input")
    buffer_sizing()


def buffer_sizing() -> None:
    """How much output an all-REJECT batch makes per MB of input, for the processor buffer size.

    Uses the demo's realistic sample, shipped as the subscription filter ships it (with
    `extractedFields`), and prints the largest processor buffer whose response fits 6,000,000 bytes.
    """
    print("\nprocessor buffer sizing (all-REJECT batches of the local sample, with extractedFields):")
    for name, text in (("version 2", DEFAULT_FORMAT), ("rich v2-v5", RICH_FORMAT)):
        fmt = parse_format(text)
        rejects = [line for line in sample_lines(fmt, 30, 7, SAMPLE_START) if " REJECT " in line]
        encoder = LineEncoder(fmt, frozenset({"REJECT"}))
        compressed = raw_messages = archived = 0
        for first in range(0, len(rejects), EVENTS_PER_MESSAGE):
            chunk = rejects[first:first + EVENTS_PER_MESSAGE]
            events = [LogEvent(line, SAMPLE_START_MS, extracted_fields=dict(zip(fmt.columns, line.split(" "),
                                                                                  strict=True)))
                      for line in chunk]
            message = data_message(events)
            compressed += len(message.encode())
            raw_messages += sum(len(line) for line in chunk)
            archived += len(encoder.encode_events(message.log_events, "/vpc/flow-logs/prod",
                                                  "eni-0123456789abcdef0-all").ndjson())
        growth = base64_size(archived) / compressed
        print(f"  {name:>10}: archived line {archived / raw_messages:.2f}x its message; response "
              f"{growth:.1f}x the compressed input -> at most {RESPONSE_LIMIT_BYTES / growth / 1e6:.2f} MB "
              f"of buffer per 6,000,000-byte response (stack default {defaults().buffers.processor_mb} MB)")
