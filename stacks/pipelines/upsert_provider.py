"""The custom resource provider that upserts SageMaker pipelines (``lambda_src/pipeline_upsert``)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.functions.lambda_code import PYTHON_RUNTIME, handler_code, handler_string
from stacks.nag import acknowledge, acknowledge_grants, acknowledge_wildcards


class PipelineUpsertProvider(Construct):
    """One handler function and Provider per environment; each pipeline is a resource of it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_prefix: str,
        execution_role: iam.IRole,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=removal_policy)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=f"{resource_prefix}-pipeline-upsert",
            description="Creates, updates and deletes the environment's SageMaker pipelines",
            runtime=PYTHON_RUNTIME,
            handler=handler_string(folder="pipeline_upsert"),
            code=handler_code(folder="pipeline_upsert"),
            timeout=Duration.minutes(5),
            memory_size=256,
            # CloudFormation upserts the pipelines of a stack in parallel: room for all, and a ceiling.
            reserved_concurrent_executions=20,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
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
                sid="PassExecutionRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]
        policy = iam.Policy(self, "Policy", statements=statements, roles=[self.function.role])
        acknowledge_wildcards(
            scope=policy,
            document=policy.document,
            reasons={
                "ManageEnvironmentPipelines": "Only pipelines named with this environment's prefix; their names come from pipeline modules.",
                "StopExecutionsBeforeDelete": "Executions of this environment's pipelines, stopped only so a pipeline can be deleted.",
            },
        )
        self.provider = cr.Provider(self, "Provider", on_event_handler=self.function)
        acknowledge(
            scope=self.function,
            rule="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason="The upsert function writes only its own logs with this policy; its SageMaker rights are the inline policy.",
        )
        framework = self.provider.node.find_child("framework-onEvent")
        acknowledge(
            scope=framework,
            rule="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason="CDK's Provider framework function writes only its own logs with this policy.",
        )
        acknowledge_grants(
            role=framework.node.find_child("ServiceRole"),
            reason="CDK's Provider framework invokes the upsert function and its versions (<arn>:*), nothing else.",
        )
