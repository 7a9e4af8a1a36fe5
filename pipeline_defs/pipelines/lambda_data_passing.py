"""A Lambda step computes run settings; a processing job consumes them as typed arguments.

The DataPassing Lambda (deployed by the stacks as ``${DataPassingFunctionArn}``) receives
``{"dataset_uri": ..., "requested_samples": ...}`` and must return the output parameters below:
``sample_count`` (Integer), ``run_label`` (String), ``use_gpu`` (Boolean), ``learning_rate``
(Float) and ``settings_json`` (String: a JSON object, the non-primitive result). Pipelines pass
every value as a string argument; the job parses each one, reading the JSON with ``json.loads``.
"""

from __future__ import annotations

from pipeline_defs.building import execution_uri, new_pipeline, s3_processing_output, script_processor
from pipeline_defs.context import BuildContext

PIPELINE_NAME = "lambda-data-passing"
OUTPUTS = {
    "sample_count": "Integer",
    "run_label": "String",
    "use_gpu": "Boolean",
    "learning_rate": "Float",
    "settings_json": "String",
}


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
    from sagemaker.mlops.workflow.steps import ProcessingStep

    dataset_uri = ParameterString(
        name="DatasetUri", default_value=f"s3://{ctx.artifact_bucket}/datasets/abalone/"
    )
    requested_samples = ParameterInteger(name="RequestedSamples", default_value=1000)

    step_settings = LambdaStep(
        name="ComputeSettings",
        lambda_func=Lambda(
            function_arn=ctx.lambda_function_arn("DataPassing"), session=ctx.session
        ),
        inputs={"dataset_uri": dataset_uri, "requested_samples": requested_samples},
        outputs=[
            LambdaOutput(output_name=name, output_type=LambdaOutputTypeEnum[kind])
            for name, kind in OUTPUTS.items()
        ],
    )
    outputs = step_settings.properties.Outputs

    processor = script_processor(ctx, step="UseSettings")
    step_use = ProcessingStep(
        name="UseSettings",
        step_args=processor.run(
            code=ctx.job_script("lambda_outputs_consumer.py"),
            arguments=[
                "--sample-count", outputs["sample_count"].to_string(),
                "--run-label", outputs["run_label"],
                "--use-gpu", outputs["use_gpu"].to_string(),
                "--learning-rate", outputs["learning_rate"].to_string(),
                "--settings-json", outputs["settings_json"],
            ],
            outputs=[
                s3_processing_output(name="resolved", s3_uri=execution_uri(ctx, "resolved"), local_path="/opt/ml/processing/output")
            ],
        ),
    )
    return new_pipeline(
        ctx, parameters=[dataset_uri, requested_samples], steps=[step_settings, step_use]
    )
