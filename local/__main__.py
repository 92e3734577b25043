"""`python -m local demo`: the whole pipeline on this machine (what `make demo` runs)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from contracts.flowlog import FlowLogFormat, FlowLogFormatError, parse_format
from contracts.settings import defaults
from local.inputs import STDIN, FlowInput, InputError, check_input, open_input, shown
from local.outdir import MARKER, OutputError, Staging, check_out

DEFAULT_OUT = Path("local-run")
DEFAULT_MINUTES = 15
DEFAULT_SEED = 7
DEFAULT_DAMAGED = 2
# Two simulated days by default: the first day's objects learn the baseline (the stack's 24 learning
# hours), the second day's are judged against it and the last one reports the planted incident.
DEFAULT_DAYS = 2
MAX_DAYS = 7
# ~780 lines a minute: a day is ~1.1 million lines, 30-50 s here. Longer runs are better served by a
# file (`--input`), which can be replayed.
MAX_MINUTES = 24 * 60
# Flow logs began in 2015; the archive's partition projection reaches 2100.
EARLIEST_START = datetime(2015, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2100, 1, 1, tzinfo=UTC)
USAGE_ERROR = 2
INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
SAMPLE_OPTIONS = ("minutes", "seed", "start", "damaged", "days")

EXAMPLES = f"""\
examples:
  python -m local demo                                   # 15 minutes of a generated VPC on 2 days
  python -m local demo --days 1                          # one day only: the baseline just learns
  python -m local demo --minutes 60 --seed 3 --start 2026-11-20T10:00Z --out /tmp/run
  python -m local demo --input flows.log.gz              # a flow-log file as delivered to S3
  zcat *.log.gz | python -m local demo --input -          # many files on standard input
  python -m local demo --source firehose                 # flow logs delivered straight to Firehose

--out DIR must be new, empty, or the output of an earlier demo (it holds a {MARKER}
file); that folder is replaced as a whole once the run succeeds. A folder holding anything else is
refused, and a failed run leaves it as it was.
"""


class DemoUsageError(ValueError):
    """Options that contradict each other or are out of bounds: one line, exit code 2."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="demo")
    demo = commands.add_parser(
        "demo", help="run flow logs through the local pipeline and print what came out",
        description="Flow-log lines -> CloudWatch filter -> Firehose + transform -> S3 (moto) -> notifier\n"
                    "-> Datadog intake, then the Athena named queries with DuckDB. No AWS account, no\n"
                    "network: only AWS and Datadog are stood in, on 127.0.0.1.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--input", metavar="FILE",
                      help="flow-log lines, one per line: a file, plain or gzip (an S3-delivered .log.gz "
                           "with its header line is fine), or - for standard input (default: a generated "
                           "sample)")
    demo.add_argument("--format", metavar="FORMAT", default=None,
                      help="the lines' format in AWS's ${field} syntax (default: the version-2 format)")
    demo.add_argument("--source", choices=("cloudwatch", "firehose"), default="cloudwatch",
                      help="how flow logs reach Firehose: through a CloudWatch Logs subscription (only "
                           "REJECT lines shipped), or delivered straight to Firehose as plain-text records "
                           "(every line) (default: cloudwatch)")
    demo.add_argument("--replay-format", metavar="FORMAT", default=None,
                      help="after the run, replay what the transform could not read "
                           "(errors/processing-failed/) into the stream, as `python -m replay` does, with "
                           "the transform set to this (fixed) format; shows the way back from errors/")
    demo.add_argument("--out", metavar="DIR", type=Path, default=DEFAULT_OUT,
                      help=f"folder the run's files go to; replaced as a whole if an earlier demo made it "
                           f"(default: {DEFAULT_OUT}/)")
    sample = demo.add_argument_group("generated sample (not with --input)")
    sample.add_argument("--minutes", metavar="N", type=int,
                        help=f"minutes of generated traffic a day, 1 to {MAX_MINUTES:,} (a day; ~780 lines "
                             f"a minute) (default: {DEFAULT_MINUTES})")
    sample.add_argument("--days", metavar="N", type=int,
                        help=f"simulated days, 1 to {MAX_DAYS}, each with the same minutes of the clock: "
                             "the first day's objects learn the baseline, the later ones are judged "
                             "against it, and the last minute holds a planted incident (a new internal "
                             f"pair) (default: {DEFAULT_DAYS})")
    sample.add_argument("--seed", metavar="N", type=int,
                        help=f"seed of the generated sample (default: {DEFAULT_SEED})")
    sample.add_argument("--start", metavar="TIME",
                        help="UTC start of the sample's first day, ISO 8601 (e.g. 2026-11-20T10:00Z); with "
                             "it the same seed gives the same lines (default: the last day ends at the last "
                             "whole minute)")
    sample.add_argument("--damaged", metavar="N", type=int,
                        help="REJECT lines to spoil on purpose (one cut short, one with a port that is not a "
                             "number, alternately) to show where bad input goes; at most 50 a minute "
                             f"(default: {DEFAULT_DAMAGED}; 0 for none)")
    return root


def parse_start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DemoUsageError(f"--start {text!r} is not an ISO 8601 time such as 2026-11-20T10:00Z") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not EARLIEST_START <= moment < LATEST_START:
        raise DemoUsageError(f"--start {text} is outside {EARLIEST_START.year}-{LATEST_START.year - 1} "
                         "(flow logs began in 2015; the archive's partitions end in 2100)")
    return moment


def sample_source(args: argparse.Namespace, fmt: FlowLogFormat) -> tuple[Iterable[str], str, int | None]:
    """The generated sample's lines (streamed), its description, and the clock for lines without time."""
    from local.sample import DAY, MIN_REJECTS_PER_MINUTE, default_start, stream_days

    minutes = DEFAULT_MINUTES if args.minutes is None else args.minutes
    seed = DEFAULT_SEED if args.seed is None else args.seed
    damaged = DEFAULT_DAMAGED if args.damaged is None else args.damaged
    days = DEFAULT_DAYS if args.days is None else args.days
    if not 1 <= days <= MAX_DAYS:
        raise DemoUsageError(f"--days must be 1 to {MAX_DAYS}")
    if not 1 <= minutes <= MAX_MINUTES:
        raise DemoUsageError(f"--minutes must be 1 to {MAX_MINUTES:,} (a day of traffic, ~1.1 million lines, "
                         "under a minute); for more, write the lines to a file and use --input")
    if damaged < 0:
        raise DemoUsageError("--damaged must be 0 or more")
    if damaged > minutes * MIN_REJECTS_PER_MINUTE:
        most = minutes * MIN_REJECTS_PER_MINUTE
        raise DemoUsageError(f"--damaged {damaged:,} is more than the {most:,} REJECT lines {minutes} "
                             f"minutes of sample are sure to hold ({MIN_REJECTS_PER_MINUTE} a minute); lower "
                             "it or raise --minutes")
    start = parse_start(args.start) if args.start is not None else default_start(minutes) - (days - 1) * DAY
    end = start + (days - 1) * DAY + timedelta(minutes=minutes)
    clock = int(end.timestamp() * 1000) if args.start is not None else None
    spoiled = f", {damaged} lines damaged on purpose" if damaged else ""
    daily = f" a day on {days} days" if days > 1 else ""
    description = f"generated sample ({minutes} min{daily} from {start:%Y-%m-%dT%H:%MZ}, " \
                  f"seed {seed}{spoiled})"
    return stream_days(fmt, minutes, seed, start, damaged, days), description, clock


def demo(args: argparse.Namespace, stdin: BinaryIO | None, started: float) -> int:
    flow_input: FlowInput | None = None
    try:
        fmt = parse_format(args.format)
        replay_format = None if args.replay_format is None else parse_format(args.replay_format).text
        check_out(args.out)
        if args.input is not None:
            given = [f"--{name}" for name in SAMPLE_OPTIONS if getattr(args, name) is not None]
            if given:
                one = len(given) == 1
                raise DemoUsageError(f"{' and '.join(given)} {'shapes' if one else 'shape'} the generated "
                                     f"sample and {'does' if one else 'do'} not apply to --input; leave "
                                     f"{'it' if one else 'them'} out")
            flow_input = open_input(args.input, stdin)
            check_input(flow_input, fmt)
            lines: Iterable[str] = flow_input.lines()
            source = "standard input" if args.input == STDIN else args.input
            first = next((line for line in flow_input.head if line.strip()), "")
            clock = None
        else:
            lines, source, clock = sample_source(args, fmt)
            first = ""
        staging = Staging(args.out)
    except (FlowLogFormatError, InputError, OutputError, DemoUsageError) as error:
        if flow_input is not None:
            flow_input.close()
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    # Imported here: a usage error should not pay for moto, DuckDB and the handlers.
    from local.pipeline import CLOUDWATCH, RunOptions, run
    from local.report import render

    options = RunOptions(lines=lines, fmt=fmt, out=staging.path, settings=defaults(), source=source,
                         via=args.source or CLOUDWATCH, clock_ms=clock, started=started,
                         replay_format=replay_format)
    try:
        summary = run(options)
        summary.first_line = shown(first) if first else ""
        summary.seconds = round(time.monotonic() - started, 2)
        (staging.path / "summary.json").write_bytes(summary.as_json())
        staging.commit()
    except (InputError, OSError) as error:
        staging.discard()
        print(f"error: {error}; nothing was written to {args.out}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        staging.discard()
        print(f"interrupted; nothing was written to {args.out}", file=sys.stderr)
        return INTERRUPTED
    except BaseException:
        staging.discard()
        raise
    finally:
        if flow_input is not None:
            flow_input.close()
    print(render(summary, args.out))
    return 0


def main(argv: Sequence[str] | None = None, stdin: BinaryIO | None = None) -> int:
    started = time.monotonic()
    root = parser()
    try:
        args, extra = root.parse_known_args(argv)
        if extra:
            # The demo's own usage, not the top-level one, for a mistyped demo option.
            subparsers = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
            subparsers.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else USAGE_ERROR
    if args.command == "demo":
        return demo(args, stdin, started)
    return USAGE_ERROR


if __name__ == "__main__":
    exit_code = main()
    # Everything is written, closed and printed. Python's own teardown of the libraries loaded (moto,
    # botocore, DuckDB) would add ~0.5 s after "Done in", which is meant to be the time the user waits.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
