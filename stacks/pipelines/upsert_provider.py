"""The custom resource provider that upserts SageMaker pipelines (``lambda_src/pipeline_upsert``)."""

from __future__ import annotations

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from base.naming import execution_role_name
from stacks.functions.function_role import function_role
from stacks.functions.lambda_code import PYTHON_RUNTIME, handler_code, handler_string
from stacks.nag import acknowledge_grants, acknowledge_wildcards, wildcard_resource

UPSERT_CONCURRENCY = 20
"""CloudFormation upserts the pipelines of a stack in parallel: room for all of them, and a ceiling (function and framework)."""


class PipelineUpsertProvider(Construct):
    """One handler function and Provider per environment; each pipeline is a resource of it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_prefix: str,
        artifact_bucket: s3.IBucket,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        synthesizer = stack.synthesizer
        qualifier = getattr(synthesizer, "bootstrap_qualifier", None) or DefaultStackSynthesizer.DEFAULT_QUALIFIER
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=removal_policy, encryption_key=key
        )
        function_name = f"{resource_prefix}-pipeline-upsert"
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description="Creates, updates and deletes the environment's SageMaker pipelines",
            runtime=PYTHON_RUNTIME,
            handler=handler_string(folder="pipeline_upsert"),
            code=handler_code(folder="pipeline_upsert"),
            timeout=Duration.minutes(5),
            memory_size=256,
            reserved_concurrent_executions=UPSERT_CONCURRENCY,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            role=function_role(self, "FunctionRole", log_group=log_group, in_vpc=False, description=f"Lambda function {function_name}"),
        )
        pipelines = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:pipeline/{resource_prefix}-*"
        statements = [
            iam.PolicyStatement(
                sid="ManageEnvironmentPipelines",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreatePipeline",
                    "sagemaker:DeletePipeline",
                    "sagemaker:DeleteTags",
                    "sagemaker:DescribePipeline",
                    "sagemaker:ListTags",
                    "sagemaker:UpdatePipeline",
                ],
                resources=[pipelines],
            ),
            iam.PolicyStatement(
                sid="StopExecutionsBeforeDelete",
                actions=["sagemaker:ListPipelineExecutions", "sagemaker:StopPipelineExecution"],
                resources=[pipelines, f"{pipelines}/execution/*"],
            ),
            iam.PolicyStatement(
                sid="PassPipelineRolesToSageMaker",
                actions=["iam:PassRole"],
                resources=[f"arn:{stack.partition}:iam::{stack.account}:role/{execution_role_name(pipeline_name=resource_prefix + '-*')}"],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                # ListPipelines supports no resource-level permissions; the handover lists the environment's prefix.
                sid="FindPipelinesToHandOver",
                actions=["sagemaker:ListPipelines"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="ReadDeploymentAssets",
                actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::cdk-{qualifier}-assets-{stack.account}-{stack.region}/*"],
            ),
            iam.PolicyStatement(
                sid="DeployJobFiles",
                actions=["s3:PutObject"],
                resources=[artifact_bucket.arn_for_objects(f"{resource_prefix}-*/*")],
            ),
            iam.PolicyStatement(
                sid="EncryptJobFiles",
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            ),
        ]
        policy = iam.Policy(self, "Policy", statements=statements, roles=[self.function.role])
        acknowledge_wildcards(
            scope=policy,
            document=policy.document,
            reasons={
                "ManageEnvironmentPipelines": "Only pipelines named with this environment's prefix; their names come from pipeline modules.",
                "StopExecutionsBeforeDelete": "Executions of this environment's pipelines, stopped only so a pipeline can be deleted.",
                "PassPipelineRolesToSageMaker": "Each pipeline's own execution role (<prefix>-<pipeline>-exec), passed only to SageMaker with its pipeline.",
                "FindPipelinesToHandOver": "sagemaker:ListPipelines supports no resource-level permissions; the handler reads names only.",
                "ReadDeploymentAssets": "Job-file bundles and large definitions in this account's CDK asset bucket, read once per deployment.",
                "DeployJobFiles": "Job files go to the keys each pipeline's definition names, under its own <prefix>-<pipeline>/ prefix.",
            },
        )
        provider_logs = logs.LogGroup(
            self, "ProviderLogs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=removal_policy, encryption_key=key
        )
        framework_role = function_role(
            self, "ProviderRole", log_group=provider_logs, in_vpc=False, description=f"CDK's custom resource framework for {function_name}"
        )
        self.provider = cr.Provider(
            self, "Provider", on_event_handler=self.function, log_group=provider_logs, framework_on_event_role=framework_role
        )
        framework = self.provider.node.find_child("framework-onEvent")
        framework.node.default_child.reserved_concurrent_executions = UPSERT_CONCURRENCY
        acknowledge_grants(
            policy=framework_role.node.find_child("DefaultPolicy"),
            findings={
                wildcard_resource(scope=self, resource=f"{self.function.function_arn}:*"): "CDK's Provider framework invokes the "
                "upsert function by ARN and any of its versions or aliases (<arn>:*); it may invoke nothing else.",
            },
        )
