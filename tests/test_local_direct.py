"""Flow logs straight into Firehose: plain-text records of newline-separated lines, no envelope, no gzip,
no filter (ACCEPT and NODATA lines too), grouped per interface and capture window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contracts.firehose import PUT_RECORD_MAX_BYTES
from contracts.flowlog import parse_format
from local.direct import MAX_LINES_PER_RECORD, direct_records, frame_record
from local.subscription import DELIVERY_DELAY_MS, FilterCounts
from tests.local_support import V2_HEADER, flow_line

FMT = parse_format(None)
T = 1_795_748_400  # 2026-11-27 03:00:00 UTC
NODATA = f"2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - {T} {T + 60} - NODATA"


def records(lines, start_ms=0):
    counts = FilterCounts()
    return list(direct_records(lines, FMT, counts, start_ms)), counts


def test_a_record_is_the_lines_of_one_interface_and_minute_as_plain_text():
    lines = [flow_line(start=T), flow_line("ACCEPT", start=T), NODATA,
             flow_line(start=T, eni="eni-0ffffffffffffffff"), flow_line(start=T + 60)]
    sent, counts = records(lines)
    assert [record.data.decode().splitlines() for record in sent] == [
        [lines[0], lines[1], NODATA], [lines[3]], [lines[4]]]
    assert all(record.data.endswith(b"\n") and not record.data.startswith(b"\x1f\x8b") for record in sent)
    # Delivered a few seconds after the minute in which the capture window ended (T + 60 s) is over.
    assert [record.arrival_ms for record in sent] == [
        (T + 120) * 1000 + DELIVERY_DELAY_MS, (T + 120) * 1000 + DELIVERY_DELAY_MS,
        (T + 180) * 1000 + DELIVERY_DELAY_MS]
    assert (counts.lines, counts.shipped) == (5, 5) and counts.adds_up()


def test_header_and_blank_lines_are_counted_not_sent():
    sent, counts = records([V2_HEADER, "", flow_line(), "  ", V2_HEADER, flow_line("ACCEPT")])
    framed = b"".join(record.data for record in sent).decode().splitlines()
    assert framed == [flow_line(), flow_line("ACCEPT")]
    assert (counts.lines, counts.header, counts.blank, counts.shipped) == (6, 2, 2, 2)


def test_lines_of_the_wrong_width_are_sent_for_the_transform_to_judge():
    sent, counts = records(["2 short line", flow_line()])
    assert b"2 short line\n" in b"".join(record.data for record in sent)
    assert counts.shipped == 2 and counts.not_shipped == 0


def test_records_are_capped_by_lines_and_firehose_record_size():
    many, _ = records([flow_line(start=T)] * (MAX_LINES_PER_RECORD + 1))
    assert [record.lines for record in many] == [MAX_LINES_PER_RECORD, 1]
    long_line = flow_line(start=T) + " " + "x" * 200_000  # wrong width, but shows the byte cap
    big, _ = records([long_line] * 12)
    assert all(len(record.data) <= PUT_RECORD_MAX_BYTES for record in big) and len(big) > 1


@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["REJECT", "ACCEPT"]),
                          st.sampled_from(["eni-0a1b2c3d4e5f60718", "eni-0ffffffffffffffff"])), max_size=60))
def test_every_line_is_sent_exactly_once_in_time_order_per_interface(flows):
    lines = [flow_line(action, start=T + minute * 60, eni=eni) for minute, action, eni in flows]
    sent, counts = records(lines)
    framed = [line for record in sent for line in record.data.decode().splitlines()]
    assert sorted(framed) == sorted(lines) and counts.shipped == len(lines) and counts.adds_up()
    assert all(record.data == frame_record(record.data.decode().splitlines()) for record in sent)
