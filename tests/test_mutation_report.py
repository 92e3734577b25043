"""The `make mutate` table: read from the result files mutmut 3 writes, counted as CONTRIBUTING.md says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.mutation_report import main, read_scores, render, score_of, source_paths, with_totals

PYPROJECT = """
[tool.mutmut]
source_paths = ["transform/", "notifier/", "replay/"]
"""


def meta(exit_codes: dict[str, int | None]) -> str:
    """A `mutants/<file>.meta` as mutmut 3.8 writes it."""
    return json.dumps({
        "exit_code_by_key": exit_codes,
        "hash_by_function_name": {"x_put": "0123456789ab"},
        "type_check_error_by_key": {},
        "durations_by_key": {key: 0.1 for key, code in exit_codes.items() if code is not None},
        "estimated_durations_by_key": {key: 0.1 for key in exit_codes},
    }, indent=4)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A finished run: reingest has every outcome, payload all killed, counters was not run at all."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    mutants = tmp_path / "mutants"
    (mutants / "transform").mkdir(parents=True)
    (mutants / "notifier").mkdir()
    (mutants / "transform" / "reingest.py.meta").write_text(meta({
        "transform.reingest.x_batches__mutmut_1": 1,    # killed
        "transform.reingest.x_batches__mutmut_2": 1,    # killed
        "transform.reingest.x_batches__mutmut_3": 3,    # killed (pytest internal error)
        "transform.reingest.x_batches__mutmut_4": 0,    # survived
        "transform.reingest.x_batches__mutmut_5": 33,   # no tests
        "transform.reingest.x_batches__mutmut_6": 36,   # timeout
        "transform.reingest.x_batches__mutmut_7": -24,  # timeout (SIGXCPU)
        "transform.reingest.x_batches__mutmut_8": 35,   # suspicious
        "transform.reingest.x_batches__mutmut_9": 34,   # skipped: not scored
    }))
    (mutants / "transform" / "payload.py.meta").write_text(meta({
        f"transform.payload.x_parse_message__mutmut_{i}": 1 for i in range(1, 5)
    }))
    (mutants / "transform" / "__init__.py.meta").write_text(meta({}))
    (mutants / "notifier" / "counters.py.meta").write_text(meta({
        "notifier.counters.xǁHeavyHittersǁprune__mutmut_1": None,
    }))
    return tmp_path


def test_each_outcome_is_counted_and_caught_means_killed_or_timed_out(project: Path) -> None:
    scores = {s.module: s for s in read_scores(project / "mutants", ["transform", "notifier", "replay"])}
    assert set(scores) == {"transform/reingest.py", "transform/payload.py", "notifier/counters.py"}
    reingest = scores["transform/reingest.py"]
    assert (reingest.mutants, reingest.killed, reingest.survived, reingest.no_tests, reingest.timeout,
            reingest.other, reingest.not_scored) == (8, 3, 1, 1, 2, 1, 1)
    assert reingest.score == pytest.approx(100 * 5 / 8)
    assert scores["transform/payload.py"].score == 100.0
    assert scores["notifier/counters.py"].mutants == 0
    assert scores["notifier/counters.py"].score is None


def test_table_has_a_row_per_module_a_total_per_package_and_an_overall_total(project: Path) -> None:
    rows = with_totals(read_scores(project / "mutants", source_paths(project / "pyproject.toml")))
    assert [r.module for r in rows] == [
        "transform/payload.py", "transform/reingest.py", "transform/ total",
        "notifier/counters.py", "notifier/ total", "all",
    ]
    table = render(rows).splitlines()
    assert table[0].split() == ["module", "mutants", "killed", "survived", "no", "tests", "timeout", "other",
                                "score", "%"]
    assert table[2].split() == ["transform/payload.py", "4", "4", "0", "0", "0", "0", "100.0"]
    assert table[3].split() == ["transform/reingest.py", "8", "3", "1", "1", "2", "1", "62.5"]
    assert table[4].split() == ["transform/", "total", "12", "7", "1", "1", "2", "1", "75.0"]
    assert table[5].split() == ["notifier/counters.py", "0", "0", "0", "0", "0", "0", "-"]
    assert table[-1].split() == ["all", "12", "7", "1", "1", "2", "1", "75.0"]
    assert len({len(line) for line in table}) == 1  # columns line up


def test_exit_status_fails_only_when_asked_and_a_module_is_below(project: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--mutants-dir", str(project / "mutants"), "--pyproject", str(project / "pyproject.toml")]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "transform/reingest.py" in out.out
    assert "notifier" not in out.out  # nothing of it was run
    assert "2 mutants not run or skipped" in out.out
    assert main([*args, "--fail-under", "60"]) == 0
    assert main([*args, "--fail-under", "90"]) == 1
    assert "below 90%: transform/reingest.py" in capsys.readouterr().err


def test_no_results_tells_the_user_to_run_make_mutate(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    args = ["--mutants-dir", str(tmp_path / "mutants"), "--pyproject", str(tmp_path / "pyproject.toml")]
    assert main(args) == 1
    assert "run `make mutate` first" in capsys.readouterr().err


def test_score_of_an_empty_module_is_none() -> None:
    assert score_of("contracts/environment.py", {}).score is None
