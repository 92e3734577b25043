"""What a rejected-flows event says about the baseline: title lead, "New" section, marks, tags. Pure.

Every value from a flow line goes through `notifier.display` (`code` in the text, `plain` in the title,
`tag` in tags): no markdown, link or @-mention can come from the data.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.events import (
    BASELINE_UNAVAILABLE,
    NEW_INTERNAL_KEY,
    NEW_SOURCES_KEY,
    NEW_TARGETS_KEY,
    baseline_tag,
    flag_tag,
)
from contracts.protocols import has_ports, protocol_name
from notifier.baseline.keys import INTERNAL, SOURCE, TARGET, Key
from notifier.baseline.verdicts import KNOWN, LEARNING, NEW, Assessment, KeyVerdict
from notifier.display import code
from notifier.markdown import Section, plural, utc
from notifier.names import HitNames

WARNING = "warning"
INFO = "info"
# Flows of a new key shown in the "New" section, most first; the rest is "…and N more".
NEW_ROWS = 25
# A name (a tag value, user text) is shown up to this many characters.
NAME_LIMIT = 64


def title_lead(assessment: Assessment) -> str | None:
    """"2 new internal rejects", else "1 new target port" (and sources), else "3 new sources"; None."""
    internal, targets, sources = (len(assessment.new(k)) for k in (INTERNAL, TARGET, SOURCE))
    if internal:
        return plural(internal, "new internal reject")
    parts = []
    if targets:
        parts.append(plural(targets, "new target port"))
    if sources:
        parts.append(plural(sources, "new source"))
    return ", ".join(parts) or None


def alert_type(assessment: Assessment, has_internal_sources: bool) -> str:
    """`warning` for a new internal pair; without verdicts (unavailable), today's rule."""
    if assessment.state == BASELINE_UNAVAILABLE:
        return WARNING if has_internal_sources else INFO
    return WARNING if assessment.new_internal else INFO


def tags(assessment: Assessment) -> list[str]:
    state = [baseline_tag(assessment.state)]
    if assessment.state == BASELINE_UNAVAILABLE:
        return state
    return [flag_tag(NEW_INTERNAL_KEY, assessment.new_internal),
            flag_tag(NEW_TARGETS_KEY, assessment.new_targets),
            flag_tag(NEW_SOURCES_KEY, assessment.new_sources), *state]


def day(epoch_s: int) -> str:
    return f"{utc(epoch_s):%Y-%m-%d %H:%M} UTC"


def port_text(port: int | None, protocol: int | None, reply: bool) -> str:
    """`22/tcp`, `icmp`, or `replies from 443/tcp`."""
    if not has_ports(protocol):
        return protocol_name(protocol)
    shown = f"{'-' if port is None else port}/{protocol_name(protocol)}"
    return f"replies from {shown}" if reply else shown


def name_of(value: str | None, names: HitNames | None) -> str:
    """` (`web-prod-1`)` when the flows named this interface or internal source; "" otherwise."""
    name = names.of(value) if names is not None else None
    return f" ({code(name, NAME_LIMIT)})" if name else ""


def key_text(key: Key, names: HitNames | None = None) -> str:
    """A key as a row of the event, every value from data as a code span."""
    port = code(port_text(key.port, key.protocol, key.reply))
    if key.kind == INTERNAL and key.target is None:  # a reply: the service's side alone
        return f"internal {code(key.source)}{name_of(key.source, names)} {port}"
    if key.kind == INTERNAL:
        return f"internal {code(key.source)}{name_of(key.source, names)} → {code(key.target)} {port}"
    if key.kind == TARGET:
        return f"target {code(key.target)}{name_of(key.target, names)} {port}"
    return f"source {code(key.source)}"


def new_section(assessment: Assessment, names: HitNames | None = None) -> Section | None:
    """Each new key with its flows: internal pairs, then target ports, then sources."""
    new = [v for kind in (INTERNAL, TARGET, SOURCE) for v in assessment.new(kind)]
    if not new:
        return None
    rows = [f"- **new** {key_text(v.key, names)}: {plural(v.sighting.flows, 'flow')}" for v in new[:NEW_ROWS]]
    return Section("### New", rows, "new key", len(new), protected=True)


def notes(assessment: Assessment) -> list[str]:
    """Lines for the event's facts: learning, unchecked keys, unavailability."""
    lines = []
    if assessment.state == BASELINE_UNAVAILABLE:
        # The error may quote what the table holds: shown literally, like any value from data.
        lines.append(f"**Baseline:** unavailable ({code(assessment.error)}): no new or known verdicts "
                     "this time.")
    elif assessment.learning_until is not None:
        lines.append(f"**Baseline:** learning until {day(assessment.learning_until)}: keys are recorded, "
                     "nothing is reported new before then.")
    else:
        new = sum(1 for v in assessment.verdicts if v.verdict == NEW)
        lines.append(f"**Baseline:** {plural(new, 'new key')} of {len(assessment.verdicts):,} checked.")
    if assessment.unchecked and assessment.state != BASELINE_UNAVAILABLE:
        more = "more than " if assessment.more_unchecked else ""
        lines.append(f"**Unchecked:** {more}{plural(assessment.unchecked, 'key')} (over the baseline's "
                     "limit of keys per object, BASELINE_MAX_KEYS).")
    return lines


def _mark(verdicts: Iterable[KeyVerdict]) -> str:
    """` · new`, ` · learning` or ` · known since …` for a row; "" when none of its keys was checked."""
    found = list(verdicts)
    if not found:
        return ""
    if any(v.verdict == NEW for v in found):
        return " · **new**"
    if any(v.verdict == LEARNING for v in found):
        return " · learning"
    first = min(v.first_seen for v in found if v.verdict == KNOWN)
    return f" · known since {day(first)}"


class Marks:
    """New/known marks for the rows an event shows (sources, destination ports)."""

    def __init__(self, assessment: Assessment) -> None:
        self.by_source: dict[str | None, list[KeyVerdict]] = {}
        self.by_port: dict[tuple[int | None, int | None], list[KeyVerdict]] = {}
        for verdict in assessment.verdicts:
            key = verdict.key
            if key.kind in (INTERNAL, SOURCE):
                self.by_source.setdefault(key.source, []).append(verdict)
            elif not key.reply:
                self.by_port.setdefault((key.port, key.protocol), []).append(verdict)

    def source(self, address: str) -> str:
        return _mark(self.by_source.get(address, ()))

    def port(self, port: int | None, protocol: int | None) -> str:
        return _mark(self.by_port.get((None if not has_ports(protocol) else port, protocol), ()))
