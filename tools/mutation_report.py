"""The per-module table of a mutmut run (`make mutate`): how many mutants the tests kill, file by file.

mutmut 3 records one exit code per mutant in `mutants/<source file>.meta` (JSON, `exit_code_by_key`).
A mutant counts as caught when a test failed (killed) or the suite ran into the time limit (timeout,
e.g. a `continue` turned into an endless loop). Survived and "no tests" (no selected test even runs
the function) count against the score. Mutants not run (a narrowed `make mutate MUTANTS=...`) and
mutmut's "skipped" are left out of the score. Lines that only word a message are never mutated (see
`do_not_mutate_patterns` in pyproject.toml), so they do not appear here at all.

    python -m tools.mutation_report [--mutants-dir mutants] [--fail-under 90]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mutmut.stats import status_by_exit_code  # mutmut's own meaning of each exit code

CAUGHT = ("killed", "timeout")
NOT_SCORED = ("not checked", "skipped")


@dataclass(frozen=True)
class ModuleScore:
    module: str
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    timeout: int = 0
    # suspicious, segfault, caught by type check, interrupted: rare; shown so that nothing is hidden.
    other: int = 0
    not_scored: int = 0

    @property
    def mutants(self) -> int:
        """The mutants that were run and count in the score."""
        return self.killed + self.survived + self.no_tests + self.timeout + self.other

    @property
    def score(self) -> float | None:
        """Percentage of the run mutants the tests caught; None when none were run."""
        return 100 * (self.killed + self.timeout) / self.mutants if self.mutants else None

    def __add__(self, other: ModuleScore) -> ModuleScore:
        return ModuleScore(
            self.module,
            self.killed + other.killed,
            self.survived + other.survived,
            self.no_tests + other.no_tests,
            self.timeout + other.timeout,
            self.other + other.other,
            self.not_scored + other.not_scored,
        )


def score_of(module: str, exit_code_by_key: Mapping[str, int | None]) -> ModuleScore:
    counts = {"killed": 0, "survived": 0, "no tests": 0, "timeout": 0, "other": 0, "not scored": 0}
    for exit_code in exit_code_by_key.values():
        status = status_by_exit_code[exit_code]
        if status in NOT_SCORED:
            counts["not scored"] += 1
        elif status in counts:
            counts[status] += 1
        else:
            counts["other"] += 1
    return ModuleScore(
        module,
        killed=counts["killed"],
        survived=counts["survived"],
        no_tests=counts["no tests"],
        timeout=counts["timeout"],
        other=counts["other"],
        not_scored=counts["not scored"],
    )


def source_paths(pyproject: Path) -> list[str]:
    """`[tool.mutmut] source_paths`, the directories mutmut mutates."""
    config = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return [str(path).rstrip("/") for path in config["source_paths"]]


def read_scores(mutants_dir: Path, packages: Iterable[str]) -> list[ModuleScore]:
    """One score per mutated source file that has mutants, in path order."""
    scores = []
    for package in packages:
        for meta in sorted((mutants_dir / package).rglob("*.py.meta")):
            exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
            if exit_codes:
                module = meta.relative_to(mutants_dir).as_posix().removesuffix(".meta")
                scores.append(score_of(module, exit_codes))
    return scores


def total(name: str, scores: Iterable[ModuleScore]) -> ModuleScore:
    result = ModuleScore(name)
    for score in scores:
        result = result + score
    return result


def with_totals(scores: list[ModuleScore]) -> list[ModuleScore]:
    """The modules, each package followed by its total, then the total of all."""
    rows: list[ModuleScore] = []
    for package in dict.fromkeys(s.module.split("/")[0] for s in scores):
        members = [s for s in scores if s.module.split("/")[0] == package]
        rows.extend(members)
        rows.append(total(f"{package}/ total", members))
    rows.append(total("all", scores))
    return rows


def render(rows: list[ModuleScore]) -> str:
    header = ("module", "mutants", "killed", "survived", "no tests", "timeout", "other", "score %")
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        score = "-" if row.score is None else f"{row.score:.1f}"
        lines.append((row.module, *(str(n) for n in (row.mutants, row.killed, row.survived, row.no_tests,
                                                      row.timeout, row.other)), score))
    width = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(c.ljust(width[0]) if i == 0 else c.rjust(width[i]) for i, c in enumerate(line))
            for line in lines]
    text.insert(1, "  ".join("-" * w for w in width))
    return "\n".join(text)


def below(scores: list[ModuleScore], threshold: float) -> list[ModuleScore]:
    return [s for s in scores if s.score is not None and s.score < threshold]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants-dir", type=Path, default=Path("mutants"))
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument("--fail-under", type=float, help="exit 1 if a module scores below this percentage")
    args = parser.parse_args(argv)
    scores = read_scores(args.mutants_dir, source_paths(args.pyproject))
    if not scores:
        print(f"no mutmut results under {args.mutants_dir}/: run `make mutate` first", file=sys.stderr)
        return 1
    # A narrowed run (`make mutate MUTANTS=...`) leaves the other modules without a result: not shown.
    print(render(with_totals([s for s in scores if s.mutants])))
    not_run = sum(s.not_scored for s in scores)
    if not_run:
        print(f"({not_run} mutants not run or skipped by mutmut are left out of the table)")
    print("List the survivors with `.venv/bin/mutmut results`; see one with `.venv/bin/mutmut show <name>`.")
    if args.fail_under is not None and (weak := below(scores, args.fail_under)):
        print(f"below {args.fail_under:g}%: {', '.join(s.module for s in weak)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
