"""The API key is in no log at any level: a whole invocation at DEBUG, every record and every output read.

The key (an obvious fake) is fetched from moto's Secrets Manager and sent to a loopback Datadog; with the
root logger at DEBUG, botocore would log the Secrets Manager answer, key included, were its logger (and
urllib3's, boto3's, the Datadog client's) not held at INFO by the handler's setup.
"""

from __future__ import annotations

import logging

import pytest

from notifier import handler as notifier
from notifier.secrets import QUIET_LEVEL, WIRE_LOGGERS, quiet_wire_loggers
from tests.notifier_support import (
    ACCEPTED,
    BUCKET,
    DATA_KEY,
    EVENTS,
    FAKE_KEY,
    gz,
    invoke,
    ndjson,
    put,
    s3_event,
    scanner_batch,
)


class Everything(logging.Handler):
    """Keeps every record that reaches the root logger, formatted with its arguments and any traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{self.format(r)} {r.__dict__!r}" for r in self.records)


@pytest.fixture(name="debug_root")
def debug_root_fixture():
    """The root logger at DEBUG (as Lambda's log level DEBUG sets it), with a handler that keeps it all."""
    root = logging.getLogger()
    level, everything = root.level, Everything()
    root.setLevel(logging.DEBUG)
    root.addHandler(everything)
    # The function's own logger at DEBUG too (POWERTOOLS_LOG_LEVEL=DEBUG).
    own = notifier.logger.log_level
    notifier.logger.setLevel(logging.DEBUG)
    yield everything
    notifier.logger.setLevel(own)
    root.removeHandler(everything)
    root.setLevel(level)
    quiet_wire_loggers()


def invocation(aws, httpserver, clock) -> None:
    httpserver.expect_request(EVENTS, method="POST", headers={"DD-API-KEY": FAKE_KEY}) \
        .respond_with_json(ACCEPTED, status=202)
    put(aws, DATA_KEY, gz(ndjson(scanner_batch())))
    assert invoke(s3_event(BUCKET, DATA_KEY), clock) == {"objects": {f"s3://{BUCKET}/{DATA_KEY}": "posted"}}
    assert len(httpserver.log) == 1  # the key was read from the secret and sent to Datadog


def test_at_debug_a_whole_invocation_logs_nothing_of_the_key(aws, env, httpserver, clock, debug_root, capfd):
    invocation(aws, httpserver, clock)

    out, err = capfd.readouterr()
    messages = {(r.name, r.getMessage()) for r in debug_root.records}
    assert (notifier.logger.name, "event posted") in messages, "the capture saw the invocation's records"
    assert FAKE_KEY not in debug_root.text()
    assert FAKE_KEY not in out and FAKE_KEY not in err


def test_without_the_setup_botocore_would_log_the_key_so_the_check_above_can_fail(aws, env, httpserver, clock,
                                                                                 debug_root, capfd):
    for name in WIRE_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)

    invocation(aws, httpserver, clock)

    capfd.readouterr()
    leaking = {r.name for r in debug_root.records if FAKE_KEY in f"{r.getMessage()} {r.__dict__!r}"}
    assert leaking and all(name.startswith("botocore") for name in leaking)


def test_the_setup_only_raises_levels_and_keeps_a_higher_one():
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    try:
        quiet_wire_loggers()

        assert logging.getLogger("urllib3").level == logging.WARNING
        assert {logging.getLogger(name).getEffectiveLevel() >= QUIET_LEVEL for name in WIRE_LOGGERS} == {True}
        assert logging.getLogger("botocore.parsers").getEffectiveLevel() == QUIET_LEVEL
    finally:
        logging.getLogger("urllib3").setLevel(QUIET_LEVEL)
