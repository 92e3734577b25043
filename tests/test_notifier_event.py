"""The event step: one basis per object, read by the title, the text, the tags and the aggregation key."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.events import notification_tag
from notifier.baseline.step import summarise_and_assess
from notifier.draft import flow_basis
from notifier.errorbatch import summarise_errors
from notifier.event import draft_event, draft_unreadable
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.reading import ErrorReading, FlowReading
from notifier.render import flow_event
from notifier.render_errors import error_event, unreadable_event
from tests.notifier_support import DATA_KEY, ERROR_KEY, HOUR_START, error_line, flow, ndjson, scanner_batch

CTX = EventContext(stack="dev", athena_table='"rejected_flows_dev"."rejected_flows"', tags=("env:dev",))
NOW = HOUR_START + 600


def _flows(obj: ObjectRef, records: list[dict]) -> FlowReading:
    lines = ndjson(records).splitlines(keepends=True)
    return FlowReading(obj, summarise_and_assess(None, obj.uri, lines, InternalNetworks(), HOUR_START))


def test_event_step_is_the_renderer_on_one_basis_with_the_notification_tag():
    obj = ObjectRef("archive", DATA_KEY)
    reading = _flows(obj, scanner_batch())
    expected = flow_event(reading.observed.summary, obj, CTX, NOW, None, reading.observed.names)
    tagged = replace(expected, tags=(*expected.tags, notification_tag(obj.uri)))
    assert draft_event(reading, CTX, NOW) == tagged


def test_event_step_drafts_errors_and_unreadable_objects_as_their_renderers_do():
    obj = ObjectRef("archive", ERROR_KEY)
    errors = summarise_errors([error_line() + b"\n"])
    tag = notification_tag(obj.uri)
    expected = error_event(errors, obj, CTX, NOW)
    assert draft_event(ErrorReading(obj, errors), CTX, NOW) == replace(expected, tags=(*expected.tags, tag))
    unreadable = unreadable_event(obj, "not gzip", CTX, NOW)
    assert draft_unreadable(obj, "not gzip", CTX, NOW) == replace(unreadable, tags=(*unreadable.tags, tag))


def test_event_step_posts_nothing_for_an_object_without_lines():
    obj = ObjectRef("archive", DATA_KEY)
    assert draft_event(_flows(obj, []), CTX, NOW) is None
    assert draft_event(ErrorReading(ObjectRef("archive", ERROR_KEY), summarise_errors([])), CTX, NOW) is None


@given(st.integers(min_value=-48, max_value=0))
def test_one_hour_names_the_title_the_query_and_the_aggregation_key(hours_back):
    """A key without a partition: the flows' hour, derived once, is the hour everywhere."""
    obj = ObjectRef("archive", "rejected/by-hand/flows.gz")
    reading = _flows(obj, [flow(start=HOUR_START + hours_back * 3600 + 90)])
    event = draft_event(reading, CTX, NOW)
    assert event is not None
    hour = flow_basis(obj, reading.observed.summary, CTX, NOW).hour
    assert event.title.endswith(f"· {hour:%H}:00 UTC")
    assert event.aggregation_key == f"rejected-flows:dev:{hour:%Y-%m-%dT%H}"
    assert (f"WHERE year = {hour.year} AND month = {hour.month} AND day = {hour.day} AND hour = {hour.hour} "
            in event.text)


@pytest.mark.parametrize("key", [DATA_KEY, "rejected/by-hand/flows.gz"])
def test_the_date_is_the_flows_last_end_within_datadogs_window(key):
    obj = ObjectRef("archive", key)
    reading = _flows(obj, [flow(start=HOUR_START + 60), flow(start=HOUR_START + 300)])
    event = draft_event(reading, CTX, NOW)
    assert event is not None and event.date_happened == HOUR_START + 300 + 59
