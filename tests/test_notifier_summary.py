"""Pure parts of the notifier: counters, the flow and error summaries, line streaming."""

from __future__ import annotations

import gzip
import io
import random

import orjson
import pytest

from notifier.counters import HeavyHitters
from notifier.errorbatch import summarise_errors
from notifier.stream import iter_lines
from notifier.summary import Limits, summarise_flows
from tests.notifier_support import HOUR_START, error_line, flow, gz, ndjson, scanner_batch


def test_heavy_hitters_exact_under_capacity():
    counter: HeavyHitters[str] = HeavyHitters(3)
    for key in "aaabbcdde":  # 5 distinct keys fit in the table (2 x capacity)
        counter.add(key)
    assert counter.exact
    assert counter.top(2) == [("a", 3), ("b", 2)]


def test_heavy_hitters_keep_a_dominant_key_with_bounded_error():
    rng = random.Random(7)
    counter: HeavyHitters[int] = HeavyHitters(10)
    stream = [0] * 3000 + [rng.randrange(1, 50_000) for _ in range(7000)]
    rng.shuffle(stream)
    for key in stream:
        counter.add(key)
    assert len(counter) <= 20
    (top, count), *_ = counter.top(1)
    assert top == 0
    # Misra-Gries: every count is a lower bound within n / (capacity + 1).
    assert 3000 - len(stream) / 11 <= count <= 3000
    assert counter.error <= len(stream) / 11


def test_summary_of_a_scanner_batch():
    summary = summarise_flows(ndjson(scanner_batch()).splitlines(keepends=True))
    assert summary.flows == 30
    assert summary.invalid_lines == 0
    assert summary.distinct_sources == 5
    assert summary.internal.empty and summary.internal_flows == 0  # every source is on the internet
    assert summary.ipv6_flows == 7 and summary.ipv4_flows == 23
    scanner = summary.internet.rows[0]
    assert (scanner.address, scanner.flows, scanner.ports) == ("198.51.100.23", 20, (22, 23, 445, 1433, 3389))
    assert summary.internet.rows[1].address == "2001:db8:bad::1"
    assert summary.internet.single_flow == 3
    assert summary.top_ports[0].label == "443/tcp" and summary.top_ports[0].flows == 7
    assert {p.label: p.flows for p in summary.top_ports}["3389/tcp"] == 7
    assert summary.top_interfaces == (("eni-0a1b2c3d4e5f60718", 23), ("eni-0ffeeddccbbaa9988", 7))
    assert summary.first_start == HOUR_START + 30 and summary.last_end == HOUR_START + 203 + 59
    assert summary.accounts.single == "123456789012"
    assert summary.vpcs.single == "vpc-0123456789abcdef0"
    assert summary.regions.single == "eu-west-1"
    assert summary.count_error == 0


def test_summary_counts_invalid_lines_and_ignores_blank_ones():
    data = ndjson([flow()], [b"{not json\n", b"\n", b"[1, 2]\n", b"   \n", b'"a string"\n'])
    summary = summarise_flows(data.splitlines())
    assert (summary.flows, summary.invalid_lines) == (1, 3)
    assert not summary.empty


def test_summary_of_nothing_is_empty():
    assert summarise_flows([]).empty
    assert summarise_flows([b"\n"]).empty


def test_summary_tolerates_nulls_and_missing_fields():
    # A version-2 format archive has no vpc_id/region; ICMP has no ports; `-` became null.
    minimal = {"srcaddr": "192.0.2.9", "dstport": None, "protocol": 1, "action": "REJECT",
               "start": None, "end": None, "packets": None, "bytes": None, "interface_id": None}
    summary = summarise_flows([orjson_line(minimal)])
    assert summary.flows == 1
    assert summary.vpcs.values == () and summary.accounts.single is None
    assert summary.first_start is None
    row, = summary.internet.rows
    assert (row.ports, row.protocols_without_ports) == ((), ("icmp",))
    assert summary.top_ports[0].label == "icmp"
    assert (summary.packets, summary.flows_without_packets) == (0, 1)
    assert (summary.bytes, summary.flows_without_bytes) == (0, 1)


def test_summary_with_many_sources_stays_bounded_and_reports_more():
    limits = Limits(sources=20, distinct_sources=500, interfaces=5, destination_ports=10)
    flows = [flow(f"203.{i // 256 % 256}.{i % 256}.{i % 7}", 1000 + i % 300,
                  interface_id=f"eni-{i % 40:017x}") for i in range(3000)]
    flows += [flow("198.51.100.23", 22)] * 900
    summary = summarise_flows((orjson_line(f) for f in flows), limits)
    assert summary.flows == 3900
    assert summary.more_sources and summary.distinct_sources == 500
    assert summary.internet.rows[0].address == "198.51.100.23"
    assert summary.count_error > 0
    assert summary.internet.single_flow is None  # unknowable once counts are approximate
    assert summary.internet.rows[0].flows >= 900 - summary.count_error


def test_ports_per_source_are_capped():
    limits = Limits(ports_per_source=4)
    summary = summarise_flows([orjson_line(flow("198.51.100.23", port)) for port in range(1, 11)], limits)
    row = summary.internet.rows[0]
    assert row.ports == (1, 2, 3, 4) and row.more_ports


def test_error_summary_counts_codes_with_a_sample():
    lines = [error_line(), error_line(), error_line("Lambda.FunctionError", "Task timed out"), b"oops\n"]
    summary = summarise_errors(lines)
    assert summary.records == 3 and summary.invalid_lines == 1
    assert summary.codes[0] == ("Lambda.ProcessingFailedStatus", 2, "record failed: not gzip")
    assert summary.codes[1] == ("Lambda.FunctionError", 1, "Task timed out")
    assert summary.first_arrival_ms == HOUR_START * 1000 + 5000
    assert summary.max_attempts == 1
    assert summary.lambda_arns[0].endswith(":rejected-flows-transform:$LATEST")


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_iter_lines_streams_gzip_and_plain(compress):
    data = ndjson(scanner_batch())
    payload = gz(data) if compress else data
    assert b"".join(iter_lines(io.BytesIO(payload))) == data


def test_iter_lines_reads_concatenated_gzip_members():
    first, second = ndjson([flow()]), ndjson([flow("192.0.2.1")])
    lines = list(iter_lines(io.BytesIO(gz(first) + gz(second))))
    assert lines == [first, second]


class _CountingReader(io.RawIOBase):
    """A reader that records the largest read, to show the body is consumed in bounded pieces."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.largest = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.largest = max(self.largest, len(chunk))
        return chunk


def test_a_large_object_is_streamed_not_read_whole():
    # 50k flows (~15 MB of NDJSON) from 2,000 sources; the bench runs 400k.
    flows = (flow(f"198.51.{i % 2000 // 250}.{i % 250}", 22 + i % 5) for i in range(50_000))
    body = gzip.compress(ndjson(flows), compresslevel=1)
    source = _CountingReader(body)
    summary = summarise_flows(iter_lines(source))
    assert summary.flows == 50_000 and summary.distinct_sources == 2000
    assert source.largest < 1 << 20  # never the whole object at once


def orjson_line(record: dict) -> bytes:
    return orjson.dumps(record) + b"\n"
