"""One compiled pipeline in its stack: its job files as one asset, and the custom resource that upserts it.

The upsert handler copies the job files to the keys the definition names before it creates or
updates the pipeline; no per-pipeline deployment function or layer exists.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Mapping, Sequence

from aws_cdk import Aws, CfnOutput, CustomResource, Fn
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from base.errors import UserError
from base.naming import PIPELINE_RESOURCE_TYPE
from planning.staging import StagedPipelineFiles
from stacks.pipelines.definition_parts import split_definition

if TYPE_CHECKING:
    from pipeline_defs.contract import CompiledPipeline

PSEUDO_PARAMETER_VALUES = {
    "AWS::AccountId": Aws.ACCOUNT_ID,
    "AWS::Region": Aws.REGION,
    "AWS::Partition": Aws.PARTITION,
    "AWS::URLSuffix": Aws.URL_SUFFIX,
}
PSEUDO_PARAMETERS = tuple(PSEUDO_PARAMETER_VALUES)


class PlaceholderError(UserError, ValueError):
    """A definition uses a ``${Name}`` this stack has no value for."""


def substitute(*, text: str, names: list[str], values: Mapping[str, str]) -> str:
    """``Fn::Sub`` of ``text`` with only the variables it uses (pseudo parameters need none)."""
    used = {name: values[name] for name in names if name not in PSEUDO_PARAMETERS and f"${{{name}}}" in text}
    if not used and "${" not in text:
        return text
    return Fn.sub(text, used) if used else Fn.sub(text)


def source_version(*, compiled: "CompiledPipeline") -> str:
    """Changes exactly when the pipeline's definition or job files change (not on every commit)."""
    digest = hashlib.sha256((compiled.definition + compiled.manifest_json()).encode()).hexdigest()
    return f"sha256-{digest[:16]}"


class DeployedPipeline(Construct):
    """The custom resource that deploys one pipeline's job files and upserts the pipeline."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        compiled: "CompiledPipeline",
        service_token: str,
        role_arn: str,
        values: Mapping[str, str],
        staged: StagedPipelineFiles,
        adopt_from: Sequence[str],
        tags: Mapping[str, str],
        retain_on_delete: bool,
        max_parallel_steps: int,
    ) -> None:
        super().__init__(scope, construct_id)
        name = compiled.pipeline_name
        missing = sorted(n for n in compiled.placeholders_used if n not in values and n not in PSEUDO_PARAMETERS)
        if missing:
            raise PlaceholderError(f"pipeline {name} uses {', '.join('${' + n + '}' for n in missing)}, which this environment does not provide")
        names = sorted(values)
        properties: dict = {}

        if staged.job_files is not None:
            # One zip per pipeline; the handler writes each file at its key (no pruning: running
            # executions keep reading the files of their own version).
            files = s3_assets.Asset(self, "JobFiles", path=str(staged.job_files))
            properties["JobFiles"] = {"S3Bucket": files.s3_bucket_name, "S3Key": files.s3_object_key, "Bucket": values["ArtifactBucket"]}

        if staged.definition_file is not None:
            asset = s3_assets.Asset(self, "Definition", path=str(staged.definition_file))
            self.definition_asset: s3_assets.Asset | None = asset
            # CloudFormation substitutes nothing inside an asset: the handler does, with these values.
            available = {**values, **PSEUDO_PARAMETER_VALUES}
            definition: dict = {
                "S3Bucket": asset.s3_bucket_name,
                "S3Key": asset.s3_object_key,
                "Substitutions": {n: available[n] for n in sorted(compiled.placeholders_used)},
            }
        else:
            self.definition_asset = None
            parts = split_definition(definition=compiled.definition)
            definition = {
                "Head": substitute(text=parts["Head"], names=names, values=values),
                "StepOrder": parts["StepOrder"],
                "Steps": {step: substitute(text=body, names=names, values=values) for step, body in parts["Steps"].items()},
            }

        self.resource = CustomResource(
            self,
            "Pipeline",
            service_token=service_token,
            resource_type=PIPELINE_RESOURCE_TYPE,
            properties={
                "PipelineName": name,
                "RoleArn": role_arn,
                "DisplayName": name,
                "Description": f"{compiled.module_pipeline_name} ({compiled.source_module})",
                "Definition": definition,
                **properties,
                # Stacks that may hand this pipeline over; anything else managing it is refused.
                "AdoptFrom": list(adopt_from),
                "Tags": [{"Key": k, "Value": v} for k, v in sorted({**tags, "Pipeline": compiled.module_pipeline_name, "SourceVersion": source_version(compiled=compiled)}.items())],
                "MaxParallelExecutionSteps": str(max_parallel_steps),
                "RetainOnDelete": "true" if retain_on_delete else "false",
            },
        )
        self.pipeline_arn = self.resource.get_att_string("PipelineArn")
        CfnOutput(self, "Name", value=name, description=f"SageMaker pipeline name of {compiled.module_pipeline_name}")
        CfnOutput(self, "Arn", value=self.pipeline_arn, description=f"SageMaker pipeline ARN of {compiled.module_pipeline_name}")
