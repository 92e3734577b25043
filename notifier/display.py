"""Values from data, made safe where a person reads them: event markdown, titles, tags. Pure.

Anything that comes off the wire (flow fields, log group and stream names, bucket and key, a Firehose
error record's `errorCode`, `errorMessage`, `lambdaArn`) is shown through one of these, never pasted
into an event as it is (docs/architecture.md, The notifier, "Values from data"):

- `code(value)`: a value shown literally inside the event's markdown text, as a code span.
- `plain(value)`: a value in the title (plain text, not markdown).
- `prose(value)`: a sentence that may hold data (an exception's message), as markdown text.
- `tag(key, value)`: a `key:value` Datadog tag made from data.
- `code_block(text)`, `shell_quote(value)`: a ready-to-paste command in a fenced block.

All of them take any object, make it one line, replace control, format and bidirectional characters
(NUL, ESC, BEL, U+202E, U+2028, ...) and bound the length with a visible ellipsis.

The facts they rely on (checked 2026-12):
- Datadog renders an event's text as markdown when it sits between `%%%\\n` and `\\n%%%` (Events API v1,
  "Post an event"); a `%%%` from data could end that block early, so data never carries one.
- Markdown code spans are literal: no emphasis, link, image or HTML is recognised inside one, and a span
  opened by N backticks ends only at a run of exactly N, so a fence longer than any backtick run in the
  value holds it whole; one space on each side is stripped when both are there (CommonMark 0.31.2,
  6.1 "Code spans"; Markdown.pl's syntax page says the same of multiple-backtick delimiters). A fenced
  code block closes only at a fence at least as long as its opening one (CommonMark 4.5).
- An `@` followed by a handle is a Datadog @-notification (Monitors > Notifications: "@notifications
  can be sent to ... @<EMAIL>", `@slack-...`, `@pagerduty-...`, `@team-handle`; Events with email:
  recipients are handles "added to the beginning of the message ... without @ prefix"). Whether the
  event view skips handles inside code is not documented, so an `@` from data never reaches an event:
  it is shown as the fullwidth `＠` (U+FF20).
- Tags (Getting Started with Tags, "Define tags"; Developers > naming metrics and tags): start with a
  letter; may contain alphanumerics (Unicode letters are supported), underscores, minuses, colons,
  periods and slashes, other characters are converted to underscores; a trailing underscore is removed
  and contiguous underscores are reduced to one; at most 200 characters; converted to lowercase; a tag
  cannot end with a colon; the key is what precedes the first colon.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import unicodedata

ELLIPSIS = "…"
# Shown in place of a control, format or bidirectional character, so that its presence stays visible:
# `203.0.113.9\u202egpj.exe` reads `203.0.113.9�gpj.exe`, not `203.0.113.9exe.jpg`.
REPLACEMENT = "\ufffd"
# Default bounds, in characters of the value as shown. A log group name may be 512 characters, an S3
# key 1,024 bytes: callers that must show such a value whole say so with `limit`.
CODE_LIMIT = 256
PLAIN_LIMIT = 100
TAG_LIMIT = 200
# What an empty value is shown as (an empty code span would not be one).
EMPTY = "(empty)"

FULLWIDTH_AT = "\uff20"
FULLWIDTH_PERCENT = "\uff05"
_WHITESPACE = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
# Unicode categories never shown: controls, format characters (bidi embeddings, overrides and isolates,
# zero-width characters, the BOM, ...), surrogates, private use, line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_BACKTICK_RUN = re.compile(r"`+")
_TAG_UNDERSCORES = re.compile(r"_{2,}")


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def clean(value: object) -> str:
    """The value on one line with only visible characters: whitespace becomes a space, other control,
    format and bidirectional characters become `�`."""
    text = _text(value)
    if text.isascii() and text.isprintable():  # the common case: nothing to replace
        return text
    shown = []
    for char in text:
        if char in _WHITESPACE or unicodedata.category(char) == "Zs":
            shown.append(" ")
        elif unicodedata.category(char) in _HIDDEN_CATEGORIES:
            shown.append(REPLACEMENT)
        else:
            shown.append(char)
    return "".join(shown)


def _inert(text: str) -> str:
    """No @-notification and no `%%%` (the end of Datadog's markdown block) can be read in the text."""
    if "@" in text:
        text = text.replace("@", FULLWIDTH_AT)
    while "%%%" in text:  # each pass turns one `%` of every `%%%` into `％`: the loop ends
        text = text.replace("%%%", "%%" + FULLWIDTH_PERCENT)
    return text


def cut(text: str, limit: int) -> str:
    """At most `limit` characters; a cut value ends with `…`."""
    if limit < 1:
        raise ValueError(f"a display limit must be at least 1 character, not {limit}")
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def code(value: object, limit: int = CODE_LIMIT) -> str:
    """The value as a markdown code span, shown literally: no markup, link, image, HTML or mention.

    E.g. `code("10.0.1.5")` is `` `10.0.1.5` ``; a value holding a backtick gets a longer fence.
    """
    text = cut(_inert(clean(value)), limit)
    if not text:
        return f"`{EMPTY}`"
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    fence = "`" * (longest + 1)
    # A backtick next to the fence would lengthen it; a space on both sides would be stripped (one each).
    if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " " and text.strip(" ")):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def plain(value: object, limit: int = PLAIN_LIMIT) -> str:
    """The value in plain text (an event's title): one line, no HTML, no @-notification, no live link.

    `<` and `>` are shown as `‹` and `›`, and a URL's `://` as `[:]//` (defanged, as security teams
    write indicators), so that neither Datadog nor a chat tool the title is forwarded to makes a tag or a
    link of it. Not for markdown text: use `code` there.
    """
    text = _inert(clean(value))
    text = text.replace("<", "‹").replace(">", "›").replace("://", "[:]//")
    return cut(text, limit)


# ASCII punctuation that can start markup mid-line in CommonMark (a link or an image needs its `[`).
# Any ASCII punctuation may be backslash-escaped, and an escaped one is shown literally (CommonMark
# 0.31.2, 2.4 "Backslash escapes").
_MARKUP = frozenset("\\`*_[]<>#~&")


def prose(value: object, limit: int = CODE_LIMIT) -> str:
    """Markdown text that reads as the value's words: markup characters backslash-escaped, no mention,
    no live link (`://` defanged as in `plain`), one line, bounded."""
    text = cut(_inert(clean(value)).replace("://", "[:]//"), limit)
    return "".join("\\" + c if c in _MARKUP else c for c in text)


def tag(key: str, value: object) -> str:
    """`key:value` sanitised to Datadog's tag rules (module docstring), at most 200 characters.

    The value is lowercased; characters Datadog does not allow become `_` (runs of them one `_`); a
    value too long for the limit is cut and ends with `...` and a digest of the whole value, so two
    long values never share a tag.
    """
    name = _tag_part(key)
    if not name or not name[0].isalpha() or ":" in name:
        raise ValueError(f"tag key {key!r} must start with a letter and hold no colon")
    shown = _tag_part(clean(value)).rstrip(":_") or "unknown"
    text = f"{name}:{shown}"
    if len(text) > TAG_LIMIT:
        digest = hashlib.sha256(_text(value).encode("utf-8", "surrogatepass")).hexdigest()[:8]
        keep = TAG_LIMIT - len(name) - 1 - len("...") - len(digest)
        text = f"{name}:{shown[:keep].rstrip(':_')}...{digest}"
    return text


def _tag_part(text: str) -> str:
    allowed = "".join(c if c.isalnum() or c in "_-:./" else "_" for c in text.lower())
    return _TAG_UNDERSCORES.sub("_", allowed)


def shell_quote(value: str) -> str:
    """One shell word that stands for exactly `value`, safe to show in an event.

    An ordinary value is quoted with `shlex.quote` (and reads as itself); one holding characters that
    must not be displayed (controls, bidi, `@`, `%%%`, a non-breaking space...) is written in bash's
    ANSI-C quoting, `$'...'`, with those characters as escapes, so the pasted command still names
    the very object.
    """
    if value.isascii() and value.isprintable() and "@" not in value and "%%%" not in value:
        return shlex.quote(value)
    escaped = []
    for char in value:
        if char in "\\'":
            escaped.append("\\" + char)
        elif char.isascii() and char.isprintable() and char not in "@%":  # `%` so that no `%%%` is left
            escaped.append(char)
        elif ord(char) < 0x80:
            escaped.append(f"\\x{ord(char):02x}")
        elif clean(char) == char and unicodedata.category(char) != "Zs":
            escaped.append(char)  # a visible letter or symbol: shown as it is
        else:
            escaped.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
    return "$'" + "".join(escaped) + "'"


def code_block(text: str, info: str = "") -> str:
    """A fenced markdown code block holding `text` (our own lines, e.g. a command with quoted data).

    The fence is longer than any backtick run in the text, so no line of it can close the block.
    """
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"
