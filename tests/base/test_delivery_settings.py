"""Delivery settings: default off, what each mode requires, and the deploy order and roles the workflows use."""

from __future__ import annotations

import pytest

from base.config import ConfigError, EnvironmentConfig
from base.delivery import (
    CodePipelineSettings,
    DeliveryMode,
    DeliverySettings,
    deploy_subject,
    deploy_targets,
    in_deploy_order,
    parse_delivery,
    pull_request_subject,
    review_targets,
)
from support.environments import ENVIRONMENTS, TEST_ACCOUNT, TEST_REGION, app_context

CODE_PIPELINE = {
    "account": "222222222222",
    "region": "eu-west-1",
    "connectionArn": "arn:aws:codeconnections:eu-west-1:222222222222:connection/0a1b2c3d-0000-4000-8000-000000000000",
    "signingSeedSecret": "smp/signing-seed",
}


def test_no_setting_means_no_delivery_stacks() -> None:
    assert parse_delivery(mode=None, settings=None, environments=None) == DeliverySettings()
    assert parse_delivery(mode="none", settings={"mainBranch": "main"}, environments=None).mode is DeliveryMode.NONE


def test_each_mode_parses_with_what_it_needs() -> None:
    bootstrap = parse_delivery(mode="github-bootstrap", settings={"repository": "org/repo"}, environments={"b": {}, "a": {}})
    assert (bootstrap.mode, bootstrap.repository, bootstrap.main_branch, bootstrap.deploy_order) == (
        DeliveryMode.GITHUB_BOOTSTRAP, "org/repo", "main", ("b", "a"),
    )
    pipeline = parse_delivery(
        mode="codepipeline", settings={"repository": "org/repo", "mainBranch": "release/v2", "codePipeline": CODE_PIPELINE}, environments={}
    )
    assert pipeline.main_branch == "release/v2"
    assert pipeline.code_pipeline == CodePipelineSettings(
        account="222222222222", region="eu-west-1", connection_arn=CODE_PIPELINE["connectionArn"], signing_seed_secret="smp/signing-seed"
    )


@pytest.mark.parametrize(
    ("mode", "settings", "message"),
    [
        ("github", {}, r"context 'delivery' is 'github': expected one of \['none', 'github-bootstrap', 'codepipeline'\]"),
        ("github-bootstrap", {}, r"context 'deliverySettings' lacks 'repository'"),
        ("none", {"repo": "org/repo"}, r"context 'deliverySettings' has unknown key 'repo': allowed keys are"),
        ("none", ["org/repo"], r"context 'deliverySettings' is \['org/repo'\]: expected an object"),
        ("github-bootstrap", {"repository": "https://github.com/org/repo"}, r"'deliverySettings.repository' is 'https://github.com/org/repo': expected a GitHub repository as 'owner/name'"),
        ("github-bootstrap", {"repository": "org/repo", "mainBranch": "release/*"}, r"'deliverySettings.mainBranch' is 'release/\*': expected a branch name"),
        ("github-bootstrap", {"repository": "org/repo", "mainBranch": "a..b"}, r"'deliverySettings.mainBranch' is 'a..b'"),
        ("codepipeline", {"repository": "org/repo"}, r"lacks 'codePipeline', which -c delivery=codepipeline needs"),
        ("codepipeline", {"repository": "org/repo", "codePipeline": {**CODE_PIPELINE, "account": 222222222222}}, r"'deliverySettings.codePipeline.account' is 222222222222: expected a 12-digit"),
        ("codepipeline", {"repository": "org/repo", "codePipeline": {**CODE_PIPELINE, "connectionArn": "my-connection"}}, r"'deliverySettings.codePipeline.connectionArn' is 'my-connection': expected a CodeConnections connection ARN"),
        ("codepipeline", {"repository": "org/repo", "codePipeline": {k: v for k, v in CODE_PIPELINE.items() if k != "signingSeedSecret"}}, r"'deliverySettings.codePipeline' lacks 'signingSeedSecret'"),
    ],
)
def test_a_bad_setting_names_the_key_the_value_and_what_is_allowed(mode, settings, message) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_delivery(mode=mode, settings=settings, environments=None)


def test_subjects_pin_repository_environment_and_branch() -> None:
    assert deploy_subject(repository="org/repo", environment="prod", branch="main") == "repo:org/repo:environment:prod:ref:refs/heads/main"
    assert pull_request_subject(repository="org/repo") == "repo:org/repo:pull_request:ref:refs/pull/*/merge"


def test_environments_deploy_in_cdk_json_order_not_by_name() -> None:
    configs = [EnvironmentConfig(name=name) for name in ("alpha", "prod", "sandbox")]
    assert [c.name for c in in_deploy_order(environments=configs, order=("sandbox", "alpha", "prod"))] == ["sandbox", "alpha", "prod"]


def test_deploy_and_review_targets_follow_cdk_json() -> None:
    environments = {"sandbox": {}, "staging": {"account": "222222222222", "region": "us-gov-west-1"}, "prod": ENVIRONMENTS["prod"]}
    context = app_context(environments=environments)
    assert deploy_targets(context=context) == [
        {"environment": "sandbox", "account": "", "region": "", "role": ""},
        {"environment": "staging", "account": "222222222222", "region": "us-gov-west-1",
         "role": "arn:aws-us-gov:iam::222222222222:role/smp-staging-github-deploy"},
        {"environment": "prod", "account": TEST_ACCOUNT, "region": TEST_REGION,
         "role": f"arn:aws:iam::{TEST_ACCOUNT}:role/smp-prod-github-deploy"},
    ]
    assert [(t["environment"], t["role"]) for t in review_targets(context=context)] == [
        ("staging", "arn:aws-us-gov:iam::222222222222:role/smp-github-review"),
        ("prod", f"arn:aws:iam::{TEST_ACCOUNT}:role/smp-github-review"),
    ]


def test_deploy_targets_refuse_bad_environments() -> None:
    with pytest.raises(ConfigError, match=r"environments.prod.region"):
        deploy_targets(context=app_context(environments={"prod": {"account": TEST_ACCOUNT, "region": "Ireland"}}))
