"""Datadog as code: monitors and dashboard only with a datadogAppKey, on the configured site, selecting
exactly the events the notifier posts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from datadog_api_client.configuration import Configuration
from datadog_api_client.model_utils import ModelComposed, ModelNormal, validate_and_convert_types
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from pulumi.runtime.config import set_all_config

from contracts.events import (
    KIND_ERRORS,
    KIND_REJECTED,
    NEW_INTERNAL_KEY,
    NEW_SOURCES_KEY,
    NEW_TARGETS_KEY,
    SOURCE_TAG,
    flag_tag,
    internal_sources_tag,
    stack_tag,
)
from infra.config import PlainSecretError, optional_secret
from infra.monitors import (
    api_url,
    dashboard_definition,
    event_alert_query,
    event_search,
    internal_rejections,
    new_internal_rejections,
    new_target_rejections,
    processing_errors,
    rejections,
    stack_events,
)
from notifier.errorbatch import summarise_errors
from notifier.render import EventContext, ObjectRef, flow_event
from notifier.render_errors import error_event
from notifier.summary import summarise_flows
from tests.notifier_support import DATA_KEY, ERROR_KEY, HOUR_START, error_line, flow, ndjson
from tests.pulumi_adapter import resolved
from tests.stack_support import FAKE_API_KEY, FAKE_APP_KEY, Run, components_program, run_program

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

MONITOR = "datadog:index/monitor:Monitor"
DASHBOARD = "datadog:index/dashboardJson:DashboardJson"
PROVIDER = "pulumi:providers:datadog"

# --- a model of the search the monitors use: `tags:(t1 t2 ...)`, every tag present (AND) ----------


def matches(search: str, event_tags: tuple[str, ...] | list[str]) -> bool:
    """Datadog's `tags:(...)` search: every term is one of the event's tags, compared in lower case."""
    found = re.fullmatch(r"tags:\(([^()\"]+)\)", search)
    assert found, f"not a tags:(...) search: {search}"
    terms = found.group(1).split()
    return all(term in {tag.lower() for tag in event_tags} for term in terms)


CTX = EventContext(stack="prod", athena_table='"rejected_flows_prod"."rejected_flows"',
                   athena_workgroup="rejected-flows-prod", tags=("env:prod", "team:netsec"))
NOW = HOUR_START + 600


def posted_flow_tags(srcaddr: str, stack_ctx: EventContext = CTX) -> tuple[str, ...]:
    summary = summarise_flows(ndjson([flow(srcaddr=srcaddr), flow(srcaddr=srcaddr, dstport=3389)])
                              .splitlines(keepends=True))
    return flow_event(summary, ObjectRef("archive", DATA_KEY), stack_ctx, NOW).tags


def posted_error_tags() -> tuple[str, ...]:
    return error_event(summarise_errors([error_line()]), ObjectRef("archive", ERROR_KEY), CTX, NOW).tags


@pytest.mark.parametrize("srcaddr", ["10.0.3.7", "203.0.113.7", "fd00::5", "2001:db8::7"])
def test_rejection_monitors_select_the_notifiers_flow_events(srcaddr: str) -> None:
    tags = posted_flow_tags(srcaddr)
    assert matches(rejections("prod"), tags)
    assert matches(stack_events("prod"), tags)
    assert not matches(processing_errors("prod"), tags)
    # The internal-sources monitor fires exactly on events the notifier tags internal_sources:true.
    assert matches(internal_rejections("prod"), tags) == (internal_sources_tag(True) in tags)


def test_errors_monitor_selects_the_notifiers_error_events_only() -> None:
    tags = posted_error_tags()
    assert matches(processing_errors("prod"), tags)
    assert matches(stack_events("prod"), tags)
    assert not matches(rejections("prod"), tags)
    assert not matches(internal_rejections("prod"), tags)


def test_monitors_of_one_stack_never_select_another_stacks_events() -> None:
    other = EventContext(stack="dev", athena_table='"db"."t"', tags=("env:dev",))
    tags = posted_flow_tags("10.0.3.7", other)
    for search in (rejections("prod"), processing_errors("prod"), internal_rejections("prod"),
                   stack_events("prod")):
        assert not matches(search, tags)


def test_internal_monitor_selects_the_contract_tags_of_an_internal_rejection() -> None:
    internal = [SOURCE_TAG, stack_tag("Prod.EU"), KIND_REJECTED, internal_sources_tag(True), "env:prod"]
    external = [SOURCE_TAG, stack_tag("Prod.EU"), KIND_REJECTED, internal_sources_tag(False)]
    errors = [SOURCE_TAG, stack_tag("Prod.EU"), KIND_ERRORS]
    assert internal_rejections("Prod.EU") == (
        "tags:(source:rejected-flows stack:prod.eu kind:rejected-flows internal_sources:true)")
    assert matches(internal_rejections("Prod.EU"), internal)
    assert not matches(internal_rejections("Prod.EU"), external)
    assert not matches(internal_rejections("Prod.EU"), errors)
    assert matches(processing_errors("Prod.EU"), errors)
    assert not matches(processing_errors("Prod.EU"), internal)


def test_event_alert_query_has_datadogs_event_v2_shape() -> None:
    assert event_alert_query(event_search(SOURCE_TAG, KIND_ERRORS), "1h") == (
        'events("tags:(source:rejected-flows kind:processing-errors)").rollup("count").last("1h") > 0')
    assert event_alert_query("tags:(a:b)", "1h", 40).endswith('.last("1h") > 40')
    with pytest.raises(ValueError, match="double quote"):
        event_alert_query('tags:("a")', "1h")


def as_model(body: dict[str, Any], model: type) -> Any:
    """A request body read into datadog-api-client's model of it (Datadog's published API schema)."""
    return validate_and_convert_types(body, (model,), ["body"], True, True, Configuration())


def _unparsed(model: Any, path: str = "") -> list[str]:
    """The innermost parts of a datadog_api_client model that did not match Datadog's schema (the client
    keeps them raw and flags them, and their parents, as unparsed)."""
    if isinstance(model, list):
        return [p for i, item in enumerate(model) for p in _unparsed(item, f"{path}[{i}]")]
    if not isinstance(model, ModelNormal | ModelComposed):
        return []
    if isinstance(model, ModelComposed) and model.get_oneof_instance() is not None:
        inner = _unparsed(model.get_oneof_instance(), path)
    else:
        inner = [p for key, value in model._data_store.items() for p in _unparsed(value, f"{path}.{key}")]
    return inner or ([path or "/"] if getattr(model, "_unparsed", False) else [])


def test_dashboard_is_a_valid_datadog_dashboard_of_the_stacks_events() -> None:
    definition = dashboard_definition("prod")
    assert _unparsed(as_model(definition, Dashboard)) == []
    kinds = [widget["definition"]["type"] for widget in definition["widgets"]]
    assert kinds == ["query_value", "query_value", "query_value", "query_value", "timeseries", "list_stream"]
    stream = definition["widgets"][-1]["definition"]["requests"][0]["query"]
    assert stream == {"data_source": "event_stream", "query_string": stack_events("prod"), "event_size": "l"}
    [counts] = definition["widgets"][4]["definition"]["requests"]
    counted = [query["search"]["query"] for query in counts["queries"]]
    assert counted == [internal_rejections("prod"), new_internal_rejections("prod"), rejections("prod"),
                       processing_errors("prod")]


def test_dashboard_sends_the_fields_the_api_returns_so_it_settles() -> None:
    """DashboardJson diffs on every plan when the JSON omits what the API returns (provider PR #2951)."""
    definition = dashboard_definition("prod")
    assert definition["notify_list"] == [] and definition["template_variables"] == []
    assert definition["reflow_type"] == "auto" and definition["layout_type"] == "ordered"
    parsed = as_model(definition, Dashboard)
    assert parsed.notify_list == [] and parsed.template_variables == []


def test_an_invalid_widget_is_caught_by_the_schema_check() -> None:
    request = {"response_format": "event_list", "columns": [],
               "query": {"data_source": "no-such-source", "query_string": ""}}
    broken = {"title": "t", "layout_type": "ordered",
              "widgets": [{"definition": {"type": "list_stream", "requests": [request]}}]}
    assert _unparsed(as_model(broken, Dashboard)) == [".widgets[0].definition"]


# --- under Pulumi's mocks ------------------------------------------------------------------------

_RUNS: dict[str, Run] = {}
CONFIGS: dict[str, dict[str, Any]] = {
    "no-app-key": {"datadogMonitorThreshold": 40},
    "empty-app-key": {"datadogAppKey": ""},
    "eu": {"datadogAppKey": FAKE_APP_KEY, "datadogSite": "datadoghq.eu", "datadogMonitorThreshold": 40,
           "datadogTags": ["env:prod", "Team:NetSec"], "resourceTags": ["cost-center=1234"]},
    "no-volume": {"datadogAppKey": FAKE_APP_KEY},
    "notify": {"datadogAppKey": FAKE_APP_KEY, "datadogMonitorThreshold": 40, "alertOnNewTargets": True,
               "datadogNotify": ["@slack-netsec", "@pagerduty-oncall", "@oncall@example.com"]},
    "any": {"datadogAppKey": FAKE_APP_KEY, "alertOnInternal": "any"},
    "no-baseline": {"datadogAppKey": FAKE_APP_KEY, "baselineDays": 0},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    packages: Path = tmp_path_factory.mktemp("packages")

    def run(name: str) -> Run:
        if name not in _RUNS:
            _RUNS[name] = run_program(components_program(packages), CONFIGS[name])
        return _RUNS[name]

    return run


@pytest.mark.parametrize("config", ["no-app-key", "empty-app-key"])
def test_without_an_app_key_nothing_is_created_in_datadog(runs, config: str) -> None:
    run = runs(config)
    assert [r.type for r in run.resources if r.type.startswith(("datadog:", PROVIDER))] == []
    assert "datadogMonitorIds" not in run.exports and "datadogDashboardUrl" not in run.exports


def test_with_an_app_key_the_provider_targets_the_configured_site(runs) -> None:
    run = runs("eu")
    provider = run.one(PROVIDER)
    assert provider.inputs["apiUrl"] == "https://api.datadoghq.eu/" == api_url("datadoghq.eu")
    for resource in run.of_type(MONITOR) + run.of_type(DASHBOARD):
        assert resource.provider.startswith(provider.urn + "::")


def test_monitors_query_the_stacks_events_with_a_useful_message_and_the_stacks_tags(runs) -> None:
    run = runs("eu")
    monitors = {m.inputs["name"]: m.inputs for m in run.of_type(MONITOR)}
    queries = {name: inputs["query"] for name, inputs in monitors.items()}
    assert queries == {
        "[rejected-flows test] New internal traffic is being rejected":
            event_alert_query(new_internal_rejections("test"), "15m"),
        "[rejected-flows test] Flow-log records could not be archived":
            event_alert_query(processing_errors("test"), "1h"),
        "[rejected-flows test] More than 40 rejected-flow events in an hour":
            event_alert_query(rejections("test"), "1h", 40),
    }
    bucket = run.one("aws:s3/bucket:Bucket").outputs["bucket"]
    for inputs in monitors.values():
        assert inputs["type"] == "event-v2 alert"
        assert inputs["tags"] == ["cost-center:1234", "env:prod", "source:rejected-flows", "stack:test",
                                  "team:netsec"]
        assert "What to do" in inputs["message"]
    internal, errors, volume = (run.one(MONITOR, f"monitors-{key}").inputs["message"]
                                for key in ("internal", "errors", "volume"))
    assert "FROM rejected_flows_test.rejected_flows" in internal
    assert "workgroup `rejected-flows-test`" in internal
    assert f"s3://{bucket}/errors/" in errors
    assert f"python -m replay --bucket {bucket} --stream rejected-flows-test-flows" in errors
    assert "more than 40" in volume and "FROM rejected_flows_test.rejected_flows" in volume


@pytest.mark.parametrize("config", ["any", "no-baseline"])
def test_internal_monitor_on_any_internal_source_keeps_todays_query(runs, config: str) -> None:
    internal = runs(config).one(MONITOR, "monitors-internal").inputs
    assert internal["name"] == "[rejected-flows test] Traffic from internal sources is being rejected"
    assert internal["query"] == event_alert_query(internal_rejections("test"), "15m")


def test_new_target_monitor_only_when_asked(runs) -> None:
    assert not [m for m in runs("eu").of_type(MONITOR) if m.name == "monitors-new-targets"]
    monitor = runs("notify").one(MONITOR, "monitors-new-targets").inputs
    assert monitor["query"] == event_alert_query(new_target_rejections("test"), "15m")
    assert monitor["type"] == "event-v2 alert" and "What to do" in monitor["message"]


def test_every_monitor_message_ends_with_the_notify_handles(runs) -> None:
    monitors = runs("notify").of_type(MONITOR)
    assert sorted(m.name for m in monitors) == [f"monitors-{key}" for key in
                                                ("errors", "internal", "new-targets", "volume")]
    for monitor in monitors:
        assert monitor.inputs["message"].endswith(
            "\n\nNotify: @slack-netsec @pagerduty-oncall @oncall@example.com"), monitor.name


def test_without_handles_the_messages_name_nobody(runs) -> None:
    for monitor in runs("eu").of_type(MONITOR):
        assert "Notify:" not in monitor.inputs["message"]
        assert not re.search(r"(^|\s)@\S", monitor.inputs["message"]), monitor.name


def baseline_event_tags(*, new_internal: bool, new_targets: bool, internal: bool = True) -> list[str]:
    """The tags of a rejected-flow event with a baseline, as contracts/events.py names them."""
    return [SOURCE_TAG, stack_tag("prod"), KIND_REJECTED, internal_sources_tag(internal),
            flag_tag(NEW_INTERNAL_KEY, new_internal), flag_tag(NEW_TARGETS_KEY, new_targets),
            flag_tag(NEW_SOURCES_KEY, False), "baseline:active"]


@pytest.mark.parametrize(("new_internal", "new_targets"), [(True, False), (False, True), (False, False),
                                                           (True, True)])
def test_new_monitors_select_exactly_the_events_with_news(new_internal: bool, new_targets: bool) -> None:
    tags = baseline_event_tags(new_internal=new_internal, new_targets=new_targets)
    assert matches(new_internal_rejections("prod"), tags) == new_internal
    assert matches(new_target_rejections("prod"), tags) == new_targets
    # The chronic internal source (known) still matches the `any` monitor, never the `new` one.
    assert matches(internal_rejections("prod"), tags)
    unavailable = [t for t in tags if not t.startswith("new_")]
    assert not matches(new_internal_rejections("prod"), unavailable)


def test_volume_monitor_only_with_a_threshold(runs) -> None:
    names = [m.inputs["name"] for m in runs("no-volume").of_type(MONITOR)]
    assert len(names) == 2 and not any("rejected-flow events in an hour" in name for name in names)


def test_dashboard_and_monitor_ids_are_exported_and_no_key_is(runs) -> None:
    run = runs("eu")
    dashboard = run.one(DASHBOARD)
    assert json.loads(dashboard.inputs["dashboard"]) == dashboard_definition("test")
    assert run.exports["datadogDashboardUrl"] == dashboard.outputs["url"]
    ids = run.exports["datadogMonitorIds"]
    assert set(ids) == {"internal", "errors", "volume"}
    assert all(value.isdigit() for value in ids.values()) and len(set(ids.values())) == 3
    exported = json.dumps(run.exports, default=str)
    assert FAKE_APP_KEY not in exported and FAKE_API_KEY not in exported


def test_monitor_bodies_are_valid_datadog_monitors(runs) -> None:
    for monitor in runs("eu").of_type(MONITOR) + runs("notify").of_type(MONITOR):
        body = {key: monitor.inputs[key] for key in ("name", "type", "query", "message", "tags")}
        parsed = as_model(body, Monitor)
        assert str(parsed.type) == "event-v2 alert" and _unparsed(parsed) == []


@pytest.mark.parametrize(("values", "secret_keys", "expected"), [
    ({}, [], None),
    ({"rejected-flows:datadogAppKey": ""}, [], None),
    ({"rejected-flows:datadogAppKey": FAKE_APP_KEY}, ["rejected-flows:datadogAppKey"], FAKE_APP_KEY),
])
def test_the_app_key_is_optional_and_always_a_secret(values, secret_keys, expected) -> None:
    set_all_config(values, secret_keys)
    try:
        secret = optional_secret(pulumi.Config("rejected-flows"), "datadogAppKey")
        if expected is None:
            assert secret is None
        else:
            assert resolved(secret) == (expected, True)
    finally:
        set_all_config({}, [])


def test_an_app_key_in_plain_text_is_refused_with_the_command_to_fix_it() -> None:
    set_all_config({"rejected-flows:datadogAppKey": FAKE_APP_KEY}, [])
    try:
        with pytest.raises(PlainSecretError, match="pulumi config set --secret datadogAppKey"):
            optional_secret(pulumi.Config("rejected-flows"), "datadogAppKey")
    finally:
        set_all_config({}, [])
