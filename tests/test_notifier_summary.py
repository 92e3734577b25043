"""Pure parts of the notifier: counters, the flow and error summaries, line streaming."""

from __future__ import annotations

import gzip
import io
import random
from collections import Counter

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.counters import HeavyHitters
from notifier.errorbatch import CODE_CAPACITY, summarise_errors
from notifier.networks import InternalNetworks, parse_internal_cidrs
from notifier.ports import PortRow, port_key, port_row
from notifier.sources import SourceGroup, SourceRow
from notifier.stream import iter_lines
from notifier.summary import Distinct, InvalidLines, Limits, summarise_flows
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
    # Misra-Gries: every count is a lower bound within n / (capacity + 1) of the truth.
    assert counter.error > 0
    assert 3000 - counter.error <= count <= 3000
    assert counter.error <= len(stream) / 11
    true = Counter(stream)
    assert all(true[key] - counter.error <= kept <= true[key] for key, kept in counter.counts.items())


def test_pruning_keeps_the_capacity_largest_counts_less_the_next_largest():
    counter: HeavyHitters[str] = HeavyHitters(2)
    counter.counts = {"scanner": 9, "neighbour": 6, "one-off": 1, "another": 2}
    dropped = counter.prune()
    # The threshold is the third largest count (2): the two largest keep what exceeds it.
    assert counter.counts == {"scanner": 7, "neighbour": 4}
    assert dropped == {"one-off", "another"}
    assert counter.error == 2


def test_the_error_accumulates_over_successive_prunes():
    counter: HeavyHitters[str] = HeavyHitters(1)
    for key in "aaaaab":  # a: 5, b: 1
        counter.add(key)
    counter.prune()  # threshold 1
    assert (counter.counts, counter.error) == ({"a": 4}, 1)
    for key in "cccd":  # a: 4, c: 3, d: 1 -> 3 keys > 2 x capacity: pruned with threshold 3
        counter.add(key)
    assert (counter.counts, counter.error) == ({"a": 1}, 4)
    assert not counter.exact


@given(st.lists(st.integers(0, 30), max_size=400), st.integers(1, 6))
def test_misra_gries_bounds_hold_for_any_stream(stream, capacity):
    counter: HeavyHitters[int] = HeavyHitters(capacity)
    for key in stream:
        counter.add(key)
    true = Counter(stream)
    assert len(counter) <= 2 * capacity
    assert counter.error <= len(stream) / (capacity + 1)
    for key, n in true.items():
        kept = counter.counts.get(key, 0)
        assert n - counter.error <= kept <= n  # a lower bound, within the error
    if counter.exact:
        assert counter.counts == dict(true)
    assert counter.top(len(counter)) == sorted(counter.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))


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


def test_error_records_without_a_code_or_message_are_counted_as_unknown_without_a_sample():
    summary = summarise_errors([orjson.dumps({"attemptsMade": 2}), orjson.dumps({"errorCode": None,
                                                                                 "errorMessage": ""})])
    assert summary.codes == (("unknown", 2, ""),)
    assert (summary.first_arrival_ms, summary.last_arrival_ms, summary.max_attempts) == (None, None, 2)


def test_each_error_code_keeps_the_first_message_seen_as_its_sample():
    lines = [error_line(message="first failure"), error_line(message="second failure"),
             error_line("Lambda.FunctionError", "Task timed out"), error_line(message="third failure")]
    assert summarise_errors(lines).codes == (("Lambda.ProcessingFailedStatus", 3, "first failure"),
                                             ("Lambda.FunctionError", 1, "Task timed out"))


def test_the_arrival_window_spans_the_earliest_and_latest_records_in_any_order():
    base = HOUR_START * 1000
    lines = [error_line(arrival_ms=base + offset) for offset in (30_000, 5_000, 59_000, 12_000)]
    summary = summarise_errors(lines)
    assert (summary.first_arrival_ms, summary.last_arrival_ms) == (base + 5_000, base + 59_000)


def test_at_most_five_processor_arns_are_named():
    arns = [f"arn:aws:lambda:eu-west-1:123456789012:function:transform-{i}" for i in range(7)]
    summary = summarise_errors([orjson.dumps({"errorCode": "Lambda.FunctionError", "lambdaArn": arn})
                                for arn in arns])
    assert summary.lambda_arns == tuple(arns[:5])


def test_many_error_codes_keep_the_fifty_most_frequent_and_samples_of_the_first_fifty_seen():
    # 50 one-off codes first, then 10 codes seen twice each: these rank first but came too late for a sample.
    lines = [error_line(f"Code.Once{i:02d}", f"once {i}") for i in range(50)]
    lines += [error_line(f"Code.Twice{i}", f"twice {i}") for i in range(10)] * 2
    summary = summarise_errors(lines)
    assert summary.records == 70 and len(summary.codes) == CODE_CAPACITY == 50
    assert summary.codes[:10] == tuple((f"Code.Twice{i}", 2, "") for i in range(10))
    assert summary.codes[10:] == tuple((f"Code.Once{i:02d}", 1, f"once {i}") for i in range(40))


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


# --- every line is a flow or an invalid line -------------------------------------------------------------

FIELDS = ("srcaddr", "dstport", "protocol", "packets", "bytes", "start", "end", "interface_id", "account_id",
          "region", "vpc_id", "log_group", "srcport", "action")
ADDRESSES = st.sampled_from(["10.0.0.1", "198.51.100.7", "fd00::1", "2001:db8::1", "-"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | ADDRESSES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
RECORDS = st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in FIELDS})
LINES = st.lists(RECORDS.map(lambda r: orjson.dumps(r) + b"\n") | JSON_VALUES.map(orjson.dumps)
                 | st.binary(max_size=40), max_size=30)


def _is_flow_record(value: object) -> bool:
    """The archive's rule, written out plainly: text fields are str or null, numbers ints in their range
    (ports 16-bit, protocol 8-bit, packets and bytes BIGINT, start/end Unix seconds 2010-2099)."""
    if not isinstance(value, dict):
        return False
    def text(name):
        return value.get(name) is None or isinstance(value[name], str)

    def number(name, top=2**63 - 1, bottom=0):
        v = value.get(name)
        return v is None or (type(v) is int and bottom <= v <= top)

    return (all(text(n) for n in ("srcaddr", "interface_id", "account_id", "region", "vpc_id", "log_group"))
            and number("dstport", 65535) and number("protocol", 255)
            and all(number(n) for n in ("packets", "bytes"))
            and all(number(n, 4_102_444_799, 1_262_304_000) for n in ("start", "end")))


@given(LINES)
def test_any_line_is_either_a_flow_or_an_invalid_line_and_nothing_raises(lines):
    summary = summarise_flows(lines)
    nonblank = [line for line in lines if line.strip()]
    assert summary.flows + summary.invalid_lines == len(nonblank) == summary.lines
    parsed = []
    for line in nonblank:
        try:
            parsed.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            parsed.append(None)
    assert summary.flows == sum(1 for value in parsed if _is_flow_record(value))
    assert summary.invalid.not_json == sum(1 for line, value in zip(nonblank, parsed, strict=True)
                                           if value is None and line.strip() != b"null")


@pytest.mark.parametrize("damage", [
    {"packets": "3"}, {"srcaddr": 3232235777}, {"dstport": [22]}, {"bytes": True}, {"protocol": 6.0},
    {"start": "1795802460"}, {"account_id": 123456789012}, {"dstport": 70000}, {"packets": -1},
    {"interface_id": {"id": "eni-1"}}, {"start": -1}, {"end": -60}, {"protocol": 256}, {"packets": 2**63},
    {"start": 1_764_201_600_000}, {"end": 1_764_201_660_000}, {"start": 0}, {"end": 4_102_444_800},
], ids=str)
def test_a_wrong_typed_value_makes_the_line_invalid_and_counts_nothing_of_it(damage):
    summary = summarise_flows([orjson_line(flow()), orjson_line({**flow("192.0.2.99", 3389), **damage})])
    assert (summary.flows, summary.invalid.not_flow_records, summary.invalid.not_json) == (1, 1, 0)
    assert summary.distinct_sources == 1 and summary.packets == 1 and summary.bytes == 60


@pytest.mark.parametrize("edge", [
    {"dstport": 0}, {"dstport": 65_535}, {"protocol": 0}, {"protocol": 255}, {"packets": 0, "bytes": 0},
    {"start": 1_262_304_000, "end": 1_262_304_000}, {"start": 4_102_444_799, "end": 4_102_444_799},
    {"packets": 2**63 - 1},
], ids=str)
def test_values_at_the_edge_of_their_range_still_make_a_flow(edge):
    summary = summarise_flows([orjson_line(flow()), orjson_line({**flow("192.0.2.99", 3389), **edge})])
    assert (summary.flows, summary.invalid_lines, summary.distinct_sources) == (2, 0, 2)


def test_lines_that_are_not_text_are_told_apart():
    summary = summarise_flows([b"\xff\xfe\x00garbage\n", b"{not json\n", b"[1]\n", orjson_line(flow()),
                               "café;latin-1\n".encode("latin-1")])
    assert summary.invalid == InvalidLines(not_json=3, not_utf8=2, not_flow_records=1)


# --- what a summary keeps ----------------------------------------------------------------------------

def test_a_summary_keeps_only_the_top_rows_of_each_list_heaviest_first():
    records = []
    for rank, flows in enumerate((3, 2, 1), start=1):
        interface = f"eni-0{rank}"
        records += [flow(f"198.51.100.{rank}", 20 + rank, interface_id=interface)] * flows
        records += [flow(f"10.0.0.{rank}", 20 + rank, interface_id=interface)] * flows
    summary = summarise_flows((orjson_line(r) for r in records), Limits(top_rows=2))
    assert [row.address for row in summary.internet.rows] == ["198.51.100.1", "198.51.100.2"]
    assert [row.address for row in summary.internal.rows] == ["10.0.0.1", "10.0.0.2"]
    assert [(row.port, row.flows) for row in summary.top_ports] == [(21, 6), (22, 4)]
    assert summary.top_interfaces == (("eni-01", 6), ("eni-02", 4))
    assert (summary.distinct_sources, summary.distinct_ports, summary.distinct_interfaces) == (6, 3, 3)


OVERFLOWS = {
    "internet-sources": (Limits(sources=1), [flow(f"198.51.100.{i}", 22) for i in range(1, 4)]),
    "internal-sources": (Limits(internal_sources=1), [flow(f"10.0.0.{i}", 22) for i in range(1, 4)]),
    "ports": (Limits(destination_ports=1), [flow("198.51.100.7", port) for port in (22, 23, 25)]),
    "interfaces": (Limits(interfaces=1), [flow(interface_id=f"eni-0{i}") for i in range(1, 4)]),
}


@pytest.mark.parametrize(("limits", "records"), OVERFLOWS.values(), ids=OVERFLOWS.keys())
def test_a_table_that_overflowed_makes_the_summary_say_its_counts_are_approximate(limits, records):
    assert summarise_flows(orjson_line(r) for r in records).count_error == 0
    assert summarise_flows((orjson_line(r) for r in records), limits).count_error == 1


@pytest.mark.parametrize(("accounts", "more"), [(5, False), (6, True), (9, True)])
def test_up_to_five_accounts_are_named_and_more_are_flagged(accounts, more):
    ids = [f"1234567890{i:02d}" for i in range(accounts)]
    summary = summarise_flows(orjson_line(flow(account_id=account)) for account in reversed(ids))
    assert summary.accounts == Distinct(tuple(sorted(ids[-5:])), more)
    assert summary.accounts.single is None


# --- totals and internal sources ---------------------------------------------------------------------

def test_event_totals_equal_the_objects_packets_and_bytes():
    records = [flow(f"198.51.100.{i}", 22, packets=i + 1, bytes=40 * (i + 1) + i) for i in range(40)]
    summary = summarise_flows(orjson_line(r) for r in records)
    assert summary.packets == sum(r["packets"] for r in records) == 820
    assert summary.bytes == sum(r["bytes"] for r in records) == 33_580
    assert (summary.flows_without_packets, summary.flows_without_bytes) == (0, 0)


def test_flows_without_bytes_are_counted_apart_not_as_zero():
    # Block Public Access flow logs carry no packet or byte counts: `-`, archived as null.
    records = [flow(bytes=None, packets=None), flow(bytes=None, packets=None), flow(bytes=1500, packets=2)]
    summary = summarise_flows(orjson_line(r) for r in records)
    assert (summary.bytes, summary.flows_without_bytes) == (1500, 2)
    assert (summary.packets, summary.flows_without_packets) == (2, 2)


def test_internal_and_internet_sources_are_kept_apart():
    records = [flow("10.0.3.17", 5432)] * 3 + [flow("fd00:ec2::17", 443), flow("100.64.7.1", 53, protocol=17)]
    records += scanner_batch()
    summary = summarise_flows(orjson_line(r) for r in records)
    assert summary.internal_flows == 5 and summary.has_internal_sources
    assert [(r.address, r.flows) for r in summary.internal.rows] == [("10.0.3.17", 3), ("100.64.7.1", 1),
                                                                    ("fd00:ec2::17", 1)]
    assert summary.internal.distinct == 3 and summary.internet.distinct == 5
    assert summary.distinct_sources == 8


def test_one_internal_flow_among_200k_diverse_internet_flows_is_counted_exactly():
    # Counters of 50 are in their approximate regime after a few hundred sources, as 1,000 are after a
    # few thousand: the same holds for a million flows at the default limits.
    limits = Limits(sources=50, destination_ports=50, interfaces=10)
    # Internet addresses only (first octets outside every private, shared and ULA range).
    template = (b'{"srcaddr":"%d.%d.%d.%d","dstport":%d,"protocol":6,"packets":1,"bytes":40,'
                b'"interface_id":"eni-0a1b2c3d4e5f60718"}\n')

    def lines():
        for i in range(200_000):
            if i == 154_321:
                yield orjson_line(flow("172.20.1.9", 8443))
            yield template % ((45, 61, 89, 185, 203)[i % 5], i >> 16 & 255, i >> 8 & 255, i & 255, i % 1024)

    summary = summarise_flows(lines(), limits)
    assert summary.flows == 200_001
    assert summary.count_error > 0  # the internet counters are approximate by now
    assert summary.internal_flows == 1 and summary.has_internal_sources
    assert [(r.address, r.flows, r.ports) for r in summary.internal.rows] == [("172.20.1.9", 1, (8443,))]
    assert summary.internal.single_flow == 1 and summary.internal.count_error == 0


def test_custom_internal_ranges_are_used():
    networks = InternalNetworks(parse_internal_cidrs("198.51.100.0/24"))
    summary = summarise_flows(ndjson(scanner_batch()).splitlines(), internal=networks)
    assert [r.address for r in summary.internal.rows] == ["198.51.100.23"]
    assert summary.internal_flows == 20


def test_icmp_flows_have_no_port():
    # AWS's documented ICMP record: ports 0 0, protocol 1.
    records = [flow("203.0.113.12", 0, protocol=1, srcport=0)] * 4 + [flow("203.0.113.12", 22)]
    records += [flow("2001:db8::99", 0, protocol=58, srcport=0)]
    summary = summarise_flows(orjson_line(r) for r in records)
    row = summary.internet.rows[0]
    assert (row.address, row.ports, row.protocols_without_ports) == ("203.0.113.12", (22,), ("icmp",))
    assert {p.label: p.flows for p in summary.top_ports} == {"icmp": 4, "22/tcp": 1, "icmpv6": 1}
    assert not any(p.label.startswith("0/") for p in summary.top_ports)


ERROR_FIELDS = ("attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp",
                "rawData", "lambdaArn")
ERROR_LINES = st.lists(
    st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in ERROR_FIELDS}).map(orjson.dumps)
    | JSON_VALUES.map(orjson.dumps) | st.binary(max_size=30), max_size=20)


@given(ERROR_LINES)
def test_any_error_line_is_a_record_or_an_invalid_line_and_nothing_raises(lines):
    summary = summarise_errors(lines)
    assert summary.records + summary.invalid_lines == sum(1 for line in lines if line.strip())
    assert sum(n for _, n, _ in summary.codes) == summary.records
    assert all(type(v) is int for v in (summary.first_arrival_ms, summary.last_arrival_ms) if v is not None)


@given(st.none() | st.integers(0, 65_535), st.none() | st.integers(0, 255))
def test_a_destination_key_gives_back_its_port_and_protocol(port, protocol):
    assert port_row(port_key(port, protocol), 7) == PortRow(port, protocol, 7)


SCANNER_AND_ONE_OFFS = [flow("198.51.100.1", 22), flow("198.51.100.1", 23), flow("198.51.100.1", 22),
                        *(flow(f"203.0.113.{i}", 3389) for i in range(1, 6))]


@pytest.mark.parametrize(("records", "internet"), [
    # 6 sources in a table of capacity 3: still exact, the one-offs are counted.
    (SCANNER_AND_ONE_OFFS, SourceGroup(
        distinct=6, more=False,
        rows=(SourceRow("198.51.100.1", 3, (22, 23), False), SourceRow("203.0.113.1", 1, (3389,), False)),
        single_flow=5, count_error=0)),
    # A 7th source: the table is pruned, counts become lower bounds and the one-offs unknowable.
    ([*SCANNER_AND_ONE_OFFS, flow("203.0.113.6", 3389)], SourceGroup(
        distinct=7, more=False, rows=(SourceRow("198.51.100.1", 2, (22, 23), False),),
        single_flow=None, count_error=1)),
])
def test_sources_are_counted_exactly_up_to_twice_the_tables_capacity(records: list[dict],
                                                                       internet: SourceGroup):
    summary = summarise_flows(ndjson(records).splitlines(), Limits(sources=3, top_rows=2))
    assert summary.internet == internet
    assert summary.internal == SourceGroup(distinct=0, more=False, rows=(), single_flow=0, count_error=0)
