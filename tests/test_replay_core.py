"""Replay's pure core: reading error objects, planning PutRecordBatch calls, the summary lines."""

from __future__ import annotations

import base64
import gzip
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.error_record import UNKNOWN_CODE
from contracts.firehose import PUT_BATCH_MAX_BYTES, PUT_BATCH_MAX_RECORDS, PUT_RECORD_MAX_BYTES
from replay.plan import plan_batches
from replay.records import (
    ErrorObject,
    FailedRecord,
    MalformedObjectError,
    name_lines,
    parse_error_object,
    resume_point,
)
from replay.run import utc_stamp
from replay.summary import (
    FAILED,
    REPLAYED,
    SKIPPED,
    WOULD_REPLAY,
    ObjectOutcome,
    Summary,
    failure_advice,
    summary_line,
)
from tests.replay_support import (
    ACCEPTED_SSH,
    NO_DATA,
    REJECTED_RDP,
    error_key,
    error_line,
    error_object,
    subscription_record,
)

KEY = error_key()


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
def test_error_object_gives_back_each_raw_record_in_order(compressed):
    raws = [subscription_record(REJECTED_RDP), subscription_record(ACCEPTED_SSH, NO_DATA), b"plain text\n"]
    found = parse_error_object(KEY, error_object(raws, compressed=compressed))
    assert found.skipped == []
    assert found.records == [
        FailedRecord(KEY, 1, raws[0], "Lambda.ProcessingFailedStatus"),
        FailedRecord(KEY, 2, raws[1], "Lambda.ProcessingFailedStatus"),
        FailedRecord(KEY, 3, raws[2], "Lambda.ProcessingFailedStatus"),
    ]


def test_records_of_a_failed_invocation_are_replayed_too():
    body = error_line(b"x", code="Lambda.FunctionError") + error_line(b"y", code="Lambda.MissingRecordId")
    assert [(r.data, r.error_code) for r in parse_error_object(KEY, body).records] == [
        (b"x", "Lambda.FunctionError"), (b"y", "Lambda.MissingRecordId")]


def test_an_empty_object_has_nothing_to_replay():
    assert parse_error_object(KEY, b"") == ErrorObject([])
    assert parse_error_object(KEY, gzip.compress(b"")) == ErrorObject([])


@pytest.mark.parametrize(("line", "reason"), [
    (b'{"srcaddr":"10.0.0.1","dstport":22}', "no rawData"),
    (b'{"errorCode":"Lambda.ProcessingFailedStatus","errorMessage":"x"}', "no rawData"),
    (b"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 REJECT OK", "not JSON"),
    (b'["rawData"]', "a JSON list, not a Firehose error record"),
    (b'{"errorCode":"x","rawData":"not base64!"}', "rawData is not base64"),
    # Characters outside base64's alphabet are refused, not skipped: "cmVj b3Jk" is not "record".
    (b'{"errorCode":"x","rawData":"cmVj b3Jk"}', "rawData is not base64"),
    (b'{"errorCode":"x","rawData":7}', "rawData is not a string"),
])
def test_a_line_that_cannot_be_put_back_is_named_and_the_others_kept(line, reason):
    body = gzip.compress(error_line(b"good") + line + b"\n" + error_line(b"good too"))
    found = parse_error_object(KEY, body)
    assert [(record.line, record.data) for record in found.records] == [(1, b"good"), (3, b"good too")]
    ((number, why),) = found.skipped
    assert number == 2 and why.startswith(reason)


def test_a_record_without_an_error_code_is_replayed_under_code_unknown():
    body = b'{"rawData":"%s"}\n' % base64.b64encode(b"no code")
    assert parse_error_object(KEY, body) == ErrorObject([FailedRecord(KEY, 1, b"no code", UNKNOWN_CODE)])


def test_an_object_none_of_whose_lines_can_be_put_back_is_an_error():
    body = b"".join(b"nope %d\n" % i for i in range(6))
    with pytest.raises(MalformedObjectError) as caught:
        parse_error_object(KEY, body)
    assert caught.value.key == KEY
    assert caught.value.reason == (
        "no line can be put back: line 1: not JSON (starts b'nope 0'); line 2: not JSON (starts b'nope 1'); "
        "line 3: not JSON (starts b'nope 2') (and 3 more lines)")


@pytest.mark.parametrize(("bad_lines", "counted"), [
    (1, ""), (3, ""), (4, " (and 1 more lines)"), (6, " (and 3 more lines)"),
])
def test_the_first_three_bad_lines_are_named_in_order_and_the_rest_counted(bad_lines, counted):
    problems = [(i + 1, f"not JSON (starts b'nope {i}')") for i in range(bad_lines)]
    named = [f"line {i + 1}: not JSON (starts b'nope {i}')" for i in range(min(bad_lines, 3))]
    assert name_lines(problems) == "; ".join(named) + counted


def test_blank_lines_between_records_are_skipped_and_the_records_after_them_kept():
    body = error_line(b"first") + b"\n   \n" + error_line(b"after a hand edit")
    assert parse_error_object(KEY, body) == ErrorObject([
        FailedRecord(KEY, 1, b"first", "Lambda.ProcessingFailedStatus"),
        FailedRecord(KEY, 4, b"after a hand edit", "Lambda.ProcessingFailedStatus"),
    ])


def test_a_truncated_gzip_object_is_reported_not_skipped():
    body = error_object([subscription_record(REJECTED_RDP)] * 20)
    with pytest.raises(MalformedObjectError) as caught:
        parse_error_object(KEY, body[: len(body) // 2])
    assert caught.value.reason.startswith("starts like gzip but cannot be decompressed")
    assert caught.value.key == KEY and str(caught.value).startswith(f"{KEY}: starts like gzip")


@pytest.mark.parametrize(("tag", "resume"), [
    (None, (0, 0)), ("0", (0, 0)), ("1", (1, 0)), ("3", (3, 0)), ("0+2", (0, 2)), ("1+2", (1, 2)),
])
def test_a_progress_tag_says_how_many_records_are_back_and_how_many_were_being_sent(tag, resume):
    """A tag equal to the count (all records back, the replayed tag not set yet) leaves nothing to put."""
    assert resume_point(KEY, tag, 3) == resume


@pytest.mark.parametrize("tag", ["4", "-1", "", "two", "1.5", "²", "2+2", "1+", "+1", "1+x", "1+2+3"])
def test_a_progress_tag_that_cannot_be_right_is_an_error_naming_the_object(tag):
    with pytest.raises(MalformedObjectError) as caught:
        resume_point(KEY, tag, 3)
    assert caught.value.key == KEY
    assert caught.value.reason == (f"its progress tag says {tag!r} records were put back, but it holds 3: "
                                   "check the object, then remove the tag")


def test_a_record_too_big_for_put_record_batch_is_an_error_not_a_failed_call():
    body = error_line(b"x" * (PUT_RECORD_MAX_BYTES + 1))
    with pytest.raises(MalformedObjectError) as caught:
        parse_error_object(KEY, body)
    assert "over Firehose's 1,024,000 byte limit per record" in caught.value.reason
    largest = b"x" * PUT_RECORD_MAX_BYTES
    assert parse_error_object(KEY, error_line(largest)).records[0].data == largest


def test_base64_in_raw_data_is_decoded_byte_for_byte():
    raw = bytes(range(256)) * 3
    (record,) = parse_error_object(KEY, error_line(raw)).records
    assert record.data == raw and base64.b64encode(record.data) == base64.b64encode(raw)


# Record sizes: mostly small, some near Firehose's per-record maximum, so both limits are reached.
_SIZES = st.one_of(st.integers(0, 2_000), st.sampled_from(
    [PUT_RECORD_MAX_BYTES, PUT_RECORD_MAX_BYTES - 1, 700_000, 350_000, 4 * 1024]))
_PAYLOADS: dict[int, bytes] = {}  # one bytes object per size: lists of ~1,000 large records stay cheap


def _payload(size: int) -> bytes:
    return _PAYLOADS.setdefault(size, b"r" * size)


@given(st.lists(_SIZES, max_size=1_300))
def test_planned_batches_stay_within_limits_and_keep_every_record_in_order(sizes):
    records = [FailedRecord(KEY, line, _payload(size), "c") for line, size in enumerate(sizes, start=1)]
    plan = plan_batches(records)
    assert [record for batch in plan for record in batch.records] == records
    for batch in plan:
        assert 1 <= len(batch.records) <= PUT_BATCH_MAX_RECORDS
        assert batch.size <= PUT_BATCH_MAX_BYTES
        assert batch.size == sum(len(p) for p in batch.payloads)
    # Never more calls than needed: each batch is full, or the next record would not have fitted.
    for batch, following in itertools.pairwise(plan):
        assert (len(batch.records) == PUT_BATCH_MAX_RECORDS
                or batch.size + len(following.records[0].data) > PUT_BATCH_MAX_BYTES)


def test_summary_line_counts_objects_records_and_bytes():
    summary = Summary("archive", "errors/processing-failed/", dry_run=False, outcomes=[
        ObjectOutcome("a", REPLAYED, records=3, bytes=1_500, calls=1),
        ObjectOutcome("b", REPLAYED, records=2, bytes=500, calls=1),
        ObjectOutcome("c", SKIPPED),
        ObjectOutcome("d", FAILED, reason="line 1: not JSON"),
    ])
    assert summary_line(summary) == (
        "put back 5 records (2,000 bytes): 2 objects replayed, 1 skipped (already replayed), 1 failed")


def test_dry_run_summary_says_what_would_be_put():
    summary = Summary("archive", "errors/", dry_run=True,
                      outcomes=[ObjectOutcome("a", WOULD_REPLAY, records=4, bytes=10, calls=1)])
    assert summary_line(summary) == (
        "dry run: would put back 4 records (10 bytes): 1 object to replay, 0 skipped (already replayed), "
        "0 failed")


def test_failure_advice_names_every_object_left_untagged():
    summary = Summary("archive", "errors/", dry_run=False, outcomes=[
        ObjectOutcome("a", FAILED, reason="line 1: not JSON"), ObjectOutcome("b", REPLAYED, records=1),
        ObjectOutcome("c", FAILED, reason="cannot read the object (AccessDenied: Access Denied)"),
    ])
    assert failure_advice(summary) == (
        "left untagged (a re-run retries exactly these once the cause is fixed): a, c")


def test_the_replayed_tag_is_written_like_2026_11_27T18_04_05Z():
    assert utc_stamp(datetime(2026, 11, 27, 18, 4, 5, 999_999, tzinfo=UTC)) == "2026-11-27T18:04:05Z"


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone 14 hours ahead of UTC (the Line Islands)."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_replayed_tag_is_utc_whatever_the_machines_time_zone(far_from_utc):
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = datetime.strptime(utc_stamp(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= stamp <= datetime.now(UTC)


def test_summary_of_an_empty_prefix_says_where_it_looked():
    assert summary_line(Summary("archive", "errors/processing-failed/", dry_run=False)) == (
        "put back 0 records (0 bytes): 0 objects replayed, 0 skipped (already replayed), 0 failed "
        "(nothing under s3://archive/errors/processing-failed/)")
