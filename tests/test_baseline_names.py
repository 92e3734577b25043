"""Names for what was hit (VPC Flow Logs v11 tag fields), escaped: hostile tag values inject nothing."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.baseline.settings import BaselineOptions
from notifier.baseline.step import Baseline, summarise_and_assess
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.render import flow_event
from tests.baseline_support import MemoryStore
from tests.notifier_support import DATA_KEY, HOUR_START, flow, ndjson

OBJ = ObjectRef("rejected-flows-archive-test", DATA_KEY)
CTX = EventContext(stack="test", athena_table='"db"."rejected_flows"')
NOW = HOUR_START + 600.0
HOSTILE = [
    "web-prod-1`](https://evil.example/) @pagerduty-oncall",
    "<img src=x onerror=alert(1)> **bold** [link](http://x)",
    "%%%\n@here\u202egpj.exe",
    "``` code fence\nnew line @team",
]


def event_for(flows, baseline=True):
    store = MemoryStore()
    assessor = Baseline(BaselineOptions("t", days=14, learning_hours=0, max_keys=2000), lambda: None)
    assessor._store = store  # type: ignore[assignment]  # the memory model of the table
    observed = summarise_and_assess(assessor if baseline else None, OBJ.uri, ndjson(flows).splitlines(),
                                    InternalNetworks(), HOUR_START)
    return flow_event(observed.summary, OBJ, CTX, NOW, observed.assessment, observed.names)


def test_names_targets_and_internal_sources_from_v11_tag_fields():
    flows = [flow("10.20.40.77", 8080, interface_id="eni-0a1b2c3d4e5f60718", interface_tag="web-prod-1"),
             flow("10.9.9.9", 5432, interface_id="eni-0ffeeddccbbaa9988", instance_tag="batch-7",
                  flow_direction="egress")]
    text = event_for(flows).text
    assert "- `eni-0a1b2c3d4e5f60718` (`web-prod-1`): 1 flow" in text
    assert "- **new** target `eni-0a1b2c3d4e5f60718` (`web-prod-1`) `8080/tcp`: 1 flow" in text
    # Recorded leaving the source: the tag names the source too.
    assert "- `10.9.9.9` (`batch-7`): 1 flow to port 5432" in text
    assert "- **new** internal `10.9.9.9` (`batch-7`) → `10.0.1.25` `5432/tcp`: 1 flow" in text
    # Recorded arriving (no direction): the tag names the interface, not the source.
    assert "`10.20.40.77` (" not in text


def test_names_shown_without_a_baseline_too():
    flows = [flow("203.0.113.9", 22, interface_id="eni-0a1b2c3d4e5f60718", interface_tag="web-prod-1")]
    event = event_for(flows, baseline=False)
    assert "- `eni-0a1b2c3d4e5f60718` (`web-prod-1`): 1 flow" in event.text
    assert "### New" not in event.text


def _outside_code(text: str) -> str:
    """The event text with its code spans removed: what Datadog would read as markdown."""
    body = text.removeprefix("%%%\n").removesuffix("\n%%%")
    return re.sub(r"(`+)(?:(?!\1).)*?\1", "", body, flags=re.S)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=80)))
def test_names_hostile_tag_values_inject_no_markup_link_or_mention(name):
    flows = [flow("10.9.9.9", 5432, interface_id="eni-0a1b2c3d4e5f60718", interface_tag=name,
                  flow_direction="egress")]
    event = event_for(flows)
    text = event.text
    assert text.startswith("%%%\n") and text.endswith("\n%%%") and text.count("%%%") == 2
    assert "@" not in text and "\u202e" not in text
    outside = _outside_code(text)
    assert "](" not in outside and "<img" not in outside and "http://x" not in outside
    # Every line is still one of the event's own rows: a name cannot start a line of its own.
    assert all(line == "" or line.startswith(("- ", "#", "**", "```", "SELECT", "FROM", "WHERE", "GROUP",
                                              "ORDER", "LIMIT", " ", "_"))
               for line in text.removeprefix("%%%\n").removesuffix("\n%%%").splitlines())
