"""`make test-pythons`: `make test` once more with each Python the README names, where this machine has it.

Each interpreter gets its own virtualenv under `build/venv-<version>/` (never `.venv`, which `make test`
already ran with), built by the Makefile's own rule, so that each run is what a new user gets from
`make PYTHON=python3.13 test` on a fresh clone. A version is looked for as `python<version>` on PATH
(it must run: a pyenv shim of a version not selected does not), then under pyenv's `versions/`. A
version that is missing is named and skipped, never a failure; the version that runs this tool (the
`.venv` one) is skipped as already tested.

    python -m tools.pythons [--versions 3.11 3.12 3.13]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The versions the README promises (`requires-python = ">=3.11"` in pyproject.toml).
VERSIONS = ("3.11", "3.12", "3.13")


def version_of(python: str) -> str | None:
    """"3.12" for an interpreter that runs, None for one that does not (missing, broken, a bare shim)."""
    try:
        done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def pyenv_candidates(version: str, pyenv_root: Path) -> list[Path]:
    """pyenv's interpreters of `version` (3.12.1, 3.12.10, ...), the newest patch release first."""
    found = [d / "bin" / f"python{version}" for d in (pyenv_root / "versions").glob(f"{version}.*")
             if d.name.removeprefix(f"{version}.").isdigit()]
    return sorted(found, key=lambda path: int(path.parent.parent.name.rsplit(".", 1)[1]), reverse=True)


def find_python(version: str, pyenv_root: Path | None) -> str | None:
    """The first interpreter of `version` that runs: `python<version>` on PATH, else one of pyenv's."""
    candidates: list[str] = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    if pyenv_root is not None:
        candidates += [str(path) for path in pyenv_candidates(version, pyenv_root)]
    return next((python for python in candidates if version_of(python) == version), None)


def default_pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def make_test(version: str, python: str) -> int:
    """`make test` with `python`, in build/venv-<version>; the exit status."""
    command = ["make", "--no-print-directory", "test", f"VENV=build/venv-{version}", f"PYTHON={python}"]
    print(f"test-pythons: Python {version} ({python}): {' '.join(command)}", flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def run(versions: Sequence[str], *, current: str, find: Callable[[str], str | None],
        test: Callable[[str, str], int]) -> tuple[int, list[str]]:
    """Test each version found; the exit status (1 when a version found failed) and one line per version."""
    lines: list[str] = []
    failed = False
    for version in versions:
        if version == current:
            lines.append(f"Python {version}: tested by `make test` (.venv)")
            continue
        python = find(version)
        if python is None:
            lines.append(f"Python {version}: not found on this machine, skipped")
            continue
        status = test(version, python)
        failed = failed or status != 0
        outcome = "passed" if status == 0 else f"FAILED (exit {status})"
        lines.append(f"Python {version} ({python}): make test {outcome} in build/venv-{version}")
    return (1 if failed else 0), lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pythons", description=__doc__.split("\n")[0])
    parser.add_argument("--versions", nargs="+", default=list(VERSIONS), metavar="X.Y",
                        help="the Python versions to try (default: %(default)s)")
    options = parser.parse_args(argv)
    pyenv_root = default_pyenv_root()
    status, lines = run(options.versions, current=f"{sys.version_info[0]}.{sys.version_info[1]}",
                        find=lambda version: find_python(version, pyenv_root), test=make_test)
    print("\n".join(["test-pythons:", *(f"  {line}" for line in lines)]))
    return status


if __name__ == "__main__":
    sys.exit(main())
