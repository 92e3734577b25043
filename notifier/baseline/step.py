"""The notifier's baseline step, between the summary and the event: collect the keys, judge them.

`KeyedSummariser` is the notifier's summariser that also collects the baseline's keys in the same pass
(one parse per line). `Baseline.assess` never raises for DynamoDB: a failure or throttling gives an
`unavailable` assessment, and the event goes out without verdicts (the handler counts it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.events import BASELINE_UNAVAILABLE
from notifier.baseline.dynamo import BaselineUnavailableError, DynamoStore
from notifier.baseline.keys import HOUR_S, INTERNAL, SOURCE, TARGET, KeyCollector, ObjectKeys, arrival_cap
from notifier.baseline.settings import BaselineOptions
from notifier.baseline.verdicts import KNOWN, LEARNING, NEW, Assessment, assess
from notifier.names import HitNames, NameCollector
from notifier.networks import InternalNetworks
from notifier.summary import FlowSummariser, FlowSummary, Limits


class KeyedSummariser(FlowSummariser):
    """The summariser, also feeding every valid flow (with whether its source is internal) to a
    KeyCollector (with a baseline) and to a NameCollector."""

    def __init__(self, keys: KeyCollector | None, limits: Limits | None = None,
                 internal: InternalNetworks | None = None) -> None:
        super().__init__(limits or Limits(), internal)
        self.keys = keys
        self.names = NameCollector()

    def add(self, record: dict[str, Any]) -> bool:
        internal_before = self.internal_flows
        if not super().add(record):
            return False
        internal = self.internal_flows != internal_before
        if self.keys is not None:
            self.keys.add(record, internal)
        self.names.add(record, internal)
        return True


def collector_for(settings: BaselineOptions, hour_start_s: float) -> KeyCollector:
    """Flow times are capped a few minutes past the end of the object's arrival hour."""
    return KeyCollector(settings.max_keys, arrival_cap(hour_start_s + HOUR_S))


@dataclass
class Baseline:
    """The container's baseline: its settings and a DynamoDB store made on first use."""

    settings: BaselineOptions
    client_factory: Callable[[], Any]
    _store: DynamoStore | None = field(default=None, repr=False)

    @property
    def store(self) -> DynamoStore:
        if self._store is None:
            self._store = DynamoStore(self.client_factory(), self.settings.table)
        return self._store

    def assess(self, object_id: str, keys: ObjectKeys) -> Assessment:
        try:
            return assess(self.store, keys, object_id, self.settings.rules)
        except BaselineUnavailableError as error:
            return Assessment(BASELINE_UNAVAILABLE, unchecked=len(keys.sightings) + keys.unchecked,
                              error=str(error))


@dataclass(frozen=True)
class Observed:
    """An object's summary, the names its flows carry and (with a baseline) the baseline's verdicts."""

    summary: FlowSummary
    names: HitNames
    assessment: Assessment | None = None


def summarise_and_assess(baseline: Baseline | None, object_id: str, lines: Iterable[bytes],
                         networks: InternalNetworks, hour_start_s: float) -> Observed:
    """One pass over the object; the baseline judges its keys when it has flows."""
    keys = collector_for(baseline.settings, hour_start_s) if baseline is not None else None
    summariser = KeyedSummariser(keys, internal=networks)
    summariser.add_lines(lines)
    summary, names = summariser.result(), summariser.names.result()
    if baseline is None or keys is None or summary.flows == 0:
        return Observed(summary, names)
    return Observed(summary, names, baseline.assess(object_id, keys.result()))


def verdict_counts(assessment: Assessment) -> dict[str, int]:
    """New keys of each kind, and the keys found learning or known."""
    counts = {"new_internal": len(assessment.new(INTERNAL)), "new_targets": len(assessment.new(TARGET)),
              "new_sources": len(assessment.new(SOURCE))}
    counts[LEARNING] = sum(1 for v in assessment.verdicts if v.verdict == LEARNING)
    counts[KNOWN] = sum(1 for v in assessment.verdicts if v.verdict == KNOWN)
    return counts


def assessment_facts(assessment: Assessment | None) -> dict[str, Any]:
    """What the handler logs and counts about the baseline's word on an object."""
    if assessment is None:
        return {}
    facts: dict[str, Any] = {
        "baseline": assessment.state,
        "new_keys": sum(1 for v in assessment.verdicts if v.verdict == NEW),
        "checked_keys": len(assessment.verdicts),
        "unchecked_keys": assessment.unchecked,
        # Per verdict, as `make demo` prints them and a Logs Insights query can count them.
        "verdicts": verdict_counts(assessment),
    }
    if assessment.error:
        facts["baseline_error"] = assessment.error
    return facts
