"""The delivery stacks: who the GitHub roles trust and what they may do, and the CDK Pipelines stage set.

The whole app is synthesized once with ``-c delivery=codepipeline`` (network blocked) to prove the
hook in ``app.py``: 0 unacknowledged cdk-nag findings, 0 cfn-lint errors. The bootstrap stack
needs no stages, so it is synthesized on its own, with the same nag checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Stack, Stage
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

import app as cdk_app
from base.config import ConfigError, EnvironmentConfig
from base.delivery import (
    CDK_BOOTSTRAP_QUALIFIER,
    GITHUB_OIDC_HOST,
    DeliveryMode,
    DeliverySettings,
    deploy_targets,
    parse_delivery,
    review_targets,
)
from pipeline_defs.contract import SIGNING_SEED_ENV
from stacks.delivery import CDK_ASSETS_VERSION, add_github_bootstrap, add_stages, code_pipeline
from support.assembly import Assembly
from support.environments import ENVIRONMENTS, TEST_ACCOUNT, TEST_REGION, app_context
from support.synth import synth_in_subprocess

REPOSITORY = "example-org/ml-platform"
PIPELINE_ACCOUNT = "222222222222"
SETTINGS = {
    "repository": REPOSITORY,
    "mainBranch": "main",
    "codePipeline": {
        "account": PIPELINE_ACCOUNT,
        "region": TEST_REGION,
        "connectionArn": f"arn:aws:codeconnections:{TEST_REGION}:{PIPELINE_ACCOUNT}:connection/0a1b2c3d-0000-4000-8000-000000000000",
        "signingSeedSecret": "smp/signing-seed",
    },
}
SANDBOX = EnvironmentConfig(name="sandbox")
PROD = EnvironmentConfig(name="prod", account=TEST_ACCOUNT, region=TEST_REGION)
STAGING = EnvironmentConfig(name="staging", account=TEST_ACCOUNT, region="eu-central-1")
OTHER = EnvironmentConfig(name="research", account="333333333333", region=TEST_REGION)


def _delivery(mode: DeliveryMode, order: tuple[str, ...] = ("sandbox", "prod")) -> DeliverySettings:
    return parse_delivery(mode=mode.value, settings=SETTINGS, environments={name: {} for name in order})


def _nag_report(outdir: Path) -> list[str]:
    return cdk_app.nag_violations(outdir=outdir)


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Template]]:
    outdir = tmp_path_factory.mktemp("bootstrap")
    app = cdk.App(outdir=str(outdir), context=app_context())
    stacks = add_github_bootstrap(
        app=app, delivery=_delivery(DeliveryMode.GITHUB_BOOTSTRAP), environments=[SANDBOX, PROD, STAGING, OTHER]
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    app.synth()
    return outdir, {stack.stack_name: Template.from_stack(stack) for stack in stacks}


def _roles(template: Template) -> dict[str, dict]:
    return {r["Properties"]["RoleName"]: r["Properties"] for r in template.find_resources("AWS::IAM::Role").values()}


def test_one_bootstrap_stack_per_account_and_one_for_env_agnostic_environments(bootstrap) -> None:
    _, templates = bootstrap
    assert sorted(templates) == [
        "smp-github-bootstrap",
        f"smp-github-bootstrap-{TEST_ACCOUNT}",
        "smp-github-bootstrap-333333333333",
    ]
    assert sorted(_roles(templates[f"smp-github-bootstrap-{TEST_ACCOUNT}"])) == [
        "smp-github-review", "smp-prod-github-deploy", "smp-staging-github-deploy",
    ]
    # Env-agnostic environments have no account to diff against: no review role.
    assert sorted(_roles(templates["smp-github-bootstrap"])) == ["smp-sandbox-github-deploy"]


def test_a_deploy_role_trusts_only_the_main_branch_in_its_own_github_environment(bootstrap) -> None:
    _, templates = bootstrap
    trust = _roles(templates[f"smp-github-bootstrap-{TEST_ACCOUNT}"])["smp-prod-github-deploy"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
            f"{GITHUB_OIDC_HOST}:sub": f"repo:{REPOSITORY}:environment:prod:ref:refs/heads/main",
        }
    }
    federated = statement["Principal"]["Federated"]["Fn::If"]
    assert federated[2] == f"arn:aws:iam::{TEST_ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}"


def test_a_deploy_role_may_only_assume_the_cdk_bootstrap_roles_of_its_account_and_region(bootstrap) -> None:
    _, templates = bootstrap
    roles = _roles(templates[f"smp-github-bootstrap-{TEST_ACCOUNT}"])
    for name, region in (("smp-prod-github-deploy", TEST_REGION), ("smp-staging-github-deploy", "eu-central-1")):
        (policy,) = roles[name]["Policies"]
        assert policy["PolicyDocument"]["Statement"] == [
            {
                "Sid": "AssumeCdkBootstrapRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::{TEST_ACCOUNT}:role/cdk-{CDK_BOOTSTRAP_QUALIFIER}-*-{TEST_ACCOUNT}-{region}",
            }
        ]
        assert roles[name]["MaxSessionDuration"] == 3600
        assert "ManagedPolicyArns" not in roles[name]


def test_an_env_agnostic_deploy_role_names_the_account_and_region_it_is_deployed_in(bootstrap) -> None:
    _, templates = bootstrap
    (policy,) = _roles(templates["smp-github-bootstrap"])["smp-sandbox-github-deploy"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    resource = json.dumps(statement["Resource"])
    assert '"Ref": "AWS::AccountId"' in resource and '"Ref": "AWS::Region"' in resource
    assert f"cdk-{CDK_BOOTSTRAP_QUALIFIER}-*-" in resource


def test_the_review_role_trusts_pull_requests_and_only_reads_the_apps_stack_templates(bootstrap) -> None:
    _, templates = bootstrap
    role = _roles(templates[f"smp-github-bootstrap-{TEST_ACCOUNT}"])["smp-github-review"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com"},
        "StringLike": {f"{GITHUB_OIDC_HOST}:sub": f"repo:{REPOSITORY}:pull_request:ref:refs/pull/*/merge"},
    }
    (policy,) = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "ReadDeployedTemplates",
            "Effect": "Allow",
            "Action": ["cloudformation:DescribeStacks", "cloudformation:GetTemplate"],
            "Resource": [
                f"arn:aws:cloudformation:eu-central-1:{TEST_ACCOUNT}:stack/smp-staging-*/*",
                f"arn:aws:cloudformation:{TEST_REGION}:{TEST_ACCOUNT}:stack/smp-prod-*/*",
            ],
        }
    ]


def test_the_oidc_provider_is_created_unless_the_account_has_one(bootstrap) -> None:
    _, templates = bootstrap
    template = templates[f"smp-github-bootstrap-{TEST_ACCOUNT}"]
    assert template.to_json()["Parameters"]["CreateOidcProvider"]["AllowedValues"] == ["true", "false"]
    (provider,) = template.find_resources("AWS::IAM::OIDCProvider").values()
    assert provider["Properties"] == {"Url": f"https://{GITHUB_OIDC_HOST}", "ClientIdList": ["sts.amazonaws.com"]}
    assert "Condition" in provider


def test_the_workflows_assume_the_roles_the_bootstrap_creates(bootstrap) -> None:
    _, templates = bootstrap
    context = app_context(environments={"sandbox": {}, "prod": ENVIRONMENTS["prod"]})
    created = _roles(templates[f"smp-github-bootstrap-{TEST_ACCOUNT}"])
    for target in deploy_targets(context=context) + review_targets(context=context):
        if target["account"]:
            assert target["role"].rsplit("/", 1)[1] in created
            assert target["role"].startswith(f"arn:aws:iam::{TEST_ACCOUNT}:role/")


def test_bootstrap_stacks_pass_cdk_nag_and_cfn_lint(bootstrap) -> None:
    outdir, _ = bootstrap
    assert _nag_report(outdir) == []
    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "error", "--format", "parseable", *templates],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _tiny_stage(scope, config: EnvironmentConfig) -> Stage:
    env = None if config.is_env_agnostic else cdk.Environment(account=config.account, region=config.region)
    stage = Stage(scope, config.name, env=env)
    stack = Stack(stage, "Guardrails", stack_name=f"{config.resource_prefix}-guardrails")
    cdk.aws_s3_assets.Asset(stack, "JobFile", path=__file__)
    cdk.CfnWaitConditionHandle(stack, "Placeholder")
    return stage


def test_the_pipeline_deploys_in_cdk_json_order_with_an_approval_before_each_explicit_account() -> None:
    app = cdk.App(context=app_context())
    add_stages(
        app=app,
        delivery=_delivery(DeliveryMode.CODEPIPELINE, order=("sandbox", "prod", "research")),
        environments=[PROD, OTHER, SANDBOX],  # the order environments are selected in: by name
        stage_for=_tiny_stage,
    )
    template = Template.from_stack(app.node.find_child("Delivery"))
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    stages = {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", "sandbox", "prod", "research"]
    assert [a["ActionTypeId"]["Category"] for a in stages["sandbox"]] == ["Deploy", "Deploy"]
    for name in ("prod", "research"):
        first = stages[name][0]
        assert first["ActionTypeId"]["Category"] == "Approval" and first["RunOrder"] == 1
        assert all(a["RunOrder"] > 1 for a in stages[name][1:])
    assert stages["Source"][0]["Configuration"]["FullRepositoryId"] == REPOSITORY
    assert stages["Source"][0]["Configuration"]["BranchName"] == "main"


def _build_spec(app: cdk.App, project: dict) -> dict:
    """A project's build spec: inline, or the file CDK Pipelines writes beside the templates."""
    spec = project["Properties"]["Source"]["BuildSpec"]
    if spec.strip().startswith("{"):
        return json.loads(spec)
    return json.loads((Path(app.outdir) / spec).read_text())


def test_the_one_synth_step_builds_the_main_branch_with_the_seed_from_secrets_manager() -> None:
    app = cdk.App(context=app_context())
    add_stages(app=app, delivery=_delivery(DeliveryMode.CODEPIPELINE), environments=[SANDBOX, PROD], stage_for=_tiny_stage)
    template = Template.from_stack(app.node.find_child("Delivery"))
    projects = template.find_resources("AWS::CodeBuild::Project")
    synth = [p for p in projects.values() if "cdk synth" in p["Properties"]["Source"]["BuildSpec"]]
    assert len(synth) == 1
    (project,) = synth
    assert project["Properties"]["Environment"]["EnvironmentVariables"] == [
        {"Name": SIGNING_SEED_ENV, "Type": "SECRETS_MANAGER", "Value": "smp/signing-seed"}
    ]
    assert "-c delivery=codepipeline" in project["Properties"]["Source"]["BuildSpec"]
    # No other project (self-update, asset publishing) sees the seed.
    others = [p for p in projects.values() if p is not project]
    assert others and all(SIGNING_SEED_ENV not in json.dumps(p) for p in others)
    # Self-update runs the CDK CLI package.json pins; asset publishing a pinned cdk-assets.
    pinned = json.loads((Path(cdk_app.__file__).parent / "package.json").read_text())["devDependencies"]["aws-cdk"]
    installs = [command for p in others for command in _build_spec(app, p)["phases"]["install"]["commands"]]
    assert f"npm install -g aws-cdk@{pinned}" in installs
    assert f"npm install -g cdk-assets@{CDK_ASSETS_VERSION}" in installs
    assert not [command for command in installs if "@latest" in command]
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_the_pipeline_refuses_an_environment_in_another_region() -> None:
    app = cdk.App(context=app_context())
    with pytest.raises(ConfigError, match=r"environments\.staging\.region' is 'eu-central-1'.*pipeline's region.*'eu-west-1'"):
        add_stages(app=app, delivery=_delivery(DeliveryMode.CODEPIPELINE), environments=[SANDBOX, STAGING], stage_for=_tiny_stage)


def test_an_unknown_wildcard_in_the_pipelines_grants_stops_synth(monkeypatch: pytest.MonkeyPatch) -> None:
    without_self_mutation = tuple(r for r in code_pipeline._WILDCARD_REASONS if "SelfMutation" not in r[1])
    monkeypatch.setattr(code_pipeline, "_WILDCARD_REASONS", without_self_mutation)
    app = cdk.App(context=app_context())
    with pytest.raises(KeyError, match=r"SelfMutation.*no acknowledgment reason for .*IAM5\[Resource::\*\]"):
        add_stages(app=app, delivery=_delivery(DeliveryMode.CODEPIPELINE), environments=[SANDBOX], stage_for=_tiny_stage)


@pytest.fixture(scope="module")
def codepipeline_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real app with ``-c delivery=codepipeline``, as the CLI runs it, network blocked."""
    workdir = tmp_path_factory.mktemp("codepipeline")
    outdir = workdir / "cdk.out"
    context = {**app_context(), "delivery": "codepipeline", "deliverySettings": SETTINGS}
    synth_in_subprocess(outdir=outdir, cwd=workdir, extra_env={"TZ": "UTC"}, block_network=True, context=context)
    return outdir


def test_the_app_with_codepipeline_synthesizes_offline_with_no_unacknowledged_nag_finding(codepipeline_synth: Path) -> None:
    assert _nag_report(codepipeline_synth) == []
    stacks = Assembly(codepipeline_synth).stacks
    # The environments' stacks keep their names (and so their deployed identity) inside the pipeline.
    shared = [f"smp-{env}-{part}" for env in ("prod", "sandbox") for part in ("guardrails", "network", "pipelines")]
    per_pipeline = [name for name in stacks if name.startswith(("smp-prod-pipeline-", "smp-sandbox-pipeline-"))]
    assert len(per_pipeline) >= 10
    assert sorted(stacks) == sorted(["smp-delivery", *shared, *per_pipeline])


def test_the_pipeline_stack_has_no_cfn_lint_error(codepipeline_synth: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "error", "--format", "parseable",
         str(codepipeline_synth / "Delivery.template.json")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_pipeline_acknowledgment_names_one_finding_with_a_specific_reason(codepipeline_synth: Path) -> None:
    acknowledged = {}
    for path, entries in json.loads((codepipeline_synth / "Delivery.metadata.json").read_text()).items():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                acknowledged.update({(path, rule): reason for rule, reason in entry["data"].items()})
    assert acknowledged
    assert all(len(reason) > 40 for reason in acknowledged.values())
    whole_rules = {(path.rsplit("/", 1)[-1], rule) for path, rule in acknowledged if "[" not in rule}
    assert whole_rules == {("ArtifactsBucket", "AwsSolutions::AwsSolutions-S1")}
