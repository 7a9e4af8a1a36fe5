"""``python -m tools.local_run``: exit 4 without a Docker engine (naming the job tests), 2 for bad input, 1 for a failed run."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tool_inputs import project_root

from base.config import PROJECT_ROOT
from tools.local_run import docker_engine_problem, main, report_execution


TRAIN_EVALUATE_JOB_TESTS = tuple(
    f"tests/pipeline_defs/test_pd_jobs_{name}.py" for name in ("check_and_register", "train_evaluate", "tune_abalone")
)
"""The tests that run train-evaluate-register's job scripts: its own, and those of the pipelines sharing them."""

def _fake_docker(directory: Path, body: str) -> None:
    script = directory / "docker"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project whose cdk.json holds the tests' environments (sandbox: prefix ``smp-sandbox``)."""
    return project_root(root=tmp_path / "project")


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A docker CLI whose daemon is down, as on a laptop with Docker Desktop stopped."""
    _fake_docker(tmp_path, 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_without_an_engine_it_exits_4_naming_the_pipelines_job_tests(no_engine: None, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train-evaluate-register", "--root", str(root)]) == 4
    err = capsys.readouterr().err
    assert err.startswith("error: cannot run smp-sandbox-train-evaluate-register locally: no Docker engine")
    assert "Cannot connect to the Docker daemon" in err
    assert err.rstrip().endswith("python -m pytest " + " ".join(TRAIN_EVALUATE_JOB_TESTS))


def test_full_pipeline_names_are_accepted_and_at_step_pipelines_get_their_own_tests(
    no_engine: None, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["smp-sandbox-batch-inference", "--root", str(root)]) == 4
    assert capsys.readouterr().err.rstrip().endswith("tests/pipeline_defs/test_pd_jobs_batch_inference.py")


def test_without_the_docker_command(tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["lambda-data-passing", "--root", str(root)]) == 4
    err = capsys.readouterr().err
    assert "the docker command is not on PATH" in err and "test_pd_jobs_parallel_lambda.py" in err


def test_a_hanging_docker_cli_does_not_hang_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_docker(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    assert docker_engine_problem(timeout=0.5) == "`docker info` did not answer within 0.5 s"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-pipeline"], "error: no pipeline module named 'no-such-pipeline': expected one of "),
        (["train-evaluate-register", "--env", "staging"], "error: --env 'staging' is not an environment of {root}/cdk.json: expected one of ['prod', 'sandbox']"),
        (["train-evaluate-register", "--parameter", "MaxDepth"], "error: argument --parameter: expected NAME=VALUE, got 'MaxDepth'"),
    ],
)
def test_bad_input_exits_2(argv: list[str], message: str, no_engine: None, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(root=root)) and len(err.splitlines()) == 1


def test_with_an_engine_a_bucket_is_required(tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_docker(tmp_path, 'echo "27.3.1"')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert main(["train-evaluate-register", "--root", str(root)]) == 2
    assert capsys.readouterr().err == "error: --bucket is required for a local run (local mode stages code and data in S3)\n"


@pytest.mark.parametrize(("status", "code"), [("Succeeded", 0), ("Failed", 1), ("Stopped", 1)])
def test_the_execution_status_decides_between_0_and_1(status: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    description = {
        "PipelineExecutionStatus": status,
        "Steps": [{"StepName": "Preprocess", "StepStatus": "Succeeded"}, {"StepName": "Train", "StepStatus": status, "FailureReason": "OOM"}],
    }
    assert report_execution(pipeline="smp-sandbox-abalone", description=description) == code
    assert capsys.readouterr().out.splitlines() == ["Preprocess: Succeeded", f"Train: {status} OOM", f"smp-sandbox-abalone: {status}"]


def test_the_module_runs_as_a_command(root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path / "no-docker-here")}
    result = subprocess.run(
        [sys.executable, "-m", "tools.local_run", "lambda-data-passing", "--root", str(root)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 4, result.stderr
    assert result.stderr.startswith("error: cannot run smp-sandbox-lambda-data-passing locally") and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("pipeline", "tests"),
    [
        ("train-evaluate-register", list(TRAIN_EVALUATE_JOB_TESTS)),
        ("lambda-data-passing", ["tests/pipeline_defs/test_pd_jobs_parallel_lambda.py"]),
        ("fan-out-parent", []),
    ],
)
def test_the_hint_names_only_the_pipelines_own_job_tests(pipeline: str, tests: list[str]) -> None:
    from pipeline_defs.loader import load_pipeline_modules
    from tools.local_run import job_tests_for

    (item,) = [m for m in load_pipeline_modules() if m.pipeline_name == pipeline]
    assert job_tests_for(item=item) == tests


def test_a_pipeline_without_job_tests_is_told_how_to_add_one(no_engine: None, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fan-out-parent", "--root", str(root)]) == 4
    err = capsys.readouterr().err
    assert "python -m pytest" not in err and "test_pd_jobs_train_evaluate" not in err
    assert err.rstrip().splitlines()[-1] == (
        "pipeline_defs/pipelines/fan_out_parent.py has no job-script tests yet: add tests/pipeline_defs/test_pd_jobs_fan_out_parent.py "
        "that imports its job scripts from pipeline_defs/jobs/ and runs them on sample data (see tests/pipeline_defs/test_pd_jobs_*.py)."
    )


def test_a_misspelt_pipeline_suggests_the_nearest(no_engine: None, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train-evaluate-registr", "--root", str(root)]) == 2
    assert capsys.readouterr().err.startswith("error: no pipeline module named 'train-evaluate-registr' (did you mean 'train-evaluate-register'?)")
