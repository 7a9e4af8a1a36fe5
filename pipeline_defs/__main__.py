"""``python -m pipeline_defs compile --env sandbox --out DIR``: compile without CDK.

``python -m pipeline_defs run-local PIPELINE --bucket NAME``: run one pipeline with the SDK's
``LocalPipelineSession`` (needs a Docker engine; without one it exits 3 naming the job tests).

Environment settings come from cdk.json's context ``environments`` through ``base.config``
when both exist; otherwise from ``--region`` and the defaults, so a checkout without the stacks
(or without cdk.json) still compiles.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline_defs.context import BuildContext, context_for_environment
from pipeline_defs.errors import PipelineDefinitionError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _environment_settings(env_name: str, cdk_json: Path) -> Any | None:
    """The stacks' EnvironmentConfig for ``env_name``, or None without cdk.json or stacks."""
    if not cdk_json.exists():
        return None
    try:
        from base.config import load_environments
    except ImportError:
        return None
    context = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
    environments = load_environments(context)
    if env_name not in environments:
        raise PipelineDefinitionError(
            f"environment {env_name!r} is not in {cdk_json.name} (known: {sorted(environments)})"
        )
    return environments[env_name]


def build_context(args: argparse.Namespace) -> BuildContext:
    settings = _environment_settings(args.env, Path(args.cdk_json))
    if settings is None:
        return context_for_environment(
            env_name=args.env,
            region=args.region,
            cost_tag_key=args.cost_tag_key,
            cost_tag_value=args.cost_tag_value,
            step_image_uri=args.step_image_uri,
        )
    return context_for_environment(
        env_name=settings.name,
        region=args.region or settings.region,
        cost_tag_key=settings.cost_tag_key,
        cost_tag_value=settings.cost_tag_value,
        allowed_instance_types=settings.allowed_instance_types,
        name_prefix=settings.resource_prefix,
        step_image_uri=args.step_image_uri or settings.step_image_uri,
    )


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def run_local(args: argparse.Namespace) -> int:
    """Exit 0 when the local execution succeeded, 1 when it failed, 2 for a bad name, 3 without Docker."""
    from pipeline_defs.loader import load_pipeline_modules
    from pipeline_defs.local_run import (
        EXIT_NO_DOCKER,
        docker_engine_problem,
        job_tests_for,
        no_docker_message,
        run_with_local_session,
    )

    ctx = build_context(args)
    modules = {item.pipeline_name: item for item in load_pipeline_modules()}
    by_full_name = {ctx.full_pipeline_name(name): item for name, item in modules.items()}
    item = modules.get(args.pipeline) or by_full_name.get(args.pipeline)
    if item is None:
        print(f"error: no pipeline module named {args.pipeline!r} (known: {', '.join(sorted(modules))})", file=sys.stderr)
        return 2
    full_name = ctx.full_pipeline_name(item.pipeline_name)
    problem = docker_engine_problem()
    if problem is not None:
        print(no_docker_message(pipeline=full_name, problem=problem, tests=job_tests_for(item=item)), file=sys.stderr)
        return EXIT_NO_DOCKER
    if not args.bucket:
        print("error: --bucket is required for a local run (local mode stages code and data in S3)", file=sys.stderr)
        return 2
    description = run_with_local_session(
        item=item, ctx=ctx, role_arn=args.role_arn, bucket=args.bucket, parameters=dict(args.parameter)
    )
    for step in description["Steps"]:
        print(f"{step.get('StepName')}: {step.get('StepStatus')} {step.get('FailureReason', '')}".rstrip())
    status = description.get("PipelineExecutionStatus")
    print(f"{full_name}: {status}")
    return 0 if status == "Succeeded" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline_defs")
    commands = parser.add_subparsers(dest="command", required=True)
    local_parser = commands.add_parser("run-local", help="run one pipeline with LocalPipelineSession (needs Docker)")
    local_parser.add_argument("pipeline", help="the module's PIPELINE_NAME, e.g. train-evaluate-register")
    local_parser.add_argument("--env", default="sandbox")
    local_parser.add_argument("--region", default=None)
    local_parser.add_argument("--cost-tag-key", default="CostCenter")
    local_parser.add_argument("--cost-tag-value", default="ml-platform")
    local_parser.add_argument("--cdk-json", default=str(REPO_ROOT / "cdk.json"))
    local_parser.add_argument("--step-image-uri", default=None, help="image for @step jobs (overrides cdk.json's stepImageUri)")
    local_parser.add_argument("--bucket", help="S3 bucket local mode stages code and data in")
    local_parser.add_argument("--role-arn", default="arn:aws:iam::000000000000:role/local-run", help="recorded only; containers use your credentials")
    local_parser.add_argument("--parameter", action="append", type=_parameter, default=[], metavar="NAME=VALUE")
    compile_parser = commands.add_parser("compile", help="compile every pipeline module")
    compile_parser.add_argument("--env", default="sandbox")
    compile_parser.add_argument("--out", required=True, type=Path)
    compile_parser.add_argument("--region", default=None, help="overrides cdk.json; default us-east-1")
    compile_parser.add_argument("--cost-tag-key", default="CostCenter")
    compile_parser.add_argument("--cost-tag-value", default="ml-platform")
    compile_parser.add_argument("--cdk-json", default=str(REPO_ROOT / "cdk.json"))
    compile_parser.add_argument("--step-image-uri", default=None, help="image for @step jobs (overrides cdk.json's stepImageUri)")
    args = parser.parse_args(argv)
    if args.command == "run-local":
        try:
            return run_local(args)
        except PipelineDefinitionError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    try:
        ctx = build_context(args)
        from pipeline_defs.compiler import compile_environment, write_outputs

        results = compile_environment(ctx)
        write_outputs(results, out_dir=args.out)
    except PipelineDefinitionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for result in results:
        print(
            f"{result.pipeline_name}: {len(result.definition)} characters, "
            f"{len(result.staged_files)} staged files, region {result.region}, "
            f"{result.compile_seconds:.3f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
