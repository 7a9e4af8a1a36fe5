"""``python -m tools.review --base <ref>``: what a change does to each environment, for a reviewer.

Synthesizes the base ref and the working tree offline and prints, per environment, pipelines added
or removed, step changes with JSON paths, parameter, schedule and policy changes, instance-hours,
and a security section.
Exit codes follow :class:`base.errors.ExitCode`: 1 when something security-relevant changed.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from base.config import PROJECT_ROOT
from base.errors import ExitCode
from tools.command import CommandParser, UsageError, run
from tools.assembly import load_environments
from tools.review.diff import Review, compare_outputs
from tools.review.render import render_markdown, render_plain
from tools.review.synth import cdk_security_table, export_commit, resolve_ref, start_synth, wait_for_synth


def review_outputs(*, base_outdir: Path, head_outdir: Path, base: str, head: str, cdk_tables: bool) -> Review:
    """Compare two synthesized outputs; with ``cdk_tables``, add CDK's IAM and security group tables."""
    old = load_environments(outdir=base_outdir)
    new = load_environments(outdir=head_outdir)
    review = compare_outputs(old=old, new=new, base=base, head=head, now=datetime.now(timezone.utc))
    if not cdk_tables:
        return review
    environments = []
    for env in review.environments:
        tables = {}
        for selector in env.cdk_table_stacks:
            stack = next(s for s in new[env.name].stacks.values() if s.selector == selector)
            base_stack = old[env.name].stacks.get(stack.name) if env.name in old else None
            table = cdk_security_table(
                head_outdir=head_outdir,
                base_template=base_stack.template_path if base_stack else None,
                selector=selector,
            )
            if table:
                tables[selector] = table
        environments.append(dataclasses.replace(env, cdk_tables=tables))
    return dataclasses.replace(review, environments=tuple(environments))


def synthesize_and_review(*, ref: str, head_outdir: Path | None, cdk_tables: bool) -> Review:
    """Synthesize ``ref`` (and the working tree unless ``head_outdir`` is given) in a temporary directory."""
    commit = resolve_ref(ref=ref)
    with tempfile.TemporaryDirectory(prefix="smp-review-") as scratch:
        scratch_dir = Path(scratch)
        tree = scratch_dir / "base"
        export_commit(commit=commit, destination=tree)
        base_out = scratch_dir / "base.out"
        print(f"synthesizing {ref} ({commit[:12]}){'' if head_outdir else ' and the working tree'} ...", file=sys.stderr)
        base_process = start_synth(tree=tree, outdir=base_out, workdir=scratch_dir / "base-work")
        head_process = None
        try:
            if head_outdir is None:
                head_outdir = scratch_dir / "head.out"
                head_process = start_synth(tree=PROJECT_ROOT, outdir=head_outdir, workdir=scratch_dir / "head-work")
            wait_for_synth(process=base_process, label=ref)
            if head_process is not None:
                wait_for_synth(process=head_process, label="the working tree")
        finally:
            for process in (base_process, head_process):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.communicate()
        return review_outputs(base_outdir=base_out, head_outdir=head_outdir, base=ref, head="working tree", cdk_tables=cdk_tables)


def _parser() -> CommandParser:
    parser = CommandParser(prog="python -m tools.review", description="What a change does to each environment, for a reviewer.")
    parser.add_argument("--base", required=True, help="git ref to compare the working tree with, e.g. origin/main")
    parser.add_argument("--markdown", action="store_true", help="print markdown for a pull-request comment")
    parser.add_argument("--head-outdir", type=Path, help="an existing cdk.out of the working tree (skips its synth)")
    parser.add_argument(
        "--base-outdir", type=Path, help="an existing cdk.out of the base ref (skips git and its synth; --base only names it)"
    )
    parser.add_argument("--no-cdk-tables", action="store_true", help="skip `cdk diff --security-only` tables")
    return parser


def _assembly_directory(*, option: str, path: Path | None) -> Path | None:
    if path is not None and not (path / "manifest.json").is_file():
        raise UsageError(f"{option} {path} has no manifest.json: expected a cdk.out directory")
    return path


def review_command(args: argparse.Namespace) -> int:
    """Print the review; 1 (attention) when anything security-relevant changed, else 0."""
    head_outdir = _assembly_directory(option="--head-outdir", path=args.head_outdir)
    base_outdir = _assembly_directory(option="--base-outdir", path=args.base_outdir)
    cdk_tables = not args.no_cdk_tables
    if base_outdir is not None and head_outdir is None:
        raise UsageError("--base-outdir needs --head-outdir: give both synthesized outputs, or only --head-outdir")
    if base_outdir is not None:
        review = review_outputs(base_outdir=base_outdir, head_outdir=head_outdir, base=args.base, head="working tree", cdk_tables=cdk_tables)
    else:
        review = synthesize_and_review(ref=args.base, head_outdir=head_outdir, cdk_tables=cdk_tables)
    sys.stdout.write(render_markdown(review) if args.markdown else render_plain(review))
    return ExitCode.ATTENTION if review.security_relevant else ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser=_parser(), argv=argv, command=review_command)
