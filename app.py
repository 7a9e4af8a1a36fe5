#!/usr/bin/env python3
"""CDK entry point: settings → one plan per environment → staged files → stages → synth → review files and summary."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Sequence

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from base.config import REPRODUCIBLE_OUTPUT, EnvironmentConfig, load_environments, project_context, select_environments
from base.delivery import parse_delivery
from base.errors import ExitCode, UserError
from planning.plan import EnvironmentPlan, plan_environment
from planning.review_files import write_review_files
from planning.staging import PIPELINE_FILES_DIRECTORY, stage_pipeline_files
from planning.summary import print_synth_summary
from stacks.delivery import add_stages
from stacks.stage import PlatformStage


def add_environment(*, app: cdk.App, plan: EnvironmentPlan, scope: Construct | None = None) -> PlatformStage:
    """Stage the plan's asset files (the only write before synthesis), then render its stage in ``scope``."""
    staged = stage_pipeline_files(plan=plan, directory=Path(app.outdir) / PIPELINE_FILES_DIRECTORY / plan.config.name)
    return PlatformStage(scope or app, plan.config.name, plan=plan, staged_files=staged)


def build_app(*, app: cdk.App) -> list[PlatformStage]:
    """Plan and add the selected environments' stages, and the cdk-nag checks, to ``app``."""
    raw = app.node.try_get_context("environments")
    environments = load_environments({} if raw is None else {"environments": raw})
    selected = select_environments(environments=environments, selected=app.node.try_get_context("env"))
    delivery = parse_delivery(
        mode=app.node.try_get_context("delivery"), settings=app.node.try_get_context("deliverySettings"), environments=raw
    )
    plans = {config.name: plan_environment(config=config) for config in selected}
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
    """Unacknowledged cdk-nag findings of a synthesized assembly, as ``rule at construct path`` lines."""
    report = Path(outdir) / "validation-report.json"
    if not report.exists():
        return []
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                lines.append(f"{violation['ruleName']} at {construct['constructPath']}")
    return sorted(lines)


def main() -> None:
    try:
        # Under the CDK CLI the context arrives in CDK_CONTEXT_JSON; `python app.py` reads cdk.json itself.
        context = REPRODUCIBLE_OUTPUT if "CDK_CONTEXT_JSON" in os.environ else project_context()
        app = cdk.App(context=context)
        stages = build_app(app=app)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    assembly = app.synth()
    violations = nag_violations(outdir=Path(assembly.directory))
    if violations:
        print("error: cdk-nag findings without an acknowledgment:", *violations, sep="\n  ", file=sys.stderr)
        sys.exit(ExitCode.CHECK_FAILED)
    write_synth_outputs(stages=stages)
    print_synth_summary(plans=[stage.plan for stage in stages])


if __name__ == "__main__":
    main()
