"""The notifier's small edges: when an object can take the mark, where the key comes from, how it reads.

S3 allows at most 10 tags per object (S3 User Guide, "Categorizing your storage using tags", checked
2026-11), and `put_object_tagging` replaces the whole set, so the mark fits only beside at most 9
other tags, or in place of an earlier mark.
"""

from __future__ import annotations

import pytest

from notifier.secrets import ApiKeyError, ApiKeySource, key_from_secret_string
from notifier.settings import load_settings, parse_tags
from notifier.storage import MARK_TAG, MAX_TAGS, can_mark
from notifier.stream import CHUNK, _Replay, iter_lines
from tests.notifier_support import FAKE_KEY, flow, ndjson, reader

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key-AbCdEf"


def tags(count: int, *, marked: bool = False) -> dict[str, str]:
    found = {f"team-{i}": "netsec" for i in range(count - marked)}
    return {**found, MARK_TAG: "7700000000000000001"} if marked else found


def test_an_object_with_room_for_one_more_tag_can_be_marked() -> None:
    assert MAX_TAGS == 10
    assert can_mark(tags(0)) and can_mark(tags(MAX_TAGS - 1))


def test_an_object_with_ten_other_tags_cannot_be_marked() -> None:
    assert not can_mark(tags(MAX_TAGS))
    assert not can_mark(tags(MAX_TAGS + 1))


def test_an_object_already_marked_can_be_marked_again_even_when_full() -> None:
    # Another invocation marked it meanwhile: replacing the mark's value keeps the count at ten.
    assert can_mark(tags(MAX_TAGS, marked=True))
    assert can_mark(tags(1, marked=True))


@pytest.mark.parametrize("secret", ['{"DD_API_KEY": 7}', '{"DD_API_KEY": "  "}', '{"DD_API_KEY": ["k"]}'],
                         ids=["number", "blank", "list"])
def test_a_json_secret_needs_the_key_as_non_empty_text(secret: str) -> None:
    with pytest.raises(ApiKeyError, match=f"^secret {ARN} is JSON without a non-empty string 'DD_API_KEY' "):
        key_from_secret_string(secret, ARN)


class BlankSecrets:
    """A Secrets Manager provider whose secret holds only spaces."""

    def get(self, name: str, max_age: int, force_fetch: bool) -> str:
        return "  "


def test_a_fetched_secret_that_is_empty_is_reported_by_its_arn() -> None:
    source = ApiKeySource(ARN, fallback=None, provider_factory=BlankSecrets)  # type: ignore[arg-type]

    with pytest.raises(ApiKeyError, match=f"^secret {ARN} is empty$"):
        source.get()


def test_no_tags_configured_means_no_extra_tags() -> None:
    assert parse_tags(None) == () and parse_tags("") == () and parse_tags(" , ") == ()
    assert parse_tags("env:prod,,team:netsec ") == ("env:prod", "team:netsec")


def test_a_local_key_and_default_names_are_read_from_the_environment() -> None:
    settings = load_settings({"DD_API_KEY": f" {FAKE_KEY} "})

    assert settings.api_key == FAKE_KEY and settings.api_key_secret_arn is None
    assert settings.stack == "rejected-flows"
    assert settings.qualified_table == '"rejected_flows"'
    assert settings.api_url == "https://api.datadoghq.com"


class CountingReader:
    """A body that records how much each read asked for (like S3's StreamingBody, it returns at most that)."""

    def __init__(self, data: bytes) -> None:
        self._body = reader(data)
        self.sizes: list[int | None] = []

    def read(self, size: int = -1) -> bytes:
        self.sizes.append(size)
        return self._body.read(size)


def test_a_plain_object_is_read_in_bounded_chunks_and_split_into_its_lines() -> None:
    records = [flow(f"198.51.100.{i % 250}", 1000 + i) for i in range(2000)]
    data = ndjson(records)
    assert len(data) > 4 * CHUNK
    body = CountingReader(data)

    lines = list(iter_lines(body))

    assert b"".join(lines) == data and len(lines) == 2000
    assert all(size is not None and 0 <= size <= CHUNK for size in body.sizes)
    # Few large reads, not thousands of small ones: after the 2 bytes sniffed, whole chunks.
    assert body.sizes[:2] == [2, CHUNK - 2] and set(body.sizes[2:]) == {CHUNK}
    assert len(body.sizes) <= len(data) // CHUNK + 3


def test_the_bytes_read_to_sniff_the_format_are_given_back_first_whatever_the_read_size() -> None:
    for size in (None, -1):
        whole = _Replay(b"\x1f\x8b", reader(b"rest of the object"))
        assert whole.read(size) == b"\x1f\x8brest of the object"
        assert whole.read(size) == b""
    replay = _Replay(b"ab", reader(b"cdef"))
    assert replay.read(0) == b""
    assert replay.read(1) == b"a"
    assert replay.read(3) == b"bcd"
    assert replay.read(10) == b"ef"
    assert replay.read(10) == b""
