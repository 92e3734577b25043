"""A simulated week through the real notifier: which pages (events tagged `new_internal:true`) were news.

`bench.week_traffic` makes an object an hour; each is put into S3 and handed to `notifier/handler.py`
as an S3 notification, with the baseline on (the stack's defaults: 14 days, 24 learning hours, 2,000
keys) on moto's DynamoDB, S3 in-process, and the events posted to a loopback Datadog intake. A page is
*planted news* when its object holds the first hour of a planted internal incident; any other page is
counted and named.
"""

from __future__ import annotations

import gzip
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import orjson
from moto import mock_aws

from bench.week_traffic import HOUR_S, HourObject, Incident, incidents_within, week
from contracts import environment as env
from contracts.events import NEW_INTERNAL_KEY, flag_tag
from contracts.lambdas import NotifierResources, notifier_environment
from contracts.settings import defaults
from local.baseline import create_table
from local.datadog import DatadogIntake
from local.datadog import serve as serve_datadog
from local.lambdas import LocalFunction, function_arn
from local.pipeline import s3_event
from local.stack import patched_environ
from notifier.baseline.settings import load_baseline_settings
from notifier.baseline.step import Baseline, summarise_and_assess
from notifier.baseline.verdicts import Store
from notifier.model import EventContext, ObjectRef
from notifier.networks import InternalNetworks
from notifier.render import flow_event

BUCKET = "rejected-flows-week-archive"
TABLE = "rejected-flows-week-baseline"
REGION = "us-east-1"
API_KEY = "week0fake0key0not0real0000000000"
PAGE_TAG = flag_tag(NEW_INTERNAL_KEY, True)
# "- **new** internal `10.0.1.10` → `10.0.3.10` `22/tcp`: 3 flows" (notifier/baseline/news.py).
NEW_INTERNAL_ROW = re.compile(r"^- \*\*new\*\* internal `([^`]+)`.* → `([^`]+)` `(?:replies from )?(\d+)/")


@dataclass(frozen=True)
class Page:
    hour: int
    pairs: tuple[tuple[str, str, int], ...]  # (source, destination, port) of each new internal pair shown


@dataclass
class WeekResult:
    days: int
    objects: int = 0
    learning: int = 0  # events tagged baseline:learning
    new_targets: int = 0  # events tagged new_targets:true
    new_sources: int = 0
    today_warnings: int = 0  # events with an internal source: each a warning without a baseline
    pages: list[Page] = field(default_factory=list)
    planted: tuple[Incident, ...] = ()
    seconds: float = 0.0

    def pages_of(self, incident: Incident) -> list[Page]:
        address = _address(incident)
        return [p for p in self.pages if (incident.source, address, incident.port) in p.pairs]

    @property
    def planted_pages(self) -> list[Page]:
        firsts = {i.hour for i in self.planted if i.internal}
        return [p for p in self.pages if p.hour in firsts]

    @property
    def other_pages(self) -> list[Page]:
        return [p for p in self.pages if p not in self.planted_pages]


def _address(incident: Incident) -> str:
    from bench.week_traffic import HOSTS

    return HOSTS[incident.target_role][1]


def object_key(obj: HourObject) -> str:
    at = datetime.fromtimestamp(obj.hour_start, UTC)
    return (f"rejected/year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}/"
            f"rejected-flows-week-flows-1-{at:%Y-%m-%d-%H}-59-00-{uuid.UUID(int=obj.hour)}.gz")


def _environment() -> dict[str, str | None]:
    """The notifier's variables as the stack writes them (its defaults: a 14-day baseline, 24 learning
    hours, 2,000 keys), the key given directly and AWS pointed at moto in-process."""
    settings = defaults()
    variables = notifier_environment(settings.notifications, "week", NotifierResources[str](
        api_key_secret_arn="", athena_database="rejected_flows_week", athena_table="rejected_flows",
        athena_workgroup="rejected-flows-week", baseline_table=TABLE), settings.baseline)
    variables.pop(env.POWERTOOLS_SERVICE_NAME, None)
    return {
        **variables,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": None, "AWS_PROFILE": None,
        env.DD_API_KEY: API_KEY, env.DD_API_KEY_SECRET_ARN: None,
    }


def _events(objects: Iterator[HourObject], result: WeekResult) -> list[tuple[int, dict[str, Any]]]:
    """Each object through the notifier; (hour, posted event) in order."""
    intake = DatadogIntake(API_KEY)
    posted: list[tuple[int, dict[str, Any]]] = []
    with serve_datadog(intake) as server, mock_aws(), \
            patched_environ({**_environment(), env.DD_API_URL: server.url}):
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        create_table(boto3.client("dynamodb", region_name=REGION), TABLE)
        notifier = LocalFunction("notifier.handler", "rejected-flows-week-notifier",
                                 function_arn("rejected-flows-week-notifier", REGION, "123456789012"), 120.0)
        notifier.reset()
        for obj in objects:
            key = object_key(obj)
            body = gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in obj.records), compresslevel=6)
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            before = len(intake.events)
            notifier(s3_event(BUCKET, key, len(body), REGION))
            posted += [(obj.hour, event) for event in intake.events[before:]]
            result.objects += 1
        notifier.reset()
    return posted


def _tally(result: WeekResult, hour: int, tags: Sequence[str], text: str) -> None:
    """Count one posted event: its baseline state and flags, and the new internal pairs of a page."""
    result.today_warnings += "internal_sources:true" in tags
    result.learning += "baseline:learning" in tags
    result.new_targets += "new_targets:true" in tags
    result.new_sources += "new_sources:true" in tags
    if PAGE_TAG in tags:
        pairs = tuple((m[1], m[2], int(m[3])) for line in text.splitlines()
                      if (m := NEW_INTERNAL_ROW.match(line)))
        result.pages.append(Page(hour, pairs))


def run_week(days: int = 7, seed: int = 2026) -> WeekResult:
    """The week through `notifier/handler.py`: S3 and DynamoDB in moto, events to a loopback intake."""
    started = time.monotonic()
    result = WeekResult(days, planted=incidents_within(days))
    for hour, event in _events(week(days, seed), result):
        _tally(result, hour, event.get("tags", []), event.get("text", ""))
    result.seconds = time.monotonic() - started
    return result


def judge_week(store: Store, days: int = 7, seed: int = 2026) -> WeekResult:
    """The same week through the notifier's pure core (`summarise_and_assess`, `flow_event`) over `store`
    (the tests' in-memory store, which has DynamoDB's conditions): seconds instead of minutes."""
    started = time.monotonic()
    result = WeekResult(days, planted=incidents_within(days))
    settings = load_baseline_settings({k: v for k, v in _environment().items() if v is not None})
    assert settings is not None
    baseline = Baseline(settings, lambda: None, _store=store)  # type: ignore[arg-type]
    context = EventContext(stack="week", athena_table='"rejected_flows_week"."rejected_flows"')
    for obj in week(days, seed):
        ref = ObjectRef(BUCKET, object_key(obj))
        lines = [orjson.dumps(r) for r in obj.records]
        observed = summarise_and_assess(baseline, ref.uri, lines, InternalNetworks(), obj.hour_start)
        event = flow_event(observed.summary, ref, context, obj.hour_start + HOUR_S, observed.assessment,
                           observed.names)
        _tally(result, obj.hour, event.tags, event.text)
        result.objects += 1
    result.seconds = time.monotonic() - started
    return result


def _when(hour: int) -> str:
    from bench.week_traffic import WEEK_START

    return f"{datetime.fromtimestamp(WEEK_START + hour * 3600, UTC):%a %H:00}"


def report(result: WeekResult) -> list[str]:
    internal = [i for i in result.planted if i.internal]
    lines = [f"{result.objects} hourly objects ({result.days} days) in {result.seconds:.0f} s; "
             f"{result.learning} learning (the first 24 hours), {result.new_targets} with a new target port, "
             f"{result.new_sources} with a new internet source",
             f"pages (new_internal:true): {len(result.pages)}: {len(result.planted_pages)} planted news "
             f"(of {len(internal)} planted internal incidents), {len(result.other_pages)} not planted; "
             f"today's rule (a warning for any internal source) would have paged {result.today_warnings}"]
    for incident in internal:
        pages = result.pages_of(incident)
        shown = ", ".join(_when(p.hour) for p in pages) or "never"
        lines.append(f"  planted: {incident.name} ({_when(incident.hour)}, {incident.hours} h): "
                     f"paged {shown}")
    for page in result.other_pages:
        pairs = "; ".join(f"{s} → {d}:{p}" for s, d, p in page.pairs)
        lines.append(f"  not planted: {_when(page.hour)}: {pairs}")
    return lines


def run() -> None:
    for line in report(run_week()):
        print(line)
