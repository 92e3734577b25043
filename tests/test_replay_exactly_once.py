"""Replay interrupted at every AWS call, and two replays at once: what Firehose received, counted.

moto's Firehose writes each PutRecordBatch straight into its S3 destination (moto 5.2: no processor, no
buffering), so the records Firehose took are the lines of the objects in the destination bucket.
Each record is a distinct line, so a record put twice shows as a line seen twice.
"""

from __future__ import annotations

import io
import itertools
import signal
import threading
from collections import Counter
from typing import Any

import pytest
from moto.s3.responses import S3Response

from contracts.layout import REPLAY_LOCK_PREFIX
from contracts.object_tags import PROGRESS_TAG, REPLAYED_TAG
from local.aws import LocalAws
from replay.__main__ import main, replay
from replay.aws import Bucket, Stream
from replay.lock import Locks
from replay.plan import plan_batches
from replay.records import parse_error_object
from replay.run import DEFAULT_PREFIX, Options
from tests.replay_support import error_key, error_object

# Replay interrupted at each of its AWS calls against moto's server: minutes, not seconds.
pytestmark = pytest.mark.slow

_names = itertools.count(1)
# Two objects: one of two PutRecordBatch calls (500 records, then 1), one of a single call.
SIZES = {"big": 501, "small": 3}


@pytest.fixture(scope="module")
def aws():
    local = LocalAws()
    yield local
    local.stop()


class Archive:
    """An archive bucket holding error objects, and a moto delivery stream writing into another bucket."""

    def __init__(self, aws: LocalAws, sizes: dict[str, int]):
        number = next(_names)
        self.aws, self.bucket, self.stream = aws, f"archive-{number}", f"replayed-{number}"
        self.received_bucket = f"received-{number}"
        self.s3 = aws.client("s3")
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.create_bucket(Bucket=self.received_bucket)
        aws.client("firehose").create_delivery_stream(
            DeliveryStreamName=self.stream, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose", "Prefix": "in/",
                "BucketARN": f"arn:aws:s3:::{self.received_bucket}"})
        self.records: dict[str, list[bytes]] = {}
        for hour, (name, size) in enumerate(sizes.items(), start=3):
            key = error_key(hour, name)
            self.records[key] = [b"%s record %d\n" % (name.encode(), i) for i in range(size)]
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=error_object(self.records[key]))

    def close(self) -> None:
        """moto allows 50 delivery streams per account: remove this one."""
        self.aws.client("firehose").delete_delivery_stream(DeliveryStreamName=self.stream)

    def received(self) -> Counter[bytes]:
        """Each record Firehose took, with how many times it took it."""
        seen: Counter[bytes] = Counter()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.received_bucket):
            for item in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.received_bucket, Key=item["Key"])["Body"].read()
                seen.update(body.splitlines(keepends=True))
        return seen

    def tag_keys(self, key: str) -> list[str]:
        return [tag["Key"] for tag in self.s3.get_object_tagging(Bucket=self.bucket, Key=key)["TagSet"]]

    def locks_left(self) -> list[str]:
        answer = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=REPLAY_LOCK_PREFIX)
        return [item["Key"] for item in answer.get("Contents", [])]

    def batches(self) -> list[set[bytes]]:
        """The records of each PutRecordBatch call a whole run makes, as sets."""
        return [set(batch.payloads) for key in self.records
                for batch in plan_batches(parse_error_object(key, error_object(self.records[key])).records)]


class Interrupt:
    """Ctrl-C at the `n`th AWS call of either client: before the request leaves, or after AWS answered."""

    def __init__(self, n: int, after: bool):
        self.n, self.after, self.calls = n, after, 0

    def hook(self, client: Any) -> Any:
        client.meta.events.register("before-call", self._before)
        client.meta.events.register("after-call", self._after)
        return client

    def _before(self, **_: Any) -> None:
        self.calls += 1
        if self.calls == self.n and not self.after:
            raise KeyboardInterrupt

    def _after(self, **_: Any) -> None:
        if self.calls == self.n and self.after:
            raise KeyboardInterrupt


def run(archive: Archive, monkeypatch: pytest.MonkeyPatch, interrupt: Interrupt | None = None,
        lease: float | None = None) -> tuple[int, str, str]:
    """`python -m replay` on the archive, through clients an `interrupt` may stop; `lease` for its locks."""
    s3, firehose = archive.aws.client("s3"), archive.aws.client("firehose")
    if interrupt is not None:
        s3, firehose = interrupt.hook(s3), interrupt.hook(firehose)
    monkeypatch.setattr("replay.__main__.clients", lambda: (s3, firehose))
    if lease is not None:
        monkeypatch.setattr("replay.run.Locks", lambda s3, bucket: Locks(s3, bucket, lease_seconds=lease))
    out, err = io.StringIO(), io.StringIO()
    code = main(["--bucket", archive.bucket, "--stream", archive.stream], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def calls_of_a_whole_run(aws: LocalAws, monkeypatch: pytest.MonkeyPatch, lease: float) -> int:
    archive, counting = Archive(aws, SIZES), Interrupt(0, after=False)
    assert run(archive, monkeypatch, counting, lease)[0] == 0
    archive.close()
    return counting.calls


@pytest.mark.parametrize("lease", [600.0, 0.0], ids=["lease-10-min", "lease-renewed-before-each-batch"])
@pytest.mark.parametrize("after", [False, True], ids=["before-the-call", "after-aws-answered"])
def test_an_interruption_at_any_aws_call_doubles_at_most_the_batch_in_flight_and_loses_nothing(
        aws, monkeypatch, lease, after):
    total = calls_of_a_whole_run(aws, monkeypatch, lease)
    assert total >= 18, "every call of the run is interrupted once: the run makes them all"
    for n in range(1, total + 1):
        archive = Archive(aws, SIZES)
        code, _, err = run(archive, monkeypatch, Interrupt(n, after), lease)
        assert code == 130 and err.startswith("interrupted: "), f"call {n}"
        # The next run comes once the lease is over (a lock left by the killed run is stale).
        code, out, err = run(archive, monkeypatch, lease=0.0)
        assert (code, err) == (0, ""), f"call {n}: {out}"
        seen = archive.received()
        expected = {record for records in archive.records.values() for record in records}
        assert set(seen) == expected, f"call {n}: every record reached Firehose"
        twice = {record for record, times in seen.items() if times > 1}
        assert all(times <= 2 for times in seen.values()), f"call {n}"
        assert any(twice <= batch for batch in archive.batches()), f"call {n}: only one batch doubled"
        if twice:
            assert "may be in the stream twice" in out, f"call {n}: the re-run says so"
        for key in archive.records:
            assert archive.tag_keys(key) == [REPLAYED_TAG], f"call {n}: {key}"
        assert archive.locks_left() == [], f"call {n}: no lock left behind"
        archive.close()


def test_a_fresh_lock_of_another_run_is_left_alone_and_a_stale_one_taken_over(aws, monkeypatch):
    archive = Archive(aws, {"small": 3})
    (key,) = archive.records
    held = Locks(aws.client("s3"), archive.bucket)
    lease = held.acquire(key)
    code, out, err = run(archive, monkeypatch)
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith(
        f"skipped (busy): s3://{archive.bucket}/{key}: another run (a run on ")
    assert out.splitlines()[0].endswith("s ago) is replaying it; it is left to that run")
    assert out.splitlines()[-1] == ("put back 0 records (0 bytes): 0 objects replayed, 0 skipped (already "
                                    "replayed), 0 failed, 1 left to another run replaying them")
    assert archive.received() == Counter() and archive.tag_keys(key) == []
    # Ten minutes on (here: a lease of none), the lock is stale: the next run takes it over.
    code, out, _ = run(archive, monkeypatch, lease=0.0)
    assert code == 0 and "took over the stale lock of a run on " in out.splitlines()[0]
    assert archive.received() == Counter(archive.records[key])
    assert archive.locks_left() == [] and archive.tag_keys(key) == [REPLAYED_TAG]
    # The run whose lock was taken over finds out before it sends anything more.
    with pytest.raises(Exception, match="another run took over its lock"):
        Locks(aws.client("s3"), archive.bucket, lease_seconds=0.0).renew_if_due(lease)


def atomic_conditional_puts(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 checks `If-None-Match`/`If-Match` and writes in one step; moto 5.2.5 checks, then writes. One
    lock around moto's PutObject makes it as S3 documents, so the race tested is replay's, not moto's."""
    lock, put_object = threading.Lock(), S3Response.put_object

    def atomic(self: S3Response) -> Any:
        with lock:
            return put_object(self)
    monkeypatch.setattr(S3Response, "put_object", atomic)


def test_two_runs_at_once_put_every_record_exactly_once(aws, monkeypatch):
    atomic_conditional_puts(monkeypatch)
    sizes = {f"n{i:02d}": 120 + i for i in range(12)} | {"big": 1001}
    archive = Archive(aws, sizes)
    start = threading.Barrier(2)
    results: list[tuple[int, str, str]] = []

    def one_run() -> None:
        out, err = io.StringIO(), io.StringIO()
        start.wait()
        bucket = Bucket(aws.client("s3"), archive.bucket)
        code = replay(Options(archive.bucket, archive.stream, DEFAULT_PREFIX), bucket,
                      Stream(aws.client("firehose"), archive.stream), out, err)
        results.append((code, out.getvalue(), err.getvalue()))

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [(code, err) for code, _, err in results] == [(0, ""), (0, "")]
    expected = Counter(record for records in archive.records.values() for record in records)
    assert archive.received() == expected, "each record exactly once"
    replayed: Counter[str] = Counter()
    for _, out, _ in results:
        replayed.update(line.split(": ")[1] for line in out.splitlines() if line.startswith("replayed: "))
        lines = out.splitlines()
        assert all(line.startswith(("replayed: ", "skipped (busy): ")) for line in lines[:-1])
    assert replayed == Counter(f"s3://{archive.bucket}/{key}" for key in archive.records), \
        "each object replayed by exactly one of the two runs"
    for key in archive.records:
        assert archive.tag_keys(key) == [REPLAYED_TAG]
    assert archive.locks_left() == []
    assert PROGRESS_TAG not in {tag for key in archive.records for tag in archive.tag_keys(key)}


def test_a_lock_for_a_key_too_long_for_s3_is_named_by_its_hash():
    from replay.lock import MAX_KEY_BYTES, lock_key
    short, long = "errors/x.gz", "errors/" + "k" * MAX_KEY_BYTES
    assert lock_key(short) == REPLAY_LOCK_PREFIX + short
    assert lock_key(long).startswith(REPLAY_LOCK_PREFIX + "sha256/") and len(lock_key(long)) < MAX_KEY_BYTES
    assert lock_key(long) != lock_key(long + "x")



class CtrlC(Interrupt):
    """A real SIGINT (Ctrl-C) while the `n`th AWS call is in flight, handled by the command's handler."""

    def _before(self, **_: Any) -> None:
        self.calls += 1
        if self.calls == self.n:
            signal.raise_signal(signal.SIGINT)

    def _after(self, **_: Any) -> None:
        pass


def test_one_ctrl_c_at_any_aws_call_stops_after_that_call_and_sends_nothing_twice(aws, monkeypatch):
    total = calls_of_a_whole_run(aws, monkeypatch, 600.0)
    for n in range(1, total + 1):
        archive = Archive(aws, SIZES)
        code, _, err = run(archive, monkeypatch, CtrlC(n, after=False))
        assert err.startswith("stopping once the call in flight is answered (Ctrl-C again to stop at once)\n")
        if code == 0:  # the Ctrl-C came during the last object's last steps: the run finished it
            assert n >= total - 2, f"call {n}"
        else:
            assert code == 130 and err.endswith("sends nothing twice\n"), f"call {n}: {err}"
            assert run(archive, monkeypatch, lease=0.0)[0] == 0, f"call {n}"
        expected = Counter(record for records in archive.records.values() for record in records)
        assert archive.received() == expected, f"call {n}: each record exactly once"
        for key in archive.records:
            assert archive.tag_keys(key) == [REPLAYED_TAG], f"call {n}: {key}"
        assert archive.locks_left() == [], f"call {n}"
        archive.close()


def test_a_second_ctrl_c_stops_at_once(aws, monkeypatch):
    archive = Archive(aws, SIZES)

    class Twice(CtrlC):
        def _before(self, **_: Any) -> None:
            self.calls += 1
            if self.calls == self.n:
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)

    code, _, err = run(archive, monkeypatch, Twice(8, after=False))
    assert code == 130
    assert err.endswith("(the records of the PutRecordBatch call in flight, if any, go again)\n")
    assert run(archive, monkeypatch, lease=0.0)[0] == 0
    assert set(archive.received()) == {record for records in archive.records.values() for record in records}
    archive.close()
