"""The Lambda zips: contents per architecture, the trimmed Datadog client works, same inputs same bytes.

Slow on first run: pip downloads the wheels for each target (~15 s each) into build/lambda/deps;
later runs reuse that cache and take a few seconds.
"""

from __future__ import annotations

import http.server
import json
import os
import platform
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from infra.packaging import (
    BUILD_DIR,
    FUNCTIONS,
    LAMBDA_PYTHON_VERSION,
    LAMBDA_RUNTIME,
    ROOT,
    LambdaPackage,
    Target,
    build_function,
    datadog_modules_needed,
    deterministic_zip,
    install_dependencies,
)

pytestmark = pytest.mark.slow

NOTIFIER_LIMIT = 5 * 1024 * 1024
ORJSON_SUFFIX = {"arm64": "aarch64-linux-gnu.so", "x86_64": "x86_64-linux-gnu.so"}


def host_target() -> Target:
    """A variant installed for this machine's Python, so the test can import the trimmed tree."""
    machine = platform.machine()
    arch = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if arch is None or sys.platform != "linux":
        pytest.skip(f"no manylinux wheels for this host ({sys.platform} {machine})")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    wheel_arch = "x86_64" if arch == "x86_64" else "aarch64"
    return Target(arch, version, (f"manylinux2014_{wheel_arch}", f"manylinux_2_28_{wheel_arch}"))


@pytest.fixture(scope="module", params=["arm64", "x86_64"])
def lambda_zips(request: pytest.FixtureRequest) -> tuple[str, dict[str, LambdaPackage]]:
    arch = request.param
    return arch, {name: build_function(name, Target(arch)) for name in FUNCTIONS}


def names(package: LambdaPackage) -> list[str]:
    with zipfile.ZipFile(package.path) as archive:
        return archive.namelist()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulumi_aws.lambda_ loads deprecated resources
def test_runtime_is_the_newest_python_pulumi_aws_knows() -> None:
    from pulumi_aws.lambda_ import Runtime

    pythons = sorted(tuple(int(p) for p in r.value[len("python"):].split(".")) for r in Runtime
                      if r.value.startswith("python3."))
    assert "python{}.{}".format(*pythons[-1]) == LAMBDA_RUNTIME
    assert f"python{LAMBDA_PYTHON_VERSION}" == LAMBDA_RUNTIME


def test_transform_zip_has_code_contracts_and_orjson_for_the_arch(lambda_zips) -> None:
    arch, packages = lambda_zips
    entries = names(packages["transform"])
    assert "transform/handler.py" in entries
    assert {"contracts/__init__.py", "contracts/flowlog.py", "contracts/layout.py"} <= set(entries)
    native = [n for n in entries if n.startswith("orjson/") and n.endswith(".so")]
    py = LAMBDA_PYTHON_VERSION.replace(".", "")
    assert native == [f"orjson/orjson.cpython-{py}-{ORJSON_SUFFIX[arch]}"]
    assert any(n.startswith("aws_lambda_powertools/logging/") for n in entries)


def test_zips_carry_no_runtime_provided_or_host_noise(lambda_zips) -> None:
    _, packages = lambda_zips
    for package in packages.values():
        for entry in names(package):
            top = entry.split("/")[0]
            assert top not in {"boto3", "botocore", "s3transfer", "bin"}, entry
            assert "__pycache__" not in entry and not entry.endswith(".pyc"), entry
            assert not entry.endswith(".dist-info/RECORD"), entry
            assert "/tests/" not in entry, entry


def test_zip_entries_are_sorted_with_fixed_time_and_mode(lambda_zips) -> None:
    _, packages = lambda_zips
    with zipfile.ZipFile(packages["notifier"].path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_notifier_zip_is_trimmed_below_5_mb(lambda_zips) -> None:
    _, packages = lambda_zips
    notifier = packages["notifier"]
    entries = names(notifier)
    assert notifier.size <= NOTIFIER_LIMIT, f"notifier zip is {notifier.size / 1e6:.1f} MB"
    assert "notifier/handler.py" in entries
    assert "datadog_api_client/v1/api/events_api.py" in entries
    assert not any(n.startswith("datadog_api_client/v2/") for n in entries)
    assert "datadog_api_client/v1/models/__init__.py" not in entries  # imports every v1 model


def test_trim_follows_every_datadog_import_of_the_notifier() -> None:
    tree = install_dependencies(FUNCTIONS["notifier"].requirements, Target("arm64"), BUILD_DIR / "deps")
    keep = datadog_modules_needed(ROOT / "notifier", tree)
    for module in ("event_create_request", "event_create_response", "event", "event_alert_type",
                   "event_priority"):
        assert f"datadog_api_client/v1/model/{module}.py" in keep
    assert "datadog_api_client/model_utils.py" in keep


def test_same_inputs_give_the_same_bytes(lambda_zips, tmp_path: Path) -> None:
    arch, packages = lambda_zips
    first = packages["notifier"]
    again = build_function("notifier", Target(arch))
    assert again.sha256_base64 == first.sha256_base64
    # Timestamps and modes of the inputs do not leak into the zip.
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    before = deterministic_zip({"pkg/a.py": source})
    os.utime(source, (1_900_000_000, 1_900_000_000))
    source.chmod(0o700)
    assert deterministic_zip({"pkg/a.py": source}) == before


@pytest.fixture(scope="module")
def unpacked_host_notifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    package = build_function("notifier", host_target())
    directory = tmp_path_factory.mktemp("notifier-zip")
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(directory)
    return directory


class _Intake(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"path": self.path, "key": self.headers.get("DD-API-KEY"),
                              "body": json.loads(body)})
        answer = json.dumps({"status": "ok", "event": {"id": 42, "title": "t", "url": "u"}}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def intake() -> Iterator[tuple[str, list[dict]]]:
    _Intake.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Intake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Intake.received
    server.shutdown()


# What Lambda's Python runtime puts on sys.path after the function's own code (/var/task): boto3 and
# what it needs.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


@pytest.fixture(scope="module")
def runtime_stand_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the runtime-provided packages, linked from this venv: the zip must bring everything else."""
    import importlib.util

    directory = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            (directory / name).symlink_to(origin.parent, target_is_directory=True)
        else:
            (directory / origin.name).symlink_to(origin)
    return directory


_POST_FROM_ZIP = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[3]]
import notifier.handler
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.model.event_alert_type import EventAlertType
from datadog_api_client.v1.model.event_create_request import EventCreateRequest
config = Configuration(host=sys.argv[2])
config.api_key["apiKeyAuth"] = "zip-test-key"
with ApiClient(config) as client:
    response = EventsApi(client).create_event(EventCreateRequest(
        title="3 rejected flows", text="%%%\\nfrom the zip\\n%%%", tags=["source:rejected-flows"],
        alert_type=EventAlertType.WARNING))
assert response.event.id == 42, response
outside = sorted(m.__file__ for m in list(sys.modules.values())
                 if getattr(m, "__file__", None) and "site-packages" in m.__file__)
assert not outside, outside
runtime = {m.__name__.split(".")[0] for m in list(sys.modules.values())
           if (getattr(m, "__file__", None) or "").startswith(sys.argv[3])}
assert runtime <= {"boto3", "botocore", "s3transfer", "jmespath"}, runtime  # the rest is the zip's
print(sorted(m for m in sys.modules if m.startswith("datadog_api_client.v")))
"""


def test_trimmed_zip_imports_the_notifier_and_posts_an_event(
    unpacked_host_notifier: Path, runtime_stand_in: Path, intake,
) -> None:
    url, received = intake
    # -I -S: no site-packages, no user site, no PYTHONPATH: only the stdlib, the unpacked zip, and
    # after it what the Lambda runtime provides (boto3 and botocore), as on Lambda.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _POST_FROM_ZIP, str(unpacked_host_notifier), url,
         str(runtime_stand_in)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert not any(".v2." in m for m in result.stdout.split())
    assert len(received) == 1
    assert received[0]["path"] == "/api/v1/events"
    assert received[0]["key"] == "zip-test-key"
    assert received[0]["body"]["alert_type"] == "warning"


def test_transform_zip_imports_its_handler_alone(tmp_path: Path, runtime_stand_in: Path) -> None:
    package = build_function("transform", host_target())
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(tmp_path)
    script = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import transform.handler, orjson; "
        "assert orjson.__file__.startswith(sys.argv[1]); "
        "assert not [m for m in list(sys.modules.values())"
        " if 'site-packages' in (getattr(m, '__file__', '') or '')]"
    )
    result = subprocess.run([sys.executable, "-I", "-S", "-c", script, str(tmp_path), str(runtime_stand_in)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
