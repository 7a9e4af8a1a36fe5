"""Tune the abalone regressor: preprocess, then one tuning job over tree depth and learning rate.

Preprocess -> Tune (up to 6 training jobs, 2 at a time, minimising ``validation_mse``)

The tuning job's training jobs run the same script as ``train-evaluate-register``
(``jobs/abalone_train/train.py``), which prints ``validation_mse=<value>``: the objective the tuner
parses. Each training job carries the trainer's VPC, keys, isolation and encryption.
"""

from __future__ import annotations

from pipeline_defs.building import (
    cost_tag_shapes,
    execution_uri,
    new_pipeline,
    s3_processing_input,
    s3_processing_output,
    script_processor,
    sklearn_image_uri,
    training_output,
)
from pipeline_defs.context import BuildContext

PIPELINE_NAME = "tune-abalone"
OBJECTIVE = "validation_mse"
"""The line ``train.py`` prints (``validation_mse=<value>``), parsed by the tuner's metric regex."""


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.parameter import ContinuousParameter, IntegerParameter
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.steps import ProcessingStep, TuningStep
    from sagemaker.train.configs import Compute, InputData, SourceCode
    from sagemaker.train.model_trainer import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

    image = sklearn_image_uri(ctx)
    input_data = ParameterString(name="InputDataUrl", default_value=f"s3://{ctx.artifact_bucket}/datasets/abalone/abalone.csv")
    instance_type = ParameterString(name="TrainingInstanceType", default_value=ctx.default_instance_type)

    processor = script_processor(ctx, step="Preprocess", image_uri=image)
    splits = ("train", "validation")
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=processor.run(
            code=ctx.job_script("abalone_preprocess.py"),
            inputs=[s3_processing_input(name="raw", s3_uri=input_data, local_path="/opt/ml/processing/input")],
            outputs=[
                s3_processing_output(name=name, s3_uri=execution_uri(ctx, "preprocess", name), local_path=f"/opt/ml/processing/{name}")
                for name in (*splits, "test")
            ],
        ),
    )
    trainer = ModelTrainer(
        training_image=image,
        source_code=SourceCode(source_dir="jobs/abalone_train", entry_script="train.py"),
        compute=Compute(instance_type=instance_type, instance_count=1, volume_kms_key_id=ctx.kms_key),
        base_job_name=ctx.job_name("Tune"),
        role=ctx.execution_role_arn,
        output_data_config=training_output(ctx),
        tags=cost_tag_shapes(ctx),
        input_s3_key_prefix=ctx.pipeline_name,
        sagemaker_session=ctx.session,
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name=OBJECTIVE,
        objective_type="Minimize",
        hyperparameter_ranges={"max_depth": IntegerParameter(2, 8), "learning_rate": ContinuousParameter(0.01, 0.3)},
        metric_definitions=[{"Name": OBJECTIVE, "Regex": f"{OBJECTIVE}=([0-9.]+)"}],
        max_jobs=6,
        max_parallel_jobs=2,
        tags=ctx.cost_tags(),
    )
    tune = TuningStep(
        name="Tune",
        step_args=tuner.tune(
            inputs=[
                InputData(channel_name=name, data_source=preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri)
                for name in splits
            ]
        ),
    )
    return new_pipeline(ctx, parameters=[input_data, instance_type], steps=[preprocess, tune])
