"""The thin Datadog layer: the two key-validation endpoints (read-only, no body sent).

- `GET /api/v1/validate` with `DD-API-KEY`: "Check if the API key (not the APP key) is valid. If
  invalid, a 403 is returned"; 200 answers `{"valid": true}` (Datadog API reference, Authentication,
  "Validate API key", https://docs.datadoghq.com/api/latest/authentication/, checked 2026-12).
- `GET /api/v2/validate_keys` with `DD-API-KEY` and `DD-APPLICATION-KEY`: "Check that the API key and
  application key used for the request are both valid. Returns {"status": "ok"} on success, 401 or 403
  otherwise" (Datadog API reference, Key Management, "Validate API and application keys",
  https://docs.datadoghq.com/api/latest/key-management/validate-api-and-application-keys/, checked
  2026-12).
The base URL is the notifier's: `DD_API_URL` wins, else `https://api.<datadogSite>`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from preflight.facts import KeyAnswer, UnavailableError

API_KEY_PATH = "/api/v1/validate"
KEYS_PATH = "/api/v2/validate_keys"
REFUSED = frozenset({401, 403})
TIMEOUT_SECONDS = 10


def _get(url: str, headers: dict[str, str]) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={**headers, "Accept": "application/json"}, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, OSError) as error:
        raise UnavailableError(f"GET {url} failed: {getattr(error, 'reason', error)}") from error
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def _answer(url: str, status: int, body: object, accepted: bool) -> KeyAnswer:
    if status in REFUSED:
        return KeyAnswer("invalid", status)
    if status == 200 and accepted:
        return KeyAnswer("valid", status)
    raise UnavailableError(f"GET {url} answered {status} {json.dumps(body)[:200] if body else ''}".rstrip())


def check_api_key(base_url: str, api_key: str) -> KeyAnswer:
    url = base_url.rstrip("/") + API_KEY_PATH
    status, body = _get(url, {"DD-API-KEY": api_key})
    return _answer(url, status, body, isinstance(body, dict) and body.get("valid") is True)


def check_keys(base_url: str, api_key: str, app_key: str) -> KeyAnswer:
    url = base_url.rstrip("/") + KEYS_PATH
    status, body = _get(url, {"DD-API-KEY": api_key, "DD-APPLICATION-KEY": app_key})
    return _answer(url, status, body, isinstance(body, dict) and body.get("status") == "ok")
