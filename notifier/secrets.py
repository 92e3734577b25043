"""The Datadog API key: from Secrets Manager (once per container) or, locally, from `DD_API_KEY`.

The key is never logged and never part of an exception message.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from contracts.environment import DD_API_KEY


class ApiKeyError(RuntimeError):
    """The Datadog API key could not be obtained; the message says where it was looked for."""


def key_from_secret_string(secret: str, arn: str) -> str:
    """A secret holds the bare key or JSON `{"DD_API_KEY": "..."}` (the Datadog Forwarder's convention)."""
    text = secret.strip()
    if text.startswith("{"):
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise ApiKeyError(f"secret {arn} looks like JSON but does not parse: {error.msg}") from None
        key = document.get(DD_API_KEY) if isinstance(document, dict) else None
        if not isinstance(key, str) or not key.strip():
            raise ApiKeyError(f"secret {arn} is JSON without a non-empty string {DD_API_KEY!r} field")
        return key.strip()
    if not text:
        raise ApiKeyError(f"secret {arn} is empty")
    return text


class CachedApiKey:
    """Fetches the key on first use and keeps it for the container's life (no I/O at import).

    `fetch_secret(arn) -> SecretString` is injectable so tests replace the provider, not boto3.
    """

    def __init__(self, fetch_secret: Callable[[str], str]) -> None:
        self._fetch_secret = fetch_secret
        self._cache: dict[str, str] = {}

    def get(self, secret_arn: str | None, fallback: str | None) -> str:
        if secret_arn:
            if secret_arn not in self._cache:
                self._cache[secret_arn] = key_from_secret_string(self._fetch_secret(secret_arn), secret_arn)
            return self._cache[secret_arn]
        if fallback:
            return fallback
        raise ApiKeyError("no Datadog API key: set DD_API_KEY_SECRET_ARN or DD_API_KEY")

    def clear(self) -> None:
        self._cache.clear()
