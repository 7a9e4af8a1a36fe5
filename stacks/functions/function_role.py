"""The execution role of a platform Lambda function: its own log group, and network interfaces when in the VPC.

In place of the managed ``AWSLambdaBasicExecutionRole`` (``logs:CreateLogGroup``, ``CreateLogStream``
and ``PutLogEvents`` on every log group of the account) and ``AWSLambdaVPCAccessExecutionRole``
(the same, plus network interfaces): every function here writes to a log group the app creates, so
its role may write to that group only.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.nag import acknowledge_wildcards

LAMBDA_NETWORK_INTERFACE_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)
"""What Lambda does with a VPC function's role: the EC2 part of ``AWSLambdaVPCAccessExecutionRole``."""


def function_role(scope: Construct, construct_id: str, *, log_group: logs.ILogGroup, in_vpc: bool, description: str) -> iam.Role:
    """A role Lambda assumes that may write to ``log_group`` only and, ``in_vpc``, manage the function's interfaces."""
    statements = [
        iam.PolicyStatement(
            sid="OwnLogGroup", actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
        )
    ]
    if in_vpc:
        statements.append(
            iam.PolicyStatement(sid="LambdaNetworkInterfaces", actions=list(LAMBDA_NETWORK_INTERFACE_ACTIONS), resources=["*"])
        )
    document = iam.PolicyDocument(statements=statements)
    # Inline in the role, so the function is created after its permissions (Lambda checks the interface ones then).
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
        inline_policies={"Function": document},
    )
    acknowledge_wildcards(
        scope=role,
        document=document,
        reasons={
            "LambdaNetworkInterfaces": "Lambda creates, describes and deletes the function's network interfaces in the job VPC "
            "with the function's role; DescribeNetworkInterfaces works only on *, the interfaces have no id before Lambda "
            "creates them, and Lambda's guide warns that a narrower DeleteNetworkInterface can cut the function off its VPC. "
            "Not conditioned on the VPC, so the role could manage interfaces of any subnet of the account."
        },
    )
    return role
