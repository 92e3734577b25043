"""The pieces every Datadog event's text is made of: limits, phrases, tags, fitted text. Pure.

Datadog's Events API (v1) limits: title ≤ 100 chars (kept), text ≤ 4,000 chars with markdown between
`%%%\\n` and `\\n%%%`. The hour, aggregation key and date of an event are `notifier.draft`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from notifier.summary import InvalidLines

TITLE_LIMIT = 100
TEXT_LIMIT = 4000
MARKDOWN_OPEN = "%%%\n"
MARKDOWN_CLOSE = "\n%%%"


# --- small pure helpers -------------------------------------------------------------------------

def fit_title(title: str) -> str:
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


def merge_tags(*groups: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for tag in group:
            tag = tag.strip()
            if tag:
                seen[tag] = None  # a repeated tag keeps its first place
    return tuple(seen)


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def was(n: int, noun: str) -> str:
    return f"{plural(n, noun)} {'was' if n == 1 else 'were'}"


def invalid_lines_text(invalid: InvalidLines) -> str:
    """E.g. "3 lines were not flow records (skipped): 1 not JSON (1 not UTF-8), 2 of the wrong types"."""
    details = []
    if invalid.not_json:
        utf8 = f" ({invalid.not_utf8:,} not UTF-8 text)" if invalid.not_utf8 else ""
        details.append(f"{invalid.not_json:,} not JSON{utf8}")
    if invalid.not_flow_records:
        details.append(f"{invalid.not_flow_records:,} JSON but not a flow record (wrong value types)")
    return f"{was(invalid.total, 'line')} not flow records (skipped): {', '.join(details)}"


def utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def time_window(first_s: float | None, last_s: float | None) -> str:
    if first_s is None or last_s is None:
        return "unknown (the flows carry no start/end)"
    first, last = utc(first_s), utc(last_s)
    if first.date() == last.date():
        return f"{first:%Y-%m-%d %H:%M:%S} → {last:%H:%M:%S} UTC"
    return f"{first:%Y-%m-%d %H:%M:%S} → {last:%Y-%m-%d %H:%M:%S} UTC"


def size(n: int) -> str:
    """Bytes in decimal units: `60 B`, `4.2 KB`, `1.3 GB`."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        shown = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
        if float(shown) < 1000:  # as rounded: 999,950 B is "1.0 MB", not "1000.0 KB"
            return f"{shown} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


# --- text fitting -------------------------------------------------------------------------------

@dataclass
class Section:
    """A list of rows that may be shortened from the end to fit the text limit."""

    heading: str
    rows: list[str]
    noun: str
    # How many items exist in all (≥ len(rows)); the difference is announced as "…and N more".
    total: int
    # A closing line that is never dropped, e.g. "…and 91 single-flow sources".
    note: str = ""
    # Rows of a protected section are dropped only once every other section is down to none.
    protected: bool = False
    # How many of the rows are shown; fit_text lowers it.
    shown: int = field(init=False)

    def __post_init__(self) -> None:
        self.shown = len(self.rows)

    def render(self) -> str:
        if not self.rows and not self.note:
            return ""
        lines = [self.heading, *self.rows[: self.shown]]
        hidden = self.total - self.shown
        if hidden > 0:
            lines.append(f"- _…and {hidden:,} more {self.noun}{'' if hidden == 1 else 's'}_")
        if self.note:
            lines.append(f"- _{self.note}_")
        return "\n".join(lines)


# Caps tried in turn on every value from data before any row is dropped (see "The fit" in
# docs/architecture.md, The notifier): a value longer than the cap is cut, so the longest values are
# cut first and short ones (addresses, ids) never. 512: a log group name is at most 512 characters
# (CloudWatch Logs API reference, CreateLogGroup, checked 2026-12).
VALUE_CAPS = (512, 256, 128, 64)
# The object's `s3://bucket/key` is never cut: a bucket name is at most 63 characters, a key 1,024 bytes
# of UTF-8 (S3 user guide, "Bucket naming rules" and "Naming Amazon S3 objects").
OBJECT_URI_LIMIT = len("s3://") + 63 + len("/") + 1024

# The text of an event in its three parts: a head, lists that may lose rows, a tail that is never cut.
TextParts = tuple[str, list[Section], str]


def join_text(head: str, sections: list[Section], tail: str = "") -> str:
    parts = [head, *(s.render() for s in sections), tail]
    return MARKDOWN_OPEN + "\n\n".join(p for p in parts if p) + MARKDOWN_CLOSE


def fit_values(build: Callable[[int], TextParts], limit: int = TEXT_LIMIT) -> str:
    """Markdown text within `limit` chars: long values are cut first (`build(cap)` shows every value
    from data within `cap` characters), then rows are dropped as `fit_text` does."""
    for cap in VALUE_CAPS:
        head, sections, tail = build(cap)
        text = join_text(head, sections, tail)
        if len(text) <= limit:
            return text
    return fit_text(head, sections, tail, limit)


def fit_text(head: str, sections: list[Section], tail: str = "", limit: int = TEXT_LIMIT) -> str:
    """Markdown text within `limit` chars: whole rows are dropped from the longest lists first.

    Protected sections (internal sources) lose rows only when the other lists are empty. When the rows
    are all gone and the text is still too long, what precedes the tail is cut at a line: the tail (the
    object, the Athena query) stays whole.
    """
    text = join_text(head, sections, tail)
    while len(text) > limit:
        candidates = ([s for s in sections if s.shown > 0 and not s.protected]
                      or [s for s in sections if s.shown > 0])
        if not candidates:
            return _cut_front([head, *(s.render() for s in sections)], tail, limit)
        max(candidates, key=lambda s: s.shown).shown -= 1
        text = join_text(head, sections, tail)
    return text


def _cut_line(text: str, room: int) -> str:
    body = text[:room]
    return body[: body.rfind("\n")] if "\n" in body else body


def _cut_front(front: list[str], tail: str, limit: int) -> str:
    """The head and lists cut at a line so that the tail after them fits whole (all of it cut at a line
    when even the tail is too long)."""
    body = "\n\n".join(p for p in front if p)
    after = "\n\n" + tail if tail else ""
    room = limit - len(MARKDOWN_OPEN) - len("\n…") - len(after) - len(MARKDOWN_CLOSE)
    if room <= 0:
        body, after = "\n\n".join(p for p in (body, tail) if p), ""
        room = limit - len(MARKDOWN_OPEN) - len("\n…") - len(MARKDOWN_CLOSE)
    return MARKDOWN_OPEN + _cut_line(body, room) + "\n…" + after + MARKDOWN_CLOSE
