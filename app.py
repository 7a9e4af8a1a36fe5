#!/usr/bin/env python3
"""CDK entry point: one PlatformStage per environment in cdk.json context (or the one named by ``-c env=``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from pipeline_defs.errors import PipelineDefinitionError
from stacks.config import ConfigError, load_environments, select_environments
from stacks.deployed_pipeline import PlaceholderError
from stacks.schedule_plan import ScheduleError
from stacks.stage import PlatformStage
from stacks.summary import print_synth_summary

PROJECT_ROOT = Path(__file__).resolve().parent


def project_context(*, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The context the CDK CLI would pass: its own settings, cdk.json's, then cached lookups."""
    settings = json.loads((root / "cdk.json").read_text())
    context = {
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
        "aws:cdk:version-reporting": settings.get("versionReporting", True),
        **settings["context"],
        **REPRODUCIBLE_OUTPUT,
    }
    cached = root / "cdk.context.json"
    if cached.exists():
        context.update(json.loads(cached.read_text()))
    return context


# Stack traces in assembly metadata name the jsii kernel's temporary directory: off, so output is byte-stable.
REPRODUCIBLE_OUTPUT = {"aws:cdk:disable-stack-trace": True, "aws:cdk:disable-creation-stack-traces": True}


def build_app(*, app: cdk.App) -> cdk.App:
    """Add the selected environments' stages and the cdk-nag checks to ``app``."""
    raw = app.node.try_get_context("environments")
    environments = load_environments({} if raw is None else {"environments": raw})
    for config in select_environments(environments=environments, selected=app.node.try_get_context("env")):
        PlatformStage(app, config.name, config=config)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return app


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
    # Under the CDK CLI the context arrives in CDK_CONTEXT_JSON; `python app.py` reads cdk.json itself.
    context = REPRODUCIBLE_OUTPUT if "CDK_CONTEXT_JSON" in os.environ else project_context()
    try:
        app = build_app(app=cdk.App(context=context))
    except (ConfigError, PipelineDefinitionError, ScheduleError, PlaceholderError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    assembly = app.synth()
    violations = nag_violations(outdir=Path(assembly.directory))
    if violations:
        print("error: cdk-nag findings without an acknowledgment:", *violations, sep="\n  ", file=sys.stderr)
        sys.exit(3)
    print_synth_summary(app=app)


if __name__ == "__main__":
    main()
