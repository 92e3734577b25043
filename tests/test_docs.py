"""Pointers into docs/architecture.md name sections that exist, so a reader following one lands somewhere."""

from __future__ import annotations

import re
import subprocess

from infra.packaging import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
POINTER = re.compile(r"docs/architecture\.md, ([A-Z][A-Za-z0-9 -]*[A-Za-z0-9])")


def headings() -> set[str]:
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    return {line.lstrip("#").strip() for line in lines if line.startswith("#")}


def tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    names = [name for name in listed.stdout.split() if name.endswith((".py", ".md", ".yaml", ".toml"))]
    return [name for name in names if ROOT / name != ARCHITECTURE]


def test_every_pointer_names_a_section_of_the_architecture() -> None:
    sections = headings()
    pointers = {
        (name, match.group(1))
        for name in tracked_text_files()
        for match in POINTER.finditer((ROOT / name).read_text(encoding="utf-8"))
    }
    assert pointers, "no file points into docs/architecture.md"
    assert {(name, section) for name, section in pointers if section not in sections} == set()


def test_architecture_has_a_section_per_contract() -> None:
    assert {"Data flow", "The transform", "The archived record", "The S3 layout", "The notifier", "The stack",
            "Replay", "Platform facts"} <= headings()
