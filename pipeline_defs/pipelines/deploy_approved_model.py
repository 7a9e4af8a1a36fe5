"""Deploy an approved version of the abalone model to a real-time endpoint.

CreateModel -> EndpointConfig -> Endpoint (created, or updated to the new configuration when it exists)

Start it once a version of ``<prefix>-abalone-regression`` (registered by
``train-evaluate-register``) is approved, with that version's artifacts::

    aws sagemaker describe-model-package --model-package-name <version ARN> \\
        --query 'InferenceSpecification.Containers[0].ModelDataUrl'

The model is made from the version's artifacts rather than its ARN: SDK 3.27 builds a model from a
model package only by describing the package in AWS (``ModelBuilder``), which the offline compile
never does; so the approval is checked by whoever starts the pipeline, not by the pipeline.

The model runs in the job subnets with network isolation (``model_networking``); the endpoint
configuration encrypts its volumes with the environment key and runs an allowlisted instance type.
"""

from __future__ import annotations

from pipeline_defs.building import model_networking, new_pipeline, sklearn_image_uri
from pipeline_defs.context import BuildContext
from pipeline_defs.schedules import DataAccess

PIPELINE_NAME = "deploy-approved-model"
SOURCE_PIPELINE = "train-evaluate-register"
DATA_ACCESS = DataAccess(read=(f"{{prefix}}-{SOURCE_PIPELINE}/training-output/",))
"""The registered versions' artifacts, which the model (this pipeline's role) reads at deployment."""


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.helper.session_helper import production_variant
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.endpoint_step import EndpointConfigStep, EndpointStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.serve.model_builder import ModelBuilder

    image = sklearn_image_uri(ctx)
    model_data = ParameterString(
        name="ModelDataUrl",
        default_value=f"s3://{ctx.artifact_bucket}/{ctx.name_prefix}-{SOURCE_PIPELINE}/training-output/approved/model.tar.gz",
    )
    instance_type = ParameterString(name="EndpointInstanceType", default_value=ctx.default_instance_type)
    builder = ModelBuilder(
        image_uri=image,
        s3_model_data_url=model_data,
        role_arn=ctx.execution_role_arn,
        env_vars={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
        network=model_networking(ctx),
        sagemaker_session=ctx.session,
        instance_type=ctx.default_instance_type,
    )
    model = ModelStep(name="CreateModel", step_args=builder.build(model_name=ctx.job_name("CreateModel")))
    config = EndpointConfigStep(
        name="EndpointConfig",
        step_args=ctx.session.create_endpoint_config(
            # One configuration per execution (SageMaker refuses a name twice); the endpoint keeps its name.
            name=Join(on="-", values=[ctx.job_name("EndpointConfig"), ExecutionVariables.PIPELINE_EXECUTION_ID]),
            production_variants=[production_variant(model_name=model.properties.ModelName, instance_type=instance_type, initial_instance_count=1)],
            kms_key=ctx.kms_key,
            tags=ctx.cost_tags(),
        ),
    )
    endpoint = EndpointStep(
        name="Endpoint",
        step_args=ctx.session.create_endpoint(
            endpoint_name=ctx.job_name("Endpoint"), config_name=config.properties.EndpointConfigName, tags=ctx.cost_tags()
        ),
    )
    return new_pipeline(ctx, parameters=[model_data, instance_type], steps=[model, config, endpoint])
