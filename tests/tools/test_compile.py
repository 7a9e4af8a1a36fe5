"""``python -m tools.compile``: what it writes from the environment's settings, and its exit codes (0, 2 bad input)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from tool_inputs import project_root

from base import network_block
from base.config import PROJECT_ROOT
from support.environments import TEST_REGION, TEST_STEP_IMAGE
from tools.compile import main


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project whose cdk.json holds the tests' environments (prod: explicit account, eu-west-1, its own step image)."""
    return project_root(root=tmp_path / "project")


def test_writes_definitions_staged_files_and_manifests_from_the_environments_settings(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_DEFS_SIGNING_SEED", "cli-test seed, not a secret of any environment")
    out = tmp_path / "out"
    with network_block.blocked():
        assert main(["--env", "prod", "--root", str(root), "--out", str(out)]) == 0
    definition = (out / "prod" / "definitions" / "smp-prod-batch-inference.json").read_text()
    assert TEST_REGION in definition and TEST_STEP_IMAGE in definition and "us-east-1" not in definition
    manifest = json.loads((out / "prod" / "staged" / "smp-prod-batch-inference" / "manifest.json").read_text())
    assert manifest["files"]
    for key, digest in manifest["files"].items():
        assert hashlib.sha256((out / "prod" / "staged" / key).read_bytes()).hexdigest() == digest


def test_a_bad_module_exits_2_naming_it(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIPELINE_DEFS_SIGNING_SEED", "cli-test seed, not a secret of any environment")
    module = tmp_path / "raiser.py"
    module.write_text('PIPELINE_NAME = "raiser"\n\ndef build_pipeline(ctx):\n    raise ValueError("boom")\n')
    with network_block.blocked():
        assert main(["--root", str(root), "--out", str(tmp_path / "out"), "--module", str(module)]) == 2
    err = capsys.readouterr().err
    assert err == "error: module 'raiser.py', pipeline 'smp-sandbox-raiser': build_pipeline raised ValueError: boom; at raiser.py:4: raise ValueError(\"boom\")\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "staging"], "error: --env 'staging' is not an environment of {root}/cdk.json: expected one of ['prod', 'sandbox']"),
        (["--out"], "error: argument --out: expected one argument (see `python -m tools.compile --help`)"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], message: str, root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(root), "--out", str(tmp_path / "out"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(root=root)) and len(err.splitlines()) == 1


def test_bad_settings_exit_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_root(root=tmp_path / "project", environments={"sandbox": {"allowedInstanceTypes": []}})
    assert main(["--root", str(root), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: context 'environments.sandbox.allowedInstanceTypes' is []")


def test_the_module_runs_as_a_command_and_a_root_without_cdk_json_is_bad_input(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.compile", "--root", str(tmp_path), "--out", str(tmp_path / "out")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"error: --root {tmp_path} has no cdk.json: expected the project directory, e.g. {PROJECT_ROOT}\n"
