"""Lambda zips built by the program itself: package code + contracts/ + runtime deps for the target.

Built synchronously while the program runs (preview and up alike), never inside an `apply`, so the
engine sees a plain file archive. Dependencies are installed once per input hash into `build/` with
`pip install --platform ... --only-binary=:all:` against the pinned `requirements.txt`; zips are
deterministic (sorted entries, fixed timestamps and modes), so an unchanged program yields the same
bytes, the same `source_code_hash`, and `pulumi up` redeploys nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from modulefinder import ModuleFinder
from pathlib import Path

import pulumi

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "build" / "lambda"
REQUIREMENTS = ROOT / "requirements.txt"
SHARED_PACKAGE = "contracts"

# The Lambda runtime and the Python version its dependencies are installed for. pulumi-aws 7.51's
# Runtime enum has python3.14, the newest Python that Lambda runs.
LAMBDA_RUNTIME = "python3.14"
LAMBDA_PYTHON_VERSION = "3.14"

# Lambda's python3.14 runs on Amazon Linux 2023 (glibc 2.34): both manylinux tags install there.
PLATFORMS: dict[str, tuple[str, ...]] = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}

# The runtime provides these (and ships its own boto3 versions); anything pip pulls in is removed.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Bump to invalidate every cached dependency tree (e.g. after changing what is pruned).
CACHE_VERSION = "1"
# 1980-01-01 is the earliest timestamp a zip can hold.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DATADOG_PACKAGE = "datadog_api_client"
# What the notifier always needs from the client besides what it imports by name.
DATADOG_ROOTS = ("datadog_api_client.v1.api.events_api",)


class PackagingError(RuntimeError):
    """A Lambda package that cannot be built; the message says what to fix."""


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda: its package directory and the distributions it needs at run time."""

    package: str
    requirements: tuple[str, ...]
    trim_datadog: bool = False


FUNCTIONS: dict[str, FunctionSpec] = {
    "transform": FunctionSpec("transform", ("orjson", "aws-lambda-powertools")),
    "notifier": FunctionSpec(
        "notifier",
        (
            "datadog-api-client", "python-dateutil", "urllib3", "certifi", "typing_extensions",
            "orjson", "aws-lambda-powertools",
        ),
        trim_datadog=True,
    ),
}


@dataclass(frozen=True)
class Target:
    """What the dependencies are installed for."""

    architecture: str
    python_version: str = LAMBDA_PYTHON_VERSION
    platforms: tuple[str, ...] = field(default=())

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        if self.platforms:
            return self.platforms
        try:
            return PLATFORMS[self.architecture]
        except KeyError:
            raise PackagingError(
                f"no Lambda platform for architecture {self.architecture!r}; use one of {sorted(PLATFORMS)}"
            ) from None

    @property
    def label(self) -> str:
        return f"{self.architecture}-py{self.python_version}"


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip: its path, the base64 SHA-256 Lambda calls `CodeSha256`, and its size."""

    path: Path
    sha256_base64: str
    size: int

    def archive(self) -> pulumi.Archive:
        return pulumi.FileArchive(str(self.path))


def build_function(name: str, target: Target, out_dir: Path = BUILD_DIR) -> LambdaPackage:
    """Build (or reuse) the zip of function `name` for `target`."""
    spec = FUNCTIONS[name]
    package_dir = ROOT / spec.package
    if not (package_dir / "handler.py").is_file():
        raise PackagingError(f"{package_dir / 'handler.py'} is missing: the {name} Lambda has no entry point")
    deps = install_dependencies(spec.requirements, target, out_dir / "deps")
    files = dict(_source_files(ROOT / spec.package, spec.package))
    files.update(_source_files(ROOT / SHARED_PACKAGE, SHARED_PACKAGE))
    dep_files = dict(_dependency_files(deps))
    if spec.trim_datadog:
        keep = datadog_modules_needed(package_dir, deps)
        dep_files = {arc: path for arc, path in dep_files.items()
                     if not arc.startswith(DATADOG_PACKAGE + "/") or arc in keep}
    overlap = files.keys() & dep_files.keys()
    if overlap:
        raise PackagingError(f"{name}: dependency files shadow the function's code: {sorted(overlap)[:5]}")
    files.update(dep_files)
    data = deterministic_zip(files)
    out = out_dir / f"{name}-{target.label}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Rewrite only on change, so the file (and anything watching its mtime) stays put otherwise.
    if not out.is_file() or out.read_bytes() != data:
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, out)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return LambdaPackage(out, digest, len(data))


def install_dependencies(requirements: Iterable[str], target: Target, cache_dir: Path) -> Path:
    """Install `requirements` (pinned by requirements.txt) for `target` once; return the tree."""
    requirements = tuple(sorted(requirements))
    key_material = json.dumps(
        {
            "requirements": requirements,
            "platforms": target.pip_platforms,
            "python": target.python_version,
            "pins": hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest(),
            "cache": CACHE_VERSION,
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_material.encode()).hexdigest()[:20]
    tree = cache_dir / f"{target.label}-{key}"
    if (tree / ".complete").is_file():
        return tree
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache_dir / f".staging-{key}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--only-binary=:all:", "--implementation", "cp",
        "--python-version", target.python_version, "--target", str(staging),
        "-c", str(REQUIREMENTS),
    ]
    for platform in target.pip_platforms:
        command += ["--platform", platform]
    result = subprocess.run([*command, *requirements], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise PackagingError(
            f"pip could not install {', '.join(requirements)} for {target.label} "
            f"({', '.join(target.pip_platforms)}):\n{result.stderr[-3000:]}"
        )
    _prune(staging)
    (staging / ".complete").write_text(key_material)
    shutil.rmtree(tree, ignore_errors=True)
    os.replace(staging, tree)
    return tree


def _prune(tree: Path) -> None:
    """Remove what the runtime provides and what only describes this host's install."""
    for name in ("bin", *RUNTIME_PROVIDED):
        shutil.rmtree(tree / name, ignore_errors=True)
    for dist_info in tree.glob("*.dist-info"):
        if dist_info.name.split("-")[0].lower().replace("_", "-") in RUNTIME_PROVIDED:
            shutil.rmtree(dist_info)
    for cache in list(tree.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


# Install records list this host's paths and hashes; REQUESTED/INSTALLER say how pip was run.
_DIST_INFO_NOISE = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_SKIP_PARTS = frozenset({"__pycache__", "tests", "test"})


def _dependency_files(tree: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.name == ".complete":
            continue
        relative = path.relative_to(tree)
        parts = relative.parts
        if _SKIP_PARTS.intersection(parts[:-1]) or path.suffix in (".pyc", ".pyo"):
            continue
        if parts[0].endswith(".dist-info") and path.name in _DIST_INFO_NOISE:
            continue
        yield relative.as_posix(), path


def _source_files(directory: Path, arc_root: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(directory.rglob("*.py")):
        relative = path.relative_to(directory)
        if "__pycache__" in relative.parts:
            continue
        yield f"{arc_root}/{relative.as_posix()}", path


def deterministic_zip(files: dict[str, Path]) -> bytes:
    """Sorted entries, a fixed timestamp and mode: the bytes depend only on names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is honoured
            info.external_attr = (0o100644 & 0xFFFF) << 16
            archive.writestr(info, files[arcname].read_bytes(), compresslevel=9)
    return buffer.getvalue()


def datadog_modules_needed(package_dir: Path, tree: Path) -> set[str]:
    """Archive names of the datadog_api_client files the notifier can reach.

    The standard library's ModuleFinder follows every import of the notifier's sources through the
    installed client, including imports inside functions and `TYPE_CHECKING` blocks (the client imports
    models lazily inside `openapi_types`), plus the Events API. The other installed packages are not
    followed (they ship whole). The client's core modules (the package's top level) stay whole too.
    """
    tree = tree.resolve()  # found modules' files are absolute
    others = {path.name.split(".")[0] for path in tree.iterdir()} - {DATADOG_PACKAGE}
    finder = ModuleFinder(path=[str(tree)], excludes=sorted(others))
    for source in sorted(package_dir.rglob("*.py")):
        finder.run_script(str(source))
    for root in DATADOG_ROOTS:
        finder.import_hook(root)
    # Each found module records its file as `__file__` (typeshed leaves ModuleFinder's Module bare).
    files = {name: getattr(module, "__file__", None) for name, module in finder.modules.items()}
    reached = {Path(file) for name, file in files.items() if name.split(".")[0] == DATADOG_PACKAGE and file}
    core = {path for path in (tree / DATADOG_PACKAGE).iterdir() if path.is_file()}
    return {path.relative_to(tree).as_posix() for path in reached | core}
