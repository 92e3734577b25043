"""`python -m replay`: put Firehose's failed records (under `errors/`) back into the delivery stream."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import TextIO

from tqdm import tqdm

from contracts.layout import DATA_PREFIX, ERROR_PREFIX, REPLAY_LOCK_PREFIX
from contracts.object_tags import PROGRESS_TAG, REPLAYED_TAG
from replay.aws import Bucket, ReplaySetupError, Stream, clients
from replay.lock import LEASE_SECONDS, Locks
from replay.run import DEFAULT_PREFIX, Options, Replayer
from replay.summary import (
    FAILED,
    SKIPPED,
    ObjectOutcome,
    failure_advice,
    object_line,
    skipped_lines_line,
    summary_line,
)

OK, RECORDS_LEFT, USAGE_ERROR, INTERRUPTED = 0, 1, 2, 130


class ReplayUsageError(ValueError):
    """Arguments that cannot work: reported on one line, exit code 2."""


class GracefulStop:
    """A first Ctrl-C asks the run to stop once Firehose has answered the call in flight (so nothing is
    sent twice); a second one stops it at once (then at most that call's records go again)."""

    def __init__(self, err: TextIO):
        self.err, self._asked, self.forced = err, False, False

    def requested(self) -> bool:
        return self._asked

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._asked:  # the second Ctrl-C
            self.forced = True
            raise KeyboardInterrupt
        self._asked = True
        print("stopping once the call in flight is answered (Ctrl-C again to stop at once)", file=self.err)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread: Ctrl-C stops at once
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m replay", description=__doc__,
        epilog=f"Each object is tagged {REPLAYED_TAG}=<UTC time> once Firehose has accepted all its "
               f"records; tagged objects are skipped. Before each PutRecordBatch call (at most 500 records, "
               f"4 MiB) the object's {PROGRESS_TAG} tag records how far it got, so a run stopped at any "
               "point (a kill, a lost network, a second Ctrl-C) makes the next run send again at most that "
               "one call's records, which may then be in the stream twice; nothing is lost. A first Ctrl-C "
               "stops once the call in flight is answered, and nothing goes twice. Each object is locked "
               f"while it is replayed (s3://BUCKET/{REPLAY_LOCK_PREFIX}<key>): a second run at the same time "
               "skips it and says so; a lock not renewed for "
               f"{LEASE_SECONDS / 60:.0f} minutes (its run was killed) is taken over. Lines without usable "
               "rawData are named and left in the object. Exit codes: 0 done, 1 some objects left "
               "untagged (named; a re-run retries exactly those), 2 usage or setup error, 130 interrupted "
               "(a re-run resumes each object where its progress tag says).")
    cli.add_argument("--bucket", required=True, help="the archive bucket (`pulumi stack output bucketName`)")
    cli.add_argument("--stream", required=True,
                     help="the delivery stream (`pulumi stack output deliveryStreamName`)")
    cli.add_argument("--prefix", default=DEFAULT_PREFIX,
                     help=f"where the failed records are (default {DEFAULT_PREFIX})")
    cli.add_argument("--dry-run", action="store_true",
                     help="list the objects, records and bytes that would be put; put and tag nothing")
    return cli


def options_from(args: argparse.Namespace) -> Options:
    bucket, stream, prefix = args.bucket.strip(), args.stream.strip(), args.prefix
    if not bucket or "/" in bucket:
        raise ReplayUsageError(f"--bucket takes a bucket name (not a URL or path), got {args.bucket!r}")
    if not stream or "/" in stream:
        raise ReplayUsageError(f"--stream takes a delivery stream name (not an ARN), got {args.stream!r}")
    if DATA_PREFIX.startswith(prefix) or prefix.startswith(DATA_PREFIX):
        raise ReplayUsageError(f"--prefix {prefix!r} covers {DATA_PREFIX}, which holds archived flows, not "
                         f"failed records (they are under {ERROR_PREFIX})")
    return Options(bucket, stream, prefix, args.dry_run)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        options = options_from(parser().parse_args(argv))
    except SystemExit as stop:  # argparse has printed its usage error (or the help)
        return int(stop.code or 0)
    except ReplayUsageError as error:
        print(f"error: {error}", file=err)
        return USAGE_ERROR
    graceful = GracefulStop(err)
    try:
        s3, firehose = clients()
        with graceful.installed():
            return replay(options, Bucket(s3, options.bucket), Stream(firehose, options.stream), out, err,
                          stop_requested=graceful.requested)
    except ReplaySetupError as error:
        print(f"error: {error}", file=err)
        return USAGE_ERROR
    except KeyboardInterrupt:
        if graceful.requested() and not graceful.forced:
            print("interrupted: stopped between calls; the next run resumes each object where its progress "
                  "tag says, and sends nothing twice", file=err)
        else:
            print("interrupted: the next run resumes each object where its progress tag says (the records "
                  "of the PutRecordBatch call in flight, if any, go again)", file=err)
        return INTERRUPTED


def replay(options: Options, bucket: Bucket, stream: Stream, out: TextIO, err: TextIO,
           sleep: Callable[[float], None] = time.sleep, locks: Locks | None = None,
           stop_requested: Callable[[], bool] = lambda: False) -> int:
    """Run, print one line per object put (stdout) or failed (stderr), then the summary."""
    def report(outcome: ObjectOutcome) -> None:
        # tqdm.write keeps these lines clear of the progress bar when both go to the terminal.
        if outcome.status == FAILED:
            tqdm.write(f"error: {object_line(options.bucket, outcome)}", file=err)
        elif outcome.status != SKIPPED:
            tqdm.write(object_line(options.bucket, outcome), file=out)
        if outcome.skipped_lines:
            tqdm.write(skipped_lines_line(options.bucket, outcome), file=err)

    summary = Replayer(options, bucket, stream, report, sleep=sleep, locks=locks,
                       stop_requested=stop_requested).run(err=err)
    print(summary_line(summary), file=out)
    if summary.failed:
        print(failure_advice(summary), file=err)
        return RECORDS_LEFT
    return OK


if __name__ == "__main__":
    sys.exit(main())
