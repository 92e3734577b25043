"""A simulated week of one VPC (bench/baseline.py): the baseline pages the planted incidents, only them."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson

from bench.baseline import INCIDENTS, LEARNING_HOURS, START, WEEK_HOURS, week_flows
from notifier.baseline.keys import HOUR_S
from notifier.baseline.settings import BaselineSettings
from notifier.baseline.step import Baseline, summarise_and_assess
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.render import flow_event
from tests.baseline_support import MemoryStore

CTX = EventContext(stack="week", athena_table='"rejected_flows"')


def test_week_pages_exactly_the_planted_incidents_not_the_chronic_rejects_scans_or_nacl_replies():
    baseline = Baseline(BaselineSettings("t", days=14, learning_hours=LEARNING_HOURS, max_keys=2000),
                        lambda: None)
    baseline._store = MemoryStore()  # type: ignore[assignment]  # the table's model (tested against moto)
    rng = random.Random(7)
    pages, warnings_today, learning = [], 0, 0
    for hour in range(WEEK_HOURS):
        at = datetime.fromtimestamp(START + hour * HOUR_S, UTC)
        obj = ObjectRef("b", f"rejected/year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}/o-{hour}.gz")
        observed = summarise_and_assess(baseline, obj.uri, [orjson.dumps(f) for f in week_flows(hour, rng)],
                                        InternalNetworks(), at.timestamp())
        event = flow_event(observed.summary, obj, CTX, at.timestamp() + 900, observed.assessment)
        warnings_today += observed.summary.has_internal_sources
        learning += "baseline:learning" in event.tags
        if "new_internal:true" in event.tags:
            pages.append(hour)
            assert event.alert_type == "warning" and event.title.split(" ")[1:3] == ["new", "internal"]
    assert warnings_today == WEEK_HOURS  # today's rule: the chronic reject makes every object a warning
    assert learning == LEARNING_HOURS
    assert pages == sorted(INCIDENTS)
