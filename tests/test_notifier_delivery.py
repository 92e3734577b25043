"""Delivery to Datadog against a loopback stand-in: headers, body, retries, errors; settings; the key."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters import base as powertools_parameters_base
from moto import mock_aws
from werkzeug import Response

from notifier.datadog import (
    DatadogAuthError,
    DatadogRejectedError,
    DatadogUnavailableError,
    RetryPolicy,
    _is_transient,
    events_api,
    post_event,
    retry_delay,
)
from notifier.model import EventDraft
from notifier.secrets import KEY_MAX_AGE_S, ApiKeyError, ApiKeySource, key_from_secret_string
from notifier.settings import NotifierSettingsError, api_url_for, load_settings
from tests.notifier_support import FAKE_KEY, fake_aws_credentials, notifier_context

EVENTS = "/api/v1/events"
ACCEPTED = {"status": "ok", "event": {"id": 7700000000000000001, "id_str": "7700000000000000001",
                                      "title": "t", "text": "x"}}
DRAFT = EventDraft(title="3 rejected flows from 1 source · 123456789012 · 18:00 UTC",
                   text="%%%\nbody\n%%%", alert_type="warning",
                   aggregation_key="rejected-flows:dev:2026-11-27T18", date_happened=1_795_802_459,
                   tags=("env:dev", "source:rejected-flows"))



def post(httpserver, clock, *, seconds_left=60.0, policy=None):
    context = notifier_context(clock, seconds_left)
    api = events_api(httpserver.url_for("").rstrip("/"), FAKE_KEY)
    return post_event(api, DRAFT, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
                      sleep=clock.sleep, policy=policy or RetryPolicy())


def test_post_sends_the_key_header_and_the_event_as_json(httpserver, clock):
    httpserver.expect_oneshot_request(EVENTS, method="POST", headers={"DD-API-KEY": FAKE_KEY}) \
        .respond_with_json(ACCEPTED, status=202)
    assert post(httpserver, clock) == "7700000000000000001"
    (request, _), = httpserver.log
    body = json.loads(request.data)
    assert body == {
        "title": DRAFT.title, "text": DRAFT.text, "alert_type": "warning", "priority": "normal",
        "aggregation_key": DRAFT.aggregation_key, "date_happened": DRAFT.date_happened,
        "tags": ["env:dev", "source:rejected-flows"],
    }
    assert request.headers["Content-Type"] == "application/json"


def test_rate_limited_then_accepted_waits_for_the_reset(httpserver, clock):
    httpserver.expect_ordered_request(EVENTS, method="POST").respond_with_json(
        {"errors": ["Rate limit exceeded"]}, status=429,
        headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Period": "60", "X-RateLimit-Remaining": "0",
                 "X-RateLimit-Reset": "7"})
    httpserver.expect_ordered_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    assert post(httpserver, clock) == "7700000000000000001"
    assert len(httpserver.log) == 2
    assert clock.sleeps == [7.0]


def test_server_errors_back_off_and_give_up_before_the_deadline(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(
        {"errors": ["Internal error"]}, status=500)
    start = clock.now
    policy = RetryPolicy(safety_margin_s=3.0)
    with pytest.raises(DatadogUnavailableError, match="HTTP 500: Internal error") as raised:
        post(httpserver, clock, seconds_left=20.0, policy=policy)
    assert "Lambda retries" in str(raised.value)
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]  # the next 16 s wait would pass the deadline
    assert clock.now - start <= 20.0 - policy.safety_margin_s
    assert len(httpserver.log) == 5


def test_a_rate_limit_reset_beyond_the_deadline_is_not_waited_for(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_response(
        Response("{}", status=429, headers={"X-RateLimit-Reset": "45"}, content_type="application/json"))
    with pytest.raises(DatadogUnavailableError):
        post(httpserver, clock, seconds_left=30.0)
    assert clock.sleeps == [] and len(httpserver.log) == 1


def test_forbidden_names_the_key_and_site_and_never_shows_the_key(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["Forbidden"]}, status=403)
    with pytest.raises(DatadogAuthError) as raised:
        post(httpserver, clock)
    message = str(raised.value)
    assert "API key is wrong" in message and "DD_SITE" in message
    assert FAKE_KEY not in message
    assert len(httpserver.log) == 1 and clock.sleeps == []


def test_bad_request_surfaces_datadogs_message_without_retry(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(
        {"errors": ["Event too old: date_happened must be within 18 hours"]}, status=400)
    with pytest.raises(DatadogRejectedError, match=r"\(HTTP 400\): Event too old"):
        post(httpserver, clock)
    assert len(httpserver.log) == 1


def test_connection_failures_are_retried_then_raise(clock):
    api = events_api("http://127.0.0.1:9", FAKE_KEY)  # discard port: nothing listens
    context = notifier_context(clock, 10)
    with pytest.raises(DatadogUnavailableError, match="before the invocation's time ran out"):
        post_event(api, DRAFT, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
                   sleep=clock.sleep)
    assert clock.sleeps == [1.0, 2.0]


# --- settings ---------------------------------------------------------------------------------

def test_site_selects_the_api_host():
    assert api_url_for(None, None) == "https://api.datadoghq.com"
    assert api_url_for("datadoghq.eu", None) == "https://api.datadoghq.eu"
    assert api_url_for("US5.datadoghq.com", None) == "https://api.us5.datadoghq.com"
    assert api_url_for("datadoghq.eu", "http://127.0.0.1:8126/") == "http://127.0.0.1:8126"


def test_an_unknown_site_is_a_clear_error():
    with pytest.raises(NotifierSettingsError,
                       match=r"DD_SITE='datadog.com' is not a Datadog site; use one of"):
        api_url_for("datadog.com", None)


def test_settings_from_the_environment():
    settings = load_settings({
        "DD_API_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd-AbCdEf",
        "DD_SITE": "datadoghq.eu", "DD_TAGS": "env:prod, team:netsec,,", "STACK_NAME": "prod",
        "ATHENA_DATABASE": "rejected_flows_prod", "ATHENA_TABLE": "flows", "ATHENA_WORKGROUP": "wg",
    })
    assert settings.api_url == "https://api.datadoghq.eu"
    assert settings.tags == ("env:prod", "team:netsec")
    assert settings.qualified_table == '"rejected_flows_prod"."flows"'
    assert settings.event_context().athena_workgroup == "wg"


def test_settings_without_any_key_say_what_to_set():
    with pytest.raises(NotifierSettingsError, match="DD_API_KEY_SECRET_ARN"):
        load_settings({"DD_SITE": "datadoghq.com"})


def test_the_key_never_appears_in_the_settings_repr():
    settings = load_settings({"DD_API_KEY": FAKE_KEY})
    assert FAKE_KEY not in repr(settings)


# --- the API key ------------------------------------------------------------------------------

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key-AbCdEf"


@pytest.mark.parametrize("secret", [FAKE_KEY, f"  {FAKE_KEY}\n", json.dumps({"DD_API_KEY": FAKE_KEY})],
                         ids=["plain", "padded", "json"])
def test_secret_formats(secret):
    assert key_from_secret_string(secret, ARN) == FAKE_KEY


@pytest.mark.parametrize("secret", ["", "{}", '{"api_key": "x"}', "{not json"])
def test_bad_secrets_name_the_secret_not_the_content(secret):
    with pytest.raises(ApiKeyError, match="datadog-api-key-AbCdEf"):
        key_from_secret_string(secret, ARN)


@pytest.fixture
def secrets(monkeypatch):
    """moto's Secrets Manager and a client that records every GetSecretValue it sends."""
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("secretsmanager")
        client.reads = []
        client.meta.events.register("provide-client-params.secrets-manager.GetSecretValue",
                                    lambda params, **_: client.reads.append(params["SecretId"]))
        yield client


def test_the_secret_is_read_once_then_served_from_powertools_cache(secrets):
    arn = secrets.create_secret(Name="datadog-api-key", SecretString=FAKE_KEY)["ARN"]
    source = ApiKeySource(arn, None, lambda: SecretsProvider(boto3_client=secrets))
    assert source.get() == FAKE_KEY
    assert source.get() == FAKE_KEY
    assert secrets.reads == [arn]


def test_force_fetch_reads_a_rotated_key_before_the_cache_expires(secrets):
    arn = secrets.create_secret(Name="datadog-api-key", SecretString=FAKE_KEY)["ARN"]
    source = ApiKeySource(arn, None, lambda: SecretsProvider(boto3_client=secrets))
    assert source.get() == FAKE_KEY
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"DD_API_KEY": "fake-rotated-key"}))
    assert source.get() == FAKE_KEY  # cached for KEY_MAX_AGE_S
    assert source.get(force_fetch=True) == "fake-rotated-key"
    assert secrets.reads == [arn, arn]
    assert KEY_MAX_AGE_S == 300


@pytest.mark.parametrize("stored", [FAKE_KEY.encode(), f"  {FAKE_KEY}\n".encode(),
                                    json.dumps({"DD_API_KEY": FAKE_KEY}).encode()],
                         ids=["plain", "padded", "json"])
def test_a_binary_secret_is_read_as_text_like_a_string_secret(secrets, stored):
    arn = secrets.create_secret(Name="datadog-api-key", SecretBinary=stored)["ARN"]
    assert ApiKeySource(arn, None, lambda: SecretsProvider(boto3_client=secrets)).get() == FAKE_KEY


def test_a_binary_secret_that_is_not_utf8_still_gives_a_key_for_datadog_to_refuse(secrets):
    # Not a crash inside the handler: the post's 403 then names the secret to check.
    arn = secrets.create_secret(Name="datadog-api-key", SecretBinary=b"\xffkey")["ARN"]
    assert ApiKeySource(arn, None, lambda: SecretsProvider(boto3_client=secrets)).get() == "\ufffdkey"


class PowertoolsClock:
    """Stands in for the `datetime` Powertools' cache reads its expiry from; moves only when told."""

    def __init__(self) -> None:
        self.current = datetime(2026, 11, 27, 18, 0, 0)

    def now(self) -> datetime:
        return self.current


@pytest.mark.parametrize("powertools_max_age", [None, "5", "3600"], ids=["default", "short", "long"])
def test_a_rotated_key_reaches_a_warm_container_within_the_cache_age_without_a_refusal(secrets, monkeypatch,
                                                                                       powertools_max_age):
    # Whatever Powertools' own default is set to on the function, the key's cache age is ours.
    if powertools_max_age is None:
        monkeypatch.delenv("POWERTOOLS_PARAMETERS_MAX_AGE", raising=False)
    else:
        monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", powertools_max_age)
    cache_clock = PowertoolsClock()
    monkeypatch.setattr(powertools_parameters_base, "datetime", cache_clock)
    arn = secrets.create_secret(Name="datadog-api-key", SecretString=FAKE_KEY)["ARN"]
    source = ApiKeySource(arn, None, lambda: SecretsProvider(boto3_client=secrets))
    assert source.get() == FAKE_KEY
    secrets.put_secret_value(SecretId=arn, SecretString="fake-rotated-key")

    cache_clock.current += timedelta(seconds=KEY_MAX_AGE_S - 1)
    assert source.get() == FAKE_KEY
    cache_clock.current += timedelta(seconds=2)
    assert source.get() == "fake-rotated-key"
    assert secrets.reads == [arn, arn]
    assert KEY_MAX_AGE_S == 300


def test_a_missing_secret_names_it_and_the_variable(secrets):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-AbCdEf"
    source = ApiKeySource(arn, None, lambda: SecretsProvider(boto3_client=secrets))
    with pytest.raises(ApiKeyError, match=r"secret arn:aws:.*:nope-AbCdEf \(DD_API_KEY_SECRET_ARN\)"):
        source.get()


def test_without_a_secret_the_local_key_is_used_and_no_provider_is_made():
    def no_provider():
        raise AssertionError("no secret configured: Secrets Manager must not be used")

    assert ApiKeySource(None, "local-key", no_provider).get() == "local-key"
    with pytest.raises(ApiKeyError, match="set DD_API_KEY_SECRET_ARN or DD_API_KEY"):
        ApiKeySource(None, None, no_provider).get()


# --- what Datadog's answers mean, and the time each attempt may take ---------------------------------

@pytest.mark.parametrize(("status", "transient"), [
    (0, True),  # the client's status for connection-level failures
    (401, False), (403, False), (400, False), (404, False), (413, False), (499, False),
    (408, True), (429, True), (500, True), (502, True), (599, True), (600, False),
])
def test_which_answers_are_worth_another_attempt(status, transient):
    assert _is_transient(status) is transient


def test_unauthorised_is_an_auth_error_without_retry(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["Unauthorized"]},
                                                                       status=401)
    with pytest.raises(DatadogAuthError, match=r"HTTP 401"):
        post(httpserver, clock)
    assert len(httpserver.log) == 1 and clock.sleeps == []


def test_no_attempt_is_started_inside_the_safety_margin(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    # 3.9 s left, 3 s kept back for marking and logging: 0.9 s is less than the 1 s a request needs.
    with pytest.raises(DatadogUnavailableError, match=r"no time was left .* \(3\.9 s left, 4\.0 s needed\)"):
        post(httpserver, clock, seconds_left=3.9, policy=RetryPolicy(safety_margin_s=3.0, min_request_s=1.0))
    assert httpserver.log == []


def test_each_request_may_use_only_the_time_left_before_the_margin(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json(ACCEPTED, status=202)
    context = notifier_context(clock, 4.5)
    api = events_api(httpserver.url_for("").rstrip("/"), FAKE_KEY)
    policy = RetryPolicy(safety_margin_s=3.0, min_request_s=1.0, request_timeout_s=10.0)
    post_event(api, DRAFT, remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
               sleep=clock.sleep, policy=policy)
    assert api.api_client.configuration.request_timeout == pytest.approx(1.5)
    assert len(httpserver.log) == 1
    # With time to spare, the per-request timeout is the policy's own.
    post(httpserver, clock, seconds_left=600.0)


def test_a_slow_datadog_times_out_per_request_and_is_retried(httpserver, clock):
    released = threading.Event()

    def slow(request):
        released.wait(5.0)  # answers only after the client gave up
        return Response(json.dumps(ACCEPTED), status=202, content_type="application/json")

    httpserver.expect_request(EVENTS, method="POST").respond_with_handler(slow)
    started = time.monotonic()
    try:
        with pytest.raises(DatadogUnavailableError, match=r"(?i)timeout|timed out"):
            post(httpserver, clock, policy=RetryPolicy(max_attempts=2, request_timeout_s=0.2))
        assert time.monotonic() - started < 2.0  # two attempts cut at 0.2 s each, not 5 s answers
        assert clock.sleeps == [1.0]
    finally:
        released.set()
        deadline = time.monotonic() + 5.0
        while len(httpserver.log) < 2 and time.monotonic() < deadline:  # let both late answers land here
            time.sleep(0.02)


def test_the_clients_own_retries_are_off(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["overloaded"]}, status=500)
    api = events_api(httpserver.url_for("").rstrip("/"), FAKE_KEY)
    assert api.api_client.configuration.enable_retry is False
    with pytest.raises(DatadogUnavailableError):
        post(httpserver, clock, policy=RetryPolicy(max_attempts=1))
    assert len(httpserver.log) == 1  # one attempt of ours is one request on the wire


def test_attempts_running_out_raise_even_with_time_left(httpserver, clock):
    httpserver.expect_request(EVENTS, method="POST").respond_with_json({"errors": ["unavailable"]},
                                                                       status=503)
    with pytest.raises(DatadogUnavailableError, match=r"HTTP 503: unavailable"):
        post(httpserver, clock, seconds_left=3600.0, policy=RetryPolicy(max_attempts=4))
    assert len(httpserver.log) == 4 and clock.sleeps == [1.0, 2.0, 4.0]


def test_backoff_is_capped():
    policy = RetryPolicy(base_delay_s=1.0, max_backoff_s=30.0)
    assert [retry_delay(503, None, attempt, policy) for attempt in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert retry_delay(429, {"X-RateLimit-Reset": "12"}, 1, policy) == 12.0
    assert retry_delay(429, {"X-RateLimit-Reset": "soon"}, 3, policy) == 4.0
    assert retry_delay(503, {"X-RateLimit-Reset": "12"}, 1, policy) == 1.0  # only a 429 names the reset
