"""`make bench`: every benchmark, each printing ratios measured side by side in one run."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.transform", "bench.notifier", "bench.local_pipeline", "bench.local_memory", "bench.cost",
              "bench.baseline", "bench.week")


def main(selected: list[str]) -> int:
    if selected[:1] == ["cost"] and len(selected) > 1:  # python -m bench cost --gb-per-month N ...
        return importlib.import_module("bench.cost").main(selected[1:])
    for name in BENCHMARKS:
        if selected and name.rsplit(".", 1)[-1] not in selected:
            continue
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(name).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
