"""Pointers into docs/architecture.md name sections that exist, so a reader following one lands somewhere."""

from __future__ import annotations

import re
import subprocess

from infra.packaging import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
# What `make` and the tools write beside the sources (see .gitignore).
UNTRACKED_DIRS = {"build", "mutants", "local-run"}
POINTER = re.compile(r"docs/architecture\.md, ([A-Z][A-Za-z0-9 -]*[A-Za-z0-9])")


def headings() -> set[str]:
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    return {line.lstrip("#").strip() for line in lines if line.startswith("#")}


def repository_files(*suffixes: str) -> list[str]:
    """The repository's files ending in one of `suffixes`, as `git ls-files` names them."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False)
    names = listed.stdout.split() if listed.returncode == 0 else []
    if not names:  # not a checkout of its own (mutmut's copy in mutants/, which git ignores): what is on disk
        on_disk = (path.relative_to(ROOT) for path in ROOT.rglob("*") if path.is_file())
        names = [str(path) for path in on_disk
                 if not any(part.startswith(".") or part in UNTRACKED_DIRS for part in path.parts)]
    return sorted(name for name in names if name.endswith(suffixes))


def tracked_text_files() -> list[str]:
    return [name for name in repository_files(".py", ".md", ".yaml", ".toml") if ROOT / name != ARCHITECTURE]


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


# Markdown links between the repository's own pages: `[text](target)`, outside code blocks and spans.
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`[^`]*`")


def markdown_pages() -> list[str]:
    return [name for name in repository_files(".md") if not name.startswith("tests/events/")]


def prose(text: str) -> str:
    """The page without its fenced code blocks and inline code, where a `[x](y)` is no link."""
    kept, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(CODE_SPAN.sub("", line))
    return "\n".join(kept)


def anchor_of(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = CODE_SPAN.sub(lambda match: match.group(0).strip("`"), heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: str) -> set[str]:
    text = prose((ROOT / page).read_text(encoding="utf-8")) if (ROOT / page).suffix == ".md" else ""
    return {anchor_of(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def broken_links(page: str) -> list[str]:
    broken = []
    for target in LINK.findall(prose((ROOT / page).read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # https:, mailto:: not ours to check
            continue
        path, _, anchor = target.partition("#")
        linked = (ROOT / page).parent / path if path else ROOT / page
        name = linked.resolve().relative_to(ROOT.resolve()).as_posix()
        if not linked.exists():
            broken.append(f"{page}: {target} (no such file)")
        elif anchor and anchor not in anchors(name):
            broken.append(f"{page}: {target} (no such heading in {name})")
    return broken


def test_every_link_between_the_pages_reaches_a_file_and_heading() -> None:
    pages = markdown_pages()
    assert {"README.md", "docs/architecture.md", "docs/deploy.md", "docs/operate.md"} <= set(pages)
    assert [problem for page in pages for problem in broken_links(page)] == []


def test_every_topic_page_is_linked_from_the_readme() -> None:
    readme = prose((ROOT / "README.md").read_text(encoding="utf-8"))
    linked = {target.partition("#")[0] for target in LINK.findall(readme)}
    topics = {name for name in markdown_pages() if name.startswith("docs/")}
    assert topics - linked == set()


def test_anchor_of_follows_githubs_rule() -> None:
    assert anchor_of(" Re-deploys, names, tags and tearing down") == "re-deploys-names-tags-and-tearing-down"
    assert anchor_of("`python -m preflight`: before `pulumi up`") == "python--m-preflight-before-pulumi-up"
    assert anchor_of("Replay failed records") == "replay-failed-records"
