"""``python -m pipeline_defs compile --env sandbox --out DIR``: compile without CDK.

Environment settings come from cdk.json's context ``environments`` through ``stacks.config``
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
        from stacks.config import load_environments
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
        )
    return context_for_environment(
        env_name=settings.name,
        region=args.region or settings.region,
        cost_tag_key=settings.cost_tag_key,
        cost_tag_value=settings.cost_tag_value,
        allowed_instance_types=settings.allowed_instance_types,
        name_prefix=getattr(settings, "resource_prefix", None),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline_defs")
    commands = parser.add_subparsers(dest="command", required=True)
    compile_parser = commands.add_parser("compile", help="compile every pipeline module")
    compile_parser.add_argument("--env", default="sandbox")
    compile_parser.add_argument("--out", required=True, type=Path)
    compile_parser.add_argument("--region", default=None, help="overrides cdk.json; default us-east-1")
    compile_parser.add_argument("--cost-tag-key", default="CostCenter")
    compile_parser.add_argument("--cost-tag-value", default="ml-platform")
    compile_parser.add_argument("--cdk-json", default=str(REPO_ROOT / "cdk.json"))
    args = parser.parse_args(argv)

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
