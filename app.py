#!/usr/bin/env python3
"""CDK entry point: settings → one plan per environment → staged files → stages → synth → review files and summary.

A mistake in the inputs prints one ``error: ...`` line and exits with its code (``base/errors.py``),
leaving the output directory as it was; ``SMP_DEBUG=1`` adds the traceback (the CDK CLI passes the
app no flags, so the switch is an environment variable).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import Iterator, Sequence

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from base.config import (
    CLI_CONTEXT_VARIABLE,
    REPRODUCIBLE_OUTPUT,
    EnvironmentConfig,
    check_availability_zones,
    load_environments,
    select_environments,
    synth_context,
)
from base.delivery import parse_delivery
from base.errors import ExitCode, UserError
from base.expiry import utc_today
from planning.plan import EnvironmentPlan, plan_environment
from planning.review_files import write_review_files
from planning.staging import PIPELINE_FILES_DIRECTORY, stage_pipeline_files
from planning.summary import print_synth_summary
from stacks.delivery import add_stages
from stacks.nag import unacknowledged_findings, unused_acknowledgments
from stacks.stage import PlatformStage


def add_environment(*, app: cdk.App, plan: EnvironmentPlan, scope: Construct | None = None) -> PlatformStage:
    """Stage the plan's asset files (the only write before synthesis), then render its stage in ``scope``."""
    staged = stage_pipeline_files(plan=plan, directory=Path(app.outdir) / PIPELINE_FILES_DIRECTORY / plan.config.name)
    return PlatformStage(scope or app, plan.config.name, plan=plan, staged_files=staged)


def build_app(*, app: cdk.App, context: dict | None = None) -> list[PlatformStage]:
    """Plan and add the selected environments' stages, the delivery stacks, and the cdk-nag checks, to ``app``.

    ``context`` is the settings' source as plain JSON (default: the app's own context, which has
    lost any null value on its way through CDK).
    """
    context = app.node.get_all_context() if context is None else context
    environments = load_environments(context)
    selected = select_environments(environments=environments, selected=context.get("env"))
    check_availability_zones(environments=selected, context=context)
    delivery = parse_delivery(mode=context.get("delivery"), settings=context.get("deliverySettings"), environments=context.get("environments"))
    today = utc_today()
    plans = {config.name: plan_environment(config=config, today=today) for config in selected}
    stages: list[PlatformStage] = []

    def stage_for(scope: Construct, config: EnvironmentConfig) -> PlatformStage:
        stages.append(add_environment(app=app, scope=scope, plan=plans[config.name]))
        return stages[-1]

    add_stages(app=app, delivery=delivery, environments=selected, stage_for=stage_for)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return stages


def write_synth_outputs(*, stages: Sequence[PlatformStage]) -> None:
    """After synthesis: the definitions and DAGs a reviewer reads, beside each stage's templates."""
    for stage in stages:
        write_review_files(outdir=Path(stage.outdir), compiled=stage.plan.pipelines)


def nag_violations(*, outdir: Path) -> list[str]:
    """What fails the cdk-nag gate in a synthesized assembly: findings nobody acknowledged, and
    acknowledgments that suppressed nothing (stale ones would otherwise accumulate and hide the next finding)."""
    return [
        *(f"unacknowledged: {line}" for line in unacknowledged_findings(outdir=outdir)),
        *(f"acknowledged but no such finding: {line}" for line in unused_acknowledgments(outdir=outdir)),
    ]


DEBUG_VARIABLE = "SMP_DEBUG"
"""``SMP_DEBUG=1 npx cdk synth``: print the traceback of a mistake too."""


def _remove_entries_added(*, outdir: Path, before: set[Path] | None) -> None:
    if before is None:
        shutil.rmtree(outdir, ignore_errors=True)
        return
    for entry in set(outdir.iterdir()) - before if outdir.is_dir() else ():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@contextlib.contextmanager
def user_errors_reported(*, outdir: Path | None) -> Iterator[None]:
    """Any failure removes what this run added to ``outdir``; a ``UserError`` becomes its message and exit code."""
    before = None if outdir is None or not outdir.is_dir() else set(outdir.iterdir())
    try:
        yield
    except BaseException as error:
        if outdir is not None:
            _remove_entries_added(outdir=outdir, before=before)
        if not isinstance(error, UserError):
            raise
        if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)


def main() -> None:
    # Under the CDK CLI the context arrives in CDK_CONTEXT_JSON (and the output directory in
    # CDK_OUTDIR); `python app.py` reads cdk.json itself and synthesizes into a temporary directory.
    outdir = os.environ.get("CDK_OUTDIR")
    with user_errors_reported(outdir=Path(outdir) if outdir else None):
        context = synth_context()
        app = cdk.App(context=REPRODUCIBLE_OUTPUT if CLI_CONTEXT_VARIABLE in os.environ else context)
        stages = build_app(app=app, context=context)
        assembly = app.synth()
    violations = nag_violations(outdir=Path(assembly.directory))
    if violations:
        print("error: cdk-nag findings and acknowledgments do not match:", *violations, sep="\n  ", file=sys.stderr)
        sys.exit(ExitCode.CHECK_FAILED)
    write_synth_outputs(stages=stages)
    print_synth_summary(plans=[stage.plan for stage in stages])


if __name__ == "__main__":
    main()
