"""The stand-ins one run needs, started together on loopback and stopped together.

The handlers keep clients and the API key for the life of their "container" (this process), so a
process that runs the pipeline several times (the tests) keeps one set of services and gives each run
its own bucket.
"""

from __future__ import annotations

import itertools
import secrets

from local.aws import LocalAws
from local.datadog import DatadogIntake
from local.datadog import serve as serve_datadog
from local.firehose_api import FirehoseApi
from local.firehose_api import serve as serve_firehose


class LocalServices:
    def __init__(self) -> None:
        # A fake key, random per process, so a notifier that ignored the configured key would be refused.
        self.api_key = "local" + secrets.token_hex(14)
        self.aws = LocalAws()
        self.firehose = FirehoseApi()
        self.datadog = DatadogIntake(self.api_key)
        self._firehose_server = serve_firehose(self.firehose)
        self._datadog_server = serve_datadog(self.datadog)
        self._runs = itertools.count(1)

    @property
    def firehose_url(self) -> str:
        return self._firehose_server.url

    @property
    def datadog_url(self) -> str:
        return self._datadog_server.url

    def next_run(self) -> int:
        return next(self._runs)

    def stop(self) -> None:
        self._firehose_server.stop()
        self._datadog_server.stop()
        self.aws.stop()

    def __enter__(self) -> LocalServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
