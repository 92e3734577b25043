"""A loopback Datadog intake: the Events API v1 (`POST /api/v1/events`) that records what it accepts.

It checks `DD-API-KEY` like Datadog (403 for a wrong key), answers 202 with an event id, and keeps
every accepted body in order. The notifier reaches it through `DD_API_URL`.
"""

from __future__ import annotations

import gzip
import itertools
import threading
import zlib
from collections.abc import Callable

import orjson
from werkzeug.wrappers import Request, Response

from local.loopback import LoopbackServer

EVENTS_PATH = "/api/v1/events"
VALIDATE_PATH = "/api/v1/validate"
FIRST_EVENT_ID = 7_000_000_000_000_000_001


class DatadogIntake:
    """The WSGI app. `events` holds the accepted bodies (parsed JSON), in arrival order."""

    def __init__(self, api_key: str):
        self.api_key = api_key
        self.events: list[dict] = []
        self.refused: list[int] = []  # statuses answered to refused requests
        self._ids = itertools.count(FIRST_EVENT_ID)
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> object:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path not in (EVENTS_PATH, VALIDATE_PATH):
            return _json({"errors": ["Not found"]}, 404)
        if request.headers.get("DD-API-KEY") != self.api_key:
            self.refused.append(403)
            return _json({"errors": ["Forbidden"]}, 403)
        if request.path == VALIDATE_PATH:
            return _json({"valid": True}, 200)
        if request.method != "POST":
            return _json({"errors": ["Method not allowed"]}, 405)
        return self._post_event(request)

    def _post_event(self, request: Request) -> Response:
        """An event posted with the right key: accepted with a new id, or refused as Datadog would."""
        try:
            body = orjson.loads(_decompressed(request))
        except (orjson.JSONDecodeError, OSError, zlib.error):
            self.refused.append(400)
            return _json({"errors": ["Payload is not valid JSON"]}, 400)
        if not isinstance(body, dict) or not body.get("title") or not body.get("text"):
            self.refused.append(400)
            return _json({"errors": ["Event requires a title and a text"]}, 400)
        with self._lock:
            event_id = next(self._ids)
            self.events.append(body)
        echoed = {key: body[key] for key in ("title", "text", "tags", "date_happened", "priority",
                                             "alert_type", "source_type_name", "host") if key in body}
        event = {**echoed, "id": event_id, "id_str": str(event_id),
                 "url": f"https://app.datadoghq.com/event/event?id={event_id}"}
        return _json({"status": "ok", "event": event}, 202)


def _decompressed(request: Request) -> bytes:
    data = request.get_data()
    encoding = request.headers.get("Content-Encoding", "").lower()
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    return data


def _json(document: dict, status: int) -> Response:
    return Response(orjson.dumps(document), status=status, content_type="application/json")


def serve(intake: DatadogIntake) -> LoopbackServer:
    return LoopbackServer(intake, "loopback-datadog")
