"""``python -m tools.compile --env sandbox --out DIR``: compile every pipeline module of one environment, without CDK.

Writes what synth would deploy: ``DIR/<env>/definitions/<pipeline>.json`` and the staged job files
under ``DIR/<env>/staged/``. The environment's settings come from ``cdk.json`` through
``base.config`` and reach the builders through the one mapping synth uses,
:func:`planning.compilation.build_context_for`, so this compile and synth's cannot differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from base.errors import ExitCode
from planning.compilation import compile_pipelines
from tools.command import CommandParser, add_environment_arguments, environment_settings, run


def _parser() -> CommandParser:
    parser = CommandParser(prog="python -m tools.compile", description="Compile every pipeline module of one environment, without CDK.")
    add_environment_arguments(parser, env_required=False)
    parser.add_argument("--out", required=True, type=Path, help="directory to write <env>/definitions and <env>/staged into")
    parser.add_argument(
        "--module",
        action="append",
        type=Path,
        default=None,
        metavar="FILE",
        help="compile only this pipeline module file (repeatable; default: every module in pipeline_defs/pipelines)",
    )
    return parser


def compile_command(args: argparse.Namespace) -> int:
    """Compile and write; a bad setting or module is a ``UserError`` naming it (exit code 2)."""
    config = environment_settings(root=args.root, name=args.env)
    from pipeline_defs.compiler import write_outputs

    results = compile_pipelines(config=config, module_paths=args.module)
    write_outputs(results, out_dir=args.out)
    for result in results:
        print(
            f"{result.pipeline_name}: {len(result.definition)} characters, "
            f"{len(result.staged_files)} staged files, region {result.region}, "
            f"{result.compile_seconds:.3f} s"
        )
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser=_parser(), argv=argv, command=compile_command)


if __name__ == "__main__":
    sys.exit(main())
