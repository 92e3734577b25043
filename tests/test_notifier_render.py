"""Pure rendering of Datadog events: titles, markdown text, truncation, tags, dates, keys."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.events import internal_sources_tag
from notifier.draft import MAX_EVENT_AGE_S, aggregation_key, clamp_date, hour_of
from notifier.errorbatch import summarise_errors
from notifier.markdown import (
    TEXT_LIMIT,
    Section,
    fit_text,
    fit_title,
    merge_tags,
    plural,
    size,
    time_window,
    was,
)
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.render import flow_event
from notifier.render_errors import error_event, unreadable_event
from notifier.summary import Limits, summarise_flows
from tests.notifier_support import DATA_KEY, ERROR_KEY, HOUR_START, error_line, flow, ndjson, scanner_batch

CTX = EventContext(stack="dev", athena_table='"rejected_flows_dev"."rejected_flows"',
                   athena_workgroup="rejected-flows-dev", tags=("env:dev", "team:netsec"))
NOW = HOUR_START + 600
OBJ = ObjectRef("archive-bucket", DATA_KEY)


def summary_of(records, extra=()):
    return summarise_flows(ndjson(records, extra).splitlines(keepends=True))


def test_flow_event_title_text_and_tags():
    draft = flow_event(summary_of(scanner_batch()), OBJ, CTX, NOW)
    assert draft.title == "30 rejected flows from 5 sources · 123456789012 · 18:00 UTC"
    assert draft.alert_type == "info"  # internet sources only
    assert draft.text.startswith("%%%\n") and draft.text.endswith("\n%%%")
    text = draft.text
    assert "`198.51.100.23`: 20 flows to ports 22, 23, 445, 1433, 3389" in text
    assert "`2001:db8:bad::1`: 7 flows to port 443" in text
    assert "23 IPv4, 7 IPv6" in text
    assert "`443/tcp`: 7 flows" in text
    assert "`eni-0ffeeddccbbaa9988`: 7 flows" in text
    assert "2026-11-27 18:00:30 → 18:04:22 UTC" in text
    assert f"`s3://archive-bucket/{DATA_KEY}`" in text
    assert ('FROM "rejected_flows_dev"."rejected_flows" WHERE year = 2026 AND month = 11 AND day = 27 '
            "AND hour = 18") in text
    assert "workgroup `rejected-flows-dev`" in text
    assert draft.tags == (
        "env:dev", "team:netsec", "source:rejected-flows", "stack:dev", "kind:rejected-flows",
        "internal_sources:false", "aws_account:123456789012", "region:eu-west-1",
        "vpc_id:vpc-0123456789abcdef0",
    )
    assert draft.aggregation_key == "rejected-flows:dev:2026-11-27T18"
    assert draft.date_happened == HOUR_START + 203 + 59


def test_multi_account_batches_get_no_account_tag():
    records = [flow(), flow(account_id="210987654321", region="us-east-1")]
    draft = flow_event(summary_of(records), OBJ, CTX, NOW)
    assert not any(t.startswith(("aws_account:", "region:")) for t in draft.tags)
    assert "vpc_id:vpc-0123456789abcdef0" in draft.tags
    assert " · vpc-0123456789abcdef0 · " not in draft.title  # accounts come first: "2 accounts"
    assert "2 accounts" in draft.title


def test_invalid_lines_are_mentioned():
    draft = flow_event(summary_of([flow()], [b"garbage\n", b"{\n"]), OBJ, CTX, NOW)
    assert "2 lines were not flow records (skipped): 2 not JSON" in draft.text


def test_a_huge_batch_is_truncated_by_whole_rows():
    records = [flow(f"2001:db8:{i:x}::{i:x}", port, interface_id=f"eni-{i:017x}")
               for i in range(400) for port in (*range(20, 34), 10_000 + i)]
    draft = flow_event(summary_of(records), OBJ, CTX, NOW)
    assert len(draft.text) <= TEXT_LIMIT
    lines = draft.text.split("\n")
    rows = [line for line in lines if line.startswith(("- `", "- _"))]
    # Rows are whole (no row cut mid-way) and what was dropped is announced.
    assert all(row.endswith(("flows", "flow", "more)")) or row.startswith("- _…and ") for row in rows), rows
    assert any(row.startswith("- _…and ") and row.endswith(" more sources_") for row in rows)
    assert any(row.endswith(" more ports_") for row in rows)
    assert any(row.endswith(" more interfaces_") for row in rows)
    assert "(+3 more)" in draft.text  # 15 ports tried, 12 listed
    # The object and the query are never dropped.
    assert lines[-1] == "%%%"
    assert "s3://archive-bucket/" in draft.text and "GROUP BY srcaddr, dstport" in draft.text
    assert len(draft.title) <= 100


def test_fit_text_drops_rows_from_the_longest_list_first():
    long_rows = Section("### A", [f"- row {i} " + "x" * 50 for i in range(40)], "row", 40)
    short_rows = Section("### B", ["- b1", "- b2"], "item", 2)
    text = fit_text("head", [long_rows, short_rows], "tail", limit=600)
    assert len(text) <= 600
    assert "- b1\n- b2" in text
    assert "- _…and " in text and " more rows_" in text
    assert text.startswith("%%%\nhead") and text.endswith("tail\n%%%")


def test_title_stays_within_100_chars():
    records = [flow(log_group="/vpc/" + "x" * 200, account_id=None)]
    draft = flow_event(summary_of(records), OBJ, CTX, NOW)
    assert len(draft.title) <= 100
    assert draft.title.endswith("18:00 UTC")


def test_clamp_date_keeps_replays_acceptable():
    assert clamp_date(NOW - 60, NOW) == NOW - 60
    assert clamp_date(NOW - 3 * 86400, NOW) == NOW - MAX_EVENT_AGE_S  # an old object replayed
    assert clamp_date(NOW + 3600, NOW) == NOW  # a skewed clock in the future
    assert clamp_date(None, NOW) == NOW


def test_aggregation_key_is_stable_and_short():
    hour = datetime(2026, 11, 27, 18, tzinfo=UTC)
    assert aggregation_key("rejected-flows", "prod", hour) == "rejected-flows:prod:2026-11-27T18"
    long_key = aggregation_key("rejected-flows", "s" * 200, hour)
    assert len(long_key) <= 100 and long_key == aggregation_key("rejected-flows", "s" * 200, hour)


def test_hour_comes_from_the_partition_else_from_the_flows():
    assert hour_of(DATA_KEY, None, NOW) == datetime(2026, 11, 27, 18, tzinfo=UTC)
    later = HOUR_START + 7200 + 59
    assert hour_of("rejected/manual.gz", later, NOW) == datetime(2026, 11, 27, 20, tzinfo=UTC)


def test_error_event():
    lines = [error_line()] * 3 + [error_line("Lambda.FunctionError", "Task timed out after 60.00 seconds")]
    draft = error_event(summarise_errors(lines), ObjectRef("archive-bucket", ERROR_KEY), CTX, NOW)
    assert draft.alert_type == "error"
    assert draft.title == "4 records failed processing (Lambda.ProcessingFailedStatus +1) · 18:00 UTC"
    assert "`Lambda.ProcessingFailedStatus`: 3 records — e.g. `record failed: not gzip`" in draft.text
    assert "`Lambda.FunctionError`: 1 record" in draft.text
    assert f"s3://archive-bucket/{ERROR_KEY}" in draft.text
    assert "`processing-failed`" in draft.text
    assert "error_output_type:processing-failed" in draft.tags
    assert draft.aggregation_key == "rejected-flows-errors:dev:2026-11-27T18"
    assert draft.date_happened == HOUR_START + 5


def test_draft_is_valid_for_the_client_model():
    from notifier.datadog import to_request

    request = to_request(flow_event(summary_of(scanner_batch()), OBJ, CTX, NOW))
    body = orjson.loads(orjson.dumps(request.to_dict()))
    assert body["alert_type"] == "info" and body["priority"] == "normal"


# --- alert type, tags and what the text shows ------------------------------------------------------------

def test_internal_sources_make_a_warning_and_come_first():
    records = [*scanner_batch(), flow("10.0.3.17", 5432), flow("10.0.3.17", 5433), flow("fd00:ec2::5", 443)]
    draft = flow_event(summary_of(records), OBJ, CTX, NOW)
    assert draft.alert_type == "warning"
    assert "internal_sources:true" in draft.tags and "internal_sources:false" not in draft.tags
    assert draft.title == "33 rejected flows from 7 sources (2 internal) · 123456789012 · 18:00 UTC"
    text = draft.text
    assert "**3 flows from 2 internal sources**: something inside the network is being refused." in text
    internal = text.index("### Internal sources\n- `10.0.3.17`: 2 flows to ports 5432, 5433\n"
                          "- `fd00:ec2::5`: 1 flow to port 443")
    assert internal < text.index("### Internet sources\n- `198.51.100.23`: 20 flows")


def test_internet_sources_only_make_an_info_event():
    draft = flow_event(summary_of(scanner_batch()), OBJ, CTX, NOW)
    assert draft.alert_type == "info" and "internal_sources:false" in draft.tags
    assert "Only internet sources were rejected" in draft.text
    assert "### Top sources" in draft.text and "### Internal sources" not in draft.text


def test_single_flow_sources_are_summed_up_not_listed():
    records = [*scanner_batch(), *(flow(f"203.0.113.{i}", 3389) for i in range(1, 89))]
    draft = flow_event(summary_of(records), OBJ, CTX, NOW)
    text = draft.text
    assert "- _…and 91 single-flow sources_" in text  # 88 new + the 3 of the scanner batch
    assert "`203.0.113.1`" not in text and "`192.0.2.1`" not in text
    assert "- `198.51.100.23`: 20 flows" in text and "- `2001:db8:bad::1`: 7 flows" in text
    assert "more sources" not in text


def test_a_few_single_flow_sources_are_listed_by_address():
    text = flow_event(summary_of(scanner_batch()), OBJ, CTX, NOW).text
    assert "- `192.0.2.1`: 1 flow to port 3389" in text and "single-flow" not in text


def test_icmp_shows_no_port():
    # AWS's documented ICMP REJECT record: `... 203.0.113.12 172.31.16.139 0 0 1 4 336 ... REJECT OK`.
    records = [flow("203.0.113.12", 0, protocol=1, srcport=0, packets=4, bytes=336)] * 3
    records += [flow("2001:db8::99", 0, protocol=58, srcport=0), flow("2001:db8::99", 443)]
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert "- `203.0.113.12`: 3 flows (icmp)" in text
    assert "- `2001:db8::99`: 2 flows to port 443 and icmpv6" in text
    assert "- `icmp`: 3 flows" in text and "- `icmpv6`: 1 flow" in text
    assert "port 0" not in text and "0/icmp" not in text


def test_flows_without_byte_counts_are_not_summed_as_zero():
    unknown = flow_event(summary_of([flow(bytes=None, packets=None)] * 2), OBJ, CTX, NOW).text
    assert ": 2 IPv4, 0 IPv6; packets unknown, bytes unknown." in unknown
    assert "0 B" not in unknown
    partly = flow_event(summary_of([flow(bytes=None), flow(bytes=1500, packets=3)]), OBJ, CTX, NOW).text
    assert "; 4 packets, ≥ 1.5 KB (bytes unknown for 1 flow)." in partly


def test_event_totals_are_the_objects_packets_and_bytes():
    records = [flow(f"198.51.100.{i}", 22, packets=i + 1, bytes=1000 * (i + 1)) for i in range(40)]
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert "**40 rejected flows** from **40 sources**: 40 IPv4, 0 IPv6; 820 packets, 820.0 KB." in text


def test_every_log_group_is_named_in_the_text():
    records = [flow(log_group="/vpc/flow-logs/prod"), flow(log_group="/vpc/flow-logs/shared")]
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert "- **Log group:** `/vpc/flow-logs/prod`, `/vpc/flow-logs/shared`" in text


def test_internal_rows_survive_truncation():
    records = [flow(f"2001:db8:{i:x}::1", port) for i in range(300) for port in (22, 23)]
    records += [flow(f"10.0.{i}.5", 5432) for i in range(20)]
    draft = flow_event(summary_of(records), OBJ, CTX, NOW)
    assert len(draft.text) <= TEXT_LIMIT
    assert all(f"- `10.0.{i}.5`: 1 flow to port 5432" in draft.text for i in range(20))
    assert " more sources_" in draft.text  # internet rows were dropped instead


def test_protocol_names_label_destination_ports():
    records = [flow(dstport=53, protocol=17), flow(dstport=9000, protocol=132),
               flow(dstport=80, protocol=None)]
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert "- `53/udp`: 1 flow" in text and "- `9000/sctp`: 1 flow" in text and "- `80`: 1 flow" in text


def test_an_unreadable_object_event_names_it_and_why():
    draft = unreadable_event(OBJ, "truncated or corrupt gzip after 3 lines (Compressed file ended)", CTX, NOW)
    assert draft.alert_type == "error"
    name = DATA_KEY.rsplit("/")[-1]
    assert draft.title == f"Unreadable object in the archive · 18:00 UTC · {name}"[:99] + "…"
    assert f"could not read `s3://archive-bucket/{DATA_KEY}`**: truncated or corrupt gzip after 3 lines" \
        in draft.text
    assert f"aws s3 cp s3://archive-bucket/{DATA_KEY} -" in draft.text
    assert draft.tags == ("env:dev", "team:netsec", "source:rejected-flows", "stack:dev",
                          "kind:processing-errors", "error:unreadable-object")
    assert draft.aggregation_key == "rejected-flows-errors:dev:2026-11-27T18"
    assert draft.date_happened == NOW


FLOWS = st.lists(st.builds(
    lambda src, port, protocol, nbytes: flow(src, port, protocol=protocol, bytes=nbytes),
    st.sampled_from(["10.0.3.17", "100.64.1.1", "fd00::5", "198.51.100.23", "2001:db8::7", "203.0.113.9"])
    | st.ip_addresses().map(str),
    st.integers(0, 65_535),
    st.sampled_from([1, 6, 17, 47, 58, 132]),
    st.none() | st.integers(0, 10**12),
), min_size=1, max_size=60)


@given(FLOWS)
def test_any_batch_renders_a_fitting_truthful_event(records):
    summary = summary_of(records)
    draft = flow_event(summary, OBJ, CTX, NOW)
    internal = any(InternalNetworks().contains(r["srcaddr"]) for r in records)
    assert draft.alert_type == ("warning" if internal else "info")
    assert internal_sources_tag(internal) in draft.tags
    assert internal_sources_tag(not internal) not in draft.tags
    assert len(draft.text) <= TEXT_LIMIT and len(draft.title) <= 100
    assert "0/icmp" not in draft.text and "`0/gre`" not in draft.text
    if all(r["bytes"] is None for r in records):
        assert "bytes unknown." in draft.text
    assert f"**{summary.flows:,} rejected flow" in draft.text


# --- the pieces every event is made of: sizes, wording, time windows, titles, keys, fitting -------------

@pytest.mark.parametrize(("n", "shown"), [
    (0, "0 B"), (60, "60 B"), (999, "999 B"), (1000, "1.0 KB"), (4_200, "4.2 KB"), (999_949, "999.9 KB"),
    # Rounding up to the next unit's first value is shown in the next unit, never as "1000.0 KB".
    (999_950, "1.0 MB"), (1_000_000, "1.0 MB"), (999_949_999, "999.9 MB"), (999_950_000, "1.0 GB"),
    (1_300_000_000, "1.3 GB"), (999_949_999_999, "999.9 GB"), (10**12, "1.0 TB"),
    (2_500 * 10**12, "2500.0 TB"),
])
def test_sizes_are_shown_in_decimal_units(n: int, shown: str):
    assert size(n) == shown


@pytest.mark.parametrize(("n", "flows", "lines"), [
    (0, "0 flows", "0 lines were"), (1, "1 flow", "1 line was"), (2, "2 flows", "2 lines were"),
    (12_345, "12,345 flows", "12,345 lines were"),
])
def test_counts_are_worded_in_the_singular_only_for_one(n: int, flows: str, lines: str):
    assert plural(n, "flow") == flows
    assert was(n, "line") == lines


@pytest.fixture(name="host_far_from_utc")
def host_far_from_utc_fixture(monkeypatch: pytest.MonkeyPatch):
    """A host clock set to a zone far from UTC: the events must still say UTC and mean it."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("first", "last", "window"), [
    (HOUR_START + 30, HOUR_START + 262, "2026-11-27 18:00:30 → 18:04:22 UTC"),
    (HOUR_START + 5 * 3600 + 3599, HOUR_START + 6 * 3600 + 1,
     "2026-11-27 23:59:59 → 2026-11-28 00:00:01 UTC"),
    (None, HOUR_START, "unknown (the flows carry no start/end)"),
    (HOUR_START, None, "unknown (the flows carry no start/end)"),
    (None, None, "unknown (the flows carry no start/end)"),
])
def test_time_windows_are_utc_and_name_the_second_date_only_when_it_differs(
        host_far_from_utc, first: int | None, last: int | None, window: str):
    assert time_window(first, last) == window


def test_titles_are_kept_up_to_100_chars_and_cut_with_an_ellipsis_beyond():
    assert fit_title("t" * 100) == "t" * 100
    assert fit_title("t" * 101) == "t" * 99 + "…"
    assert fit_title("short") == "short"


def test_tags_are_merged_in_order_without_blanks_or_repeats():
    assert merge_tags((" env:dev ", "", "team:netsec"), ["team:netsec", "  ", "stack:dev"], ["env:dev"]) == (
        "env:dev", "team:netsec", "stack:dev")


HOUR = datetime(2026, 11, 27, 18, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "stack", "key"), [
    ("rejected-flows", "s" * 71, f"rejected-flows:{'s' * 71}:2026-11-27T18"),  # exactly 100: kept
    ("rejected-flows", "s" * 72, "rejected-flows:9ab0e1e7960ce4df70e013b6:2026-11-27T18"),
    ("rejected-flows", "s" * 200, "rejected-flows:e58893ff14f77d2d7a7ea424:2026-11-27T18"),
    ("rejected-flows-errors", "s" * 200, "rejected-flows-errors:e58893ff14f77d2d7a7ea424:2026-11-27T18"),
])
def test_a_long_stack_name_is_replaced_by_a_stable_digest_in_the_aggregation_key(kind: str, stack: str,
                                                                                  key: str):
    assert aggregation_key(kind, stack, HOUR) == key
    assert len(key) <= 100


def test_outside_the_partitions_the_hour_is_the_flows_else_now_rounded_down():
    assert hour_of("rejected/manual.gz", HOUR_START + 7200 + 1234.5, NOW) == datetime(2026, 11, 27, 20,
                                                                                       tzinfo=UTC)
    assert hour_of("rejected/manual.gz", None, HOUR_START + 3 * 3600 + 59 * 60 + 0.25) == datetime(
        2026, 11, 27, 21, tzinfo=UTC)
    # A partial partition is no partition.
    assert hour_of("rejected/year=2026/month=11/x.gz", HOUR_START + 60, NOW) == HOUR


@pytest.mark.parametrize(("happened", "date"), [
    (NOW - MAX_EVENT_AGE_S, NOW - MAX_EVENT_AGE_S),
    (NOW - MAX_EVENT_AGE_S - 1, NOW - MAX_EVENT_AGE_S),
    (NOW - 0.5, NOW - 1),  # whole seconds
    (float(NOW), NOW),
])
def test_dates_are_clamped_to_the_last_17_hours_in_whole_seconds(happened: float, date: int):
    assert clamp_date(happened, NOW) == date
    assert MAX_EVENT_AGE_S == 17 * 3600


def rows(prefix: str, n: int, width: int = 30) -> list[str]:
    return [f"- {prefix}{i}".ljust(width, ".") for i in range(n)]


def test_text_that_fits_exactly_is_kept_whole():
    sections = [Section("### A", rows("a", 3), "row", 3)]
    whole = fit_text("head", sections, "tail", limit=10_000)
    assert fit_text("head", [Section("### A", rows("a", 3), "row", 3)], "tail", limit=len(whole)) == whole
    assert whole == "%%%\nhead\n\n### A\n" + "\n".join(rows("a", 3)) + "\n\ntail\n%%%"


def test_one_dropped_row_is_announced_in_the_singular():
    full = fit_text("head", [Section("### A", rows("a", 3), "port", 3)], "", limit=10_000)
    text = fit_text("head", [Section("### A", rows("a", 3), "port", 3)], "", limit=len(full) - 1)
    assert text == "%%%\nhead\n\n### A\n" + "\n".join(rows("a", 2)) + "\n- _…and 1 more port_\n%%%"


def test_a_list_without_rows_shows_no_heading_but_keeps_its_note():
    empty = Section("### Interfaces hit", [], "interface", 0)
    noted = Section("### Top sources", [], "source", 0, note="…and 91 single-flow sources")
    assert fit_text("head", [empty, noted], "tail") == (
        "%%%\nhead\n\n### Top sources\n- _…and 91 single-flow sources_\n\ntail\n%%%")


def test_protected_rows_go_only_once_every_other_list_is_empty():
    def sections() -> list[Section]:
        return [Section("### Internal", rows("i", 8), "source", 8, protected=True),
                Section("### Internet", rows("e", 3), "source", 3),
                Section("### Ports", rows("p", 2), "port", 2)]

    full = fit_text("head", sections(), "", limit=10_000)
    # Room for all internal rows once the two other lists are gone (their "…and N more" lines stay).
    no_others = "\n".join(["%%%", "head", "", "### Internal", *rows("i", 8), "", "### Internet",
                           "- _…and 3 more sources_", "", "### Ports", "- _…and 2 more ports_", "%%%"])
    assert fit_text("head", sections(), "", limit=len(no_others)) == no_others
    assert len(no_others) < len(full)
    # One character less: the last internal row goes too.
    assert fit_text("head", sections(), "", limit=len(no_others) - 1) == "\n".join(
        ["%%%", "head", "", "### Internal", *rows("i", 7), "- _…and 1 more source_", "", "### Internet",
         "- _…and 3 more sources_", "", "### Ports", "- _…and 2 more ports_", "%%%"])
    # Down to no row at all, and below that the text is cut at a line.
    no_rows = "\n".join(["%%%", "head", "", "### Internal", "- _…and 8 more sources_", "", "### Internet",
                         "- _…and 3 more sources_", "", "### Ports", "- _…and 2 more ports_", "%%%"])
    assert fit_text("head", sections(), "", limit=len(no_rows)) == no_rows
    assert fit_text("head", sections(), "", limit=len(no_rows) - 1) == no_rows.replace(
        "### Ports\n- _…and 2 more ports_\n", "### Ports\n…\n")


def test_fixed_parts_longer_than_the_limit_are_cut_at_a_line_and_keep_the_markers():
    head = "\n".join(f"line {i}" for i in range(20))
    cut = fit_text(head, [], "", limit=60)
    assert cut == "\n".join(["%%%", *(f"line {i}" for i in range(7)), "…", "%%%"])
    assert fit_text("x" * 100, [], "", limit=60) == "%%%\n" + "x" * 50 + "\n…\n%%%"


# --- the flow event, read whole ----------------------------------------------------------------------------

ATHENA_18H = ('SELECT srcaddr, dstport, count(*) AS flows FROM "rejected_flows_dev"."rejected_flows" '
              "WHERE year = 2026 AND month = 11 AND day = 27 AND hour = 18 AND action = 'REJECT' "
              "GROUP BY srcaddr, dstport ORDER BY flows DESC LIMIT 50")


def test_a_scanner_batch_event_reads_in_full():
    text = flow_event(summary_of(scanner_batch()), OBJ, CTX, NOW).text
    assert text == "\n".join([
        "%%%",
        "**30 rejected flows** from **5 sources**: 23 IPv4, 7 IPv6; 30 packets, 1.9 KB.",
        "",
        "Only internet sources were rejected (no private, shared or configured internal range).",
        "",
        "- **Time window:** 2026-11-27 18:00:30 → 18:04:22 UTC",
        "- **Account:** `123456789012`",
        "- **Region:** `eu-west-1`",
        "- **VPC:** `vpc-0123456789abcdef0`",
        "- **Log group:** `/vpc/flow-logs/dev`",
        "",
        "### Top sources",
        "- `198.51.100.23`: 20 flows to ports 22, 23, 445, 1433, 3389",
        "- `2001:db8:bad::1`: 7 flows to port 443",
        "- `192.0.2.1`: 1 flow to port 3389",
        "- `192.0.2.2`: 1 flow to port 3389",
        "- `192.0.2.3`: 1 flow to port 3389",
        "",
        "### Top destination ports",
        "- `443/tcp`: 7 flows",
        "- `3389/tcp`: 7 flows",
        "- `22/tcp`: 4 flows",
        "- `23/tcp`: 4 flows",
        "- `445/tcp`: 4 flows",
        "- `1433/tcp`: 4 flows",
        "",
        "### Interfaces hit",
        "- `eni-0a1b2c3d4e5f60718`: 23 flows",
        "- `eni-0ffeeddccbbaa9988`: 7 flows",
        "",
        f"**Object:** `s3://archive-bucket/{DATA_KEY}`",
        "",
        "**Athena** (workgroup `rejected-flows-dev`), this hour:",
        "```sql",
        ATHENA_18H,
        "```",
        "%%%",
    ])


def test_without_a_workgroup_the_query_is_offered_alone():
    ctx = EventContext(stack="dev", athena_table='"rejected_flows_dev"."rejected_flows"')
    text = flow_event(summary_of(scanner_batch()), OBJ, ctx, NOW).text
    assert text.endswith(f"\n\n**Athena**, this hour:\n```sql\n{ATHENA_18H}\n```\n%%%")


def test_a_batch_too_diverse_to_count_exactly_says_its_counts_are_lower_bounds():
    records = [*scanner_batch(), *(flow(f"203.0.113.{i}", 3389) for i in range(1, 11))]
    summary = summarise_flows(ndjson(records).splitlines(keepends=True), Limits(sources=2))
    text = flow_event(summary, OBJ, CTX, NOW).text
    assert ("- **Log group:** `/vpc/flow-logs/dev`\n"
            "- _Counts are lower bounds (within 4): the batch was too diverse to count every source "
            "exactly._\n"
            "\n### Top sources\n"
            "- `198.51.100.23`: ≥16 flows to ports 22, 23, 445, 1433, 3389\n"
            "- `2001:db8:bad::1`: ≥3 flows to port 443\n"
            "- `203.0.113.10`: ≥1 flow to port 3389\n"
            "- _…and 12 more sources_\n"
            "\n### Top destination ports\n"
            "- `3389/tcp`: ≥17 flows\n") in text
    assert "- `eni-0a1b2c3d4e5f60718`: ≥33 flows\n" in text


@pytest.mark.parametrize(("records", "title", "internal_line"), [
    ([flow("10.0.3.17", 5432), flow("10.0.3.17", 5432), flow()],
     "3 rejected flows from 2 sources (1 internal) · 123456789012 · 18:00 UTC",
     "**2 flows from 1 internal source**: something inside the network is being refused."),
    ([flow("10.0.3.17", 5432), flow("10.0.3.18", 5432), flow()],
     "3 rejected flows from 3 sources (2 internal) · 123456789012 · 18:00 UTC",
     "**2 flows from 2 internal sources**: something inside the network is being refused."),
])
def test_internal_sources_are_counted_in_the_title_and_the_lead(records: list[dict], title: str,
                                                                   internal_line: str):
    draft = flow_event(summary_of(records), OBJ, CTX, NOW)
    assert draft.title == title
    assert f"\n\n{internal_line}\n\n- **Time window:** " in draft.text


def test_more_sources_than_counted_are_announced_as_more_than():
    records = [flow("10.0.3.17", 5432), flow("10.0.3.18", 5432), flow(), flow("198.51.100.9")]
    summary = summarise_flows(ndjson(records).splitlines(keepends=True), Limits(distinct_sources=1))
    draft = flow_event(summary, OBJ, CTX, NOW)
    assert draft.title == ("4 rejected flows from more than 2 sources (more than 1 internal) · 123456789012 "
                           "· 18:00 UTC")
    assert draft.text.startswith(
        "%%%\n**4 rejected flows** from **more than 2 sources**: 4 IPv4, 0 IPv6; 4 packets, 240 B.\n\n"
        "**2 flows from more than 1 internal sources**: something inside the network is being refused.\n\n")


@pytest.mark.parametrize(("places", "where"), [
    ({"account_id": ["111111111111", "222222222222"]}, " · 2 accounts · "),
    ({"account_id": [f"1111111111{i:02d}" for i in range(6)]}, " · 5+ accounts · "),
    ({"account_id": [None], "vpc_id": ["vpc-1", "vpc-2"]}, " · 2 VPCs · "),
    ({"account_id": [None], "vpc_id": [None], "log_group": ["/vpc/a", "/vpc/b", "/vpc/c"]},
     " · 3 log groups · "),
    ({"account_id": [None], "vpc_id": ["vpc-1"], "log_group": ["/vpc/a", "/vpc/b"]}, " · vpc-1 · "),
    ({"account_id": [None], "vpc_id": [None], "log_group": [None]}, " · "),
])
def test_the_title_names_the_one_place_the_flows_come_from(places: dict[str, list], where: str):
    width = max(len(values) for values in places.values())
    records = [flow(**{field: values[i % len(values)] for field, values in places.items()})
               for i in range(width)]
    title = flow_event(summary_of(records), OBJ, CTX, NOW).title
    flows = plural(width, "rejected flow")
    assert title == f"{flows} from 1 source{where}18:00 UTC"


@pytest.mark.parametrize(("name_chars", "title"), [
    (56, "1 rejected flow from 1 source · /vpc/{name} · 18:00 UTC"),  # exactly 100 chars
    (57, "1 rejected flow from 1 source · 18:00 UTC"),
])
def test_a_long_place_is_dropped_from_the_title_before_anything_is_cut(name_chars: int, title: str):
    name = "x" * (name_chars - len("/vpc/"))
    records = [flow(account_id=None, vpc_id=None, log_group=f"/vpc/{name}")]
    assert flow_event(summary_of(records), OBJ, CTX, NOW).title == title.format(name=name)


def test_places_beyond_the_few_counted_are_listed_with_and_more():
    records = [flow(account_id=f"1111111111{i:02d}", region=("eu-west-1", "us-east-1")[i % 2])
               for i in range(6)]
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert ("- **Account:** `111111111100`, `111111111101`, `111111111102`, `111111111103`, `111111111104` "
            "and more\n- **Region:** `eu-west-1`, `us-east-1`\n- **VPC:** `vpc-0123456789abcdef0`\n") in text


def ports_row(ports: range) -> str:
    return ", ".join(str(p) for p in ports)


@pytest.mark.parametrize(("records", "row"), [
    ([flow("198.51.100.9", 22)], "- `198.51.100.9`: 1 flow to port 22"),
    ([flow("198.51.100.9", p) for p in range(1, 13)],
     f"- `198.51.100.9`: 12 flows to ports {ports_row(range(1, 13))}"),
    ([flow("198.51.100.9", p) for p in range(1, 14)],
     f"- `198.51.100.9`: 13 flows to ports {ports_row(range(1, 13))} (+1 more)"),
    # More ports than are tracked per source: the count of the rest is a lower bound.
    ([flow("198.51.100.9", p) for p in range(1, 41)],
     f"- `198.51.100.9`: 40 flows to ports {ports_row(range(1, 13))} (+20+ more)"),
    ([flow("198.51.100.9", 0, protocol=1), flow("198.51.100.9", 0, protocol=47)],
     "- `198.51.100.9`: 2 flows (icmp, gre)"),
    ([flow("198.51.100.9", 22), flow("198.51.100.9", 0, protocol=1)],
     "- `198.51.100.9`: 2 flows to port 22 and icmp"),
    ([{**flow("198.51.100.9"), "dstport": None}], "- `198.51.100.9`: 1 flow"),
    # Port 0 of a protocol with ports is a port like any other (only portless protocols hide it).
    ([flow("198.51.100.9", 0), flow("198.51.100.9", 0, protocol=17)],
     "- `198.51.100.9`: 2 flows to port 0"),
    ([{**flow("198.51.100.9", 22), "srcaddr": None}], "- `-`: 1 flow to port 22"),  # no source address
    # Exactly as many ports as are tracked per source (32), then one more.
    ([flow("198.51.100.9", p) for p in range(1, 33)],
     f"- `198.51.100.9`: 32 flows to ports {ports_row(range(1, 13))} (+20 more)"),
    ([flow("198.51.100.9", p) for p in range(1, 34)],
     f"- `198.51.100.9`: 33 flows to ports {ports_row(range(1, 13))} (+20+ more)"),
])
def test_each_source_row_names_the_ports_and_protocols_it_tried(records: list[dict], row: str):
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert f"### Top sources\n{row}\n\n### Top destination ports\n" in text


def test_up_to_five_single_flow_sources_are_listed_by_address():
    records = [flow("198.51.100.50", 22), flow("198.51.100.50", 22),
               *(flow(f"203.0.113.{i}") for i in range(1, 6))]
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert "### Top sources\n- `198.51.100.50`: 2 flows to port 22\n" + "".join(
        f"- `203.0.113.{i}`: 1 flow to port 22\n" for i in range(1, 6)) + "\n###" in text


def test_more_single_flow_sources_are_summed_up_and_every_repeated_source_stays_listed():
    records = [flow("198.51.100.50", 22), flow("198.51.100.50", 22),
               *(flow(f"203.0.113.{i}") for i in range(1, 7))]
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert ("### Top sources\n- `198.51.100.50`: 2 flows to port 22\n- _…and 6 single-flow sources_\n\n"
            "### Top destination ports\n") in text
    only_singles = flow_event(summary_of([flow(f"203.0.113.{i}") for i in range(1, 7)]), OBJ, CTX, NOW).text
    assert "### Top sources\n- _…and 6 single-flow sources_\n\n### Top destination ports\n" in only_singles


@pytest.mark.parametrize(("extra", "warning"), [
    ([b"garbage\n"], "1 line was not flow records (skipped): 1 not JSON"),
    ([b'{"srcaddr": 5}\n'],
     "1 line was not flow records (skipped): 1 JSON but not a flow record (wrong value types)"),
    ([b"\xff\xfe\n", b"{\n", b"[1]\n"],
     "3 lines were not flow records (skipped): 2 not JSON (1 not UTF-8 text), "
     "1 JSON but not a flow record (wrong value types)"),
])
def test_lines_that_are_not_flows_are_explained(extra: list[bytes], warning: str):
    text = flow_event(summary_of([flow()], extra), OBJ, CTX, NOW).text
    assert f"- **Log group:** `/vpc/flow-logs/dev`\n- **Warning:** {warning}\n\n### Top sources\n" in text


def test_flows_without_interfaces_show_no_interface_list():
    text = flow_event(summary_of([flow(interface_id=None)]), OBJ, CTX, NOW).text
    assert "- `22/tcp`: 1 flow\n\n**Object:** " in text and "Interfaces hit" not in text


def test_internal_rows_are_kept_even_when_they_are_the_longest_list():
    # 25 internal hosts each refused on 15 ports, through their own interfaces; 3 internet sources.
    records = [flow(f"10.0.{i}.5", 8000 + p + i, interface_id=f"eni-{i:017x}")
               for i in range(25) for p in range(15)]
    records += [flow(f"198.51.100.{i}", 22) for i in range(1, 4)] * 2
    text = flow_event(summary_of(records), OBJ, CTX, NOW).text
    assert len(text) <= TEXT_LIMIT
    internal = [line for line in text.split("\n") if line.startswith("- `10.0.")]
    assert len(internal) == 25 and "### Internal sources\n" in text
    assert "- _…and 2 more sources_\n" in text and " more ports_\n" in text and " more interfaces_\n" in text


@pytest.mark.parametrize(("times", "date"), [
    ({"start": HOUR_START + 60, "end": HOUR_START + 119}, HOUR_START + 119),
    ({"start": HOUR_START + 60, "end": None}, HOUR_START + 60),  # no end: the start
    ({"start": None, "end": None}, HOUR_START),  # no time at all: the archive hour
])
def test_the_event_is_dated_by_the_flows_else_by_the_archive_hour(times: dict, date: int):
    draft = flow_event(summary_of([{**flow(), **times}]), OBJ, CTX, NOW)
    assert draft.date_happened == date


def test_outside_the_partitions_the_hour_is_the_flows_first_start_else_now():
    manual = ObjectRef("archive-bucket", "rejected/manual-upload.gz")
    later = HOUR_START + 2 * 3600 + 100  # 20:01:40
    draft = flow_event(summary_of([flow(start=later)]), manual, CTX, HOUR_START + 3 * 3600)
    assert draft.title.endswith(" · 20:00 UTC")
    assert draft.aggregation_key == "rejected-flows:dev:2026-11-27T20"
    assert "AND hour = 20 AND" in draft.text
    untimed = flow_event(summary_of([{**flow(), "start": None, "end": None}]), manual, CTX,
                         HOUR_START + 3 * 3600 + 100)
    assert untimed.title.endswith(" · 21:00 UTC")
    assert untimed.aggregation_key == "rejected-flows:dev:2026-11-27T21"
    assert untimed.date_happened == HOUR_START + 3 * 3600
    assert "- **Time window:** unknown (the flows carry no start/end)\n" in untimed.text
