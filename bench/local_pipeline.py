"""Local pipeline speed: `make demo`'s default run and a 100k-line input, each as the command a user runs.

Targets: each under 60 s on a 2-core machine. Timed as whole processes (interpreter start,
imports, servers, the real handlers, DuckDB), since that is what a user waits for.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from contracts.flowlog import parse_format
from local.sample import sample_lines

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0
LARGE_INPUT_LINES = 100_000
# The sample writes ~780 lines a minute; enough minutes for the large input.
LARGE_INPUT_MINUTES = 140


def timed_demo(*arguments: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "local", "demo", *arguments], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def large_input(path: Path) -> None:
    start = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    lines = sample_lines(parse_format(None), LARGE_INPUT_MINUTES, 3, start)[:LARGE_INPUT_LINES]
    if len(lines) < LARGE_INPUT_LINES:
        raise RuntimeError(f"the sample gave only {len(lines)} lines; raise LARGE_INPUT_MINUTES")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-local-") as scratch:
        root = Path(scratch)
        default = timed_demo("--out", str(root / "default"))
        print(f"make demo (default sample): {default:6.1f} s  (target < {TARGET_SECONDS:.0f} s)", flush=True)
        flows = root / "flows.log"
        large_input(flows)
        large = timed_demo("--input", str(flows), "--out", str(root / "large"))
        print(f"{LARGE_INPUT_LINES:,} input lines:      {large:6.1f} s  (target < {TARGET_SECONDS:.0f} s)")
        verdict = "met" if max(default, large) < TARGET_SECONDS else "MISSED"
        print(f"targets {verdict}")


if __name__ == "__main__":
    run()
