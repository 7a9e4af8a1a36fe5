"""Train, evaluate and register an abalone age regressor; batch-score the test split if good.

Preprocess -> Train -> Evaluate -> (MSE <= threshold) ? CreateModel + Register + Transform : Fail
"""

from __future__ import annotations

from pipeline_defs.building import (
    execution_uri,
    cost_tag_shapes,
    model_networking,
    new_pipeline,
    s3_processing_input,
    s3_processing_output,
    script_processor,
    sklearn_image_uri,
    training_output,
)
from pipeline_defs.context import BuildContext
from pipeline_defs.schedules import Schedule

PIPELINE_NAME = "train-evaluate-register"
SCHEDULES = (
    Schedule(
        name="weekly-retrain",
        expression="cron(0 3 ? * MON *)",
        parameter_values={"MseThreshold": 6.0},
        enabled=True,
    ),
)
MODEL_PACKAGE_GROUP = "abalone-regression"
"""Registered as ``<environment prefix>-abalone-regression``: the execution role's registry scope."""


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import (
        ParameterFloat,
        ParameterInteger,
        ParameterString,
    )
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.steps import (
        ProcessingStep,
        PropertyFile,
        TrainingStep,
        TransformStep,
    )
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.configs import Compute, InputData, SourceCode
    from sagemaker.train.model_trainer import ModelTrainer

    image = sklearn_image_uri(ctx)
    input_data = ParameterString(
        name="InputDataUrl",
        default_value=f"s3://{ctx.artifact_bucket}/datasets/abalone/abalone.csv",
    )
    processing_instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    training_instance_type = ParameterString(
        name="TrainingInstanceType", default_value=ctx.default_instance_type
    )
    max_depth = ParameterInteger(name="MaxDepth", default_value=3)
    learning_rate = ParameterFloat(name="LearningRate", default_value=0.1)
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    approval_status = ParameterString(
        name="ModelApprovalStatus", default_value="PendingManualApproval"
    )

    processor = script_processor(ctx, step="Preprocess", image_uri=image, instance_count=processing_instance_count)
    splits = ("train", "validation", "test")
    step_process = ProcessingStep(
        name="Preprocess",
        step_args=processor.run(
            code=ctx.job_script("abalone_preprocess.py"),
            inputs=[
                s3_processing_input(name="raw", s3_uri=input_data, local_path="/opt/ml/processing/input")
            ],
            outputs=[
                s3_processing_output(name=name, s3_uri=execution_uri(ctx, "preprocess", name), local_path=f"/opt/ml/processing/{name}")
                for name in splits
            ],
        ),
    )

    def split_uri(name: str):
        return step_process.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    trainer = ModelTrainer(
        training_image=image,
        source_code=SourceCode(source_dir="jobs/abalone_train", entry_script="train.py"),
        compute=Compute(
            instance_type=training_instance_type,
            instance_count=1,
            volume_kms_key_id=ctx.kms_key,
        ),
        hyperparameters={"max_depth": max_depth, "learning_rate": learning_rate},
        base_job_name=ctx.job_name("Train"),
        output_data_config=training_output(ctx),
        tags=cost_tag_shapes(ctx),
        input_s3_key_prefix=ctx.pipeline_name,
        role=ctx.execution_role_arn,
        sagemaker_session=ctx.session,
    )
    step_train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name="train", data_source=split_uri("train")),
                InputData(channel_name="validation", data_source=split_uri("validation")),
            ]
        ),
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path="evaluation.json"
    )
    evaluator = script_processor(ctx, step="Evaluate", image_uri=image)
    step_evaluate = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            code=ctx.job_script("abalone_evaluate.py"),
            inputs=[
                s3_processing_input(name="model", s3_uri=model_data, local_path="/opt/ml/processing/model"),
                s3_processing_input(name="test", s3_uri=split_uri("test"), local_path="/opt/ml/processing/test"),
            ],
            outputs=[
                s3_processing_output(name="evaluation", s3_uri=execution_uri(ctx, "evaluation"), local_path="/opt/ml/processing/evaluation")
            ],
        ),
        property_files=[evaluation_report],
    )
    test_mse = JsonGet(
        step_name=step_evaluate.name,
        property_file=evaluation_report,
        json_path="regression_metrics.mse.value",
    )

    model_builder = ModelBuilder(
        image_uri=image,
        s3_model_data_url=model_data,
        role_arn=ctx.execution_role_arn,
        env_vars={
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        },
        network=model_networking(ctx),
        sagemaker_session=ctx.session,
        instance_type=ctx.default_instance_type,
    )
    step_create_model = ModelStep(name="CreateModel", step_args=model_builder.build(model_name=ctx.job_name("CreateModel")))
    step_register = ModelStep(
        name="RegisterModel",
        step_args=model_builder.register(
            model_package_group_name=f"{ctx.name_prefix}-{MODEL_PACKAGE_GROUP}",
            approval_status=approval_status,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[ctx.default_instance_type],
            transform_instances=[ctx.default_instance_type],
        ),
    )
    transformer = Transformer(
        model_name=step_create_model.properties.ModelName,
        instance_count=1,
        instance_type=ctx.default_instance_type,
        output_path=execution_uri(ctx, "transform"),
        accept="text/csv",
        assemble_with="Line",
        output_kms_key=ctx.kms_key,
        base_transform_job_name=ctx.job_name("BatchTransform"),
        volume_kms_key=ctx.kms_key,
        sagemaker_session=ctx.session,
    )
    step_transform = TransformStep(
        name="BatchTransform",
        step_args=transformer.transform(
            data=split_uri("test"),
            content_type="text/csv",
            split_type="Line",
            input_filter="$[1:]",
        ),
    )
    step_fail = FailStep(
        name="MseAboveThreshold",
        error_message=Join(
            on=" ",
            values=["Test MSE", test_mse, "is above the threshold", mse_threshold],
        ),
    )
    step_condition = ConditionStep(
        name="CheckMse",
        conditions=[ConditionLessThanOrEqualTo(left=test_mse, right=mse_threshold)],
        if_steps=[step_create_model, step_register, step_transform],
        else_steps=[step_fail],
    )
    return new_pipeline(
        ctx,
        parameters=[
            input_data,
            processing_instance_count,
            training_instance_type,
            max_depth,
            learning_rate,
            mse_threshold,
            approval_status,
        ],
        steps=[step_process, step_train, step_evaluate, step_condition],
    )
