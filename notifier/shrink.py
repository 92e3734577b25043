"""A smaller copy of an event, for the one resend after Datadog answered 413 (payload too large). Pure.

docs/architecture.md, The notifier ("At most one event per accepted answer"). The text keeps its
beginning (the summary and the internal sources, which come first) and its end (the object and the
Athena query), in whole lines and never half a code block; the middle is cut, and a line says so. The
size measured is the text as the client sends it: JSON with non-ASCII characters escaped (`json.dumps`),
so a character may cost up to 12 bytes where Datadog's 4,000-character limit counts one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace

from notifier.markdown import MARKDOWN_CLOSE, MARKDOWN_OPEN
from notifier.model import EventDraft

# The resend's text is at most this share of the refused one's size on the wire.
SHRINK_RATIO = 0.5
FENCE = "```"


def wire_size(text: str) -> int:
    """Bytes the text takes in the request body (without its quotes)."""
    return len(json.dumps(text)) - 2


def shrunk(draft: EventDraft, ratio: float = SHRINK_RATIO) -> EventDraft:
    """The draft with its text cut to `ratio` of its size on the wire (title and tags unchanged)."""
    return replace(draft, text=cut_middle(draft.text, int(wire_size(draft.text) * ratio)))


def cut_middle(text: str, budget: int) -> str:
    """`text` within `budget` bytes on the wire: its first and last lines kept, the middle cut.

    Datadog's markdown markers stay; a fenced code block is kept whole or dropped whole.
    """
    if wire_size(text) <= budget:
        return text
    opened = text.startswith(MARKDOWN_OPEN) and text.endswith(MARKDOWN_CLOSE)
    body = text[len(MARKDOWN_OPEN): -len(MARKDOWN_CLOSE)] if opened else text
    units = _units(body.split("\n"))
    note = "_…the middle of this text was cut: Datadog refused the whole event as too large (HTTP 413)_"
    room = budget - wire_size(note) - 2 * wire_size("\n\n")
    if opened:
        room -= wire_size(MARKDOWN_OPEN + MARKDOWN_CLOSE)
    # The end first (the object and the query are what a reader acts on): whole paragraphs, up to two
    # thirds of the room; then as many lines of the beginning as the rest allows.
    tail = _take_paragraphs(units, room * 2 // 3)
    head = _take(iter(units[: len(units) - len(tail)]), room - _size(tail))
    if len(head) + len(tail) >= len(units):
        return text
    lines = [line for unit in head for line in unit]
    ending = [line for unit in reversed(tail) for line in unit]
    lines = [*_trimmed(lines), "", note, "", *_trimmed(ending)]
    cut = "\n".join(lines)
    return MARKDOWN_OPEN + cut + MARKDOWN_CLOSE if opened else cut


def _trimmed(lines: list[str]) -> list[str]:
    """Without blank lines at either end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _units(lines: list[str]) -> list[list[str]]:
    """Lines grouped so that each fenced code block is one unit, every other line a unit of its own."""
    units: list[list[str]] = []
    block: list[str] | None = None
    for line in lines:
        if block is not None:
            block.append(line)
            if line.startswith(FENCE):
                units.append(block)
                block = None
        elif line.startswith(FENCE):
            block = [line]
        else:
            units.append([line])
    if block is not None:  # an unclosed fence: its lines are kept or dropped together
        units.append(block)
    return units


def _size(units: list[list[str]]) -> int:
    return sum(wire_size("\n".join(unit)) + 2 for unit in units)  # + the line break ("\\n")


def _take_paragraphs(units: list[list[str]], room: int) -> list[list[str]]:
    """The last units, last first, taking whole paragraphs (ended by a blank line) while they fit."""
    taken: list[list[str]] = []
    paragraph: list[list[str]] = []
    for unit in reversed(units):
        paragraph.append(unit)
        if unit == [""]:
            if _size(taken) + _size(paragraph) > room:
                return taken
            taken += paragraph
            paragraph = []
    return taken if _size(taken) + _size(paragraph) > room else taken + paragraph


def _take(units: Iterable[list[str]], room: int) -> list[list[str]]:
    taken: list[list[str]] = []
    used = 0
    for unit in units:
        cost = _size([unit])
        if used + cost > room:
            break
        taken.append(unit)
        used += cost
    return taken
