"""The stack program (infra/program.py, all `__main__.py` runs) under Pulumi's mocks, with real Lambda zips.

The zips come from infra.packaging's cache under build/ (test_packaging fills it; the first run here
builds it otherwise, ~30 s).
"""

from __future__ import annotations

import base64
import hashlib
import json
import runpy
from pathlib import Path

import pulumi
import pytest

from infra import program
from infra.packaging import BUILD_DIR, LAMBDA_RUNTIME, ROOT
from tests.stack_support import CONFIGS, FAKE_API_KEY, SECRET_SIG_KEY, Run, run_program

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

MAIN = ROOT / "__main__.py"


def run_main(config_name: str) -> Run:
    """The program as `pulumi up` runs it: real zips, the outputs `__main__.py` exports."""
    return run_program(lambda: program.run(pulumi.Config()), CONFIGS[config_name])


@pytest.fixture(scope="module", params=["default", "vpcs"])
def main_run(request: pytest.FixtureRequest) -> tuple[str, Run]:
    return request.param, run_main(request.param)


def test_main_builds_real_zips_and_hashes_them(main_run) -> None:
    _, result = main_run
    functions = result.of_type("aws:lambda/function:Function")
    handlers = {f.inputs["handler"] for f in functions}
    assert handlers == {"transform.handler.handler", "notifier.handler.handler"}
    for function in functions:
        code = function.inputs["code"]
        assert isinstance(code, pulumi.FileArchive)
        path = Path(code.path)
        package = function.inputs["handler"].split(".")[0]
        assert path == BUILD_DIR / f"{package}-arm64-py3.14.zip"
        digest = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
        assert function.inputs["sourceCodeHash"] == digest
        assert function.inputs["runtime"] == LAMBDA_RUNTIME
        assert function.inputs["architectures"] == ["arm64"]


def test_main_exports_every_output_and_no_secret(main_run) -> None:
    name, result = main_run
    assert {"bucketName", "deliveryStreamName", "transformFunctionName", "notifierFunctionName",
            "logGroupName", "glueDatabaseName", "glueTableName", "athenaWorkgroupName", "athenaNamedQueryIds",
            "deadLetterQueueUrl"} <= set(result.exports)
    assert len(result.exports["flowLogIds"]) == len(CONFIGS[name].get("vpcIds", []))
    assert FAKE_API_KEY not in json.dumps(result.exports, default=str)
    version = result.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretString"][SECRET_SIG_KEY]
    for resource in result.resources:
        if resource is not version:
            assert FAKE_API_KEY not in json.dumps(resource.inputs, default=str), resource.name


def test_main_twice_gives_the_same_code_hashes() -> None:
    def hashes(run: Run) -> dict[str, str]:
        functions = run.of_type("aws:lambda/function:Function")
        return {f.inputs["name"]: f.inputs["sourceCodeHash"] for f in functions}

    assert hashes(run_main("default")) == hashes(run_main("default"))


def test_main_py_registers_what_the_program_registers() -> None:
    def registered(run: Run) -> list[tuple[str, str]]:
        return sorted((r.type, r.name) for r in run.resources)

    def main_py() -> None:
        runpy.run_path(str(MAIN), run_name="__main__")

    through_main = run_program(main_py, CONFIGS["vpcs"])
    assert registered(through_main) == registered(run_main("vpcs"))


def test_main_rejects_a_missing_api_key() -> None:
    config = {key: value for key, value in CONFIGS["default"].items()}

    def without_key() -> None:
        pulumi.runtime.set_all_config({f"rejected-flows:{k}": json.dumps(v) for k, v in config.items()}, [])
        runpy.run_path(str(MAIN), run_name="__main__")

    with pytest.raises(pulumi.ConfigMissingError, match="datadogApiKey"):
        run_program(without_key)
