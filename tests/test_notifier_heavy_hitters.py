"""The bounded counter behind "top sources" and "top error codes": exact while it can be, Misra-Gries after.

The guarantees a reader of the Datadog event relies on: a reported count never exceeds the truth and
is at most `error` below it, `error` is at most n / (capacity + 1), so a source with more than that
share of the flows is always reported; and while few keys were seen, every count is exact.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.counters import HeavyHitters


def counted(capacity: int, stream: str | list) -> HeavyHitters:
    counter: HeavyHitters = HeavyHitters(capacity)
    for key in stream:
        counter.add(key)
    return counter


def test_capacity_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        HeavyHitters(0)
    assert counted(1, "aab").top(1) == [("a", 2)]


def test_counts_stay_exact_up_to_twice_the_capacity_of_distinct_keys() -> None:
    counter = counted(2, "aaaabbbccd")  # 4 distinct keys = 2 x capacity: no pruning yet

    assert counter.exact and counter.error == 0
    assert counter.counts == {"a": 4, "b": 3, "c": 2, "d": 1}
    assert len(counter) == 4 and set(counter) == {"a", "b", "c", "d"}


def test_one_more_distinct_key_prunes_to_the_heaviest_and_records_the_error() -> None:
    counter = counted(2, "aaaaabbbbcccdde")  # a5 b4 c3 d2, then e1 is the fifth distinct key

    # The third largest count (3) is subtracted from every key; keys at or below it are dropped.
    assert counter.counts == {"a": 2, "b": 1}
    assert counter.error == 3 and not counter.exact


def test_pruning_when_asked_keeps_the_capacity_heaviest_keys() -> None:
    counter = counted(2, "aaaabbbccd")  # a4 b3 c2 d1

    dropped = counter.prune()

    assert dropped == {"c", "d"}
    assert counter.counts == {"a": 2, "b": 1}  # the third largest count, 2, subtracted
    assert counter.error == 2


def test_pruning_a_table_within_capacity_changes_nothing() -> None:
    counter = counted(3, "aabbc")

    assert counter.prune() == set()
    assert counter.counts == {"a": 2, "b": 2, "c": 1} and counter.exact


def test_pruning_at_exactly_the_capacity_changes_nothing() -> None:
    counter = counted(2, "aab")

    assert counter.prune() == set()
    assert counter.counts == {"a": 2, "b": 1} and counter.exact


def test_errors_of_successive_prunes_add_up() -> None:
    counter = counted(1, "aaaab")  # exact: 2 distinct keys fit
    counter.add("c")  # a4 b1 c1: third distinct key, prune by the second largest (1)
    assert counter.counts == {"a": 3} and counter.error == 1
    for key in "deef":
        counter.add(key)
    # a3 d1 -> a3 d1 e1 (prune by 1): a2; then e, f: a2 e1 f1 -> prune by 1: a1
    assert counter.counts == {"a": 1}
    assert counter.error == 3


def test_top_is_ordered_by_count_then_key_text() -> None:
    counter = counted(10, ["b", "a", "c", "c", 10, 10, 9])

    assert counter.top(10) == [(10, 2), ("c", 2), (9, 1), ("a", 1), ("b", 1)]  # "10" < "9" < "a"
    assert counter.top(2) == [(10, 2), ("c", 2)]
    assert counter.top(0) == []


@given(capacity=st.integers(min_value=1, max_value=6),
       stream=st.lists(st.integers(min_value=0, max_value=30), max_size=300))
def test_misra_gries_bounds_hold_for_any_stream(capacity: int, stream: list[int]) -> None:
    counter = counted(capacity, stream)
    truth = Counter(stream)

    assert len(counter) <= 2 * capacity
    assert counter.error <= len(stream) / (capacity + 1)
    for key, count in counter.counts.items():
        assert truth[key] - counter.error <= count <= truth[key]
    for key, true_count in truth.items():
        if true_count > len(stream) / (capacity + 1):
            assert key in counter.counts, "a key above the guaranteed share is never lost"
    if len(truth) <= 2 * capacity:
        assert counter.exact and counter.counts == dict(truth)
