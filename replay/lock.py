"""One run at a time per error object: a lock object under `replay-locks/`, made with S3's conditional writes.

S3 writes a `PutObject` with `If-None-Match: *` only if no object has that key (412 Precondition Failed
otherwise; 409 ConditionalRequestConflict when two such writes race), one with `If-Match: <ETag>` only
if the object is unchanged, and deletes with `If-Match: <ETag>` likewise (Amazon S3 User Guide, "How to
prevent object overwrites with conditional writes" and "How to perform conditional deletes", checked
2026-12). moto 5.2.5 implements `If-None-Match: *` and `If-Match` on PutObject and `If-Match` on
DeleteObject (`moto/s3/responses.py`), though its check and its write are not one atomic step.

The lock holds who took it (run id, host, pid, when). Its holder rewrites it (`If-Match`, renewing the
lease) before a batch once it is `renew_after` seconds old, and deletes it when done with the object. A
lock whose last write is older than the lease by S3's own clock (the answer's `Date` against the lock's
`LastModified`) belongs to a run that was killed or lost its network: the next run takes it over with
`If-Match` on the stale lock's ETag, so two runs cannot both take over one stale lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from contracts.layout import REPLAY_LOCK_PREFIX
from replay.aws import ObjectAccessError, ReplaySetupError, describe, error_code, setup_error

# A lock not rewritten for this long (by S3's clock) is stale. A holder rewrites it before a batch once it
# is a fifth of that old, so only a run stopped (or cut off) for minutes loses its lock.
LEASE_SECONDS = 600.0
RENEW_FRACTION = 0.2
# S3 keys are at most 1,024 bytes: a lock for a longer error key is named by the key's hash instead.
MAX_KEY_BYTES = 1024
_TAKEN = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_GONE = frozenset({"NoSuchKey", "404", "NotFound"})
# Rounds of "the lock was released or taken over while we looked": after these, the object is busy.
_ATTEMPTS = 3


class LockLostError(RuntimeError):
    """Another run took this run's lock over (this run was stopped longer than the lease): stop the object."""


def lock_key(key: str) -> str:
    """Where the lock of error object `key` lives."""
    name = REPLAY_LOCK_PREFIX + key
    if len(name.encode()) <= MAX_KEY_BYTES:
        return name
    return REPLAY_LOCK_PREFIX + "sha256/" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Holder:
    """The run holding an object's lock, as its lock says."""

    run: str
    host: str
    pid: int | None
    age_seconds: float

    def describe(self) -> str:
        return f"another run ({self.who()}) is replaying it"

    def who(self) -> str:
        pid = f" pid {self.pid}" if self.pid is not None else ""
        return f"a run on {self.host}{pid}, last renewed {self.age_seconds:,.0f} s ago"


@dataclass
class Lease:
    """A lock this run holds: its ETag (for If-Match) and when it was last written (monotonic clock)."""

    key: str
    lock: str
    etag: str
    written_at: float
    took_over: Holder | None = None


@dataclass
class Locks:
    s3: Any
    bucket: str
    lease_seconds: float = LEASE_SECONDS
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    monotonic: Callable[[], float] = time.monotonic
    _writes: int = field(default=0, init=False)

    def acquire(self, key: str) -> Lease | Holder:
        """This run's lease on `key`, or the run that holds it (fresh lock)."""
        lock = lock_key(key)
        holder: Holder | None = None
        for _ in range(_ATTEMPTS):
            written = self._write(key, lock, IfNoneMatch="*")
            if written is not None:
                return written
            seen = self._holder(lock)
            if seen is None:
                continue  # released while we looked: try again
            holder, etag = seen
            if holder.age_seconds < self.lease_seconds:
                return holder
            taken = self._write(key, lock, IfMatch=etag)
            if taken is not None:
                taken.took_over = holder
                return taken
        # Other runs kept taking and releasing the lock while we looked: leave the object to them.
        return holder or Holder("?", "another host", None, 0.0)

    def renew_if_due(self, lease: Lease) -> None:
        """Rewrite the lock if it is old enough to need it; LockLostError if another run has it now."""
        if self.monotonic() - lease.written_at < self.lease_seconds * RENEW_FRACTION:
            return
        renewed = self._write(lease.key, lease.lock, IfMatch=lease.etag)
        if renewed is None:
            raise LockLostError("another run took over its lock (this run was stopped for longer than the "
                                f"{self.lease_seconds:,.0f} s lease), so it goes on from that run's progress")
        lease.etag, lease.written_at = renewed.etag, renewed.written_at

    def release(self, lease: Lease) -> None:
        """Delete the lock if it is still ours. A failure leaves a lock that goes stale after the lease."""
        # Taken over (412), already gone, or S3 unreachable: the lease runs out by itself.
        with contextlib.suppress(ClientError, BotoCoreError):
            self.s3.delete_object(Bucket=self.bucket, Key=lease.lock, IfMatch=lease.etag)

    def sweep(self, replayed: Callable[[str], bool]) -> int:
        """Delete stale locks left on objects already replayed (a run stopped between tagging an object
        and deleting its lock); stale locks on other objects wait to be taken over. Returns how many."""
        swept = 0
        try:
            answer = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=REPLAY_LOCK_PREFIX)
        except (ClientError, BotoCoreError) as error:
            raise _lock_error(error, self.bucket, REPLAY_LOCK_PREFIX) from error
        now = _server_now(answer)
        for item in answer.get("Contents", []):
            key = str(item["Key"]).removeprefix(REPLAY_LOCK_PREFIX)
            stale = (now - item["LastModified"]).total_seconds() >= self.lease_seconds
            if stale and lock_key(key) == item["Key"] and replayed(key):
                with contextlib.suppress(ClientError, BotoCoreError):  # renewed or gone meanwhile
                    self.s3.delete_object(Bucket=self.bucket, Key=item["Key"], IfMatch=item["ETag"])
                    swept += 1
        return swept

    def _write(self, key: str, lock: str, **condition: str) -> Lease | None:
        """Write the lock on `condition`; None if S3 refuses for the condition (another run's lock)."""
        self._writes += 1
        body = orjson.dumps({
            "object": key, "run": self.run, "host": socket.gethostname(), "pid": os.getpid(),
            "written": datetime.now(UTC).isoformat(timespec="seconds"), "write": self._writes})
        started = self.monotonic()
        try:
            answer = self.s3.put_object(Bucket=self.bucket, Key=lock, Body=body,
                                        ContentType="application/json", **condition)
        except ClientError as error:
            if error_code(error) in _TAKEN or error_code(error) in _GONE:
                return None
            raise _lock_error(error, self.bucket, lock) from error
        except BotoCoreError as error:
            raise _lock_error(error, self.bucket, lock) from error
        return Lease(key, lock, str(answer["ETag"]), started)

    def _holder(self, lock: str) -> tuple[Holder, str] | None:
        """Who holds `lock` and its ETag, or None if it is gone."""
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=lock)
            body = answer["Body"].read()
        except ClientError as error:
            if error_code(error) in _GONE:
                return None
            raise _lock_error(error, self.bucket, lock) from error
        except BotoCoreError as error:
            raise _lock_error(error, self.bucket, lock) from error
        try:
            content = orjson.loads(body)
        except orjson.JSONDecodeError:
            content = {}
        if type(content) is not dict:
            content = {}
        pid = content.get("pid")
        holder = Holder(str(content.get("run", "?")), str(content.get("host", "?")),
                        pid if type(pid) is int else None, _age(answer))
        return holder, str(answer["ETag"])


def _server_now(answer: dict[str, Any]) -> datetime:
    """S3's time when it answered (its `Date` header), or ours if the answer does not say."""
    date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    return parsedate_to_datetime(date) if date else datetime.now(UTC)


def _age(answer: dict[str, Any]) -> float:
    """Seconds since the lock was last written, by S3's clock when its answer says the time."""
    modified: datetime = answer["LastModified"]
    return max(0.0, (_server_now(answer) - modified).total_seconds())


def _lock_error(error: BotoCoreError | ClientError, bucket: str, lock: str
                ) -> ReplaySetupError | ObjectAccessError:
    fatal = setup_error(error, f"s3://{bucket}/{lock}")
    if fatal is not None:
        return ReplaySetupError(f"{fatal}: replay locks each object it replays, and needs s3:PutObject, "
                                f"s3:GetObject and s3:DeleteObject on {REPLAY_LOCK_PREFIX}*")
    return ObjectAccessError(f"cannot lock the object ({describe(error)})")
