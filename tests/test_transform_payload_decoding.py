"""Reading one Firehose record: base64, then gzip, then CloudWatch Logs' subscription message.

Every way a record can be unreadable gets its own clear reason with a short sample of what was there,
so the record can be found under errors/ and understood. Messages are CloudWatch's documented shapes
(DATA_MESSAGE and CONTROL_MESSAGE, as in the CloudWatch Logs subscription-filter examples).
"""

from __future__ import annotations

import base64
import gzip

import orjson
import pytest

from contracts.cloudwatch_logs import (
    CONTROL_MESSAGE,
    DATA_MESSAGE,
    SAMPLE_CHARS,
    SubscriptionMessage,
    sample,
)
from transform.payload import RecordDecodeError, decode_record_data, parse_message


def encode_message(message: SubscriptionMessage, events: list[dict]) -> bytes:
    return message.with_events(events).encode()

# AWS's documented example of a default-format (version 2) REJECT flow.
REJECT_LINE = ("2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 "
               "1418530010 1418530070 REJECT OK")
EVENTS = [
    {"id": "31953106606966983378809025079804211143289615424298221568", "timestamp": 1418530070000,
     "message": REJECT_LINE},
    {"id": "31953106606966983378809025079804211143289615424298221569", "timestamp": 1418530071000,
     "message": REJECT_LINE.replace("49761", "49762")},
]
DATA = {
    "messageType": "DATA_MESSAGE",
    "owner": "123456789010",
    "logGroup": "/vpc/flow-logs/prod",
    "logStream": "eni-1235b8ca123456789-all",
    "subscriptionFilters": ["rejected-flows-prod"],
    "logEvents": EVENTS,
}
CONTROL = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [{"id": "", "timestamp": 1432826855000,
                   "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}],
}


def as_record_data(message: dict | bytes) -> str:
    """What Firehose hands the transform: base64 of CloudWatch's gzipped JSON."""
    raw = message if isinstance(message, bytes) else orjson.dumps(message)
    return base64.b64encode(gzip.compress(raw)).decode()


def read(data: str) -> SubscriptionMessage:
    return parse_message(decode_record_data(data))


def test_a_data_message_is_read_whole() -> None:
    assert read(as_record_data(DATA)) == SubscriptionMessage(
        DATA_MESSAGE, "123456789010", "/vpc/flow-logs/prod", "eni-1235b8ca123456789-all", EVENTS)


def test_a_data_message_without_an_owner_has_an_empty_owner() -> None:
    message = read(as_record_data({k: v for k, v in DATA.items() if k != "owner"}))
    assert message.owner == "" and message.log_events == EVENTS


def test_a_control_message_is_recognised_and_its_events_ignored() -> None:
    assert read(as_record_data(CONTROL)) == SubscriptionMessage(CONTROL_MESSAGE, "CloudwatchLogs", "", "", [])


def test_a_control_message_needs_no_log_group_or_events() -> None:
    message = read(as_record_data({"messageType": "CONTROL_MESSAGE"}))
    assert message == SubscriptionMessage(CONTROL_MESSAGE, "", "", "", [])


def test_decoding_gives_back_the_gunzipped_json_text() -> None:
    raw = orjson.dumps(DATA)
    assert decode_record_data(base64.b64encode(gzip.compress(raw)).decode()) == raw


def test_data_that_is_not_base64_is_refused_with_a_sample() -> None:
    with pytest.raises(RecordDecodeError, match=r"^data is not base64 \(.*\): 'not\*base64!'$"):
        decode_record_data("not*base64!")


def test_a_stray_character_in_the_base64_is_refused_not_skipped() -> None:
    good = as_record_data(DATA)
    damaged = good[:8] + "*" + good[8:]
    assert read(good).log_events == EVENTS
    with pytest.raises(RecordDecodeError, match=r"^data is not base64"):
        decode_record_data(damaged)


def test_truncated_gzip_says_so_with_its_size() -> None:
    whole = gzip.compress(orjson.dumps(DATA))
    cut = whole[:-12]
    with pytest.raises(RecordDecodeError, match=rf"^gzip data is truncated \({len(cut)} bytes\)$"):
        decode_record_data(base64.b64encode(cut).decode())


def test_gzip_that_is_not_json_is_refused_with_a_sample() -> None:
    with pytest.raises(RecordDecodeError, match=r"^gunzipped data is not JSON \(.*\): '\{not json'$"):
        read(as_record_data(b"{not json"))


@pytest.mark.parametrize(("json_text", "kind"), [(b'["a", "list"]', "list"), (b'"text"', "str"),
                                                  (b"42", "int"), (b"null", "NoneType")])
def test_json_that_is_not_an_object_names_what_it_is(json_text: bytes, kind: str) -> None:
    with pytest.raises(RecordDecodeError, match=rf"^message is a JSON {kind}, not an object: "):
        read(as_record_data(json_text))


@pytest.mark.parametrize("message_type", ["SOMETHING_ELSE", "data_message", None, 7])
def test_an_unknown_message_type_is_refused_naming_it(message_type: object) -> None:
    message = {**DATA, "messageType": message_type}
    with pytest.raises(RecordDecodeError, match=rf"^unknown messageType {message_type!r}: "):
        read(as_record_data(message))


def test_a_message_without_a_type_is_refused() -> None:
    with pytest.raises(RecordDecodeError, match=r"^unknown messageType None: "):
        read(as_record_data({k: v for k, v in DATA.items() if k != "messageType"}))


@pytest.mark.parametrize("broken", [
    {"logGroup": None}, {"logGroup": 12}, {"logStream": None}, {"logStream": ["a"]},
], ids=["no group", "numeric group", "no stream", "list stream"])
def test_a_data_message_needs_its_log_group_and_stream_as_text(broken: dict) -> None:
    message = {k: v for k, v in {**DATA, **broken}.items() if v is not None}
    with pytest.raises(RecordDecodeError, match=r"^DATA_MESSAGE without logGroup/logStream strings: "):
        read(as_record_data(message))


@pytest.mark.parametrize("events", [None, {"0": EVENTS[0]}, "events"], ids=["missing", "object", "text"])
def test_a_data_message_needs_a_list_of_events(events: object) -> None:
    message = {k: v for k, v in {**DATA, "logEvents": events}.items() if v is not None}
    with pytest.raises(RecordDecodeError, match=r"^logEvents is not a list: "):
        read(as_record_data(message))


def test_an_empty_list_of_events_is_a_valid_data_message() -> None:
    assert read(as_record_data({**DATA, "logEvents": []})).log_events == []


def test_the_sample_in_a_reason_is_cut_at_a_readable_length() -> None:
    long_garbage = b"{" + b"x" * 500
    with pytest.raises(RecordDecodeError) as raised:
        read(as_record_data(long_garbage))
    assert str(raised.value).endswith(repr("{" + "x" * (SAMPLE_CHARS - 1) + "…"))


@pytest.mark.parametrize(("raw", "shown"), [
    (b"a" * SAMPLE_CHARS, "a" * SAMPLE_CHARS),
    (b"a" * (SAMPLE_CHARS + 1), "a" * SAMPLE_CHARS + "…"),
    ("é" * (SAMPLE_CHARS + 5), "é" * SAMPLE_CHARS + "…"),
    (b"\xff\xfe binary", "\ufffd\ufffd binary"),
    (b"", ""),
])
def test_a_sample_shows_the_start_of_the_data_readably(raw: bytes | str, shown: str) -> None:
    assert SAMPLE_CHARS == 120
    assert sample(raw) == shown


def test_a_message_encoded_for_reingestion_reads_back_with_only_the_chosen_events() -> None:
    original = read(as_record_data(DATA))
    payload = encode_message(original, EVENTS[1:])

    assert orjson.loads(gzip.decompress(payload)) == {
        "messageType": "DATA_MESSAGE", "owner": "123456789010", "logGroup": "/vpc/flow-logs/prod",
        "logStream": "eni-1235b8ca123456789-all", "subscriptionFilters": DATA["subscriptionFilters"],
        "logEvents": EVENTS[1:],
    }
    assert read(base64.b64encode(payload).decode()) == SubscriptionMessage(
        DATA_MESSAGE, "123456789010", "/vpc/flow-logs/prod", "eni-1235b8ca123456789-all", EVENTS[1:])


def test_reingested_payloads_are_the_same_bytes_every_time() -> None:
    # No timestamp in the gzip header: a retried invocation puts back identical records.
    original = read(as_record_data(DATA))
    first = encode_message(original, EVENTS)
    assert encode_message(original, EVENTS) == first
    assert first[4:8] == b"\x00\x00\x00\x00"  # gzip MTIME field
    assert len(first) < len(orjson.dumps(DATA))  # compressed, as CloudWatch sends it
