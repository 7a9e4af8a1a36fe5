"""Delivery: where the environments' stages go, and the stacks that deploy them (``-c delivery=...``).

With ``none`` the app is unchanged: one stage per environment at its top. ``github-bootstrap`` adds
one bootstrap stack per account for GitHub Actions; ``codepipeline`` puts the stages inside a CDK
Pipelines pipeline instead.
"""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path
from typing import Sequence

from aws_cdk import App, Environment

from base.config import EnvironmentConfig
from base.delivery import DeliveryMode, DeliverySettings, check_pipeline_regions, in_deploy_order
from base.naming import APP_NAME
from stacks.delivery.code_pipeline import DeliveryPipelineStack, StageFactory
from stacks.delivery.github_bootstrap import GitHubBootstrapStack

PACKAGE_JSON = Path(__file__).resolve().parents[2] / "package.json"
"""Pins the CDK CLI; the pipeline's self-update step installs the same version."""
CDK_ASSETS_VERSION = "4.7.3"
"""The asset publisher the pipeline's asset step installs (CDK Pipelines would take the newest)."""


def add_stages(
    *, app: App, delivery: DeliverySettings, environments: Sequence[EnvironmentConfig], stage_for: StageFactory
) -> None:
    """Add each environment's stage and the delivery stacks ``delivery`` asks for.

    Outside CodePipeline the stages stay at the top of the app in the order given, so the assembly
    is the one it was before delivery existed.
    """
    if delivery.mode is DeliveryMode.CODEPIPELINE:
        settings = delivery.code_pipeline
        check_pipeline_regions(settings=settings, environments=environments)
        DeliveryPipelineStack(
            app,
            "Delivery",
            stack_name=f"{APP_NAME}-delivery",
            description=f"{APP_NAME}: CDK Pipelines delivery of every environment from {delivery.repository}",
            env=Environment(account=settings.account, region=settings.region),
            repository=delivery.repository,
            branch=delivery.main_branch,
            settings=settings,
            cli_version=json.loads(PACKAGE_JSON.read_text())["devDependencies"]["aws-cdk"],
            cdk_assets_version=CDK_ASSETS_VERSION,
            pipeline_name=f"{APP_NAME}-delivery",
            environments=in_deploy_order(environments=environments, order=delivery.deploy_order),
            stage_for=stage_for,
        )
        return
    for config in environments:
        stage_for(app, config)
    if delivery.mode is DeliveryMode.GITHUB_BOOTSTRAP:
        add_github_bootstrap(app=app, delivery=delivery, environments=environments)


def add_github_bootstrap(
    *, app: App, delivery: DeliverySettings, environments: Sequence[EnvironmentConfig]
) -> list[GitHubBootstrapStack]:
    """One bootstrap stack per account (in the region of its first environment), one for env-agnostic environments."""
    by_account = sorted(environments, key=lambda config: config.account or "")
    stacks = []
    for account, group in groupby(by_account, key=lambda config: config.account):
        configs = list(group)
        suffix = f"-{account}" if account else ""
        stacks.append(
            GitHubBootstrapStack(
                app,
                f"GitHubBootstrap{suffix}",
                stack_name=f"{APP_NAME}-github-bootstrap{suffix}",
                description=f"{APP_NAME}: GitHub OIDC provider and deploy roles of {', '.join(c.name for c in configs)}",
                env=None if account is None else Environment(account=account, region=configs[0].region),
                repository=delivery.repository,
                main_branch=delivery.main_branch,
                environments=configs,
            )
        )
    return stacks
