"""The demo's output folder: only ever replace what an earlier demo wrote, and never show half a run.

A run writes into a hidden sibling of `--out` and renames it into place at the end, so a failed run
leaves `--out` as it was. The folder is marked with `MARKER`; a folder without it that is not empty
belongs to someone else and is refused.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

MARKER = ".rejected-flows-demo"
MB = 1024 * 1024
# The default demo writes ~1 MB and a million-line input ~40 MB; the headroom keeps a nearly full disk
# from failing halfway through.
MIN_FREE_BYTES = 100 * MB


class OutputError(ValueError):
    """An `--out` the demo must not or cannot write: reported on one line, exit code 2."""


def check_out(out: Path) -> None:
    """Every reason `out` cannot take a run, checked before any work starts."""
    if out.is_symlink() or out.exists():
        if not out.is_dir():
            raise OutputError(f"--out {out} is a file; give a folder (new, empty, or an earlier demo's)")
        try:
            entries = [entry.name for entry in out.iterdir()]
        except PermissionError:
            raise OutputError(f"--out {out} cannot be read (permission denied)") from None
        if entries and MARKER not in entries:
            raise OutputError(
                f"--out {out} is not empty and was not made by this demo (it has no {MARKER} file); "
                "give a new or empty folder")
    parent = out.absolute().parent
    if not parent.exists():
        raise OutputError(f"--out {out}: the folder it would go in, {parent}, does not exist")
    if not parent.is_dir():
        raise OutputError(f"--out {out}: {parent} is not a folder")
    free = shutil.disk_usage(parent).free
    if free < MIN_FREE_BYTES:
        raise OutputError(f"--out {out}: only {free / MB:,.0f} MB free on its disk; the demo needs "
                          f"{MIN_FREE_BYTES / MB:,.0f} MB")


class Staging:
    """A hidden sibling of `out` to write a run into; `commit` puts it in place, `discard` removes it."""

    def __init__(self, out: Path):
        check_out(out)
        self.out = out
        parent = out.absolute().parent
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
        except OSError as error:
            raise OutputError(f"--out {out}: cannot write in {parent} ({error.strerror})") from None

    def commit(self) -> None:
        """Mark the run as the demo's and swap it in for `out` (an earlier demo's, or empty)."""
        (self.path / MARKER).write_text("Written by `python -m local demo`; the next demo run with this "
                                        "--out replaces this folder.\n", encoding="utf-8")
        parent = self.path.parent
        previous = None
        if self.out.exists():
            check_out(self.out)  # still empty or ours (nobody wrote into it meanwhile)
            previous = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=parent))
            self.out.rename(previous / "run")
        self.path.rename(self.out)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
