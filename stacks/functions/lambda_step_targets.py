"""Lambda functions of the platform: the ones pipelines call from Lambda steps (``<prefix>-step-<name>``)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.functions.function_role import function_role
from stacks.functions.lambda_code import PYTHON_RUNTIME, handler_code, handler_string
from stacks.nag import acknowledge_wildcards

STEP_FUNCTION_INFIX = "step"
"""Lambda functions that pipelines may invoke are named ``<prefix>-step-<name>``."""


@dataclass(frozen=True)
class FunctionPlacement:
    """Where functions that only call AWS APIs with VPC endpoints run: isolated subnets, their own group."""

    vpc: ec2.IVpc
    security_group: ec2.ISecurityGroup


class HandlerFunction(Construct):
    """A Python Lambda from ``lambda_src/<folder>``: JSON logs with retention, reserved concurrency, no bundling,
    and a role that may write only to the function's own log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_prefix: str,
        name: str,
        folder: str,
        description: str,
        timeout: Duration,
        reserved_concurrency: int,
        removal_policy: RemovalPolicy,
        key: kms.IKey,
        environment: dict[str, str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        placement: FunctionPlacement | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=removal_policy, encryption_key=key
        )
        role = function_role(
            self, "Role", log_group=log_group, in_vpc=placement is not None, description=f"Lambda function {resource_prefix}-{name}"
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=f"{resource_prefix}-{name}",
            description=description,
            runtime=PYTHON_RUNTIME,
            handler=handler_string(folder=folder),
            code=handler_code(folder=folder),
            timeout=timeout,
            memory_size=256,
            reserved_concurrent_executions=reserved_concurrency,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            role=role,
            environment=environment,
            dead_letter_queue=dead_letter_queue,
            vpc=placement.vpc if placement else None,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED) if placement else None,
            security_groups=[placement.security_group] if placement else None,
        )


class LambdaStepTargets(Construct):
    """The step functions the example pipelines reference, and the placeholder values that name them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_prefix: str,
        removal_policy: RemovalPolicy,
        key: kms.IKey,
        placement: FunctionPlacement | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.data_passing = HandlerFunction(
            self,
            "DataPassing",
            resource_prefix=resource_prefix,
            name=f"{STEP_FUNCTION_INFIX}-data-passing",
            folder="data_passing",
            description="Lambda step: derives typed run settings for the data-passing pipeline",
            timeout=Duration.seconds(30),
            reserved_concurrency=5,
            removal_policy=removal_policy,
            key=key,
        )
        self.fan_out = HandlerFunction(
            self,
            "FanOut",
            resource_prefix=resource_prefix,
            name=f"{STEP_FUNCTION_INFIX}-fan-out",
            folder="fan_out",
            description="Lambda step: starts one child pipeline execution per item",
            timeout=Duration.minutes(10),
            reserved_concurrency=5,
            removal_policy=removal_policy,
            key=key,
            environment={"MAX_CONCURRENCY": "20"},
            placement=placement,
        )
        policy = iam.Policy(
            self,
            "FanOutPolicy",
            roles=[self.fan_out.function.role],
            statements=[
                iam.PolicyStatement(
                    sid="StartChildPipelines",
                    actions=[
                        "sagemaker:DescribePipeline",
                        "sagemaker:DescribePipelineExecution",
                        "sagemaker:ListTags",
                        "sagemaker:StartPipelineExecution",
                    ],
                    resources=[
                        f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:pipeline/{resource_prefix}-*",
                        f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:pipeline/{resource_prefix}-*/execution/*",
                    ],
                )
            ],
        )
        acknowledge_wildcards(
            scope=policy,
            document=policy.document,
            reasons={
                "StartChildPipelines": "Children are pipelines of this environment (named with its prefix); the function starts only "
                "those the parent's own stack tags as its declared CHILD_PIPELINES, after reading that tag and the parent's running execution."
            },
        )
        self.function_arns = {
            "DataPassing": self.data_passing.function.function_arn,
            "FanOut": self.fan_out.function.function_arn,
        }
        """ARN of each step function, keyed like ``placeholders.LAMBDA_FUNCTION_ARNS``."""
