"""`python -m baseline seed`: fill the notifier's baseline from the archive already in S3."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from tqdm import tqdm

from baseline.seed import DryRunStore, SeedSummary, archived_objects, seed
from contracts import environment as env
from notifier.baseline.dynamo import BaselineUnavailableError, DynamoStore
from notifier.baseline.settings import BaselineSettingsError, load_baseline_settings
from notifier.markdown import plural
from notifier.networks import InternalCidrsError, InternalNetworks, parse_internal_cidrs

# As replay's: 0 done, 1 some objects not seeded (named), 2 usage or setup error, 130 interrupted.
OK, OBJECTS_LEFT, USAGE_ERROR, INTERRUPTED = 0, 1, 2, 130
# From this many objects on a terminal, a progress bar (on stderr) is worth showing.
PROGRESS_MIN_OBJECTS = 2
MAX_DAYS = 400


class SeedUsageError(ValueError):
    """Arguments or settings that cannot work: reported on one line, exit code 2."""


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m baseline", description=__doc__,
        epilog=f"The key rules and settings are the notifier's: {env.BASELINE_DAYS} (default "
               f"{env.DEFAULT_BASELINE_DAYS}), {env.BASELINE_MAX_KEYS} and {env.INTERNAL_CIDRS} are read "
               "from the environment, as the stack sets them for the notifier. Credentials: boto3's chain; "
               "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB are honoured. Exit codes: 0 done, 1 some "
               "objects not seeded (named; a re-run is harmless), 2 usage or setup error, 130 interrupted.")
    commands = cli.add_subparsers(dest="command", required=True)
    run = commands.add_parser("seed", help="fill the baseline from the archive's rejected/ objects")
    run.add_argument("--bucket", required=True, help="the archive bucket (`pulumi stack output bucketName`)")
    run.add_argument("--table", required=True,
                     help="the baseline table (`pulumi stack output baselineTableName`)")
    run.add_argument("--days", required=True, type=int, help="read the archive of the last N days")
    run.add_argument("--dry-run", action="store_true",
                     help="read the archive and the table, count what would be written; write nothing")
    return cli


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Any, InternalNetworks]:
    bucket, table = args.bucket.strip(), args.table.strip()
    if not bucket or "/" in bucket:
        raise SeedUsageError(f"--bucket takes a bucket name (not a URL or path), got {args.bucket!r}")
    if not table or "/" in table:
        raise SeedUsageError(f"--table takes a table name (not an ARN), got {args.table!r}")
    if not 1 <= args.days <= MAX_DAYS:
        raise SeedUsageError(f"--days takes 1 to {MAX_DAYS} days, got {args.days}")
    try:
        settings = load_baseline_settings({**environ, env.BASELINE_TABLE: table})
        networks = InternalNetworks(parse_internal_cidrs(environ.get(env.INTERNAL_CIDRS)))
    except (BaselineSettingsError, InternalCidrsError) as error:
        raise SeedUsageError(str(error)) from None
    if settings is None:
        raise SeedUsageError(f"{env.BASELINE_DAYS}=0 turns the baseline off: there is nothing to seed")
    return settings, networks


def summary_line(summary: SeedSummary, table: str, dry_run: bool) -> str:
    verb = "would seed" if dry_run else "seeded"
    return (f"{'dry run: ' if dry_run else ''}{verb} {plural(summary.new_keys, 'new key')} into {table} "
            f"({summary.known_keys:,} already known, {summary.unchecked_keys:,} unchecked) from "
            f"{plural(summary.objects, 'object')} ({plural(summary.flows, 'flow')})"
            f"{f'; {len(summary.unreadable):,} unreadable' if summary.unreadable else ''}")


def clients() -> tuple[Any, Any]:
    import boto3  # boto3 honours AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_DYNAMODB itself

    return boto3.client("s3"), boto3.client("dynamodb")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None,
         environ: Mapping[str, str] | None = None, now: datetime | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        args = parser().parse_args(argv)
        settings, networks = _settings(args, os.environ if environ is None else environ)
    except SystemExit as stop:  # argparse has printed its usage error (or the help)
        return int(stop.code or 0)
    except SeedUsageError as error:
        print(f"error: {error}", file=err)
        return USAGE_ERROR
    try:
        return run(args, settings, networks, out, err, now or datetime.now(UTC))
    except KeyboardInterrupt:
        print("interrupted: a re-run seeds what is left (objects already seeded claim nothing twice)",
              file=err)
        return INTERRUPTED


def run(args: argparse.Namespace, settings: Any, networks: InternalNetworks, out: TextIO, err: TextIO,
        now: datetime) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    s3, dynamodb = clients()
    try:
        dynamodb.describe_table(TableName=settings.table)
        objects = archived_objects(s3, args.bucket, now, args.days)
    except (ClientError, BotoCoreError) as error:
        print(f"error: cannot read the archive or the table: {error}", file=err)
        return USAGE_ERROR
    real = DynamoStore(dynamodb, settings.table)
    store = DryRunStore(real) if args.dry_run else real
    show = len(objects) >= PROGRESS_MIN_OBJECTS and err.isatty()

    def progress(items: Iterator[Any]) -> Iterator[Any]:
        return iter(tqdm(items, total=len(objects), unit="object", desc="seed", disable=not show, file=err,
                         leave=False))

    try:
        summary = seed(s3, args.bucket, store, settings, networks, objects, progress)
    except (BaselineUnavailableError, ClientError, BotoCoreError) as error:
        print(f"error: {error}; nothing is lost: a re-run seeds what is left", file=err)
        return OBJECTS_LEFT
    for key, reason in summary.unreadable:
        print(f"error: s3://{args.bucket}/{key}: {reason} (not seeded)", file=err)
    print(summary_line(summary, settings.table, args.dry_run), file=out)
    return OBJECTS_LEFT if summary.unreadable else OK


if __name__ == "__main__":
    sys.exit(main())
