"""Error events, rendered whole: Firehose's failed records under `errors/`, and unreadable objects."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from notifier.display import cut
from notifier.errorbatch import summarise_errors
from notifier.markdown import TEXT_LIMIT, VALUE_CAPS
from notifier.model import EventContext, EventDraft, ObjectRef
from notifier.render_errors import error_event, error_title, unreadable_event
from tests.notifier_support import DATA_KEY, ERROR_KEY, HOUR_START, error_line

CTX = EventContext(stack="dev", athena_table='"rejected_flows_dev"."rejected_flows"',
                   athena_workgroup="rejected-flows-dev", tags=("env:dev", "team:netsec"))
NOW = HOUR_START + 600
BUCKET = "archive-bucket"
TRANSFORM_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:rejected-flows-transform:$LATEST"
ERRORS_HEADER = ("**{} not archived** and went to the error prefix instead of `rejected/`; "
                 "their raw data (base64 CloudWatch Logs payloads) is kept there.")
ERROR_TAGS = ("env:dev", "team:netsec", "source:rejected-flows", "stack:dev", "kind:processing-errors")


def failed_record(code: str = "Lambda.ProcessingFailedStatus", message: str | None = "record failed",
                  **fields: object) -> bytes:
    """One line of an `errors/` object, with any field replaced or dropped (None)."""
    record = orjson.loads(error_line(code))
    record["errorMessage"] = message
    record.update(fields)
    return orjson.dumps({k: v for k, v in record.items() if v is not None}) + b"\n"


def event_of(lines: list[bytes], key: str = ERROR_KEY, now: float = NOW) -> EventDraft:
    return error_event(summarise_errors(lines), ObjectRef(BUCKET, key), CTX, now)


def test_a_failed_batch_event_names_the_window_type_attempts_processors_and_codes():
    lines = [
        *[failed_record(arrivalTimestamp=HOUR_START * 1000 + 5_000, attemptsMade=1)] * 3,
        failed_record("Lambda.FunctionError", "Task timed out after 60.00 seconds",
                      arrivalTimestamp=HOUR_START * 1000 + 65_250, attemptsMade=4,
                      lambdaArn=TRANSFORM_ARN.replace("$LATEST", "7")),
    ]
    draft = event_of(lines)
    assert draft.title == "4 records failed processing (Lambda.ProcessingFailedStatus +1) · 18:00 UTC"
    assert draft.text == "\n".join([
        "%%%",
        ERRORS_HEADER.format("4 Firehose records were"),
        "",
        "- **Arrival window:** 2026-11-27 18:00:05 → 18:01:05 UTC",
        f"- **Object:** `s3://{BUCKET}/{ERROR_KEY}`",
        "- **Error output type:** `processing-failed`",
        "- **Attempts made:** up to 4",
        f"- **Processor:** `{TRANSFORM_ARN}`, `{TRANSFORM_ARN.replace('$LATEST', '7')}`",  # sorted
        "",
        "### Error codes",
        "- `Lambda.ProcessingFailedStatus`: 3 records — e.g. `record failed`",
        "- `Lambda.FunctionError`: 1 record — e.g. `Task timed out after 60.00 seconds`",
        "%%%",
    ])
    assert draft.alert_type == "error"
    assert draft.tags == (*ERROR_TAGS, "error_output_type:processing-failed")
    assert draft.aggregation_key == "rejected-flows-errors:dev:2026-11-27T18"
    assert draft.date_happened == HOUR_START + 65  # the last arrival, to the second


def test_one_failed_record_is_worded_in_the_singular():
    draft = event_of([failed_record(attemptsMade=1)])
    assert draft.title == "1 record failed processing (Lambda.ProcessingFailedStatus) · 18:00 UTC"
    assert ERRORS_HEADER.format("1 Firehose record was") in draft.text
    assert "- `Lambda.ProcessingFailedStatus`: 1 record — e.g. `record failed`\n%%%" in draft.text


def test_records_without_times_attempts_processor_or_message_say_so():
    line = failed_record(message=None, arrivalTimestamp=None, attemptsMade=None, lambdaArn=None)
    draft = event_of([line, line])
    assert draft.text == "\n".join([
        "%%%",
        ERRORS_HEADER.format("2 Firehose records were"),
        "",
        "- **Arrival window:** unknown (the flows carry no start/end)",
        f"- **Object:** `s3://{BUCKET}/{ERROR_KEY}`",
        "- **Error output type:** `processing-failed`",
        "",
        "### Error codes",
        "- `Lambda.ProcessingFailedStatus`: 2 records",
        "%%%",
    ])
    # No arrival time: the event is dated at the start of the object's archive hour.
    assert draft.date_happened == HOUR_START


def test_lines_that_are_not_json_are_counted_in_a_warning():
    draft = event_of([failed_record(), b"{not json\n"])
    assert "- **Warning:** 1 line was not valid JSON (skipped)\n\n### Error codes" in draft.text
    many = event_of([failed_record(), b"{\n", b"[\n", b"\xff\n"])
    assert "- **Warning:** 3 lines were not valid JSON (skipped)\n" in many.text


def test_an_object_of_nothing_but_garbage_gets_a_title_without_codes():
    draft = event_of([b"garbage\n", b"\x1f\x8b\x08\n"])
    assert draft.title == "0 records failed processing · 18:00 UTC"
    assert draft.text.startswith("%%%\n" + ERRORS_HEADER.format("0 Firehose records were"))
    assert draft.text.endswith("- **Warning:** 2 lines were not valid JSON (skipped)\n%%%")
    assert "### Error codes" not in draft.text


def test_sample_messages_are_kept_on_one_line_without_breaking_the_markdown():
    message = "Invalid  output\nfrom `transform`:\trecord_id   missing"
    draft = event_of([failed_record(message=message)])
    assert ("- `Lambda.ProcessingFailedStatus`: 1 record — e.g. "
            "``Invalid output from `transform`: record_id missing``\n%%%") in draft.text


def test_many_error_codes_are_cut_to_fit_and_the_rest_counted():
    # The long samples are cut first (down to the smallest cap), then whole rows go.
    def message(i: int) -> str:
        return f"failure {i:02d}: " + "x" * 280

    draft = event_of([failed_record(f"Custom.Code{i:02d}", message(i)) for i in range(40)])
    assert len(draft.text) <= TEXT_LIMIT
    rows = [line for line in draft.text.split("\n") if line.startswith("- `Custom.Code")]
    assert len(rows) > 20
    assert rows == [f"- `Custom.Code{i:02d}`: 1 record — e.g. `{cut(message(i), VALUE_CAPS[-1])}`"
                    for i in range(len(rows))]
    assert draft.text.endswith(f"\n- _…and {40 - len(rows)} more error codes_\n%%%")
    assert draft.title == "40 records failed processing (Custom.Code00 +39) · 18:00 UTC"


@pytest.mark.parametrize(("key", "output_type"), [
    (ERROR_KEY, "processing-failed"),
    ("errors/processing-failed/manual-copy.gz", "processing-failed"),
    ("errors/format-conversion-failed/year=2026/month=11/day=27/hour=18/x.gz", "format-conversion-failed"),
    # Written without the error-output-type level, or straight under the prefix: no type to name.
    ("errors/year=2026/month=11/day=27/hour=18/x.gz", None),
    ("errors/manual-copy.gz", None),
])
def test_the_error_output_type_comes_from_the_key(key: str, output_type: str | None):
    draft = event_of([failed_record()], key=key)
    if output_type is None:
        assert "Error output type" not in draft.text
        assert draft.tags == ERROR_TAGS
    else:
        assert f"\n- **Error output type:** `{output_type}`\n" in draft.text
        assert draft.tags == (*ERROR_TAGS, f"error_output_type:{output_type}")


def test_outside_the_hour_partitions_the_hour_is_the_first_arrival_else_now():
    arrived = failed_record(arrivalTimestamp=(HOUR_START + 3 * 3600 + 30) * 1000)  # 21:00:30
    later = event_of([arrived], key="errors/processing-failed/manual-copy.gz", now=HOUR_START + 4 * 3600)
    assert later.title.endswith(" · 21:00 UTC")
    assert later.aggregation_key == "rejected-flows-errors:dev:2026-11-27T21"
    assert later.date_happened == HOUR_START + 3 * 3600 + 30
    untimed = failed_record(arrivalTimestamp=None)
    now = HOUR_START + 5 * 3600 + 1234  # 23:20:34
    draft = event_of([untimed], key="errors/processing-failed/manual-copy.gz", now=now)
    assert draft.title.endswith(" · 23:00 UTC")
    assert draft.aggregation_key == "rejected-flows-errors:dev:2026-11-27T23"
    assert draft.date_happened == HOUR_START + 5 * 3600


def test_a_window_over_midnight_shows_both_dates():
    lines = [failed_record(arrivalTimestamp=(HOUR_START + 6 * 3600 - 2) * 1000),  # 23:59:58
             failed_record(arrivalTimestamp=(HOUR_START + 6 * 3600 + 3) * 1000)]  # 00:00:03 next day
    draft = event_of(lines, key="errors/processing-failed/manual-copy.gz", now=HOUR_START + 7 * 3600)
    assert "- **Arrival window:** 2026-11-27 23:59:58 → 2026-11-28 00:00:03 UTC\n" in draft.text


@pytest.mark.parametrize("code_chars", [58, 59])
def test_a_long_error_code_is_dropped_from_the_title_rather_than_cut(code_chars: int):
    code = "Lambda." + "X" * (code_chars - len("Lambda."))
    summary = summarise_errors([failed_record(code)] * 4)
    title = error_title(summary, datetime(2026, 11, 27, 18, tzinfo=UTC))
    if code_chars == 58:  # exactly 100 characters: kept whole
        assert title == f"4 records failed processing ({code}) · 18:00 UTC" and len(title) == 100
    else:
        assert title == "4 records failed processing · 18:00 UTC"


# --- unreadable objects ------------------------------------------------------------------------------------

def test_an_unreadable_object_event_is_the_reason_and_a_way_to_look_at_it():
    obj = ObjectRef(BUCKET, DATA_KEY)
    draft = unreadable_event(obj, "truncated or corrupt gzip\n after 3 lines (Compressed `file` ended)",
                             CTX, NOW)
    assert draft.text == "\n".join([
        "%%%",
        f"**The notifier could not read `s3://{BUCKET}/{DATA_KEY}`**: truncated or corrupt gzip after 3 "
        "lines (Compressed \\`file\\` ended).",
        "",
        "Its flows (if any) are not summarised in any event. Retrying cannot help, so this is reported "
        "once and the object is left where it is; download it to look at it:",
        "```",
        f"aws s3 cp s3://{BUCKET}/{DATA_KEY} -",
        "```",
        "%%%",
    ])
    assert draft.title == ("Unreadable object in the archive · 18:00 UTC · "
                           "rejected-flows-1-2026-11-27-18-04-59-0b1c2d3e-aaaa-b…")
    assert draft.date_happened == NOW


def test_an_unreadable_object_outside_the_partitions_is_filed_under_the_current_hour():
    draft = unreadable_event(ObjectRef(BUCKET, "rejected/manual-upload.gz"), "not gzip", CTX,
                             HOUR_START + 2 * 3600 + 17.9)
    assert draft.title == "Unreadable object in the archive · 20:00 UTC · manual-upload.gz"
    assert draft.aggregation_key == "rejected-flows-errors:dev:2026-11-27T20"
    assert draft.date_happened == HOUR_START + 2 * 3600 + 17
    assert draft.tags == (*ERROR_TAGS, "error:unreadable-object")
    assert draft.alert_type == "error"
