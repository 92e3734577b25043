"""The resources of a stack called `local`, named and configured as the stack names and configures them.

Derived from the same definitions `infra/` uses (`contracts.naming`, `contracts.layout`, the settings of
`Pulumi.yaml`), so the local pipeline cannot drift from what `pulumi up` creates.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from contracts.layout import FIREHOSE_DATA_PREFIX, FIREHOSE_ERROR_PREFIX, GZIP_EXTENSION
from contracts.naming import Names as StackNames
from contracts.settings import StackSettings, project_name
from local.aws import ACCOUNT
from local.firehose import MB, StreamConfig

STACK = "local"


@dataclass(frozen=True)
class LocalNames:
    """Resource names, derived as the stack derives them (contracts/naming.py) for a stack called `local`."""

    bucket: str
    stream: str
    log_group: str
    filter_name: str
    transform: str
    notifier: str
    secret: str
    athena_database: str
    athena_table: str
    athena_workgroup: str
    baseline_table: str

    @classmethod
    def for_run(cls, settings: StackSettings, run: int) -> LocalNames:
        stack = StackNames(project_name(), STACK)
        # Pulumi appends a random suffix to the bucket prefix; a run number keeps runs apart here.
        return cls(
            bucket=stack.bucket_prefix + "archive" + (f"-{run}" if run > 1 else ""),
            stream=stack.delivery_stream,
            log_group=settings.flow_logs.existing_log_group or f"/vpc/flow-logs/{STACK}",
            filter_name=stack.subscription_filter,
            transform=stack.transform_function,
            notifier=stack.notifier_function,
            secret=f"{stack.prefix}-datadog-api-key",
            athena_database=stack.glue_database,
            athena_table=stack.glue_table,
            athena_workgroup=stack.athena_workgroup,
            # One table per run too: a run's baseline starts empty, as a new stack's does.
            baseline_table=stack.baseline_table + (f"-{run}" if run > 1 else ""),
        )


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or with None, unset) variables for the run and restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stream_config(settings: StackSettings, names: LocalNames, transform_arn: str) -> StreamConfig:
    return StreamConfig(
        name=names.stream,
        lambda_arn=transform_arn + ":$LATEST",
        data_prefix=FIREHOSE_DATA_PREFIX,
        error_prefix=FIREHOSE_ERROR_PREFIX,
        extension=GZIP_EXTENSION,
        processor_buffer_bytes=int(settings.buffers.processor_mb * MB),
        processor_buffer_ms=settings.buffers.processor_seconds * 1000,
        archive_buffer_bytes=settings.buffers.archive_mb * MB,
        archive_buffer_ms=settings.buffers.archive_seconds * 1000,
        account=ACCOUNT,
    )
