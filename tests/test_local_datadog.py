"""The loopback Datadog intake: the API key is checked, bodies are recorded, ids are returned."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request

import pytest

from local.datadog import DatadogIntake, serve

pytestmark = pytest.mark.slow

EVENT = {"title": "3 rejected flows", "text": "%%%\nhello\n%%%", "alert_type": "warning", "tags": ["a:b"]}


def post(url: str, key: str, body: bytes, encoding: str | None = None) -> tuple[int, dict]:
    headers = {"DD-API-KEY": key, "Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    request = urllib.request.Request(url + "/api/v1/events", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def intake():
    app = DatadogIntake("right-key")
    with serve(app) as server:
        yield app, server.url


def test_intake_accepts_the_configured_key(intake):
    app, url = intake
    status, answer = post(url, "right-key", json.dumps(EVENT).encode())
    assert status == 202
    assert answer["status"] == "ok" and answer["event"]["id"] and answer["event"]["title"] == EVENT["title"]
    assert app.events == [EVENT]


def test_intake_refuses_a_wrong_key(intake):
    app, url = intake
    status, answer = post(url, "wrong-key", json.dumps(EVENT).encode())
    assert status == 403 and answer == {"errors": ["Forbidden"]}
    assert app.events == [] and app.refused == [403]


def test_intake_reads_compressed_bodies_and_refuses_bad_ones(intake):
    app, url = intake
    assert post(url, "right-key", gzip.compress(json.dumps(EVENT).encode()), "gzip")[0] == 202
    assert post(url, "right-key", b"{not json")[0] == 400
    assert post(url, "right-key", json.dumps({"title": "no text"}).encode())[0] == 400
    assert len(app.events) == 1
