"""The compile needs no network and gives byte-identical output whatever the process around it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TEST_SIGNING_SEED

from base import network_block
from pipeline_defs.loader import module_files

GUARD_SOURCE = Path(network_block.__file__)


def test_in_process_compile_made_no_network_attempt(compiled):
    """The shared fixture compiled with sockets, DNS and botocore sends refused and recorded."""


    assert len(compiled) == len(module_files())
    assert network_block.ATTEMPTS == []


def test_the_guard_really_blocks(offline_guard):
    import socket

    import boto3
    import pytest

    before = len(offline_guard.ATTEMPTS)
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 443), timeout=1)
    client = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with pytest.raises(Exception):
        client.get_caller_identity()
    assert len(offline_guard.ATTEMPTS) >= before + 2
    del offline_guard.ATTEMPTS[before:]


def _checkout_copy(root: Path) -> Path:
    """The package at a different absolute path and depth, with stray bytecode."""
    main = root / "deeper" / "checkout" / "main"
    for package in ("base", "pipeline_defs", "planning", "tools", "tests/pipeline_defs/step_modules"):
        shutil.copytree(REPO_ROOT / package, main / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    bytecode = main / "pipeline_defs" / "jobs" / "abalone_train" / "__pycache__" / "train.cpython-311.pyc"
    bytecode.parent.mkdir()
    bytecode.write_bytes(b"left behind by an editor")
    return main


def _start_compile(
    *, repo: Path, workdir: Path, out: Path, env_changes: dict[str, str], modules: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, Path]:
    guard_dir = workdir / "guard"
    guard_dir.mkdir(parents=True)
    shutil.copy(GUARD_SOURCE, guard_dir / "sitecustomize.py")
    attempts = workdir / "network-attempts.jsonl"
    home = workdir / "home"
    home.mkdir()
    (workdir / "cdk.json").write_text(json.dumps({"context": {"environments": {"sandbox": {}}}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "SAGEMAKER_"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(guard_dir), str(repo)]),
            "PD_INSTALL_GUARD": "1",
            "PD_NETWORK_ATTEMPTS_FILE": str(attempts),
            "PIPELINE_DEFS_SIGNING_SEED": TEST_SIGNING_SEED,
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / "missing-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "missing-credentials"),
        }
    )
    env.update(env_changes)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.compile",
            "--env",
            "sandbox",
            "--out",
            str(out),
            "--root",
            str(workdir),
            *(argument for module in modules for argument in ("--module", str(repo / module))),
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, attempts


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


STEP_MODULES = tuple(
    f"tests/pipeline_defs/step_modules/{path.name}" for path in sorted((REPO_ROOT / "tests/pipeline_defs/step_modules").glob("*.py"))
)


@pytest.mark.parametrize("modules", [(), STEP_MODULES], ids=["pipelines", "step-modules"])
def test_two_processes_differing_in_everything_give_identical_bytes(tmp_path, modules):
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    second_repo = _checkout_copy(tmp_path / "elsewhere")
    runs = [
        _start_compile(
            repo=REPO_ROOT,
            workdir=first_dir,
            out=first_dir / "out",
            env_changes={"TZ": "UTC", "PYTHONHASHSEED": "1", "LANG": "C.UTF-8"},
            modules=modules,
        ),
        _start_compile(
            repo=second_repo,
            workdir=second_dir,
            out=second_dir / "out",
            env_changes={
                "TZ": "Asia/Kathmandu",
                "PYTHONHASHSEED": "4242",
                "PD_SHIFT_CLOCK_DAYS": "400",
                "LANG": "C",
            },
            modules=modules,
        ),
    ]
    for process, _ in runs:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-4000:]
    for _, attempts in runs:
        assert not attempts.exists() or attempts.read_text() == "", attempts.read_text()

    first, second = _tree(first_dir / "out"), _tree(second_dir / "out")
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []
    if modules:
        assert any(name.endswith("/sourcedir.tar.gz") for name in first), "no tuning code was compared"
    else:
        assert any(name.endswith("/payload.pkl") for name in first), "no @step payload was compared"
    assert any("/definitions/" in name for name in first)
    for name, body in first.items():
        assert str(REPO_ROOT).encode() not in body, f"{name} embeds the checkout path"
        assert str(tmp_path).encode() not in body, f"{name} embeds a temporary path"
