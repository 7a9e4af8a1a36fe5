"""``python -m pipeline_defs run-local``: without a Docker engine it stops at once and names the job tests."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from pipeline_defs.__main__ import main
from pipeline_defs.local_run import docker_engine_problem


def _fake_docker(directory: Path, body: str) -> None:
    script = directory / "docker"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A docker CLI whose daemon is down, as on a laptop with Docker Desktop stopped."""
    _fake_docker(tmp_path, 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_without_an_engine_run_local_exits_3_naming_the_pipelines_job_tests(no_engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run-local", "train-evaluate-register"]) == 3
    err = capsys.readouterr().err
    assert "cannot run smp-sandbox-train-evaluate-register locally: no Docker engine" in err
    assert "Cannot connect to the Docker daemon" in err
    assert err.rstrip().endswith("python -m pytest tests/pipeline_defs/test_pd_jobs_train_evaluate.py")


def test_full_pipeline_names_are_accepted_and_at_step_pipelines_get_their_own_tests(no_engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run-local", "smp-sandbox-batch-inference"]) == 3
    assert capsys.readouterr().err.rstrip().endswith("tests/pipeline_defs/test_pd_jobs_batch_inference.py")


def test_without_the_docker_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["run-local", "lambda-data-passing"]) == 3
    err = capsys.readouterr().err
    assert "the docker command is not on PATH" in err and "test_pd_jobs_parallel_lambda.py" in err


def test_a_hanging_docker_cli_does_not_hang_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    assert docker_engine_problem(timeout=0.5) == "`docker info` did not answer within 0.5 s"
    assert time.monotonic() - started < 5


def test_unknown_pipeline_is_a_usage_error(no_engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run-local", "no-such-pipeline"]) == 2
    err = capsys.readouterr().err
    assert "no pipeline module named 'no-such-pipeline'" in err and "train-evaluate-register" in err
