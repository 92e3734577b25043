"""A simulated week of one VPC (bench/week_traffic.py), judged by the notifier's core over the in-memory
store: every planted internal incident pages once, in its first hour; chronic rejects, internet scanning
and a stateless NACL's rejected replies never page; the replaced health checker is the one page that
is not planted. (`make bench` runs the same week through the handler with moto's DynamoDB.)"""

from __future__ import annotations

import pytest

from bench.week import judge_week
from bench.week_traffic import (
    AGENT_PORT,
    HEALTH_CHECKER,
    HEALTH_CHECKER_REPLACED,
    HEALTH_PORT,
    HOSTS,
    REPLACED_AT_HOUR,
    RESOLVER,
    incidents_within,
    week,
)
from tests.baseline_support import MemoryStore


@pytest.fixture(scope="module")
def judged():
    return judge_week(MemoryStore())


def test_the_week_generator_is_deterministic_and_hourly():
    first, again = list(week(days=1, seed=5)), list(week(days=1, seed=5))
    assert [o.records for o in first] == [o.records for o in again]
    assert [o.hour for o in first] == list(range(24))
    for obj in first:
        assert all(obj.hour_start <= r["start"] and r["end"] <= obj.hour_start + 3600 for r in obj.records)


def test_every_planted_internal_incident_pages_once_in_its_first_hour(judged):
    planted = [i for i in incidents_within(7) if i.internal]
    assert len(planted) == 5
    for incident in planted:
        assert [page.hour for page in judged.pages_of(incident)] == [incident.hour], incident.name
    assert len(judged.planted_pages) == len(planted)


def test_chronic_scanning_and_nacl_traffic_never_page_after_learning(judged):
    planted = {(i.source, HOSTS[i.target_role][1], i.port) for i in incidents_within(7)}
    for page in judged.pages:
        assert page.hour >= 24, "nothing pages while learning"
        for pair in page.pairs:
            source, _, port = pair
            assert pair in planted or source == HEALTH_CHECKER_REPLACED, pair
            assert source not in (HEALTH_CHECKER, RESOLVER) and port not in (AGENT_PORT, 53)
    assert judged.learning == 24 and judged.objects == 168
    # The kubelet probe from the internet is a new target port, never a page; scanners are new sources.
    assert judged.new_targets >= 1 and judged.new_sources > 100
    # Today's rule: the chronic health check makes every object a warning.
    assert judged.today_warnings == 168


def test_the_replaced_health_checker_is_the_one_page_that_is_not_planted(judged):
    (page,) = judged.other_pages
    assert page.hour == REPLACED_AT_HOUR
    assert page.pairs == ((HEALTH_CHECKER_REPLACED, HOSTS["web-2"][1], HEALTH_PORT),)
