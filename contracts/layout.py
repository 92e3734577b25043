"""The archive's S3 layout, one definition for every part using it (docs/architecture.md, The S3 layout)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote_plus

DATA_PREFIX = "rejected/"
ERROR_PREFIX = "errors/"
# Replay's locks, one small JSON object per error object being replayed (outside both prefixes above, so
# neither the notifier nor Athena ever reads one).
REPLAY_LOCK_PREFIX = "replay-locks/"

# Hive-style hour partitions: (partition key, Java DateTimeFormatter pattern Firehose evaluates).
PARTITIONS: tuple[tuple[str, str], ...] = (("year", "yyyy"), ("month", "MM"), ("day", "dd"), ("hour", "HH"))
PARTITION_KEYS: tuple[str, ...] = tuple(key for key, _ in PARTITIONS)
# Partition projection needs a range; years outside it are not queryable.
PROJECTION_YEAR_RANGE = (2020, 2100)

_FIREHOSE_PARTITIONS = "".join(f"{key}=!{{timestamp:{pattern}}}/" for key, pattern in PARTITIONS)

FIREHOSE_DATA_PREFIX = DATA_PREFIX + _FIREHOSE_PARTITIONS
FIREHOSE_ERROR_PREFIX = ERROR_PREFIX + "!{firehose:error-output-type}/" + _FIREHOSE_PARTITIONS

# Firehose names objects `<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>` + the compression's extension.
GZIP_EXTENSION = ".gz"

_PARTITION_RE = re.compile(r"(year|month|day|hour)=(\d+)/")


def table_location(bucket: str) -> str:
    return f"s3://{bucket}/{DATA_PREFIX}"


def storage_location_template(bucket: str) -> str:
    """Glue `storage.location.template`: the Firehose data prefix with `${key}` placeholders."""
    return table_location(bucket) + "".join(f"{key}=${{{key}}}/" for key in PARTITION_KEYS)


def object_key_from_event(raw_key: str) -> str:
    """S3 event notifications URL-encode keys (`=` arrives as `%3D`, spaces as `+`)."""
    return unquote_plus(raw_key)


def partition_of(key: str) -> dict[str, int]:
    """`rejected/year=2026/month=11/day=27/hour=18/x.gz` -> {'year': 2026, ..., 'hour': 18}."""
    return {name: int(value) for name, value in _PARTITION_RE.findall(key)}


def partition_hour(key: str) -> datetime | None:
    """The UTC hour a key's partition names (Firehose's arrival hour), or None without a whole one."""
    partition = partition_of(key)
    if not all(name in partition for name in PARTITION_KEYS):
        return None
    year, month, day, hour = (partition[name] for name in PARTITION_KEYS)
    return datetime(year, month, day, hour, tzinfo=UTC)


def is_data_key(key: str) -> bool:
    return key.startswith(DATA_PREFIX)


def is_error_key(key: str) -> bool:
    return key.startswith(ERROR_PREFIX)
