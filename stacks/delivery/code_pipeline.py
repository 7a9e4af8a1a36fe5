"""The AWS-native delivery: a CDK Pipelines (CodePipeline) pipeline that synthesizes once and deploys every environment.

The pipeline's one synth step builds the cloud assembly of the main branch with the signing seed
from Secrets Manager; each environment's stage deploys that assembly, in ``cdk.json`` order, after
a manual approval where the environment names an account (an env-agnostic one deploys into the
pipeline's own account and region, as CDK Pipelines does).
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from aws_cdk import Stack, Stage
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from base.config import EnvironmentConfig
from base.delivery import CodePipelineSettings
from pipeline_defs.contract import SIGNING_SEED_ENV
from stacks.nag import NAG_PACK, acknowledge, acknowledge_grants, wildcard_findings

# Why each wildcard CDK Pipelines grants is needed, by the finding it raises (first match wins).
_WILDCARD_REASONS: tuple[tuple[str, str, str], ...] = (
    (
        r"Action::s3:|Resource::<PipelineArtifactsBucket[0-9A-F]+\.Arn>/\*",
        "",
        "CDK Pipelines' grant on the pipeline's own artifact bucket: the objects (stage inputs and outputs) this role reads or writes, "
        "with the S3 action families a CodePipeline artifact transfer uses.",
    ),
    (
        r"Action::kms:",
        "",
        "CDK Pipelines' grant on the pipeline's own artifact key, named by ARN: the data-key and re-encryption variants S3 uses for its artifacts.",
    ),
    (
        r"codebuild/<Pipeline[A-Za-z0-9]+>:\*|report-group/<Pipeline[A-Za-z0-9]+>-\*",
        "",
        "CodeBuild's grant to its own project's log streams and report groups, whose names start with the project's name.",
    ),
    (
        r"codebuild/\*|report-group/\*",
        "/Assets/",
        "CDK Pipelines' asset role is shared by every asset project and made before them, so its log and report grants name "
        "the region's CodeBuild groups; it may otherwise only read artifacts and assume the file-publishing bootstrap roles.",
    ),
    (
        r"Resource::\*",
        "/Assets/",
        "The shared asset role starts and watches the asset projects' builds, which CDK Pipelines creates after the role.",
    ),
    (
        r"Resource::arn:\*:iam::\d{12}:role/\*",
        "/SelfMutation/",
        "Self-mutation assumes the pipeline account's CDK bootstrap roles, chosen by their aws-cdk:bootstrap-role tag "
        "(deploy, file and image publishing), which the statement's condition requires.",
    ),
    (
        r"Resource::\*",
        "/SelfMutation/",
        "Self-mutation reads stack status (cloudformation:DescribeStacks) and lists buckets for the CDK CLI; both are read-only.",
    ),
)


def _acknowledge_pipeline_grants(*, pipeline: pipelines.CodePipeline) -> None:
    """Acknowledge each wildcard in the policies CDK Pipelines made, one by one; an unknown one fails synth."""
    for policy in (c for c in pipeline.node.find_all() if isinstance(c, iam.Policy)):
        path = policy.node.path
        findings = {}
        for finding in sorted(wildcard_findings(scope=policy, document=policy.document)):
            reasons = [reason for pattern, where, reason in _WILDCARD_REASONS if re.search(pattern, finding) and where in path]
            if not reasons:
                raise KeyError(f"{path}: no acknowledgment reason for {finding}; say why CDK Pipelines needs it")
            findings[finding.removeprefix(f"{NAG_PACK}::")] = reasons[0]
        acknowledge_grants(policy=policy, findings=findings)


StageFactory = Callable[[Construct, EnvironmentConfig], Stage]
"""Builds one environment's stage under a scope: the app's own stage, handed down, never rebuilt here."""

SYNTH_COMMAND = "npx --no-install cdk synth --quiet -c delivery=codepipeline"
"""The app with this pipeline in it: the assembly the stages deploy is the one that updates the pipeline."""


class DeliveryPipelineStack(Stack):
    """The pipeline, its one synth step, and one stage per environment in deploy order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: str,
        branch: str,
        settings: CodePipelineSettings,
        cli_version: str,
        cdk_assets_version: str,
        pipeline_name: str,
        environments: Sequence[EnvironmentConfig],
        stage_for: StageFactory,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = pipelines.CodePipelineSource.connection(repository, branch, connection_arn=settings.connection_arn)
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=source,
            install_commands=["make install"],
            commands=[SYNTH_COMMAND],
            build_environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                environment_variables={
                    SIGNING_SEED_ENV: codebuild.BuildEnvironmentVariable(
                        type=codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER, value=settings.signing_seed_secret
                    )
                },
            ),
            # The Python minor version is part of @step payloads and the step image tag: the one the tests use.
            partial_build_spec=codebuild.BuildSpec.from_object(
                {"phases": {"install": {"runtime-versions": {"python": "3.11", "nodejs": "20"}}}}
            ),
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=pipeline_name,
            synth=synth,
            cross_account_keys=True,
            enable_key_rotation=True,
            publish_assets_in_parallel=False,
            cli_version=cli_version,
            cdk_assets_cli_version=cdk_assets_version,
        )
        self.stages: dict[str, Stage] = {}
        for config in environments:
            stage = stage_for(self, config)
            approval = [] if config.is_env_agnostic else [
                pipelines.ManualApprovalStep(
                    f"Approve-{config.name}",
                    comment=f"Deploy {config.resource_prefix} to account {config.account} in {config.region}",
                )
            ]
            self.pipeline.add_stage(stage, pre=approval)
            self.stages[config.name] = stage
        # Built now rather than at synth, so its roles exist to be acknowledged.
        self.pipeline.build_pipeline()
        _acknowledge_pipeline_grants(pipeline=self.pipeline)
        acknowledge(
            scope=self.pipeline.pipeline.artifact_bucket,
            rule="AwsSolutions-S1",
            reason="The artifact bucket holds only the pipeline's transient stage inputs and outputs, under the pipeline's own "
            "KMS key and read only by its roles; every deploy it feeds is recorded by CloudFormation and CodePipeline.",
        )
