"""Network stack: the job VPC (or an existing one), whose ids every pipeline's network Deny names."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from base.config import EnvironmentConfig
from stacks.network.job_network import JobNetwork, JobNetworkIds, existing_job_network_ids
from stacks.functions.lambda_step_targets import FunctionPlacement


class NetworkStack(Stack):
    """Owns the subnet and security-group ids; each pipeline stack pins its own role to them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.job_network: JobNetwork | None = None
        if config.existing_vpc is None:
            self.job_network = JobNetwork(
                self,
                "JobNetwork",
                cidr=config.vpc_cidr,
                max_azs=config.max_azs,
                key=key,
                artifact_bucket=artifact_bucket,
                removal_policy=removal_policy,
            )
            self.ids: JobNetworkIds = self.job_network.ids
            self.function_placement: FunctionPlacement | None = FunctionPlacement(
                vpc=self.job_network.vpc, security_group=self.job_network.function_security_group
            )
        else:
            self.ids = existing_job_network_ids(existing=config.existing_vpc)
            # A VPC owned elsewhere may lack the endpoints the functions need: they run outside it.
            self.function_placement = None
