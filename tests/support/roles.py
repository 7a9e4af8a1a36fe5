"""A pipeline's execution role read back from a synthesized assembly, with the values its requests carry."""

from __future__ import annotations

from dataclasses import dataclass

from support.assembly import Assembly, StackTemplate
from support.iam_evaluator import Decision, Request, evaluate


@dataclass
class RoleUnderTest:
    identity: list[dict]
    boundary: dict | None
    role_arn: str
    key_arn: str
    bucket_arn: str
    subnet_ids: list[str]
    job_security_group_id: str
    region: str
    account: str
    prefix: str
    pipeline: str
    principal_tags: dict[str, str]

    @property
    def every_policy(self) -> list[dict]:
        """Identity policies (the job guardrails among them) and the boundary: where a Deny may sit."""
        return self.identity + ([self.boundary] if self.boundary else [])

    def decide(self, request: Request) -> Decision:
        return evaluate(identity_policies=self.identity, boundary=self.boundary, request=request)

    def arn(self, resource: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{resource}"

    def job_context(self, **overrides: object) -> dict:
        """Request keys of a job that follows every guardrail; overrides set or (with None) drop keys."""
        context = {
            "sagemaker:VpcSubnets": list(self.subnet_ids),
            "sagemaker:VpcSecurityGroupIds": [self.job_security_group_id],
            "sagemaker:VolumeKmsKey": self.key_arn,
            "sagemaker:OutputKmsKey": self.key_arn,
            "sagemaker:InterContainerTrafficEncryption": "true",
            "sagemaker:NetworkIsolation": "true",
            "sagemaker:InstanceTypes": ["ml.m5.xlarge"],
            # The stage tags every role with the environment's cost tag: the value jobs must carry too.
            "aws:RequestTag/CostCenter": self.principal_tags["CostCenter"],
            "aws:TagKeys": ["CostCenter"],
            **{f"aws:PrincipalTag/{k}": v for k, v in self.principal_tags.items()},
        }
        for key, value in overrides.items():
            key = key.replace("__", "/").replace("_", ":", 1)
            if value is None:
                context.pop(key, None)
            else:
                context[key] = value
        return context

    def training_job(self, **overrides: object) -> Request:
        return Request(
            action="sagemaker:CreateTrainingJob",
            resource=self.arn(f"training-job/{self.prefix}-abalone-train-a1b2c3"),
            context=self.job_context(**overrides),
        )


def role_under_test(assembly: Assembly, env: str, module: str) -> RoleUnderTest:
    guardrails: StackTemplate = assembly.stack(f"smp-{env}-guardrails")
    network: StackTemplate = assembly.stack(f"smp-{env}-network")
    pipeline: StackTemplate = assembly.stack(f"smp-{env}-pipeline-{module}")
    role_id = pipeline.logical_id("AWS::IAM::Role", "ExecutionRole/Role")
    identity, boundary = assembly.role_policies(pipeline, role_id)
    role = pipeline.template["Resources"][role_id]["Properties"]
    subnets = sorted(network.resources("AWS::EC2::Subnet"))
    job_sg = network.logical_id("AWS::EC2::SecurityGroup", "JobSecurityGroup")
    key_id = guardrails.logical_id("AWS::KMS::Key", "ArtifactStore/Key")
    bucket_id = guardrails.logical_id("AWS::S3::Bucket", "ArtifactStore/Artifacts")
    return RoleUnderTest(
        identity=identity,
        boundary=boundary,
        role_arn=assembly.resolve(pipeline, {"Fn::GetAtt": [role_id, "Arn"]}),
        key_arn=assembly.resolve(guardrails, {"Fn::GetAtt": [key_id, "Arn"]}),
        bucket_arn=assembly.resolve(guardrails, {"Fn::GetAtt": [bucket_id, "Arn"]}),
        subnet_ids=subnets,
        job_security_group_id=assembly.resolve(network, {"Fn::GetAtt": [job_sg, "GroupId"]}),
        region=guardrails.region,
        account=guardrails.account,
        prefix=f"smp-{env}",
        pipeline=f"smp-{env}-{module}",
        principal_tags={t["Key"]: t["Value"] for t in role.get("Tags", [])},
    )
