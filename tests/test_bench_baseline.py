"""`make bench`'s baseline figures: the counting client counts what the store asks, as DynamoDB bills it;
the week's pages through the handler with moto agree with its judging over the in-memory store."""

from __future__ import annotations

import gzip

import orjson
import pytest
from moto import mock_aws

from bench.baseline import dynamo_client, fresh_baseline, notify
from bench.dynamo_counting import CountingClient, item_bytes
from bench.week import judge_week, run_week
from notifier.baseline.dynamo import DynamoStore
from notifier.networks import InternalNetworks
from tests.baseline_support import MemoryStore

HOUR = 1_795_802_400  # 2026-11-27 18:00 UTC


def flow(src: str, dst: str, port: int, end: int) -> dict:
    return {"version": 2, "account_id": "123456789012", "interface_id": "eni-0a1b2c3d4e5f60718",
            "srcaddr": src, "dstaddr": dst, "srcport": 40000, "dstport": port, "protocol": 6, "packets": 1,
            "bytes": 40, "start": end - 60, "end": end, "action": "REJECT", "log_status": "OK"}


def write_object(path, flows):
    path.write_bytes(gzip.compress(b"".join(orjson.dumps(f) + b"\n" for f in flows)))
    return path


@pytest.fixture
def counted(tmp_path):
    with mock_aws():
        client = CountingClient(dynamo_client())
        yield client, fresh_baseline(client), tmp_path


def test_counting_matches_the_store_and_dynamodbs_units_on_a_small_object(counted):
    client, baseline, tmp = counted
    # Four keys: the internal pair and its target port, the internet source and its target port.
    first = write_object(tmp / "a.gz", [flow("10.0.0.1", "10.0.0.2", 22, HOUR + 600),
                                        flow("198.51.100.1", "10.0.0.2", 80, HOUR + 900)])
    _, observed = notify(first, baseline, InternalNetworks())
    assert len(observed.assessment.verdicts) == 4
    usage = client.usage.copy()
    # The learning item read once (consistent) and started once; one BatchGetItem of 4; 4 claims.
    assert dict(usage.calls) == {"GetItem": 1, "UpdateItem": 5, "BatchGetItem": 1}
    assert (usage.items_read, usage.items_written, usage.conditions_failed) == (5, 5, 0)
    assert (usage.read_units, usage.write_units) == (1 + 4 * 0.5, 5)
    store = baseline.store
    assert (store.reads, store.writes) == (usage.items_read, usage.items_written)

    # The same object again (a redelivery): the same keys read, nothing written.
    notify(first, baseline, InternalNetworks())
    again = client.usage.minus(usage)
    assert dict(+again.calls) == {"BatchGetItem": 1} and again.items_read == 4 and again.items_written == 0

    # Two hours later, the same traffic in another object: every key refreshed once.
    before = client.usage.copy()
    later = write_object(tmp / "b.gz", [flow("10.0.0.1", "10.0.0.2", 22, HOUR + 7800),
                                        flow("198.51.100.1", "10.0.0.2", 80, HOUR + 7900)])
    notify(later, baseline, InternalNetworks())
    refreshed = client.usage.minus(before)
    assert dict(+refreshed.calls) == {"BatchGetItem": 1, "UpdateItem": 4} and refreshed.write_units == 4


def test_a_failed_claim_is_counted_as_a_billed_write(counted):
    client, baseline, _ = counted
    rules = baseline.settings.rules
    store = DynamoStore(client, baseline.settings.table)
    assert store.claim('["source","198.51.100.9",null,null,null,false]', HOUR, "s3://b/one", rules) is None
    winner = store.claim('["source","198.51.100.9",null,null,null,false]', HOUR, "s3://b/two", rules)
    assert winner is not None and winner.claimed_by == "s3://b/one"
    assert (client.usage.items_written, client.usage.write_units, client.usage.conditions_failed) == (2, 2, 1)


def test_item_bytes_counts_names_and_values_as_dynamodb_does():
    # "pk" (2) + 10 characters; "n" (1) + 3 digits -> 2 bytes + 1; "s" (1) + 3 bytes of UTF-8 "é" + "a".
    assert item_bytes({"pk": {"S": "0123456789"}, "n": {"N": "123"}, "s": {"S": "éa"}}) == 12 + 4 + 4


def test_the_week_through_the_handler_and_moto_pages_as_the_core_judges_it():
    """Two days (the first incident): the real notifier, S3 and DynamoDB in moto, a loopback intake."""
    handled, judged = run_week(days=2), judge_week(MemoryStore(), days=2)
    assert handled.objects == judged.objects == 48
    assert handled.pages == judged.pages and len(handled.planted_pages) == 1
    assert (handled.learning, handled.new_targets, handled.today_warnings) == (
        judged.learning, judged.new_targets, judged.today_warnings)
