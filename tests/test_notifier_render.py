"""Pure rendering of Datadog events: titles, markdown text, truncation, tags, dates, keys."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from contracts.events import internal_sources_tag
from notifier.errorbatch import summarise_errors
from notifier.markdown import (
    MAX_EVENT_AGE_S,
    TEXT_LIMIT,
    Section,
    aggregation_key,
    clamp_date,
    fit_text,
    hour_of,
)
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.render import flow_event
from notifier.render_errors import error_event, unreadable_event
from notifier.summary import summarise_flows
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
    assert "`Lambda.ProcessingFailedStatus`: 3 records — e.g. _record failed: not gzip_" in draft.text
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
