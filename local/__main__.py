"""`python -m local demo`: the whole pipeline on this machine (what `make demo` runs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from contracts.flowlog import DEFAULT_FORMAT, FlowLogFormatError, parse_format
from contracts.settings import defaults

DEFAULT_OUT = Path("local-run")
DEFAULT_MINUTES = 15
DEFAULT_SEED = 7
DEFAULT_DAMAGED = 2
USAGE_ERROR = 2


class InputError(ValueError):
    """A missing input file or a bad format: reported on one line, exit code 2."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run flow logs through the local pipeline and print what came out",
        description="Flow-log lines -> CloudWatch filter -> Firehose + transform -> S3 (moto) -> notifier "
                    "-> Datadog intake, then the Athena named queries with DuckDB.",
    )
    demo.add_argument("--input", type=Path, help="flow-log lines, one per line (default: a generated sample)")
    demo.add_argument("--format", default=DEFAULT_FORMAT,
                      help="the lines' format in AWS's ${field} syntax (default: version 2)")
    demo.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: local-run/)")
    demo.add_argument("--minutes", type=int, default=DEFAULT_MINUTES,
                      help=f"minutes of generated traffic (default {DEFAULT_MINUTES})")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the generated sample")
    demo.add_argument("--damaged", type=int, default=DEFAULT_DAMAGED,
                      help="REJECT lines of the generated sample to spoil, to show where bad input goes "
                           f"(default {DEFAULT_DAMAGED}; 0 for none)")
    return root


def read_lines(args: argparse.Namespace) -> tuple[list[str], str]:
    fmt = parse_format(args.format)
    if args.input is None:
        from local.sample import damage, default_start, sample_lines

        if args.minutes < 1:
            raise InputError("--minutes must be at least 1")
        if args.damaged < 0:
            raise InputError("--damaged must be 0 or more")
        lines = sample_lines(fmt, args.minutes, args.seed, default_start(args.minutes))
        lines = damage(lines, fmt, args.damaged, args.seed)
        spoiled = f", {args.damaged} lines damaged on purpose" if args.damaged else ""
        return lines, f"generated sample ({args.minutes} min, seed {args.seed}{spoiled})"
    try:
        text = args.input.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"input file {args.input} does not exist") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read input file {args.input}: {error}") from None
    return text.splitlines(), str(args.input)


def demo(args: argparse.Namespace) -> int:
    try:
        fmt = parse_format(args.format)
        lines, source = read_lines(args)
    except (FlowLogFormatError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    # Imported here: a usage error should not pay for moto, DuckDB and the handlers.
    from local.pipeline import RunOptions, run
    from local.report import render

    summary = run(RunOptions(lines=lines, fmt=fmt, out=args.out, settings=defaults(), source=source))
    print(render(summary, args.out))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "demo":
        return demo(args)
    return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
