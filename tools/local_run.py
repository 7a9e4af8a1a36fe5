"""``python -m tools.local_run PIPELINE --bucket NAME``: one pipeline on this machine, with ``LocalPipelineSession``.

Local mode runs every step in a Docker container. Without a Docker engine the command stops at
once (exit 4, unavailable) and names the job-script tests that exercise the same code without
containers. A run whose execution does not succeed exits 1: the command worked, the pipeline needs
a look.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from base.errors import ExitCode, UnavailableError, nearest_name_hint
from pipeline_defs.context import BuildContext
from pipeline_defs.loader import REPO_ROOT, PipelineModule
from planning.compilation import build_context_for
from tools.command import CommandParser, UsageError, add_environment_arguments, environment_settings, run

DOCKER_CHECK_TIMEOUT_SECONDS = 10.0
LOCAL_ROLE_ARN = "arn:aws:iam::000000000000:role/local-run"
"""Recorded in the definition only: local containers run with the caller's own credentials."""
JOB_TESTS_DIR = REPO_ROOT / "tests" / "pipeline_defs"
JOB_TEST_GLOB = "test_pd_jobs_*.py"
_JOB_REFERENCES = (re.compile(r"job_script\(\s*[\"']([^\"']+)[\"']"), re.compile(r"[\"']jobs/([^\"']+)[\"']"))


class DockerUnavailableError(UnavailableError):
    """No Docker engine answers; the message names the job-script tests to run instead."""


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
    """The job-script test files that load a job file this pipeline uses, or that are named after it (none: ``[]``)."""
    source = (REPO_ROOT / item.module_file).read_text(encoding="utf-8") if (REPO_ROOT / item.module_file).exists() else ""
    jobs = sorted({match for pattern in _JOB_REFERENCES for match in pattern.findall(source)})
    stem = Path(item.module_file).stem
    found = []
    for test_file in sorted(tests_dir.glob(JOB_TEST_GLOB)):
        text = test_file.read_text(encoding="utf-8")
        if stem in test_file.stem or any(f'"{job}' in text or f"'{job}" in text for job in jobs):
            found.append(test_file.relative_to(REPO_ROOT).as_posix())
    return found


def no_docker_message(*, pipeline: str, problem: str, tests: list[str], module_file: str) -> str:
    """Why the run cannot start and what to run instead (the job tests execute the same code in-process)."""
    lines = [
        f"cannot run {pipeline} locally: no Docker engine ({problem}).",
        "LocalPipelineSession runs every step in a container, so it needs a running Docker engine.",
    ]
    if tests:
        return "\n".join(
            [*lines, "Without one, run the tests of this pipeline's job scripts, which execute the same code in-process:", f"  python -m pytest {' '.join(tests)}"]
        )
    stem = Path(module_file).stem
    example = JOB_TESTS_DIR.relative_to(REPO_ROOT) / JOB_TEST_GLOB.replace("*", stem)
    return "\n".join(
        [
            *lines,
            f"{module_file} has no job-script tests yet: add {example.as_posix()} that imports its job scripts "
            f"from pipeline_defs/jobs/ and runs them on sample data (see {JOB_TESTS_DIR.relative_to(REPO_ROOT).as_posix()}/{JOB_TEST_GLOB}).",
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


def report_execution(*, pipeline: str, description: Mapping[str, Any]) -> ExitCode:
    """Print each step's status and the execution's; 1 (attention) unless the execution succeeded."""
    for step in description["Steps"]:
        print(f"{step.get('StepName')}: {step.get('StepStatus')} {step.get('FailureReason', '')}".rstrip())
    status = description.get("PipelineExecutionStatus")
    print(f"{pipeline}: {status}")
    return ExitCode.OK if status == "Succeeded" else ExitCode.ATTENTION


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _parser() -> CommandParser:
    parser = CommandParser(prog="python -m tools.local_run", description="Run one pipeline with LocalPipelineSession (needs Docker).")
    parser.add_argument("pipeline", help="the module's PIPELINE_NAME (e.g. train-evaluate-register) or the full pipeline name")
    add_environment_arguments(parser, env_required=False)
    parser.add_argument("--bucket", help="S3 bucket local mode stages code and data in")
    parser.add_argument("--role-arn", default=LOCAL_ROLE_ARN, help="recorded only; containers use your credentials")
    parser.add_argument("--parameter", action="append", type=_parameter, default=[], metavar="NAME=VALUE")
    return parser


def local_run_command(args: argparse.Namespace) -> int:
    """Find the module, check Docker, then run; each failure is a UserError with its exit code."""
    from botocore.exceptions import BotoCoreError, ClientError

    from pipeline_defs.loader import load_pipeline_modules

    ctx = build_context_for(config=environment_settings(root=args.root, name=args.env))
    modules = {item.pipeline_name: item for item in load_pipeline_modules()}
    by_full_name = {ctx.full_pipeline_name(name): item for name, item in modules.items()}
    item = modules.get(args.pipeline) or by_full_name.get(args.pipeline)
    if item is None:
        hint = nearest_name_hint(args.pipeline, [*modules, *by_full_name])
        raise UsageError(f"no pipeline module named {args.pipeline!r}{hint}: expected one of {', '.join(sorted(modules))}")
    full_name = ctx.full_pipeline_name(item.pipeline_name)
    problem = docker_engine_problem()
    if problem is not None:
        raise DockerUnavailableError(
            no_docker_message(pipeline=full_name, problem=problem, tests=job_tests_for(item=item), module_file=item.module_file)
        )
    if not args.bucket:
        raise UsageError("--bucket is required for a local run (local mode stages code and data in S3)")
    try:
        description = run_with_local_session(
            item=item, ctx=ctx, role_arn=args.role_arn, bucket=args.bucket, parameters=dict(args.parameter)
        )
    except (BotoCoreError, ClientError) as error:
        raise UnavailableError(f"local run of {full_name} stopped on an AWS call (credentials for s3://{args.bucket} needed): {error}") from error
    return report_execution(pipeline=full_name, description=description)


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser=_parser(), argv=argv, command=local_run_command)


if __name__ == "__main__":
    sys.exit(main())
