"""The local intake's key checks and preflight's Datadog layer against it (loopback only, fake keys)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from werkzeug.wrappers import Request, Response

from local.datadog import VALIDATE_KEYS_PATH, VALIDATE_PATH, DatadogIntake, serve
from local.loopback import LoopbackServer
from preflight.datadog import check_api_key, check_keys
from preflight.facts import KeyAnswer, UnavailableError

API_KEY = "fake-api-key-for-tests-0000"
APP_KEY = "fake-app-key-for-tests-0000"


@pytest.fixture
def intake() -> Iterator[tuple[DatadogIntake, str]]:
    app = DatadogIntake(API_KEY, APP_KEY)
    with serve(app) as server:
        yield app, server.url


def get(url: str, headers: dict[str, str], method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_intake_validates_the_api_key_as_datadog_does(intake: tuple[DatadogIntake, str]) -> None:
    app, url = intake
    assert get(url + VALIDATE_PATH, {"DD-API-KEY": API_KEY}) == (200, {"valid": True})
    assert get(url + VALIDATE_PATH, {"DD-API-KEY": "fake-wrong"}) == (403, {"errors": ["Forbidden"]})
    assert app.refused == [403] and app.events == []


def test_intake_validates_both_keys(intake: tuple[DatadogIntake, str]) -> None:
    app, url = intake
    both = {"DD-API-KEY": API_KEY, "DD-APPLICATION-KEY": APP_KEY}
    assert get(url + VALIDATE_KEYS_PATH, both) == (200, {"status": "ok"})
    assert get(url + VALIDATE_KEYS_PATH, {**both, "DD-APPLICATION-KEY": "fake-wrong"})[0] == 403
    assert get(url + VALIDATE_KEYS_PATH, {"DD-API-KEY": API_KEY})[0] == 403
    assert get(url + VALIDATE_KEYS_PATH, {**both, "DD-API-KEY": "fake-wrong"})[0] == 403
    assert get(url + VALIDATE_KEYS_PATH, both, method="POST")[0] == 405
    assert app.events == []


def test_intake_without_an_application_key_refuses_every_one() -> None:
    with serve(DatadogIntake(API_KEY)) as server:
        status, _ = get(server.url + VALIDATE_KEYS_PATH, {"DD-API-KEY": API_KEY, "DD-APPLICATION-KEY": ""})
    assert status == 403


def test_preflight_key_checks_read_the_intakes_answers(intake: tuple[DatadogIntake, str]) -> None:
    _, url = intake
    assert check_api_key(url, API_KEY) == KeyAnswer("valid", 200)
    assert check_api_key(url + "/", "fake-wrong") == KeyAnswer("invalid", 403)
    assert check_keys(url, API_KEY, APP_KEY) == KeyAnswer("valid", 200)
    assert check_keys(url, API_KEY, "fake-wrong") == KeyAnswer("invalid", 403)


def test_an_answer_that_is_neither_is_unavailable_not_a_verdict() -> None:
    def broken(environ: dict, start_response: object) -> object:
        request = Request(environ)
        status = 500 if request.path == VALIDATE_PATH else 200
        return Response(b"<html>maintenance</html>", status=status)(environ, start_response)  # type: ignore[arg-type]

    with LoopbackServer(broken, "broken-datadog") as server:
        with pytest.raises(UnavailableError, match="answered 500"):
            check_api_key(server.url, API_KEY)
        with pytest.raises(UnavailableError, match="answered 200"):
            check_keys(server.url, API_KEY, APP_KEY)


def test_an_unreachable_site_is_unavailable() -> None:
    with serve(DatadogIntake(API_KEY)) as server:
        url = server.url
    with pytest.raises(UnavailableError, match="failed"):
        check_api_key(url, API_KEY)
