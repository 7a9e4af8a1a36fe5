"""A hyperparameter tuning job over the abalone trainer: the tuning job carries the trainer's guardrails.

The objective is the ``validation_mse=<value>`` line ``jobs/abalone_train/train.py`` prints; the
tuned names are hyperparameters it reads (``tests/pipeline_defs/test_pd_tuning_module.py``).
"""

from pipeline_defs.building import cost_tag_shapes, new_pipeline, sklearn_image_uri, training_output

PIPELINE_NAME = "tuning"


def build_pipeline(ctx):
    from sagemaker.core.parameter import ContinuousParameter, IntegerParameter
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.steps import TuningStep
    from sagemaker.train.configs import Compute, InputData, SourceCode
    from sagemaker.train.model_trainer import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

    instance_type = ParameterString(name="TrainingInstanceType", default_value=ctx.default_instance_type)
    trainer = ModelTrainer(
        training_image=sklearn_image_uri(ctx),
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
        objective_metric_name="validation_mse",
        objective_type="Minimize",
        hyperparameter_ranges={"max_depth": IntegerParameter(2, 8), "learning_rate": ContinuousParameter(0.01, 0.3)},
        metric_definitions=[{"Name": "validation_mse", "Regex": "validation_mse=([0-9.]+)"}],
        max_jobs=6,
        max_parallel_jobs=2,
        tags=ctx.cost_tags(),
    )
    channels = [
        InputData(channel_name=channel, data_source=ctx.s3_uri("datasets", channel)) for channel in ("train", "validation")
    ]
    step = TuningStep(name="Tune", step_args=tuner.tune(inputs=channels))
    return new_pipeline(ctx, parameters=[instance_type], steps=[step])
