"""Grouping a stream of log lines into deliveries per (capture window, log stream), with bounded memory.

CloudWatch Logs and VPC Flow Logs deliver the lines of one log stream and time window together. The
input is streamed, so a group cannot wait for the end of the input: a window's groups are delivered
once a line more than `LATE_WINDOWS` windows newer has been seen (flow-log files are in time order
within minutes), and a group that reaches its size cap is delivered at once. Memory therefore depends on how
much traffic `LATE_WINDOWS` windows hold, not on the length of the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
LATE_WINDOWS = 10  # windows a line may arrive late and still join its window's group


@dataclass
class Batch(Generic[Item]):
    window: int
    stream: str
    items: list[Item] = field(default_factory=list)
    size: int = 0


class WindowBatcher(Generic[Item]):
    """`add` items keyed by (window number, stream); it returns the batches ready to deliver."""

    def __init__(self, max_items: int, max_bytes: int, late_windows: int = LATE_WINDOWS):
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.late_windows = late_windows
        self._open: dict[tuple[int, str], Batch[Item]] = {}
        self._newest: int | None = None

    def add(self, window: int, stream: str, item: Item, size: int) -> list[Batch[Item]]:
        ready: list[Batch[Item]] = []
        if self._newest is None or window > self._newest:
            self._newest = window
            ready += self._close_before(window - self.late_windows)
        batch = self._open.get((window, stream))
        if batch is not None and (len(batch.items) >= self.max_items or batch.size + size > self.max_bytes):
            ready.append(self._open.pop((window, stream)))
            batch = None
        if batch is None:
            batch = self._open[(window, stream)] = Batch(window, stream)
        batch.items.append(item)
        batch.size += size
        return ready

    def finish(self) -> list[Batch[Item]]:
        return self._close_before(None)

    def _close_before(self, window: int | None) -> list[Batch[Item]]:
        keys = sorted(key for key in self._open if window is None or key[0] < window)
        return [self._open.pop(key) for key in keys]


def drain(batcher: WindowBatcher[Item], keyed: Iterator[tuple[int, str, Item, int]]) -> Iterator[Batch[Item]]:
    """Every batch of `(window, stream, item, size)` tuples, in delivery order."""
    for window, stream, item, size in keyed:
        yield from batcher.add(window, stream, item, size)
    yield from batcher.finish()
