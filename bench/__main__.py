"""`make bench`: every benchmark, each printing ratios measured side by side in one run."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.transform", "bench.notifier", "bench.local_pipeline", "bench.local_memory")


def main(selected: list[str]) -> int:
    for name in BENCHMARKS:
        if selected and name.rsplit(".", 1)[-1] not in selected:
            continue
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(name).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
