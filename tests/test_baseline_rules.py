"""The baseline's key rules and verdicts as pure functions over an in-memory store (docs/architecture.md)."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.baseline.keys import (
    INTERNAL,
    SOURCE,
    TARGET,
    Key,
    ObjectKeys,
    Sighting,
    arrival_cap,
    collect_keys,
    flow_time,
    is_reply,
)
from notifier.baseline.verdicts import DAY_S, KNOWN, LEARNING, NEW, REFRESH_S, Rules, assess, judge
from notifier.networks import InternalNetworks
from tests.baseline_support import MemoryStore
from tests.notifier_support import HOUR_START, flow

NETWORKS = InternalNetworks()
CAP = arrival_cap(HOUR_START + 3600)
ACTIVE = Rules(days=14, learning_hours=0)
POOL = [Key(INTERNAL, f"10.0.0.{i}", "10.0.1.25", 8080, 6) for i in range(4)] + [
    Key(TARGET, None, f"eni-{i}", 22, 6) for i in range(3)] + [Key(SOURCE, f"203.0.113.{i}", None, None, None)
                                                          for i in range(3)]


def keys_of(*pairs: tuple[Key, int]) -> ObjectKeys:
    return ObjectKeys(tuple(Sighting(key, 1, time) for key, time in pairs), 0)


def verdicts_of(store: MemoryStore, keys: ObjectKeys, object_id: str,
                rules: Rules = ACTIVE) -> dict[Key, str]:
    return {v.key: v.verdict for v in judge(store, keys, object_id, rules)}


# --- keys of a flow ---

def test_keys_of_flows_internal_pair_target_and_internet_source():
    keys = collect_keys([flow("10.20.40.77", 8080), flow("203.0.113.9", 22)], NETWORKS, 100, CAP)
    assert {s.key for s in keys.sightings} == {
        Key(INTERNAL, "10.20.40.77", "10.0.1.25", 8080, 6),
        Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 8080, 6),
        Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 22, 6),
        Key(SOURCE, "203.0.113.9", None, None, None),
    }
    assert keys.unchecked == 0


def test_keys_of_nacl_rejected_replies_one_key_per_service_port_not_per_ephemeral_port():
    # A stateless NACL rejects the replies of DNS and HTTPS servers towards 500 ephemeral ports.
    replies = [flow("10.0.3.9", 1024 + 97 * i, srcport=443) for i in range(250)]
    replies += [flow("10.0.3.9", 33000 + i, srcport=53, protocol=17) for i in range(250)]
    keys = collect_keys(replies, NETWORKS, 2000, CAP)
    assert {s.key for s in keys.sightings} == {
        Key(INTERNAL, "10.0.3.9", None, 443, 6, reply=True),
        Key(INTERNAL, "10.0.3.9", None, 53, 17, reply=True),
        Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 443, 6, reply=True),
        Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 53, 17, reply=True),
    }
    assert {s.flows for s in keys.sightings} == {250}


def test_keys_of_a_servers_rejected_replies_to_many_clients_are_one_internal_key():
    # An outbound NACL rejects an internal HTTPS server's replies to 300 internet clients.
    replies = [flow("10.0.3.9", 40000 + i, srcport=443, dstaddr=f"198.51.100.{i % 250}",
                    interface_id=f"eni-0a1b2c3d4e5f6071{i % 2}") for i in range(300)]
    keys = collect_keys(replies, NETWORKS, 2000, CAP)
    assert {s.key for s in keys.sightings} == {
        Key(INTERNAL, "10.0.3.9", None, 443, 6, reply=True),
        Key(TARGET, None, "eni-0a1b2c3d4e5f60710", 443, 6, reply=True),
        Key(TARGET, None, "eni-0a1b2c3d4e5f60711", 443, 6, reply=True),
    }
    assert sorted(s.flows for s in keys.sightings) == [150, 150, 300]


@given(st.integers(0, 65535), st.integers(0, 65535))
def test_is_reply_well_known_source_port_to_ephemeral_port(srcport, dstport):
    assert is_reply(srcport, dstport) == (srcport <= 1023 and dstport >= 1024)


def test_keys_of_icmp_by_protocol_and_target_by_address_without_interface():
    keys = collect_keys([flow("10.0.0.8", 0, protocol=1, srcport=0, interface_id=None)], NETWORKS, 10, CAP)
    assert {s.key for s in keys.sightings} == {Key(INTERNAL, "10.0.0.8", "10.0.1.25", None, 1),
                                               Key(TARGET, None, "10.0.1.25", None, 1)}


@given(st.one_of(st.none(), st.integers(0, 2 * CAP)), st.one_of(st.none(), st.integers(0, 2 * CAP)))
def test_flow_time_is_end_else_start_capped_past_arrival(start, end):
    record = {"start": start, "end": end}
    expected = end if end is not None else start if start is not None else CAP
    assert flow_time(record, CAP) == min(expected, CAP)


def test_keys_at_most_max_internal_first_then_targets_then_sources_by_flows():
    # Targets by flow count: eni-same took 15 flows, the other 3.
    flows = [flow("10.0.0.1", 8080)] * 2 + [flow("10.0.0.2", 8080)]
    flows += [flow(f"203.0.113.{i}", 22, interface_id="eni-same") for i in range(1, 6) for _ in range(i)]
    keys = collect_keys(flows, NETWORKS, 4, CAP)
    assert [s.key for s in keys.sightings] == [
        Key(INTERNAL, "10.0.0.1", "10.0.1.25", 8080, 6), Key(INTERNAL, "10.0.0.2", "10.0.1.25", 8080, 6),
        Key(TARGET, None, "eni-same", 22, 6), Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 8080, 6)]
    assert keys.unchecked == 5  # the five internet sources


# --- verdicts ---

@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(POOL), st.integers(0, 3 * DAY_S)), min_size=1, max_size=6),
                min_size=1, max_size=8), st.randoms())
def test_verdicts_any_order_one_first_per_key_and_reprocessing_repeats_verdicts(objects, rnd):
    """Within the window, whatever the order: each key is new for exactly one object; a redelivered object
    (in any position) gets its first verdicts again."""
    store = MemoryStore()
    order = list(range(len(objects))) * 2
    rnd.shuffle(order)
    first: dict[int, dict[Key, str]] = {}
    for index in order:
        verdicts = verdicts_of(store, keys_of(*objects[index]), f"s3://b/o{index}")
        assert verdicts == first.setdefault(index, verdicts)
    for key in {k for obj in objects for k, _ in obj}:
        assert sum(1 for v in first.values() if v.get(key) == NEW) == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=5), min_size=2, max_size=6))
def test_verdicts_concurrent_objects_on_shared_keys_one_new_per_key(objects):
    store = MemoryStore()
    results: dict[int, dict[Key, str]] = {}

    def run(index: int) -> None:
        results[index] = verdicts_of(store, keys_of(*((k, HOUR_START) for k in objects[index])), f"o{index}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(objects))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for key in {k for obj in objects for k in obj}:
        assert sum(1 for v in results.values() if v.get(key) == NEW) == 1


@given(st.integers(1, 60), st.integers(-3 * DAY_S, 3 * DAY_S))
def test_verdicts_expire_after_baseline_days(days, offset):
    rules = Rules(days=days, learning_hours=0)
    store, key = MemoryStore(), POOL[0]
    assert verdicts_of(store, keys_of((key, HOUR_START)), "first", rules) == {key: NEW}
    later = HOUR_START + days * DAY_S + offset
    expected = NEW if later - HOUR_START > days * DAY_S else KNOWN
    assert verdicts_of(store, keys_of((key, later)), "later", rules) == {key: expected}


def test_verdicts_late_object_does_not_make_new_what_a_newer_one_saw():
    store, key = MemoryStore(), POOL[0]
    assert verdicts_of(store, keys_of((key, HOUR_START + 7200)), "newer") == {key: NEW}
    assert verdicts_of(store, keys_of((key, HOUR_START)), "late") == {key: KNOWN}
    assert store.items[key.pk].last_seen == HOUR_START + 7200  # never moved back


def test_verdicts_known_first_seen_and_refresh_at_most_hourly():
    store, key = MemoryStore(), POOL[1]
    writes = []
    refresh = store.refresh
    store.refresh = lambda pk, time, rules: (writes.append(time), refresh(pk, time, rules))  # type: ignore
    judge(store, keys_of((key, HOUR_START)), "o0", ACTIVE)
    for minute in range(1, 181):
        verdict, = judge(store, keys_of((key, HOUR_START + 60 * minute)), f"o{minute}", ACTIVE)
        assert (verdict.verdict, verdict.first_seen) == (KNOWN, HOUR_START)
    assert writes == [HOUR_START + REFRESH_S, HOUR_START + 2 * REFRESH_S, HOUR_START + 3 * REFRESH_S]


@given(st.integers(0, 72), st.integers(0, 100 * 3600))
def test_assess_learning_for_hours_after_the_first_flow(hours, offset):
    rules = Rules(days=14, learning_hours=hours)
    store = MemoryStore()
    first = assess(store, keys_of((POOL[0], HOUR_START)), "first", rules)
    later = assess(store, keys_of((POOL[1], HOUR_START + offset)), "later", rules)
    learning = offset < hours * 3600
    assert first.state == ("learning" if hours else "active")
    assert later.state == ("learning" if learning else "active")
    assert [v.verdict for v in later.verdicts] == [LEARNING if learning else NEW]
    assert later.learning_until == (HOUR_START + hours * 3600 if learning else None)
    # Learnt keys are known afterwards.
    after = assess(store, keys_of((POOL[0], HOUR_START + hours * 3600 + 60)), "after", rules)
    assert [(v.verdict, v.first_seen) for v in after.verdicts] == [(KNOWN, HOUR_START)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["10.0.0.1", "10.0.0.2", "203.0.113.1", "198.51.100.2"]),
                          st.integers(1, 6), st.sampled_from(["eni-a", "eni-b", None])),
                min_size=1, max_size=40), st.integers(1, 12))
def test_keys_limit_checks_at_most_max_and_counts_every_other_key_unchecked(flows, max_keys):
    records = [flow(src, port, interface_id=eni) for src, port, eni in flows]
    everything = collect_keys(records, NETWORKS, 10_000, CAP)
    limited = collect_keys(records, NETWORKS, max_keys, CAP)
    assert len(limited.sightings) == min(max_keys, len(everything.sightings))
    assert len(limited.sightings) + limited.unchecked == len(everything.sightings)
    kinds = [s.key.kind for s in limited.sightings]
    assert kinds == sorted(kinds, key=[INTERNAL, TARGET, SOURCE].index)  # internal pairs first, then targets
    # What is checked is the heaviest of each kind that fits.
    assert set(limited.sightings) <= set(everything.sightings)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(POOL), st.integers(0, 2 * DAY_S)),
                min_size=1, max_size=15), st.integers(0, 48))
def test_assess_reprocessing_any_object_repeats_its_assessment(sightings, hours):
    """Within the days of the window (a redelivery comes within hours; the table remembers only the
    latest claim of a key, so once another object claims it anew after it expired, the first one's
    reprocessing finds it known)."""
    rules = Rules(days=2, learning_hours=hours)
    store = MemoryStore()
    first: dict[tuple[int, Key, int], object] = {}
    for obj, key, time in sightings + sightings:
        result = assess(store, keys_of((key, HOUR_START + time)), f"o{obj}-{key.pk}-{time}", rules)
        # What the event says (the `claimed` flag only tells the seed command what it wrote itself).
        said = (result.state, result.learning_until, [(v.verdict, v.first_seen) for v in result.verdicts])
        assert first.setdefault((obj, key, time), said) == said
