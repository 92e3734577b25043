"""New, known or learning: the baseline's verdicts on an object's keys, over any `Store`.

Exactly once under at-least-once delivery (docs/architecture.md, The notifier, "The baseline"):
- a key not seen within the window is *claimed* with a conditional write; of two objects racing on it,
  the write of exactly one succeeds, and only that one reports the key new;
- the item remembers which object claimed it (`claimed_by`), so the same object processed again (an S3
  redelivery, a retry after Datadog refused the event) reports the same keys new;
- a key is judged by the flows' own times: an object whose flows are older than a key's last sighting
  finds it known (a late object never makes new what a newer one has seen);
- a sighting refreshes a known key only when it is over an hour newer than the key's last sighting.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from contracts.events import BASELINE_ACTIVE, BASELINE_LEARNING
from notifier.baseline.keys import INTERNAL, SOURCE, TARGET, Key, ObjectKeys, Sighting

NEW = "new"
KNOWN = "known"
LEARNING = "learning"
DAY_S = 86_400
# A known key is written again only when a sighting is this much newer than its last one.
REFRESH_S = 3600
# Requests in flight at once while judging one object (boto3 clients are thread-safe).
WRITERS = 8


@dataclass(frozen=True)
class Item:
    """A key's item in the table."""

    first_seen: int
    last_seen: int
    claimed_by: str


@dataclass(frozen=True)
class Rules:
    days: int
    learning_hours: int

    @property
    def window_s(self) -> int:
        return self.days * DAY_S

    def expires(self, last_seen: int) -> int:
        """The TTL: a day after the window, as DynamoDB deletes expired items only within days anyway."""
        return last_seen + self.window_s + DAY_S


class Store(Protocol):
    """The table's operations; `notifier.baseline.dynamo.DynamoStore` and the tests' memory store."""

    def get(self, pks: list[str]) -> dict[str, Item]:
        """The items of these keys that exist."""

    def claim(self, pk: str, time: int, object_id: str, rules: Rules) -> Item | None:
        """Write the key as first seen now by `object_id`, if it is missing, expired or already this object's.

        None when the claim succeeded; else the item that stopped it (another object's claim).
        """

    def refresh(self, pk: str, time: int, rules: Rules) -> None:
        """Move the key's last sighting forward to `time` (never back)."""

    def learning_start(self, time: int) -> int:
        """The time of the first flow the baseline saw, written once (`if_not_exists`) as `time`."""


# What to do with a key after reading its item.
CLAIM, REPORT_NEW, KNOWN_AS_IS, KNOWN_REFRESH = "claim", "report-new", "known", "known-refresh"


def decide(item: Item | None, time: int, object_id: str, rules: Rules) -> str:
    """Pure: what a sighting at `time` by `object_id` does with the key's current item."""
    if item is None:
        return CLAIM
    if item.claimed_by == object_id:
        return REPORT_NEW  # this object claimed it before: same verdict, nothing to write
    if item.last_seen < time - rules.window_s:
        return CLAIM  # expired: new again
    return KNOWN_REFRESH if time - item.last_seen >= REFRESH_S else KNOWN_AS_IS


@dataclass(frozen=True)
class KeyVerdict:
    sighting: Sighting
    verdict: str  # NEW, KNOWN or LEARNING
    first_seen: int
    # True when this very call claimed the key (False when this object had claimed it before).
    claimed: bool = False

    @property
    def key(self) -> Key:
        return self.sighting.key


@dataclass(frozen=True)
class Assessment:
    """The baseline's word on one object."""

    state: str  # contracts.events BASELINE_LEARNING / BASELINE_ACTIVE / BASELINE_UNAVAILABLE
    verdicts: tuple[KeyVerdict, ...] = ()
    unchecked: int = 0
    more_unchecked: bool = False
    learning_until: int | None = None
    error: str | None = None

    def new(self, kind: str) -> tuple[KeyVerdict, ...]:
        return tuple(v for v in self.verdicts if v.verdict == NEW and v.key.kind == kind)

    @property
    def new_internal(self) -> bool:
        return bool(self.new(INTERNAL))

    @property
    def new_targets(self) -> bool:
        return bool(self.new(TARGET))

    @property
    def new_sources(self) -> bool:
        return bool(self.new(SOURCE))


def learning_until(store: Store, keys: ObjectKeys, rules: Rules) -> int | None:
    """When learning ends (None: no learning); the first object the baseline sees starts it."""
    earliest = keys.earliest
    if rules.learning_hours <= 0 or earliest is None:
        return None
    return store.learning_start(earliest) + rules.learning_hours * 3600


def judge(store: Store, keys: ObjectKeys, object_id: str, rules: Rules) -> tuple[KeyVerdict, ...]:
    """Verdicts on an object's keys, written to the store (claims and refreshes); learning is the caller's."""
    items = store.get([s.key.pk for s in keys.sightings])

    def one(sighting: Sighting) -> KeyVerdict:
        return _judge_one(store, sighting, items.get(sighting.key.pk), object_id, rules)

    if len(keys.sightings) <= 1:
        return tuple(map(one, keys.sightings))
    # Claims and refreshes are one request each: a first object of thousands of keys writes in parallel.
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return tuple(pool.map(one, keys.sightings))


def _judge_one(store: Store, sighting: Sighting, item: Item | None, object_id: str,
               rules: Rules) -> KeyVerdict:
    pk, time = sighting.key.pk, sighting.time
    action = decide(item, time, object_id, rules)
    if action == REPORT_NEW and item is not None:
        return KeyVerdict(sighting, NEW, item.first_seen)
    if action == CLAIM:
        winner = store.claim(pk, time, object_id, rules)
        if winner is None:
            return KeyVerdict(sighting, NEW, time, claimed=True)
        return KeyVerdict(sighting, KNOWN, winner.first_seen)
    assert item is not None
    if action == KNOWN_REFRESH:
        store.refresh(pk, time, rules)
    return KeyVerdict(sighting, KNOWN, item.first_seen)


def assess(store: Store, keys: ObjectKeys, object_id: str, rules: Rules) -> Assessment:
    """Learning, then the verdicts; while learning, a key that would be new is reported `learning`.

    The object is learning when its latest flow is before the learning's end. Keys are claimed all the
    same, so that they are known once learning ends.
    """
    until = learning_until(store, keys, rules)
    verdicts = judge(store, keys, object_id, rules)
    latest = max((s.time for s in keys.sightings), default=None)
    learning = until is not None and latest is not None and latest < until
    if learning:
        verdicts = tuple(KeyVerdict(v.sighting, LEARNING, v.first_seen, v.claimed) if v.verdict == NEW else v
                         for v in verdicts)
    return Assessment(BASELINE_LEARNING if learning else BASELINE_ACTIVE, verdicts, keys.unchecked,
                      keys.more_unchecked, until if learning else None)
