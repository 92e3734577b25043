"""The fixtures tests share, and the test run's settings: the hypothesis profiles.

pytest finds the fixtures here by name (no import): `aws`, `clock` and `env` for the notifier end to
end, `default_config` for the transform with no format or action set. The builders the tests call stay
in the `tests/*_support.py` modules, imported as usual.

Hypothesis: the `quick` profile is the loop's (`make unit`); `thorough`, with ten times as many examples,
is CI's, chosen when `CI=true` (as CI sets it). `HYPOTHESIS_PROFILE=<name>` picks one by name. A test
that needs other settings (a health check suppressed, say) sets only those with `@settings(...)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3
import pytest
from hypothesis import settings
from moto import mock_aws

from notifier import handler as notifier
from tests.notifier_support import (
    BUCKET,
    FakeClock,
    fake_aws_credentials,
    fresh_container,
    notifier_environment,
)

# deadline=None: a property test's examples run on a machine shared with other work; their time is not
# what they check.
settings.register_profile("quick", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None, print_blob=True)


def hypothesis_profile(environ: Mapping[str, str]) -> str:
    """The profile a run takes: HYPOTHESIS_PROFILE if set, else `thorough` on CI (CI=true), else `quick`."""
    return environ.get("HYPOTHESIS_PROFILE") or ("thorough" if environ.get("CI") == "true" else "quick")


settings.load_profile(hypothesis_profile(os.environ))


@pytest.fixture
def default_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The transform as deployed with no `flowLogFormat` or `keepActions`: whatever the shell has set."""
    monkeypatch.delenv("FLOW_LOG_FORMAT", raising=False)
    monkeypatch.delenv("KEEP_ACTIONS", raising=False)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's S3 and Secrets Manager in-process, with the archive bucket; yields an S3 client."""
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield s3


@pytest.fixture
def clock() -> FakeClock:
    """Time that only moves when the code sleeps."""
    return FakeClock()


@pytest.fixture
def env(aws: Any, httpserver: Any, monkeypatch: pytest.MonkeyPatch,
        clock: FakeClock) -> Iterator[Callable[..., notifier.Runtime]]:
    """The stack's environment for the notifier, Datadog at the loopback `httpserver`; yields a hook that
    starts a fresh container (`env(max_attempts=2)` with a retry policy of its own)."""
    for name, value in notifier_environment(httpserver.url_for("/").rstrip("/")).items():
        monkeypatch.setenv(name, value)
    for name in ("DD_API_KEY", "DD_SITE", "INTERNAL_CIDRS"):
        monkeypatch.delenv(name, raising=False)

    def new_container(**policy: Any) -> notifier.Runtime:
        return fresh_container(clock, **policy)

    new_container()
    yield new_container
    notifier.reset()
