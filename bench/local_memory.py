"""Local pipeline memory: the demo's peak RSS for a 100k-line and a 1M-line input must be about the same.

The input is streamed (read, filtered and batched a few minutes of traffic at a time), so memory should
not grow with the input's length. Each run is a fresh process (`python -m bench.local_memory --measure
...`) that runs the demo command in-process and reports its own peak RSS (`ru_maxrss`). The inputs are
gzip flow-log files, as S3 delivers them, with their header line.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from contracts.flowlog import parse_format

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100_000, 1_000_000)
# A streamed input holds a bounded window; what still grows (the archive moto keeps in memory, the
# per-object summary) is small. Above this ratio memory grows with the input.
MAX_RATIO = 1.5
MINUTES_PER_100K = 130  # the sample writes ~780 lines a minute


def write_input(path: Path, lines: int) -> None:
    from local.sample import stream_sample

    fmt = parse_format(None)
    start = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    minutes = MINUTES_PER_100K * (lines // 100_000 + 1)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as handle:
        handle.write(" ".join(fmt.fields) + "\n")
        for count, line in enumerate(stream_sample(fmt, minutes, 3, start), start=1):
            handle.write(line + "\n")
            if count == lines:
                return
    raise RuntimeError(f"the sample gave fewer than {lines} lines; raise MINUTES_PER_100K")


def measured(*arguments: str) -> tuple[int, float]:
    """Peak RSS (KiB on Linux) and wall seconds of the demo run with `arguments`, in a fresh process."""
    done = subprocess.run([sys.executable, "-m", "bench.local_memory", "--measure", *arguments], cwd=ROOT,
                          check=True, capture_output=True, text=True)
    report = json.loads(done.stdout.splitlines()[-1])
    return report["max_rss_kib"], report["seconds"]


def measure(arguments: list[str]) -> None:
    import time

    from local.__main__ import main

    started = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["demo", *arguments])
    if code != 0:
        raise SystemExit(code)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        rss //= 1024  # bytes there, KiB on Linux
    print(json.dumps({"max_rss_kib": rss, "seconds": round(time.monotonic() - started, 1)}))


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        root = Path(scratch)
        peaks = {}
        for lines in SIZES:
            path = root / f"flows-{lines}.log.gz"
            write_input(path, lines)
            rss, seconds = measured("--input", str(path), "--out", str(root / f"out-{lines}"))
            peaks[lines] = rss
            print(f"{lines:>9,} input lines: peak RSS {rss / 1024:6.0f} MiB  ({seconds:.0f} s)", flush=True)
        ratio = peaks[SIZES[1]] / peaks[SIZES[0]]
        verdict = "met" if ratio <= MAX_RATIO else "MISSED: memory grows with the input"
        print(f"peak RSS {SIZES[1]:,} / {SIZES[0]:,} lines: {ratio:.2f}x  (target <= {MAX_RATIO}x) {verdict}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(sys.argv[2:])
    else:
        run()
