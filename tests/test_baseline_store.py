"""The baseline's DynamoDB store against moto: exactly-once verdicts, refreshes, learning, failures."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from notifier.baseline.dynamo import LEARNING_PK, BaselineUnavailableError, DynamoStore
from notifier.baseline.keys import INTERNAL, SOURCE, TARGET, Key, ObjectKeys, Sighting
from notifier.baseline.verdicts import DAY_S, KNOWN, NEW, REFRESH_S, Rules, judge
from tests.baseline_support import (
    TABLE,
    MemoryStore,
    answer_with_error,
    atomic_requests,
    create_table,
    table_items,
)
from tests.notifier_support import HOUR_START, fake_aws_credentials

RULES = Rules(days=14, learning_hours=24)
PAIR = Key(INTERNAL, "10.20.40.77", "10.0.1.25", 8080, 6)
PORT = Key(TARGET, None, "eni-0a1b2c3d4e5f60718", 22, 6)
SCANNER = Key(SOURCE, "198.51.100.23", None, None, None)


@pytest.fixture(name="dynamodb")
def dynamodb_fixture(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client)
        yield client


def keys_of(*pairs: tuple[Key, int]) -> ObjectKeys:
    return ObjectKeys(tuple(Sighting(key, 3, time) for key, time in pairs), 0)


def verdicts(store, keys: ObjectKeys, object_id: str) -> dict[Key, tuple[str, int]]:
    return {v.key: (v.verdict, v.first_seen) for v in judge(store, keys, object_id, RULES)}


def test_store_claims_new_keys_with_their_items(dynamodb):
    store = DynamoStore(dynamodb, TABLE)
    keys = keys_of((PAIR, HOUR_START + 100), (PORT, HOUR_START + 200))
    assert verdicts(store, keys, "s3://b/one") == {PAIR: (NEW, HOUR_START + 100),
                                                  PORT: (NEW, HOUR_START + 200)}
    assert table_items(dynamodb) == {
        PAIR.pk: {"pk": PAIR.pk, "first_seen": str(HOUR_START + 100), "last_seen": str(HOUR_START + 100),
                  "claimed_by": "s3://b/one", "expires": str(HOUR_START + 100 + 15 * DAY_S)},
        PORT.pk: {"pk": PORT.pk, "first_seen": str(HOUR_START + 200), "last_seen": str(HOUR_START + 200),
                  "claimed_by": "s3://b/one", "expires": str(HOUR_START + 200 + 15 * DAY_S)},
    }


def test_store_same_object_twice_reports_the_same_keys_new(dynamodb):
    store = DynamoStore(dynamodb, TABLE)
    keys = keys_of((PAIR, HOUR_START), (SCANNER, HOUR_START))
    first = verdicts(store, keys, "s3://b/one")
    writes = store.writes
    assert verdicts(DynamoStore(dynamodb, TABLE), keys, "s3://b/one") == first == {
        PAIR: (NEW, HOUR_START), SCANNER: (NEW, HOUR_START)}
    assert store.writes == writes
    assert verdicts(store, keys, "s3://b/two") == {PAIR: (KNOWN, HOUR_START), SCANNER: (KNOWN, HOUR_START)}


def test_store_concurrent_objects_on_shared_keys_exactly_one_new_each(dynamodb, monkeypatch):
    atomic_requests(monkeypatch)
    shared = [Key(INTERNAL, "10.0.0.9", "10.0.1.25", port, 6) for port in range(8000, 8012)]
    results: dict[int, dict[Key, tuple[str, int]]] = {}
    barrier = threading.Barrier(6)

    def run(index: int) -> None:
        store = DynamoStore(boto3.client("dynamodb"), TABLE)  # one container each
        barrier.wait()
        results[index] = verdicts(store, keys_of(*((k, HOUR_START + index) for k in shared)), f"o{index}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(6))
    items = table_items(dynamodb)
    for key in shared:
        winners = [i for i, v in results.items() if v[key][0] == NEW]
        assert len(winners) == 1
        # Every loser names the winner's first sighting.
        first = int(items[key.pk]["first_seen"])
        assert items[key.pk]["claimed_by"] == f"o{winners[0]}"
        assert {v[key][1] for v in results.values()} == {first}


def test_store_late_object_finds_known_what_a_newer_one_saw(dynamodb):
    store = DynamoStore(dynamodb, TABLE)
    verdicts(store, keys_of((PORT, HOUR_START + 5 * 3600)), "newer")
    assert verdicts(store, keys_of((PORT, HOUR_START)), "late") == {PORT: (KNOWN, HOUR_START + 5 * 3600)}
    assert table_items(dynamodb)[PORT.pk]["last_seen"] == str(HOUR_START + 5 * 3600)


def test_store_refreshes_a_known_key_at_most_hourly_and_expires_it_after_the_days(dynamodb):
    store = DynamoStore(dynamodb, TABLE)
    verdicts(store, keys_of((PAIR, HOUR_START)), "o0")
    writes = store.writes
    for minute in range(1, 121):
        verdicts(store, keys_of((PAIR, HOUR_START + 60 * minute)), f"o{minute}")
    assert store.writes - writes == 2  # at +60 and +120 minutes
    item = table_items(dynamodb)[PAIR.pk]
    assert (item["last_seen"], item["expires"]) == (str(HOUR_START + 2 * REFRESH_S),
                                                    str(HOUR_START + 2 * REFRESH_S + 15 * DAY_S))
    late = HOUR_START + 2 * REFRESH_S + 14 * DAY_S + 1
    assert verdicts(store, keys_of((PAIR, late)), "weeks-later") == {PAIR: (NEW, late)}


def test_store_learning_start_written_once_if_not_exists(dynamodb):
    assert DynamoStore(dynamodb, TABLE).learning_start(HOUR_START + 50) == HOUR_START + 50
    assert DynamoStore(dynamodb, TABLE).learning_start(HOUR_START - 999) == HOUR_START + 50
    store = DynamoStore(dynamodb, TABLE)
    store.seed_learning_start(HOUR_START - 999)  # the seed command moves it back, never forward
    store.seed_learning_start(HOUR_START + 999)
    assert table_items(dynamodb)[LEARNING_PK]["started"] == str(HOUR_START - 999)


def test_store_batch_get_over_100_keys(dynamodb):
    store = DynamoStore(dynamodb, TABLE)
    many = keys_of(*((Key(SOURCE, f"203.0.{i // 250}.{i % 250}", None, None, None), HOUR_START)
                     for i in range(260)))
    assert {v for v, _ in verdicts(store, many, "first").values()} == {NEW}
    assert {v for v, _ in verdicts(store, many, "second").values()} == {KNOWN}


@pytest.mark.parametrize(("status", "code"), [
    (400, "ProvisionedThroughputExceededException"), (400, "ThrottlingException"),
    (400, "AccessDeniedException"), (500, "InternalServerError"),
])
def test_store_throttled_or_denied_is_unavailable(dynamodb, status, code):
    client = boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 2}))
    calls: list[str] = []
    answer_with_error(client, "*", status, code, calls)
    store = DynamoStore(client, TABLE, sleep=lambda s: None)
    with pytest.raises(BaselineUnavailableError, match=code):
        judge(store, keys_of((PAIR, HOUR_START)), "o", RULES)
    # botocore retried the throttling and server errors (its standard mode), never the denial.
    if code == "AccessDeniedException":
        assert calls == ["DynamoDB_20120810.BatchGetItem"]
    else:
        assert len(calls) > 1 and set(calls) == {"DynamoDB_20120810.BatchGetItem"}
    assert table_items(dynamodb) == {}


def test_store_unprocessed_keys_requested_again_then_unavailable(dynamodb):
    class Unprocessing:
        """BatchGetItem that leaves every key unprocessed, as a throttled table may."""

        def __init__(self) -> None:
            self.calls = 0

        def batch_get_item(self, RequestItems):
            self.calls += 1
            return {"Responses": {TABLE: []}, "UnprocessedKeys": RequestItems}

    fake, sleeps = Unprocessing(), []
    with pytest.raises(BaselineUnavailableError, match="unprocessed"):
        DynamoStore(fake, TABLE, sleep=sleeps.append).get([PAIR.pk])
    assert fake.calls == 5 and sleeps == [0.05, 0.1, 0.2, 0.4, 0.8]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from([PAIR, PORT, SCANNER]),
                          st.integers(0, 40 * DAY_S)), min_size=1, max_size=12))
def test_store_agrees_with_the_memory_model(dynamodb, sightings):
    """The DynamoDB store and the in-memory one give the same verdicts on any sequence of sightings."""
    dynamodb.delete_table(TableName=TABLE)
    create_table(dynamodb)
    real, model = DynamoStore(dynamodb, TABLE), MemoryStore()
    for obj, key, time in sightings:
        keys = keys_of((key, HOUR_START + time))
        assert verdicts(real, keys, f"o{obj}") == verdicts(model, keys, f"o{obj}")


def test_store_an_item_it_did_not_write_is_unavailable_not_a_crash(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": PAIR.pk}, "last_seen": {"S": "yesterday"},
                                             "first_seen": {"N": "1"}})
    with pytest.raises(BaselineUnavailableError, match="did not write"):
        judge(DynamoStore(dynamodb, TABLE), keys_of((PAIR, HOUR_START)), "o", RULES)
