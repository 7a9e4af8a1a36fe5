#!/usr/bin/env python3
"""CDK entry point: one PlatformStage per environment in cdk.json context (or the one named by ``-c env=``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from base.config import REPRODUCIBLE_OUTPUT, load_environments, project_context, select_environments
from base.delivery import parse_delivery
from base.errors import ExitCode, UserError
from stacks.delivery import add_stages
from stacks.stage import PlatformStage
from stacks.summary import print_synth_summary


def build_app(*, app: cdk.App) -> cdk.App:
    """Add the selected environments' stages and the cdk-nag checks to ``app``."""
    raw = app.node.try_get_context("environments")
    environments = load_environments({} if raw is None else {"environments": raw})
    selected = select_environments(environments=environments, selected=app.node.try_get_context("env"))
    delivery = parse_delivery(
        mode=app.node.try_get_context("delivery"), settings=app.node.try_get_context("deliverySettings"), environments=raw
    )
    add_stages(app=app, delivery=delivery, environments=selected, stage_for=lambda scope, config: PlatformStage(scope, config.name, config=config))
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
    try:
        # Under the CDK CLI the context arrives in CDK_CONTEXT_JSON; `python app.py` reads cdk.json itself.
        context = REPRODUCIBLE_OUTPUT if "CDK_CONTEXT_JSON" in os.environ else project_context()
        app = build_app(app=cdk.App(context=context))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    assembly = app.synth()
    violations = nag_violations(outdir=Path(assembly.directory))
    if violations:
        print("error: cdk-nag findings without an acknowledgment:", *violations, sep="\n  ", file=sys.stderr)
        sys.exit(ExitCode.CHECK_FAILED)
    print_synth_summary(app=app)


if __name__ == "__main__":
    main()
