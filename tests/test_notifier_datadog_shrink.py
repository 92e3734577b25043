"""The smaller resend after a 413: its beginning and its end kept, whole lines, within the budget. Pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from notifier.markdown import MARKDOWN_CLOSE, MARKDOWN_OPEN
from notifier.model import EventDraft
from notifier.shrink import cut_middle, shrunk, wire_size

TAIL = ["**Object:** `s3://bucket/rejected/x.gz`", "", "**Athena**, this hour:", "```sql",
        "SELECT srcaddr FROM \"db\".\"t\" WHERE year = 2026", "```"]


def text_of(rows: int, row: str = "- `198.51.100.{i}`: 6 flows to ports 22, 23, 445") -> str:
    lines = ["**9 rejected flows** from **9 sources**.", "", "### Internal sources", "- `10.0.0.9`: 1 flow",
             "", "### Internet sources", *(row.format(i=i) for i in range(rows)), "", *TAIL]
    return MARKDOWN_OPEN + "\n".join(lines) + MARKDOWN_CLOSE


def test_the_middle_is_cut_and_the_ends_are_kept():
    text = text_of(120)

    cut = cut_middle(text, wire_size(text) // 2)

    assert wire_size(cut) <= wire_size(text) // 2
    assert cut.startswith(MARKDOWN_OPEN + "**9 rejected flows**") and cut.endswith(MARKDOWN_CLOSE)
    assert "- `10.0.0.9`: 1 flow" in cut
    assert cut.endswith("\n".join(TAIL) + MARKDOWN_CLOSE)
    assert "the middle of this text was cut" in cut and "HTTP 413" in cut
    assert "- `198.51.100.119`" not in cut


def test_non_ascii_text_is_measured_as_the_client_sends_it():
    text = text_of(60, row="- `ключ-{i}`: ✓ 6 flows")
    assert wire_size(text) > len(text.encode()) > len(text)  # \uXXXX escapes

    assert wire_size(shrunk(draft(text)).text) <= wire_size(text) // 2


def test_a_text_within_the_budget_is_unchanged():
    text = text_of(3)
    assert cut_middle(text, wire_size(text)) == text


def draft(text: str) -> EventDraft:
    return EventDraft(title="t", text=text, alert_type="info", aggregation_key="k", date_happened=0,
                      tags=("a:b",))


lines = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
                 .filter(lambda line: not line.startswith("```")), max_size=60)


@given(body=lines, share=st.floats(min_value=0.3, max_value=1.0))
def test_any_text_is_cut_within_its_budget_in_whole_lines_with_fences_whole(body, share):
    text = MARKDOWN_OPEN + "\n".join(["head", *body, "```sql", "SELECT 1", "```"]) + MARKDOWN_CLOSE
    budget = max(int(wire_size(text) * share), 400)

    cut = cut_middle(text, budget)

    assert cut == text or wire_size(cut) <= budget
    assert cut.startswith(MARKDOWN_OPEN) and cut.endswith(MARKDOWN_CLOSE)
    kept = cut[len(MARKDOWN_OPEN):-len(MARKDOWN_CLOSE)].split("\n")
    original = text[len(MARKDOWN_OPEN):-len(MARKDOWN_CLOSE)].split("\n")
    note = "_…the middle of this text was cut: Datadog refused the whole event as too large (HTTP 413)_"
    added = {"", note}
    assert all(line in original or line in added for line in kept)
    assert kept.count("```sql") == kept.count("```")  # a code block is kept or dropped whole
