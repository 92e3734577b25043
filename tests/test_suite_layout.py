"""The test suite's own rules, checked on its source: what `make unit` leaves out is marked, and the
product's tests take nothing from the demo's command modules (CONTRIBUTING.md, "The layering rules")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import settings

from tests.conftest import hypothesis_profile

TESTS = Path(__file__).resolve().parent
# Calls that run a Pulumi program, build a Lambda's zip or start the local pipeline's services.
SLOW_CALLS = {"run_program", "pipeline_run", "member_run", "central_run", "LocalServices", "build_function",
              "install_dependencies"}
# The demo's command and its steps: `python -m local`, what it prints and writes, its inputs and sample.
DEMO_MODULES = {"local.__main__", "local.report", "local.summary", "local.outdir", "local.inputs",
                "local.query", "local.pipeline", "local.sample", "local.replaying"}
# Tests of the demo itself: test_local_*.py, and the loop the demo shows (replay on the stand-ins).
# test_stack_baseline.py checks the local pipeline's Lambda environments against the stack's: the one place
# where the two must meet.
DEMO_TESTS = {"test_replay_local.py", "test_stack_baseline.py"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def called_names(module: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Call):
            function = node.func
            names.add(function.id if isinstance(function, ast.Name) else getattr(function, "attr", ""))
    return names


def is_marked_slow(module: ast.Module) -> bool:
    for node in module.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            return "pytest.mark.slow" in ast.unparse(node.value)
    return False


def imported_modules(module: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_every_test_module_that_runs_pulumi_builds_zips_or_starts_the_pipeline_is_marked_slow() -> None:
    unmarked = [path.name for path in sorted(TESTS.glob("test_*.py"))
                if called_names(tree(path)) & SLOW_CALLS and not is_marked_slow(tree(path))]
    assert unmarked == [], "add `pytestmark = pytest.mark.slow` (make unit and mutmut leave these out)"


def test_the_products_tests_import_nothing_from_the_demos_command() -> None:
    product = [path for path in sorted(TESTS.glob("*.py"))
               if not path.name.startswith("test_local_") and path.name not in DEMO_TESTS
               and path.name not in {"local_support.py", Path(__file__).name}]
    found = {path.name: sorted(imported_modules(tree(path)) & DEMO_MODULES) for path in product}
    assert {name: modules for name, modules in found.items() if modules} == {}


def test_the_rules_see_a_slow_call_an_unmarked_module_and_a_demo_import() -> None:
    source = ast.parse("import pytest\nfrom local.sample import sample_lines\n"
                       "pytestmark = pytest.mark.skipif(False, reason='x')\n"
                       "def test_x():\n    run_program(program, {})\n")
    assert called_names(source) & SLOW_CALLS == {"run_program"}
    assert not is_marked_slow(source)
    assert imported_modules(source) & DEMO_MODULES == {"local.sample"}
    assert is_marked_slow(ast.parse("import pytest\npytestmark = [pytest.mark.slow]\n"))


@pytest.mark.parametrize(("environ", "profile", "examples"), [
    ({}, "quick", 50),
    ({"CI": "true"}, "thorough", 500),
    ({"CI": "false"}, "quick", 50),
    ({"CI": "true", "HYPOTHESIS_PROFILE": "quick"}, "quick", 50),
])
def test_property_tests_run_quick_locally_and_thorough_on_ci(environ, profile, examples) -> None:
    assert hypothesis_profile(environ) == profile
    assert settings.get_profile(profile).max_examples == examples
