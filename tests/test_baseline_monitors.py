"""The stack's monitors select exactly the events the notifier really posts with a baseline."""

from __future__ import annotations

import orjson

from infra.monitors import internal_rejections, new_internal_rejections, new_target_rejections
from notifier.baseline.settings import BaselineOptions
from notifier.baseline.step import Baseline, summarise_and_assess
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.render import flow_event
from tests.baseline_support import MemoryStore
from tests.notifier_support import DATA_KEY, HOUR_START, flow
from tests.test_stack_monitors import matches

CTX = EventContext(stack="prod", athena_table='"rejected_flows"', tags=("env:prod",))
CHRONIC = flow("10.20.40.77", 8080)


def posted_tags(baseline: Baseline, flows: list[dict], name: str) -> tuple[str, ...]:
    obj = ObjectRef("archive", DATA_KEY.replace(".gz", f"-{name}.gz"))
    observed = summarise_and_assess(baseline, obj.uri, [orjson.dumps(f) for f in flows], InternalNetworks(),
                                    HOUR_START)
    return flow_event(observed.summary, obj, CTX, HOUR_START + 600, observed.assessment).tags


def test_monitors_page_on_the_new_internal_pair_and_not_on_the_chronic_one():
    baseline = Baseline(BaselineOptions("t", days=14, learning_hours=0, max_keys=2000), lambda: None)
    baseline._store = MemoryStore()  # type: ignore[assignment]  # the table's model (tested against moto)
    first = posted_tags(baseline, [CHRONIC], "first")
    chronic = posted_tags(baseline, [CHRONIC], "chronic")
    new_port = posted_tags(baseline, [CHRONIC, flow("203.0.113.9", 3389)], "port")
    incident = posted_tags(baseline, [CHRONIC, flow("10.20.1.10", 5432)], "incident")
    new_monitor, targets, any_monitor = (new_internal_rejections("prod"), new_target_rejections("prod"),
                                         internal_rejections("prod"))
    events = (first, chronic, new_port, incident)
    assert [matches(new_monitor, t) for t in events] == [True, False, False, True]
    assert [matches(targets, t) for t in events] == [True, False, True, True]
    # `alertOnInternal: any` keeps today's behaviour: every object with an internal source.
    assert all(matches(any_monitor, t) for t in events)


def test_monitors_never_page_from_an_unavailable_baseline():
    class Down:
        def get(self, pks):
            from notifier.baseline.dynamo import BaselineUnavailableError
            raise BaselineUnavailableError("DynamoDB BatchGetItem failed: ThrottlingException")

    baseline = Baseline(BaselineOptions("t", days=14, learning_hours=0, max_keys=2000), lambda: None)
    baseline._store = Down()  # type: ignore[assignment]
    tags = posted_tags(baseline, [CHRONIC], "down")
    assert "baseline:unavailable" in tags
    assert not matches(new_internal_rejections("prod"), tags)
    assert matches(internal_rejections("prod"), tags)
