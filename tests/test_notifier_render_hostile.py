"""Hostile values through every field that reaches an event, and long legal values through the fit.

The summaries are built from a benign batch with one field replaced (`dataclasses.replace`), so that the
rendering is tested whatever the transform and the summariser accept at the door.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from notifier.display import FULLWIDTH_AT, REPLACEMENT, TAG_LIMIT, clean, cut
from notifier.errorbatch import summarise_errors
from notifier.markdown import OBJECT_URI_LIMIT, TEXT_LIMIT, VALUE_CAPS
from notifier.model import EventContext, EventDraft, ObjectRef
from notifier.render import flow_event
from notifier.render_errors import error_event, unreadable_event
from notifier.sources import SourceGroup
from notifier.summary import Distinct, FlowSummary, summarise_flows
from tests.display_support import (
    HOSTILE_VALUES,
    body,
    code_spans,
    forbidden,
    hidden_characters,
    structure,
    tokens,
)
from tests.notifier_support import (
    ACCEPTED,
    DATA_KEY,
    ERROR_KEY,
    EVENTS,
    HOUR_START,
    error_line,
    flow,
    gz,
    invoke,
    ndjson,
    posted,
    put,
    s3_event,
)
from tests.notifier_support import BUCKET as HANDLER_BUCKET

CTX = EventContext(stack="dev", athena_table='"rejected_flows_dev"."rejected_flows"',
                   athena_workgroup="rejected-flows-dev", tags=("env:dev", "team:netsec"))
NOW = HOUR_START + 600
BUCKET = "archive-bucket"
DATA_DIR = DATA_KEY.rsplit("/", 1)[0] + "/"
ERROR_DIR = ERROR_KEY.rsplit("/", 1)[0] + "/"
ATHENA_18H = ('SELECT srcaddr, dstport, count(*) AS flows FROM "rejected_flows_dev"."rejected_flows" '
              "WHERE year = 2026 AND month = 11 AND day = 27 AND hour = 18 AND action = 'REJECT' "
              "GROUP BY srcaddr, dstport ORDER BY flows DESC LIMIT 50")
BENIGN = "benign-value-0"
ISSUE_ADDRESS, ISSUE_LOG_GROUP, ISSUE_KEY, ISSUE_BIDI = HOSTILE_VALUES[:4]


def base_summary() -> FlowSummary:
    """One internal and one internet source, one account, region, VPC, log group and interface."""
    records = [flow("198.51.100.7", 22), flow("198.51.100.7", 23), flow("10.0.1.9", 5432)]
    return summarise_flows(ndjson(records).splitlines(keepends=True))


BASE = base_summary()


def _with_address(group: SourceGroup, value: str) -> SourceGroup:
    return dataclasses.replace(group, rows=tuple(dataclasses.replace(r, address=value) for r in group.rows))


# Every field of a flow summary that is shown, and how to put a value in it.
FLOW_FIELDS: dict[str, Callable[[FlowSummary, str], FlowSummary]] = {
    "srcaddr (internet)": lambda s, v: dataclasses.replace(s, internet=_with_address(s.internet, v)),
    "srcaddr (internal)": lambda s, v: dataclasses.replace(s, internal=_with_address(s.internal, v)),
    "interface_id": lambda s, v: dataclasses.replace(s, top_interfaces=((v, 3),)),
    "account_id": lambda s, v: dataclasses.replace(s, accounts=Distinct((v,), False)),
    "region": lambda s, v: dataclasses.replace(s, regions=Distinct((v,), False)),
    "vpc_id": lambda s, v: dataclasses.replace(s, vpcs=Distinct((v,), False)),
    "log_group": lambda s, v: dataclasses.replace(s, log_groups=Distinct((v,), False)),
}


def flow_event_with(field: str, value: str) -> EventDraft:
    if field == "key":
        return flow_event(BASE, ObjectRef(BUCKET, DATA_DIR + value), CTX, NOW)
    return flow_event(FLOW_FIELDS[field](BASE, value), ObjectRef(BUCKET, DATA_KEY), CTX, NOW)


def error_event_with(field: str, value: str) -> EventDraft:
    record = orjson.loads(error_line())
    if field == "key":
        return error_event(summarise_errors([orjson.dumps(record)]), ObjectRef(BUCKET, ERROR_DIR + value),
                           CTX, NOW)
    if field == "error_output_type":
        key = f"errors/{value.replace('/', '_').replace('=', '_')}/year=2026/month=11/day=27/hour=18/x.gz"
        return error_event(summarise_errors([orjson.dumps(record)]), ObjectRef(BUCKET, key), CTX, NOW)
    record[field] = value
    return error_event(summarise_errors([orjson.dumps(record)]), ObjectRef(BUCKET, ERROR_KEY), CTX, NOW)


def data_tags(draft: EventDraft) -> list[str]:
    return [t for t in draft.tags if t not in CTX.tags]


def assert_inert(draft: EventDraft) -> None:
    """Nothing in the event was made by data: no link, image, HTML, mention, hidden character."""
    text = body(draft.text)
    assert forbidden(text) == []
    assert "%%%" not in text
    for part in (draft.title, draft.text, *draft.tags):
        assert "@" not in part, part
        assert hidden_characters(part) == [], part
    assert "\n" not in draft.title and not set("<>") & set(draft.title) and "://" not in draft.title
    for tag in data_tags(draft):
        assert len(tag) <= TAG_LIMIT and tag == tag.lower() and not tag.endswith((":", "_"))
        assert all(c.isalnum() or c in "_-:./" for c in tag), tag


def shown(value: str, limit: int) -> str:
    text = clean(value).replace("@", FULLWIDTH_AT)
    while "%%%" in text:
        text = text.replace("%%%", "%%％")
    return cut(text, limit) if text else "(empty)"


# --- the issue's examples ---------------------------------------------------------------------------

def test_the_issue_address_is_shown_literally_in_its_row():
    draft = flow_event_with("srcaddr (internet)", ISSUE_ADDRESS)
    assert_inert(draft)
    literal = ISSUE_ADDRESS.replace("@", FULLWIDTH_AT)
    assert f"- ``{literal}``: 2 flows to ports 22, 23\n" in draft.text
    assert structure(body(draft.text)) == structure(body(flow_event_with("srcaddr (internet)", BENIGN).text))


def test_a_log_group_name_with_a_newline_stays_on_its_line():
    draft = flow_event_with("log_group", ISSUE_LOG_GROUP)
    assert_inert(draft)
    line = "- **Log group:** `/vpc/flow-logs # Injected heading  [phish](https://evil.example)`\n"
    assert line in draft.text
    assert [t.type for t in tokens(body(draft.text))].count("heading_open") == 4  # ours only
    assert draft.title.endswith(" · 123456789012 · 18:00 UTC")  # the account, not the log group


def test_the_unreadable_object_command_quotes_the_key():
    uri = f"s3://{BUCKET}/{DATA_DIR}{ISSUE_KEY}"
    draft = unreadable_event(ObjectRef(BUCKET, DATA_DIR + ISSUE_KEY), "not gzip", CTX, NOW)
    assert_inert(draft)
    command = next(t.content for t in tokens(body(draft.text)) if t.type == "fence").strip()
    assert command == f"aws s3 cp {shlex.quote(uri)} -"
    assert shlex.split(command) == ["aws", "s3", "cp", uri, "-"]
    assert draft.title.endswith(" · 18:00 UTC · s|sh;.gz")  # the key's last part, after its last `/`


def test_an_ordinary_key_reads_as_itself_in_the_command():
    draft = unreadable_event(ObjectRef(BUCKET, DATA_KEY), "not gzip", CTX, NOW)
    assert f"\n```\naws s3 cp s3://{BUCKET}/{DATA_KEY} -\n```\n" in draft.text


def test_a_key_with_hidden_characters_gets_an_exact_command_that_shows_none():
    key = DATA_DIR + "a\u202e@b\n.gz"
    draft = unreadable_event(ObjectRef(BUCKET, key), "not gzip", CTX, NOW)
    assert_inert(draft)
    assert f"aws s3 cp $'s3://{BUCKET}/{DATA_DIR}a\\u202e\\x40b\\x0a.gz' -" in draft.text
    assert f"`s3://{BUCKET}/{DATA_DIR}a{REPLACEMENT}{FULLWIDTH_AT}b .gz`" in draft.text


@pytest.mark.parametrize("field", ["srcaddr (internet)", "account_id", "vpc_id"])
def test_a_right_to_left_override_is_shown_where_it_was(field):
    draft = flow_event_with(field, ISSUE_BIDI)
    assert_inert(draft)
    assert f"`203.0.113.9{REPLACEMENT}gpj.exe`" in draft.text
    if field == "account_id":
        assert f" · 203.0.113.9{REPLACEMENT}gpj.exe · 18:00 UTC" in draft.title


def test_a_hostile_account_lands_sanitised_in_the_title_and_the_tag():
    draft = flow_event_with("account_id", ISSUE_ADDRESS)
    assert_inert(draft)
    assert ("aws_account:1.2.3.4_click-me_https://evil.example/phish_x_https://evil.example/p.png_b_x_/b"
            "_here") in draft.tags
    assert draft.title == "3 rejected flows from 2 sources (1 internal) · 18:00 UTC"  # too long: left out
    short = flow_event_with("account_id", "<b>@x</b>")
    assert short.title == "3 rejected flows from 2 sources (1 internal) · ‹b›＠x‹/b› · 18:00 UTC"
    assert "aws_account:_b_x_/b" in short.tags


@pytest.mark.parametrize("field", ["errorCode", "errorMessage", "lambdaArn", "key", "error_output_type"])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_error_record_fields_are_inert(field, value):
    draft = error_event_with(field, value)
    assert_inert(draft)
    assert structure(body(draft.text)) == structure(body(error_event_with(field, BENIGN).text))


def test_a_hostile_error_code_is_plain_in_the_title_and_literal_in_its_row():
    draft = error_event_with("errorCode", "<b>@here</b>://x")
    assert draft.title == "1 record failed processing (‹b›＠here‹/b›[:]//x) · 18:00 UTC"
    assert "- `<b>＠here</b>://x`: 1 record" in draft.text
    long = error_event_with("errorCode", ISSUE_ADDRESS)  # too long for the title: named in the text only
    assert long.title == "1 record failed processing · 18:00 UTC"
    assert f"- ``{ISSUE_ADDRESS.replace('@', FULLWIDTH_AT)}``: 1 record" in long.text


def test_an_unreadable_reason_holding_markup_reads_as_words():
    draft = unreadable_event(ObjectRef(BUCKET, DATA_KEY), "Not a gzipped file (b'<b>@x`[y](https://e)')",
                             CTX, NOW)
    assert_inert(draft)
    assert ": Not a gzipped file (b'\\<b\\>＠x\\`\\[y\\](https\\[:\\]//e)')." in draft.text


# --- properties: any value through any field -------------------------------------------------------

ANY_VALUE = st.one_of(st.sampled_from(HOSTILE_VALUES),
                      # UTF-8 text: what a JSON line off S3 can hold (orjson refuses lone surrogates).
                      st.text(st.characters(codec="utf-8", categories=None), max_size=300))


@given(st.sampled_from([*FLOW_FIELDS, "key"]), ANY_VALUE)
@example("srcaddr (internal)", ISSUE_ADDRESS)
def test_any_value_in_any_flow_field_renders_inert_and_recognisable(field, value):
    draft = flow_event_with(field, value)
    assert_inert(draft)
    assert len(draft.text) <= TEXT_LIMIT and len(draft.title) <= 100
    assert structure(body(draft.text)) == structure(body(flow_event_with(field, BENIGN).text))
    if field == "key":
        assert shown(f"s3://{BUCKET}/{DATA_DIR}{value}", OBJECT_URI_LIMIT) in code_spans(body(draft.text))
    else:
        assert shown(value, VALUE_CAPS[0]) in code_spans(body(draft.text))


@given(st.lists(ANY_VALUE, min_size=len(FLOW_FIELDS) + 1, max_size=len(FLOW_FIELDS) + 1))
def test_hostile_values_in_every_flow_field_at_once_render_inert_and_fit(values):
    summary = BASE
    for put_in, value in zip(FLOW_FIELDS.values(), values, strict=False):
        summary = put_in(summary, value)
    draft = flow_event(summary, ObjectRef(BUCKET, DATA_DIR + values[-1]), CTX, NOW)
    assert_inert(draft)
    assert len(draft.text) <= TEXT_LIMIT and len(draft.title) <= 100
    assert structure(body(draft.text)) == structure(body(flow_event(BASE, ObjectRef(BUCKET, DATA_KEY), CTX,
                                                                    NOW).text))


@given(st.sampled_from(["errorCode", "errorMessage", "lambdaArn", "key"]), ANY_VALUE)
def test_any_value_in_any_error_field_renders_inert(field, value):
    draft = error_event_with(field, value)
    assert_inert(draft)
    if value or field != "errorMessage":  # an empty message shows no sample
        assert structure(body(draft.text)) == structure(body(error_event_with(field, BENIGN).text))


@given(ANY_VALUE, ANY_VALUE)
def test_any_key_and_reason_make_an_inert_unreadable_event_with_an_exact_command(key, reason):
    obj = ObjectRef(BUCKET, DATA_DIR + key)
    draft = unreadable_event(obj, reason, CTX, NOW)
    assert_inert(draft)
    [command] = [t.content for t in tokens(body(draft.text)) if t.type == "fence"]
    assert command.startswith("aws s3 cp ") and command.endswith(" -\n")


# --- the fit: long legal values are cut before anything that matters goes ---------------------------

LONG_KEY = DATA_DIR + "k" * (1024 - len(DATA_DIR) - 3) + ".gz"
LONG_GROUPS = tuple(f"/aws/vpc/flow-logs/{i}-" + "g" * (512 - 21) for i in range(5))


def crowded_summary(internal: int, internet: int) -> FlowSummary:
    """`internal` internal and `internet` internet sources, each refused on 12 ports."""
    records = [flow(f"10.0.{i}.5", 8000 + p, interface_id=f"eni-{i:017x}") for i in range(internal)
               for p in range(12)]
    records += [flow(f"198.51.100.{i}", 1000 + p) for i in range(internet) for p in range(12)]
    summary = summarise_flows(ndjson(records).splitlines(keepends=True))
    return dataclasses.replace(summary, log_groups=Distinct(LONG_GROUPS, True))


def test_a_1024_byte_key_and_512_character_log_groups_keep_sources_object_and_query():
    assert len(LONG_KEY.encode()) == 1024 and all(len(g) == 512 for g in LONG_GROUPS)
    draft = flow_event(crowded_summary(internal=6, internet=25), ObjectRef(BUCKET, LONG_KEY), CTX, NOW)
    text = draft.text
    assert len(text) <= TEXT_LIMIT
    assert all(f"- `10.0.{i}.5`: 12 flows to ports " in text for i in range(6))
    assert f"**Object:** `s3://{BUCKET}/{LONG_KEY}`\n" in text
    assert f"```sql\n{ATHENA_18H}\n```\n%%%" in text
    # The log group names were cut first, each still recognisable by its start.
    line = next(line for line in text.split("\n") if line.startswith("- **Log group:** "))
    spans = code_spans(line)
    assert len(spans) == len(LONG_GROUPS) and all(s.endswith("…") for s in spans)
    assert all(group.startswith(s[:-1]) for group, s in zip(LONG_GROUPS, spans, strict=True))


def test_long_values_are_cut_before_any_row_is_dropped():
    draft = flow_event(crowded_summary(internal=2, internet=8), ObjectRef(BUCKET, LONG_KEY), CTX, NOW)
    assert " more sources_" not in draft.text and " more ports_" not in draft.text
    assert all(f"`198.51.100.{i}`" in draft.text for i in range(8))
    assert "…`" in draft.text  # a log group name was cut instead


def test_log_groups_are_shown_whole_when_they_fit():
    summary = dataclasses.replace(BASE, log_groups=Distinct(LONG_GROUPS[:2], False))
    text = flow_event(summary, ObjectRef(BUCKET, DATA_KEY), CTX, NOW).text
    assert all(f"`{g}`" in text for g in LONG_GROUPS[:2])


def test_an_error_event_with_a_1024_byte_key_keeps_its_object_line():
    key = ERROR_DIR + "e" * (1024 - len(ERROR_DIR))
    lines = [orjson.dumps({**orjson.loads(error_line(f"Code{i:02d}", "m" * 300)),
                           "lambdaArn": f"arn:aws:lambda:eu-west-1:123456789012:function:{'f' * 64}{i}"})
             for i in range(40)]
    draft = error_event(summarise_errors(lines), ObjectRef(BUCKET, key), CTX, NOW)
    assert len(draft.text) <= TEXT_LIMIT
    assert f"- **Object:** `s3://{BUCKET}/{key}`\n" in draft.text


def test_an_unreadable_object_with_a_1024_byte_key_keeps_its_object_and_command():
    draft = unreadable_event(ObjectRef(BUCKET, LONG_KEY), "x" * 3000, CTX, NOW)
    assert len(draft.text) <= TEXT_LIMIT
    assert f"`s3://{BUCKET}/{LONG_KEY}`" in draft.text
    assert f"\n```\naws s3 cp s3://{BUCKET}/{LONG_KEY} -\n```\n%%%" in draft.text


@given(st.integers(0, 12), st.integers(0, 60), st.integers(20, 1024 - len(DATA_DIR)),
       st.lists(st.integers(1, 512), min_size=1, max_size=5))
def test_any_mix_of_long_values_keeps_internal_sources_object_and_query(internal, internet, key_chars,
                                                                        group_chars):
    key = DATA_DIR + "k" * key_chars
    summary = dataclasses.replace(crowded_summary(internal, internet),
                                  log_groups=Distinct(tuple("g" * n for n in group_chars), False))
    text = flow_event(summary, ObjectRef(BUCKET, key), CTX, NOW).text
    assert len(text) <= TEXT_LIMIT
    assert all(f"- `10.0.{i}.5`: 12 flows to ports " in text for i in range(internal))
    assert f"**Object:** `s3://{BUCKET}/{key}`\n" in text
    assert f"```sql\n{ATHENA_18H}\n```\n%%%" in text


# --- end to end: hostile keys through the handler, as Datadog receives the events -------------------

@pytest.mark.parametrize("name", [ISSUE_KEY, "203.0.113.9\u202egpj.exe.gz", "a`[x](https://e)@here.gz"])
def test_hostile_keys_reach_datadog_inert_through_the_handler(aws, env, httpserver, clock, name):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    readable, unreadable = DATA_DIR + name, DATA_DIR + "broken-" + name
    put(aws, readable, gz(ndjson([flow()])))
    put(aws, unreadable, b"not gzip at all")
    outcomes = invoke(s3_event(HANDLER_BUCKET, readable, unreadable), clock)["objects"]
    assert list(outcomes.values()) == ["posted", "unreadable"]  # two events posted
    for sent, key in zip(posted(httpserver), (readable, unreadable), strict=True):
        draft = EventDraft(title=sent["title"], text=sent["text"], alert_type=sent["alert_type"],
                           aggregation_key=sent["aggregation_key"], date_happened=sent["date_happened"],
                           tags=tuple(sent["tags"]))
        assert_inert(draft)
        assert shown(f"s3://{HANDLER_BUCKET}/{key}", OBJECT_URI_LIMIT) in code_spans(body(draft.text))
