"""The Datadog API key: from Secrets Manager through Powertools' parameters utility, or locally `DD_API_KEY`.

Powertools caches the secret for `KEY_MAX_AGE_S` (so a rotated key is picked up within minutes), and after
Datadog refuses the key (403) the caller reads it again with `force_fetch=True`. The key is never logged
and never part of an exception message: `quiet_wire_loggers` keeps the HTTP libraries' DEBUG lines (which
carry request and response bodies, the secret's value among them) out of every log, whatever the root
logger's level.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from contracts.environment import DD_API_KEY, DD_API_KEY_SECRET_ARN

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

# A rotated key reaches a warm container within this time even if Datadog never refuses the old one.
KEY_MAX_AGE_S = 300


# Loggers whose DEBUG lines carry bodies or headers: botocore logs "Response body: ..." (the Secrets Manager
# answer, key included) and the request it signed; boto3 and s3transfer log parameters; urllib3 logs
# connections; the Datadog client logs response bodies. INFO and above say nothing of bodies.
WIRE_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "datadog_api_client")
QUIET_LEVEL = logging.INFO


def quiet_wire_loggers() -> None:
    """Raise the wire loggers to INFO (a higher level set on them is kept): no body reaches a log even with
    the root logger at DEBUG (e.g. Lambda's log level DEBUG). Sets levels only: no I/O."""
    for name in WIRE_LOGGERS:
        wire = logging.getLogger(name)
        if wire.level < QUIET_LEVEL:  # NOTSET (0) or DEBUG
            wire.setLevel(QUIET_LEVEL)


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
        key = document.get(DD_API_KEY)  # text starting with "{" that parses is a JSON object
        if not isinstance(key, str) or not key.strip():
            raise ApiKeyError(f"secret {arn} is JSON without a non-empty string {DD_API_KEY!r} field")
        return key.strip()
    if not text:
        raise ApiKeyError(f"secret {arn} is empty")
    return text


def secrets_provider() -> SecretsProvider:
    """Powertools' Secrets Manager provider; its boto3 client honours AWS_ENDPOINT_URL (local stand-ins)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider()


class ApiKeySource:
    """Where this container reads the key: the secret named by `DD_API_KEY_SECRET_ARN`, else `DD_API_KEY`.

    The provider is created on first use (no I/O at import); tests pass a provider of their own.
    """

    def __init__(self, secret_arn: str | None, fallback: str | None,
                 provider_factory: Callable[[], SecretsProvider] = secrets_provider) -> None:
        self.secret_arn = secret_arn
        self._fallback = fallback
        self._provider_factory = provider_factory
        self._provider: SecretsProvider | None = None

    def get(self, *, force_fetch: bool = False) -> str:
        """The key; `force_fetch` bypasses the cache (after Datadog refused the cached key)."""
        if self.secret_arn:
            from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

            if self._provider is None:
                self._provider = self._provider_factory()
            try:
                value = self._provider.get(self.secret_arn, max_age=KEY_MAX_AGE_S, force_fetch=force_fetch)
            except GetParameterError as error:
                raise ApiKeyError(
                    f"could not read the Datadog API key from secret {self.secret_arn} "
                    f"({DD_API_KEY_SECRET_ARN}): {error}"
                ) from None
            if isinstance(value, bytes):  # a SecretBinary
                value = value.decode("utf-8", errors="replace")
            if not isinstance(value, str):
                raise ApiKeyError(f"secret {self.secret_arn} holds no text")
            return key_from_secret_string(value, self.secret_arn)
        if self._fallback:
            return self._fallback
        raise ApiKeyError(f"no Datadog API key: set {DD_API_KEY_SECRET_ARN} or {DD_API_KEY}")
