#!/usr/bin/env python3
"""CDK entry point: one PlatformStage per environment in cdk.json context (or the one named by ``-c env=``)."""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import ConfigError, load_environments, select_environments
from stacks.stage import PlatformStage


def build_app(*, app: cdk.App) -> cdk.App:
    """Add the selected environments' stages and the cdk-nag checks to ``app``."""
    context = {"environments": app.node.try_get_context("environments")}
    if context["environments"] is None:
        context = {}
    environments = load_environments(context)
    for config in select_environments(environments=environments, selected=app.node.try_get_context("env")):
        PlatformStage(app, config.name, config=config)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return app


def main() -> None:
    try:
        app = build_app(app=cdk.App())
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    app.synth()


if __name__ == "__main__":
    main()
