"""The streaming batcher behind CloudWatch's and Firehose's groups: every item delivered once, in groups
of one window and stream, within the caps, whatever the order of the input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from local.batching import WindowBatcher, drain

ITEMS = st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["eni-a", "eni-b", "eni-c"]),
                           st.integers(1, 300)), max_size=200)


@given(items=ITEMS, max_items=st.integers(1, 20), late=st.integers(0, 5))
def test_every_item_is_delivered_once_in_a_batch_of_its_window_and_stream(items, max_items, late):
    batcher: WindowBatcher[int] = WindowBatcher(max_items, max_bytes=1_000, late_windows=late)
    keyed = ((window, stream, index, size) for index, (window, stream, size) in enumerate(items))
    batches = list(drain(batcher, keyed))

    delivered = [index for batch in batches for index in batch.items]
    assert sorted(delivered) == list(range(len(items)))
    for batch in batches:
        assert {(items[i][0], items[i][1]) for i in batch.items} == {(batch.window, batch.stream)}
        assert 1 <= len(batch.items) <= max_items
        assert batch.size <= 1_000 or len(batch.items) == 1
        assert batch.items == sorted(batch.items), "a batch keeps the input's order"


def test_a_window_is_delivered_once_a_line_more_than_late_windows_newer_arrives():
    batcher: WindowBatcher[str] = WindowBatcher(100, 10**6, late_windows=2)
    assert batcher.add(0, "a", "first", 1) == []
    assert batcher.add(2, "a", "second", 1) == []
    assert batcher.add(0, "a", "two windows late, still in time", 1) == []
    (ready,) = batcher.add(3, "a", "third", 1)
    assert (ready.window, ready.items) == (0, ["first", "two windows late, still in time"])
    assert [batch.window for batch in batcher.finish()] == [2, 3]


def test_memory_holds_only_the_open_windows():
    batcher: WindowBatcher[int] = WindowBatcher(10**6, 10**9, late_windows=3)
    for minute in range(10_000):
        for interface in range(5):
            batcher.add(minute, f"eni-{interface}", minute, 1)
        assert len(batcher._open) <= 4 * 5
