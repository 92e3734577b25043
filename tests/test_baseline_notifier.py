"""The notifier with a baseline, end to end: moto's S3, Secrets Manager and DynamoDB, a loopback Datadog."""

from __future__ import annotations

import threading

import boto3
import pytest

from contracts import metrics as metrics_contract
from notifier import handler as notifier
from notifier.datadog import DatadogUnavailableError
from notifier.model import ObjectRef
from tests.baseline_support import TABLE, answer_with_error, atomic_requests, create_table, table_items
from tests.notifier_support import (
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    EVENTS,
    HOUR_START,
    emf_metrics,
    flow,
    gz,
    invoke,
    ndjson,
    posted,
    put,
    s3_event,
)

CHRONIC = flow("10.20.40.77", 8080, dstaddr="10.0.1.25")
SECOND_KEY = DATA_KEY.replace("18-04-59-0b1c", "18-09-59-0b1d")


@pytest.fixture(name="baseline")
def baseline_fixture(env, monkeypatch):
    """The stack's baseline environment (no learning unless a test sets it); returns a container maker."""
    create_table(boto3.client("dynamodb"))
    monkeypatch.setenv("BASELINE_TABLE", TABLE)
    monkeypatch.setenv("BASELINE_DAYS", "14")
    monkeypatch.setenv("BASELINE_LEARNING_HOURS", "0")
    monkeypatch.setenv("BASELINE_MAX_KEYS", "2000")
    env()
    return env


def accept(httpserver):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)


def post_object(aws, httpserver, clock, key, flows):
    put(aws, key, gz(ndjson(flows)))
    before = len(httpserver.log)
    invoke(s3_event(BUCKET, key), clock)
    body, = posted(httpserver)[before:]
    return body


def flags(body):
    return sorted(t for t in body["tags"] if t.split(":")[0] in {"new_internal", "new_targets", "new_sources",
                                                                 "baseline"})


def test_without_baseline_table_events_carry_no_baseline_and_touch_no_table(aws, env, httpserver, clock):
    create_table(boto3.client("dynamodb"))
    accept(httpserver)
    body = post_object(aws, httpserver, clock, DATA_KEY, [CHRONIC, flow("203.0.113.5", 22)])
    assert flags(body) == []
    assert body["alert_type"] == "warning"  # today's rule: an internal source
    assert body["title"] == "2 rejected flows from 2 sources (1 internal) · 123456789012 · 18:00 UTC"
    assert "### New" not in body["text"] and "Baseline" not in body["text"]
    assert table_items(boto3.client("dynamodb")) == {}


def test_first_sighting_leads_with_what_is_new_then_the_chronic_source_is_known(aws, baseline, httpserver,
                                                                               clock):
    accept(httpserver)
    first = post_object(aws, httpserver, clock, DATA_KEY, [CHRONIC] * 3 + [flow("203.0.113.5", 22)])
    assert first["title"].startswith("1 new internal reject · 4 rejected flows from 2 sources (1 internal)")
    assert first["alert_type"] == "warning"
    assert flags(first) == ["baseline:active", "new_internal:true", "new_sources:true", "new_targets:true"]
    text = first["text"]
    assert text.index("### New") < text.index("### Internal sources")
    assert "- **new** internal `10.20.40.77` → `10.0.1.25` `8080/tcp`: 3 flows" in text
    assert "- **new** target `eni-0a1b2c3d4e5f60718` `22/tcp`: 1 flow" in text
    assert "- `10.20.40.77`: 3 flows to port 8080 · **new**" in text

    clock.now += 3600
    later = [flow("10.20.40.77", 8080, dstaddr="10.0.1.25", start=HOUR_START + 1200)] * 2
    second = post_object(aws, httpserver, clock, SECOND_KEY, [*later, flow("203.0.113.5", 22)])
    assert second["title"] == "3 rejected flows from 2 sources (1 internal) · 123456789012 · 18:00 UTC"
    assert second["alert_type"] == "info"  # the internal source is chronic, not new
    assert flags(second) == ["baseline:active", "new_internal:false", "new_sources:false",
                             "new_targets:false"]
    assert "### New" not in second["text"]
    assert "- `10.20.40.77`: 2 flows to port 8080 · known since 2026-11-27 18:01 UTC" in second["text"]
    assert "- `8080/tcp`: 2 flows · known since 2026-11-27 18:01 UTC" in second["text"]
    assert "**Baseline:** 0 new keys of 4 checked." in second["text"]


def test_only_a_new_target_port_leads_the_title_as_such(aws, baseline, httpserver, clock):
    accept(httpserver)
    post_object(aws, httpserver, clock, DATA_KEY, [flow("203.0.113.5", 22)])
    body = post_object(aws, httpserver, clock, SECOND_KEY, [flow("203.0.113.5", 3389)])
    assert body["title"].startswith("1 new target port · 1 rejected flow from 1 source")
    assert body["alert_type"] == "info"
    assert flags(body) == ["baseline:active", "new_internal:false", "new_sources:false", "new_targets:true"]


def test_learning_says_until_when_and_reports_nothing_new(aws, baseline, httpserver, clock, monkeypatch):
    monkeypatch.setenv("BASELINE_LEARNING_HOURS", "24")
    baseline()
    accept(httpserver)
    body = post_object(aws, httpserver, clock, DATA_KEY, [CHRONIC])
    assert body["alert_type"] == "info"
    assert flags(body) == ["baseline:learning", "new_internal:false", "new_sources:false",
                           "new_targets:false"]
    assert "**Baseline:** learning until 2026-11-28 18:01 UTC" in body["text"]
    assert "- `10.20.40.77`: 1 flow to port 8080 · learning" in body["text"]
    assert body["title"] == "1 rejected flow from 1 source (1 internal) · 123456789012 · 18:00 UTC"
    # Recorded all the same: the pair and its target port, and when learning started.
    assert len(table_items(boto3.client("dynamodb"))) == 3


def test_dynamodb_throttled_posts_today_s_event_tagged_unavailable_and_counts_it(aws, baseline, httpserver,
                                                                                clock, capsys):
    accept(httpserver)
    rt = notifier.runtime()
    client = boto3.client("dynamodb")
    answer_with_error(client, "*", 400, "ProvisionedThroughputExceededException")
    rt.dynamodb_factory = lambda: client
    body = post_object(aws, httpserver, clock, DATA_KEY, [CHRONIC])
    assert flags(body) == ["baseline:unavailable"]
    assert body["alert_type"] == "warning"  # today's rule
    assert body["title"] == "1 rejected flow from 1 source (1 internal) · 123456789012 · 18:00 UTC"
    assert ("**Baseline:** unavailable (`DynamoDB BatchGetItem failed: "
            "ProvisionedThroughputExceededException`)") in body["text"]
    unavailable = [m for m in emf_metrics(capsys.readouterr().out)
                   if m["name"] == metrics_contract.BASELINE_UNAVAILABLE]
    assert [(m["value"], m["dimensions"]) for m in unavailable] == [([1.0],
                                                                     metrics_contract.notifier_dimensions())]


def test_dynamodb_access_denied_still_posts(aws, baseline, httpserver, clock):
    accept(httpserver)
    client = boto3.client("dynamodb")
    answer_with_error(client, "UpdateItem", 400, "AccessDeniedException")
    notifier.runtime().dynamodb_factory = lambda: client
    body = post_object(aws, httpserver, clock, DATA_KEY, [flow("203.0.113.5", 22)])
    assert flags(body) == ["baseline:unavailable"]
    assert "AccessDeniedException" in body["text"] and body["alert_type"] == "info"


def test_datadog_fails_after_the_baseline_was_written_then_the_retry_has_the_same_verdicts(
        aws, baseline, httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["down"]}, status=500)
    put(aws, DATA_KEY, gz(ndjson([CHRONIC])))
    event = s3_event(BUCKET, DATA_KEY)
    with pytest.raises(DatadogUnavailableError):
        invoke(event, clock)
    failed = posted(httpserver)[-1]
    assert len(table_items(boto3.client("dynamodb"))) == 2  # written before the post failed
    httpserver.clear()
    accept(httpserver)
    clock.now += 120
    baseline()  # Lambda's retry may land in a fresh container
    invoke(event, clock)
    retried = posted(httpserver)[-1]
    assert (retried["title"], retried["tags"], retried["alert_type"]) == (
        failed["title"], failed["tags"], failed["alert_type"])
    assert retried["title"].startswith("1 new internal reject")


def test_concurrent_invocations_on_shared_keys_page_once(aws, baseline, httpserver, clock, monkeypatch):
    atomic_requests(monkeypatch)
    accept(httpserver)
    keys = [DATA_KEY.replace("0b1c2d3e", f"0b1c2d{i:02d}") for i in range(4)]
    for key in keys:
        put(aws, key, gz(ndjson([CHRONIC, flow("203.0.113.5", 22)])))
    barrier = threading.Barrier(len(keys))
    outcomes = []

    def invocation(key: str) -> None:
        notifier.reset()
        rt = notifier.Runtime(settings=notifier.runtime().settings, sleep=clock.sleep, clock=clock.time)
        barrier.wait()
        outcomes.append(notifier.process_object(rt, ObjectRef(BUCKET, key), lambda: 60.0))

    threads = [threading.Thread(target=invocation, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # process_object ran outside the handler, whose decorator would have flushed the metrics it recorded:
    # left buffered, they would be published by the next test that invokes the handler.
    notifier.metrics.clear_metrics()
    assert outcomes == ["posted"] * 4
    bodies = posted(httpserver)
    assert sorted("new_internal:true" in b["tags"] for b in bodies) == [False, False, False, True]
    assert sorted("new_sources:true" in b["tags"] for b in bodies) == [False, False, False, True]
    # Each of the four keys (the pair, two target ports, the source) is new in exactly one event, though
    # not necessarily all in the same one: the objects race key by key.
    rows = [line for b in bodies for line in b["text"].splitlines() if line.startswith("- **new** ")]
    assert sorted(rows) == sorted(set(rows)) and len(rows) == 4
    assert sum(b["text"].count("- **new** internal") for b in bodies) == 1
