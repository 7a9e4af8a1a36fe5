"""Check the training data for quality and bias, then train and register only if both checks pass.

DataQuality, DataBias (on the input data) and Preprocess -> Train -> RegisterModel (after both checks)

The quality check (a QualityCheckStep) computes the data's statistics and constraints; the bias
check (a ClarifyCheckStep) measures the label's imbalance across the ``sex`` facet. Either failing
stops the execution before anything is registered. Both run as processing jobs inside the
guardrails (``check_job_config``), on the raw CSV ``jobs/abalone_preprocess.py`` reads.
"""

from __future__ import annotations

from pipeline_defs.building import (
    check_job_config,
    cost_tag_shapes,
    execution_uri,
    model_networking,
    new_pipeline,
    s3_processing_input,
    s3_processing_output,
    script_processor,
    sklearn_image_uri,
    training_output,
)
from pipeline_defs.context import BuildContext

PIPELINE_NAME = "check-and-register"
MODEL_PACKAGE_GROUP = "abalone-checked"
"""Registered as ``<environment prefix>-abalone-checked``."""
RAW_COLUMNS = ("sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight", "rings")
"""The raw CSV's columns (no header row), as ``jobs/abalone_preprocess.py`` reads them."""
LABEL, FACET = "rings", "sex"


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.clarify import BiasConfig, DataConfig
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.clarify_check_step import ClarifyCheckStep, DataBiasCheckConfig
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.configs import Compute, InputData, SourceCode
    from sagemaker.train.model_trainer import ModelTrainer

    image = sklearn_image_uri(ctx)
    dataset = ParameterString(name="InputDataUrl", default_value=ctx.s3_uri("datasets", "abalone", "abalone.csv"))
    group = f"{ctx.name_prefix}-{MODEL_PACKAGE_GROUP}"

    quality = QualityCheckStep(
        name="DataQuality",
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=dataset, dataset_format={"csv": {"header": False}}, output_s3_uri=ctx.s3_uri("checks", "quality")
        ),
        check_job_config=check_job_config(ctx, step="DataQuality"),
        model_package_group_name=group,
    )
    bias = ClarifyCheckStep(
        name="DataBias",
        clarify_check_config=DataBiasCheckConfig(
            data_config=DataConfig(
                s3_data_input_path=dataset,
                s3_output_path=ctx.s3_uri("checks", "bias"),
                s3_analysis_config_output_path=ctx.s3_uri("checks", "bias-config"),
                label=LABEL,
                headers=list(RAW_COLUMNS),
                dataset_type="text/csv",
            ),
            data_bias_config=BiasConfig(label_values_or_threshold=[10], facet_name=FACET),
            kms_key=ctx.kms_key,
        ),
        check_job_config=check_job_config(ctx, step="DataBias"),
        model_package_group_name=group,
    )
    processor = script_processor(ctx, step="Preprocess", image_uri=image)
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=processor.run(
            code=ctx.job_script("abalone_preprocess.py"),
            inputs=[s3_processing_input(name="raw", s3_uri=dataset, local_path="/opt/ml/processing/input")],
            outputs=[
                s3_processing_output(name=name, s3_uri=execution_uri(ctx, "preprocess", name), local_path=f"/opt/ml/processing/{name}")
                for name in ("train", "validation", "test")
            ],
        ),
    )
    trainer = ModelTrainer(
        training_image=image,
        source_code=SourceCode(source_dir="jobs/abalone_train", entry_script="train.py"),
        compute=Compute(instance_type=ctx.default_instance_type, instance_count=1, volume_kms_key_id=ctx.kms_key),
        base_job_name=ctx.job_name("Train"),
        output_data_config=training_output(ctx),
        tags=cost_tag_shapes(ctx),
        input_s3_key_prefix=ctx.pipeline_name,
        role=ctx.execution_role_arn,
        sagemaker_session=ctx.session,
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name=name, data_source=outputs[name].S3Output.S3Uri) for name in ("train", "validation")
            ]
        ),
    )
    model = ModelBuilder(
        image_uri=image,
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=ctx.execution_role_arn,
        env_vars={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
        network=model_networking(ctx),
        sagemaker_session=ctx.session,
        instance_type=ctx.default_instance_type,
    )
    register = ModelStep(
        name="RegisterModel",
        step_args=model.register(
            model_package_group_name=group,
            approval_status="PendingManualApproval",
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[ctx.default_instance_type],
            transform_instances=[ctx.default_instance_type],
        ),
        depends_on=[quality, bias],
    )
    return new_pipeline(ctx, parameters=[dataset], steps=[quality, bias, preprocess, train, register])
