"""The Firehose error record and the S3 object tags: one writer and one reader each, and every package
that reads them (the notifier, replay, the local archive) reading them alike."""

from __future__ import annotations

import base64
import unicodedata
from collections import Counter

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.error_record import (
    UNKNOWN_CODE,
    NotAnErrorRecordError,
    NotReplayableError,
    error_line,
    read_error_line,
)
from contracts.firehose import PUT_RECORD_MAX_BYTES
from contracts.object_tags import (
    MAX_KEY_CHARS,
    MAX_TAGS,
    MAX_VALUE_CHARS,
    NOTIFIED_TAG,
    PROGRESS_TAG,
    REPLAYED_TAG,
    ObjectTags,
    TagError,
)
from local.archive import error_counts
from notifier import storage
from notifier.errorbatch import summarise_errors
from replay.records import GZIP_MAGIC, MalformedObjectError, parse_error_object
from tests.replay_support import LAMBDA_ARN, error_key

KEY = error_key()


def test_a_line_written_is_read_back_field_by_field():
    line = error_line(b"\x00raw\xff", code="Lambda.FunctionError", message="boom", attempts=4,
                      arrival_ms=1_795_748_400_000, ending_ms=1_795_748_461_000, lambda_arn=LAMBDA_ARN)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    record = read_error_line(line)
    assert (record.error_code, record.error_message, record.attempts_made, record.arrival_timestamp,
            record.attempt_ending_timestamp, record.lambda_arn, record.decode_data()) == (
        "Lambda.FunctionError", "boom", 4, 1_795_748_400_000, 1_795_748_461_000, LAMBDA_ARN, b"\x00raw\xff")
    # The keys Firehose writes, and no other.
    assert set(orjson.loads(line)) == {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
                                      "attemptEndingTimestamp", "rawData", "lambdaArn"}


@pytest.mark.parametrize("fields", [{}, {"errorCode": None}, {"errorCode": ""}, {"errorCode": 7}])
def test_a_record_without_a_usable_error_code_reads_as_unknown_and_stays_replayable(fields):
    record = read_error_line(orjson.dumps({**fields, "rawData": base64.b64encode(b"x").decode()}))
    assert record.error_code == UNKNOWN_CODE and record.decode_data() == b"x" and record.replayable


@pytest.mark.parametrize(("raw_data", "reason"), [
    (None, "no rawData"), (7, "rawData is not a string"), ("not base64!", "rawData is not base64"),
    (base64.b64encode(b"x" * (PUT_RECORD_MAX_BYTES + 1)).decode(), "a record of 1,024,001 bytes is over"),
])
def test_a_record_whose_raw_data_cannot_be_put_back_says_why(raw_data, reason):
    fields = {"errorCode": "Lambda.ProcessingFailedStatus"}
    if raw_data is not None:
        fields["rawData"] = raw_data
    record = read_error_line(orjson.dumps(fields))
    with pytest.raises(NotReplayableError, match=reason):
        record.decode_data()
    assert not record.replayable


@pytest.mark.parametrize(("line", "reason"), [
    (b"not json", "not JSON (starts b'not json')"), (b'["rawData"]', "a JSON list, not a Firehose error"),
    (b'"text"', "a JSON str, not"), (b"7", "a JSON int, not"),
])
def test_a_line_that_is_not_a_json_object_is_not_an_error_record(line, reason):
    with pytest.raises(NotAnErrorRecordError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_error_line(line)


def _values() -> st.SearchStrategy[object]:
    return st.one_of(st.none(), st.booleans(), st.integers(-5, 2**40), st.text(max_size=12))


_RAW = st.one_of(st.binary(max_size=40).map(lambda data: base64.b64encode(data).decode()), _values())
_RECORD = st.fixed_dictionaries({}, optional={
    "errorCode": st.one_of(st.sampled_from(["Lambda.ProcessingFailedStatus", "Lambda.FunctionError"]),
                           _values()),
    "errorMessage": _values(), "attemptsMade": _values(), "arrivalTimestamp": _values(),
    "lambdaArn": _values(), "rawData": _RAW,
}).map(orjson.dumps)
_LINE = st.one_of(_RECORD, _RECORD, st.binary(max_size=30).filter(lambda line: b"\n" not in line),
                  st.sampled_from([b"[1]", b'"x"', b"null", b"{"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE, max_size=12))
def test_the_notifier_replay_and_the_local_archive_read_every_line_alike(lines):
    body = b"\n".join(lines) + b"\n"
    assume(not body.startswith(GZIP_MAGIC))  # replay would read it as gzip (the notifier gets lines)
    split = body.split(b"\n")
    notified = summarise_errors(split)
    records, _ = error_counts(split)
    try:
        found = parse_error_object(KEY, body)
        replayable, skipped = found.records, found.skipped
    except MalformedObjectError:  # no line replay could put back
        replayable, skipped = [], [None] * sum(1 for line in split if line.strip())
    assert records == notified.records, "the same lines are records for the notifier and the archive"
    assert len(replayable) == notified.records - notified.not_replayable, "and replay puts back the rest"
    assert len(skipped) == notified.invalid_lines + notified.not_replayable
    codes = Counter(code for code, count, _ in notified.codes for _ in range(count))
    assert Counter(record.error_code for record in replayable) <= codes, "codes read alike"


def test_a_line_without_error_code_is_a_record_to_all_three_readers():
    line = orjson.dumps({"rawData": base64.b64encode(b"lost label").decode(), "attemptsMade": 1})
    notified = summarise_errors([line])
    assert (notified.records, notified.not_replayable, notified.codes) == (1, 0, ((UNKNOWN_CODE, 1, ""),))
    assert [(r.data, r.error_code) for r in parse_error_object(KEY, line).records] == [
        (b"lost label", UNKNOWN_CODE)]
    assert error_counts([line]) == (1, 1), "one record, whose raw data is one plain-text line"


def test_a_line_without_raw_data_is_a_record_no_one_can_replay():
    lines = [orjson.dumps({"errorCode": "Lambda.ProcessingFailedStatus"}), error_line(
        b"kept", code="Lambda.ProcessingFailedStatus", message="", attempts=1, arrival_ms=1, ending_ms=2,
        lambda_arn=LAMBDA_ARN)]
    notified = summarise_errors(lines)
    assert (notified.records, notified.not_replayable, notified.invalid_lines) == (2, 1, 0)
    found = parse_error_object(KEY, b"\n".join(lines))
    assert [r.data for r in found.records] == [b"kept"] and found.skipped == [(1, "no rawData")]
    assert error_counts(lines) == (2, 1)


# --- S3 object tags --------------------------------------------------------------------------------

def test_tags_read_from_s3_are_written_back_with_the_one_changed():
    tags = ObjectTags.from_tag_set([{"Key": "owner", "Value": "netsec"}, {"Key": PROGRESS_TAG, "Value": "5"}])
    assert tags.with_tag(REPLAYED_TAG, "2026-12-02T15:00:00Z").without({PROGRESS_TAG}).tag_set() == [
        {"Key": "owner", "Value": "netsec"}, {"Key": REPLAYED_TAG, "Value": "2026-12-02T15:00:00Z"}]
    assert dict(tags) == {"owner": "netsec", PROGRESS_TAG: "5"}, "the view itself is unchanged"


def test_s3s_maximum_of_tags_is_enforced_for_a_new_key_not_for_one_already_there():
    full = ObjectTags({f"team-{i}": "x" for i in range(MAX_TAGS)})
    assert not full.room_for(NOTIFIED_TAG) and full.room_for("team-3")
    with pytest.raises(TagError, match="the object has 10 tags, S3's maximum"):
        full.with_tag(NOTIFIED_TAG, "1")
    assert full.with_tag("team-3", "y")["team-3"] == "y"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("k" * (MAX_KEY_CHARS + 1), "v", "must have 1 to 128 characters"),
    ("", "v", "must have 1 to 128 characters"),
    ("k", "v" * (MAX_VALUE_CHARS + 1), "has 257 characters, over S3's 256"),
    ("k", "a;b", "a character S3 refuses"), ("k", "line\nbreak", "a character S3 refuses"),
    ("k*", "v", "a character S3 refuses"),
])
def test_a_tag_s3_would_refuse_is_refused_before_it_is_sent(key, value, message):
    with pytest.raises(TagError, match=message):
        ObjectTags().with_tag(key, value)


@pytest.mark.parametrize("value", ["2026-12-02T15:00:00Z", "500+500", "7700000000000000042", "accepted",
                                   "é ü 東京", "a_b.c:d/e=f+g-h@i", "v" * MAX_VALUE_CHARS, ""])
def test_every_value_the_stack_writes_is_one_s3_takes(value):
    assert ObjectTags().with_tag(REPLAYED_TAG, value)[REPLAYED_TAG] == value


def test_the_notifier_marks_with_the_contracts_tag_and_limit():
    assert storage.MARK_TAG == NOTIFIED_TAG and storage.MAX_TAGS == MAX_TAGS
    tags = {f"team-{i}": "x" for i in range(MAX_TAGS - 1)}
    assert storage.can_mark(tags) and not storage.can_mark({**tags, "one-more": "x"})


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_a_tag_value_is_taken_only_if_every_character_is_one_s3_documents(value):
    """S3's pattern is `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`; Python's `re` has no `\\p{}`, so categories."""
    documented = all(unicodedata.category(char)[0] in "LN" or char == " " or char in "_.:/=+-@"
                     for char in value)
    try:
        ObjectTags().with_tag("k", value)
    except TagError:
        taken = False
    else:
        taken = True
    assert not taken or documented, "never a value S3 refuses"
    if documented and all(char == " " or unicodedata.category(char)[0] != "Z" for char in value):
        assert taken, "every documented letter, digit and S3 sign is taken (other Unicode spaces are not)"
