"""Running the real handlers in-process, as Lambda would: a context object and captured stdout.

Powertools writes its JSON logs and EMF metrics to stdout; during a run they go to the run's
`lambda.log` instead of the demo's terminal. The logger binds to the stream that is `sys.stdout` when
the handler module is imported, so that stream is a long-lived forwarder, not the file itself.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any


class _Forwarder:
    """A stdout stand-in whose target changes per run; with no target, output is discarded."""

    def __init__(self) -> None:
        self.target: IO[str] | None = None

    def write(self, text: str) -> int:
        if self.target is not None:
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()

    def isatty(self) -> bool:
        return False


LAMBDA_STDOUT = _Forwarder()


@contextlib.contextmanager
def lambda_log(path: str) -> Iterator[None]:
    """Send the handlers' stdout to `path` for the duration of a run."""
    with open(path, "a", encoding="utf-8") as log:
        LAMBDA_STDOUT.target = log
        try:
            yield
        finally:
            LAMBDA_STDOUT.target = None


class _Records(logging.Handler):
    """Keeps the records a logger emits, with the fields the handler passed as `extra`."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({**vars(record), "message": record.getMessage()})


@contextlib.contextmanager
def tapped(logger_name: str) -> Iterator[list[dict[str, Any]]]:
    """The records the handler's logger (named after its service) emits meanwhile, whatever stream its
    output goes to (`lambda.log`, or a test's capture when the handler was imported elsewhere first)."""
    handler = _Records()
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@dataclass
class FakeContext:
    """The attributes of Lambda's context object that handlers and Powertools read.

    The deadline is `timeout_s` after creation on `clock` (the tests pass a clock that only moves when
    the code sleeps); as Lambda's own, the remaining time never goes below 0.
    """

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    timeout_s: float = 60.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = self.clock() + self.timeout_s
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self.clock()) * 1000))


def function_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


@dataclass
class LocalFunction:
    """One function: `module:handler`, imported on first invocation (after the environment is set)."""

    module: str
    name: str
    arn: str
    timeout_s: float
    invocations: int = 0

    def handler(self) -> Callable[[Any, Any], Any]:
        with contextlib.redirect_stdout(LAMBDA_STDOUT):
            return importlib.import_module(self.module).handler

    def reset(self) -> None:
        """A cold start: the handler module's own `reset()` forgets what its container cached."""
        with contextlib.redirect_stdout(LAMBDA_STDOUT):
            importlib.import_module(self.module).reset()

    def __call__(self, event: Any) -> Any:
        handler = self.handler()
        self.invocations += 1
        context = FakeContext(self.name, self.arn, timeout_s=self.timeout_s)
        with contextlib.redirect_stdout(LAMBDA_STDOUT):
            return handler(event, context)
