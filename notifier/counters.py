"""Bounded-memory frequency counting: exact while the distinct keys fit, Misra-Gries beyond.

A batch may hold millions of flows from as many sources; the summary needs only the heaviest few.
Misra-Gries keeps at most `capacity` counters and every kept count is a lower bound within
`error` of the truth, so a source that really dominates the batch is always reported.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class HeavyHitters(Generic[K]):
    """Counts keys; while at most `2 * capacity` distinct keys were seen, counts are exact.

    Pruning is batched (the table may grow to twice its capacity before it shrinks back to
    `capacity`), so the amortised cost per key is O(1) instead of O(capacity) per new key.
    """

    __slots__ = ("_limit", "capacity", "counts", "error")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._limit = 2 * capacity
        self.counts: dict[K, int] = {}
        # Sum of the decrements applied: every kept count is within `error` below the true count.
        self.error = 0

    def add(self, key: K) -> None:
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        if len(counts) > self._limit:
            self.prune()

    def prune(self) -> set[K]:
        """Batched Misra-Gries step: subtract the (capacity+1)-th largest count from all, drop the rest.

        Returns the dropped keys so that callers tracking per-key detail can forget them too.
        """
        counts = self.counts
        if len(counts) <= self.capacity:
            return set()
        threshold = sorted(counts.values(), reverse=True)[self.capacity]
        dropped = {key for key, count in counts.items() if count <= threshold}
        self.counts = {key: count - threshold for key, count in counts.items() if count > threshold}
        self.error += threshold
        return dropped

    @property
    def exact(self) -> bool:
        return self.error == 0

    def top(self, n: int) -> list[tuple[K, int]]:
        """The `n` largest counts, ties broken by key text so that output is deterministic."""
        return sorted(self.counts.items(), key=lambda item: (-item[1], str(item[0])))[:n]

    def __iter__(self) -> Iterator[K]:
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)
