"""Fill the baseline from the archive already in S3: the notifier's own key rules and store, no events.

Each `rejected/` object of the last N days is read (streamed, as the notifier reads it) and its keys are
judged exactly as the notifier would judge them, under the object's own URI: seeding is idempotent (an
object seeded twice claims nothing new the second time), and an object the notifier processes later
finds the seeded keys known. The learning start is moved back to the earliest seeded flow, so a stack
added over an existing archive needs no learning.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.layout import DATA_PREFIX, partition_hour
from notifier.baseline.dynamo import DynamoStore
from notifier.baseline.keys import HOUR_S, ObjectKeys
from notifier.baseline.settings import BaselineOptions
from notifier.baseline.step import KeyedSummariser, collector_for
from notifier.baseline.verdicts import Item, Rules, judge
from notifier.networks import InternalNetworks
from notifier.stream import iter_lines


@dataclass(frozen=True)
class ArchivedObject:
    key: str
    hour_start_s: float
    size: int


def day_prefixes(now: datetime, days: int) -> list[str]:
    """The `rejected/year=…/month=…/day=…/` prefixes covering the last `days` days up to `now`."""
    first = (now - timedelta(days=days)).date()
    return [f"{DATA_PREFIX}year={d:%Y}/month={d:%m}/day={d:%d}/"
            for d in (first + timedelta(days=i) for i in range((now.date() - first).days + 1))]


def hour_start(key: str) -> float | None:
    hour = partition_hour(key)
    return None if hour is None else hour.timestamp()


def archived_objects(s3: Any, bucket: str, now: datetime, days: int) -> list[ArchivedObject]:
    """The archive's objects whose arrival hour lies in the last `days` days, oldest first."""
    since = (now - timedelta(days=days)).timestamp() - HOUR_S
    found = []
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in day_prefixes(now, days):
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                start = hour_start(entry["Key"])
                if start is not None and since <= start <= now.timestamp():
                    found.append(ArchivedObject(entry["Key"], start, entry["Size"]))
    return sorted(found, key=lambda o: (o.hour_start_s, o.key))


def object_keys(s3: Any, bucket: str, obj: ArchivedObject, settings: BaselineOptions,
                networks: InternalNetworks) -> tuple[ObjectKeys, int]:
    """The object's keys as the notifier collects them, and its flows. Raises UnreadableObjectError."""
    keys = collector_for(settings, obj.hour_start_s)
    summariser = KeyedSummariser(keys, internal=networks)
    body = s3.get_object(Bucket=bucket, Key=obj.key)["Body"]
    try:
        summariser.add_lines(iter_lines(body))
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise UnreadableObjectError(f"truncated or corrupt gzip ({error})") from None
    finally:
        body.close()
    return keys.result(), summariser.flows


class UnreadableObjectError(Exception):
    """An archived object cannot be read as flow records (the notifier posted an error event for it)."""


class DryRunStore:
    """Reads the real table, keeps every write in memory: what a seed would do, without doing it."""

    def __init__(self, real: DynamoStore) -> None:
        self.real = real
        self.overlay: dict[str, Item] = {}
        self.lock = threading.Lock()

    def get(self, pks: list[str]) -> dict[str, Item]:
        with self.lock:
            missing = [pk for pk in pks if pk not in self.overlay]
        found = self.real.get(missing) if missing else {}
        with self.lock:
            found.update({pk: self.overlay[pk] for pk in pks if pk in self.overlay})
        return found

    def claim(self, pk: str, time: int, object_id: str, rules: Rules) -> Item | None:
        current = self.get([pk]).get(pk)
        with self.lock:
            if (current is None or current.last_seen < time - rules.window_s
                    or current.claimed_by == object_id):
                self.overlay[pk] = Item(time, time, object_id)
                return None
            return current

    def refresh(self, pk: str, time: int, rules: Rules) -> None:
        current = self.get([pk]).get(pk)
        with self.lock:
            if current is not None and current.last_seen < time:
                self.overlay[pk] = Item(current.first_seen, time, current.claimed_by)

    def learning_start(self, time: int) -> int:
        return time


@dataclass
class SeedSummary:
    objects: int = 0
    flows: int = 0
    new_keys: int = 0
    known_keys: int = 0
    unchecked_keys: int = 0
    earliest: int | None = None
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def seed(s3: Any, bucket: str, store: DynamoStore | DryRunStore, settings: BaselineOptions,
         networks: InternalNetworks, objects: list[ArchivedObject],
         progress: Callable[[Iterator[ArchivedObject]], Iterator[ArchivedObject]] = iter) -> SeedSummary:
    """Judge every object's keys into the store (learning aside); move the learning start back."""
    summary = SeedSummary()
    rules = Rules(settings.days, 0)
    for obj in progress(iter(objects)):
        try:
            keys, flows = object_keys(s3, bucket, obj, settings, networks)
        except UnreadableObjectError as error:
            summary.unreadable.append((obj.key, str(error)))
            continue
        verdicts = judge(store, keys, f"s3://{bucket}/{obj.key}", rules)
        summary.objects += 1
        summary.flows += flows
        # A key this object claimed on an earlier run is "already known" to a re-run: seeding is idempotent.
        summary.new_keys += sum(1 for v in verdicts if v.claimed)
        summary.known_keys += sum(1 for v in verdicts if not v.claimed)
        summary.unchecked_keys += keys.unchecked
        if keys.earliest is not None:
            summary.earliest = keys.earliest if summary.earliest is None else min(summary.earliest,
                                                                                  keys.earliest)
    if summary.earliest is not None and isinstance(store, DynamoStore):
        store.seed_learning_start(summary.earliest)
    return summary
