"""Small helpers pipeline modules share, so each builder states only what is its own."""

from __future__ import annotations

from typing import Any, Sequence

from pipeline_defs.context import BuildContext


def new_pipeline(ctx: BuildContext, *, parameters: Sequence[Any], steps: Sequence[Any]) -> Any:
    """An SDK ``Pipeline`` with the platform's fixed choices.

    Name and session from the context, job names ``<pipeline>-<step>``, and an experiment named
    after the pipeline with one trial per execution, ``<prefix>-<execution id>``: the execution
    role may create only trials named with the environment prefix.
    """
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.pipeline_definition_config import PipelineDefinitionConfig
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.pipeline_experiment_config import PipelineExperimentConfig

    return Pipeline(
        name=ctx.pipeline_name,
        parameters=list(parameters),
        steps=list(steps),
        sagemaker_session=ctx.session,
        pipeline_experiment_config=PipelineExperimentConfig(
            ExecutionVariables.PIPELINE_NAME,
            Join(on="-", values=[ctx.name_prefix, ExecutionVariables.PIPELINE_EXECUTION_ID]),
        ),
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
    )


def sklearn_image_uri(ctx: BuildContext) -> str:
    """The scikit-learn container for processing, training and inference in this region."""
    from sagemaker.core import image_uris

    return image_uris.retrieve(
        framework="sklearn", region=ctx.region, version="1.4-2", instance_type="ml.m5.large"
    )


def cost_tag_shapes(ctx: BuildContext) -> list[Any]:
    """The cost tag as ``sagemaker.core.shapes.Tag`` objects, which ``ModelTrainer`` requires."""
    from sagemaker.core.shapes import Tag

    return [Tag(key=tag["Key"], value=tag["Value"]) for tag in ctx.cost_tags()]


def training_output(ctx: BuildContext) -> Any:
    """Training output under the pipeline's prefix, KMS-encrypted (ModelTrainer sets no key)."""
    from sagemaker.train.configs import OutputDataConfig

    return OutputDataConfig(s3_output_path=ctx.s3_uri("training-output"), kms_key_id=ctx.kms_key)


def model_networking(ctx: BuildContext, *, network_isolation: bool = True) -> Any:
    """Networking for ``ModelBuilder``, which defaults isolation to False and skips the SDK config."""
    from sagemaker.train.configs import Networking

    return Networking(
        subnets=list(ctx.subnet_ids),
        security_group_ids=list(ctx.security_group_ids),
        enable_network_isolation=network_isolation,
    )


def check_job_config(ctx: BuildContext, *, step: str, instance_type: Any = None, network_isolation: bool = True) -> Any:
    """The job of a QualityCheck or ClarifyCheck step, inside the guardrails: the SDK config does not
    reach the model monitors these steps build, so VPC, keys, isolation and tags are given here."""
    from sagemaker.core.network import NetworkConfig
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig

    return CheckJobConfig(
        role=ctx.execution_role_arn,
        instance_type=instance_type or ctx.default_instance_type,
        volume_kms_key=ctx.kms_key,
        output_kms_key=ctx.kms_key,
        base_job_name=ctx.job_name(step),
        sagemaker_session=ctx.session,
        tags=ctx.cost_tags(),
        network_config=NetworkConfig(
            enable_network_isolation=network_isolation,
            encrypt_inter_container_traffic=True,
            subnets=list(ctx.subnet_ids),
            security_group_ids=list(ctx.security_group_ids),
        ),
    )


def script_processor(ctx: BuildContext, *, step: str, image_uri: str | None = None, instance_count: Any = 1) -> Any:
    """A ``python3`` ScriptProcessor for one step: scikit-learn image by default, ``<pipeline>-<step>`` jobs."""
    from sagemaker.core.processing import ScriptProcessor

    return ScriptProcessor(
        image_uri=image_uri or sklearn_image_uri(ctx),
        command=["python3"],
        instance_type=ctx.default_instance_type,
        instance_count=instance_count,
        base_job_name=ctx.job_name(step),
        sagemaker_session=ctx.session,
    )


def s3_processing_input(*, name: str, s3_uri: Any, local_path: str, sharded: bool = False) -> Any:
    """A processing input copied from an S3 prefix; ``sharded`` gives each instance its own share of keys."""
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    extra = {"s3_data_distribution_type": "ShardedByS3Key"} if sharded else {}
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(s3_uri=s3_uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File", **extra),
    )


def execution_uri(ctx: BuildContext, *parts: Any) -> Any:
    """``s3://<bucket>/<pipeline>/<execution id>/<parts...>``: each execution writes under its own prefix
    (a part may be a pipeline variable, such as a ForEach step's current item)."""
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return Join(on="/", values=["s3:/", ctx.artifact_bucket, ctx.pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])


def s3_processing_output(*, name: str, s3_uri: Any, local_path: str) -> Any:
    """A processing output uploaded to S3 when the job ends."""
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    return ProcessingOutput(
        output_name=name, s3_output=ProcessingS3Output(s3_uri=s3_uri, local_path=local_path, s3_upload_mode="EndOfJob")
    )
