"""Run one pipeline on this machine with the SDK's ``LocalPipelineSession``, or say why it cannot.

Local mode runs every step in a Docker container. Without a Docker engine the command stops at
once (exit 3) and names the job-script tests that exercise the same code without containers.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping

from pipeline_defs.context import BuildContext
from pipeline_defs.loader import REPO_ROOT, PipelineModule

DOCKER_CHECK_TIMEOUT_SECONDS = 10.0
EXIT_NO_DOCKER = 3
JOB_TESTS_DIR = REPO_ROOT / "tests" / "pipeline_defs"
JOB_TEST_GLOB = "test_pd_jobs_*.py"
_JOB_REFERENCES = (re.compile(r"job_script\(\s*[\"']([^\"']+)[\"']"), re.compile(r"[\"']jobs/([^\"']+)[\"']"))


class LocalRunError(RuntimeError):
    """The local run could not start or its pipeline failed; the message says which."""


def docker_engine_problem(*, timeout: float = DOCKER_CHECK_TIMEOUT_SECONDS) -> str | None:
    """None when a Docker engine answers ``docker info`` within ``timeout``; otherwise why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "the docker command is not on PATH"
    try:
        result = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"`docker info` did not answer within {timeout:g} s"
    except OSError as error:
        return f"`docker info` could not start: {error}"
    if result.returncode != 0 or not result.stdout.strip():
        detail = (result.stderr.strip().splitlines() or ["no server version reported"])[-1]
        return f"`docker info` failed: {detail}"
    return None


def job_tests_for(*, item: PipelineModule, tests_dir: Path = JOB_TESTS_DIR) -> list[str]:
    """The job-script test files that load a job file this pipeline uses, or that are named after it."""
    source = (REPO_ROOT / item.module_file).read_text(encoding="utf-8") if (REPO_ROOT / item.module_file).exists() else ""
    jobs = sorted({match for pattern in _JOB_REFERENCES for match in pattern.findall(source)})
    stem = Path(item.module_file).stem
    found = []
    for test_file in sorted(tests_dir.glob(JOB_TEST_GLOB)):
        text = test_file.read_text(encoding="utf-8")
        if stem in test_file.stem or any(f'"{job}' in text or f"'{job}" in text for job in jobs):
            found.append(test_file.relative_to(REPO_ROOT).as_posix())
    return found or [p.relative_to(REPO_ROOT).as_posix() for p in sorted(tests_dir.glob(JOB_TEST_GLOB))]


def no_docker_message(*, pipeline: str, problem: str, tests: list[str]) -> str:
    return "\n".join(
        [
            f"error: cannot run {pipeline} locally: no Docker engine ({problem}).",
            "LocalPipelineSession runs every step in a container, so it needs a running Docker engine.",
            "Without one, run the tests of this pipeline's job scripts, which execute the same code in-process:",
            f"  python -m pytest {' '.join(tests)}",
        ]
    )


def run_with_local_session(
    *, item: PipelineModule, ctx: BuildContext, role_arn: str, bucket: str, parameters: Mapping[str, str]
) -> dict[str, Any]:
    """Build the pipeline against a ``LocalPipelineSession`` and run it; the execution's description.

    Local mode still reads and writes S3 (code, inputs, outputs), so AWS credentials for
    ``bucket`` are needed; placeholders are replaced by the given role and bucket, and network
    settings are dropped (containers run on this machine's network).
    """
    from sagemaker.core.workflow.pipeline_context import LocalPipelineSession
    from sagemaker.mlops.local.pipeline_entities import _LocalPipeline

    from pipeline_defs.compiler import sdk_pins
    from pipeline_defs.compiler.build import job_files_snapshot
    from pipeline_defs.loader import registered_module

    session = LocalPipelineSession(default_bucket=bucket)
    local_ctx = dataclasses.replace(
        ctx, execution_role_arn=role_arn, artifact_bucket=bucket, subnet_ids=(), security_group_ids=()
    ).for_pipeline(pipeline_name=ctx.full_pipeline_name(item.pipeline_name), session=session)
    with job_files_snapshot() as workdir, sdk_pins.working_directory(workdir), registered_module(item.module):
        pipeline = item.build(local_ctx)
        execution = _LocalPipeline(pipeline=pipeline, local_session=session).start(parameters=dict(parameters))
    description = execution.describe()
    description["Steps"] = execution.list_steps().get("PipelineExecutionSteps", [])
    return description
