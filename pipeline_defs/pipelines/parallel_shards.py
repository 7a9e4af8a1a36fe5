"""One processing job on several instances, each summarising its share of the input files.

SageMaker splits the input by S3 key (``ShardedByS3Key``): each instance sees a disjoint subset
under the same local path and writes a summary named after its host, so the outputs merge in one
S3 prefix without collisions.
"""

from __future__ import annotations

from pipeline_defs.building import execution_uri, new_pipeline, s3_processing_input, s3_processing_output, script_processor
from pipeline_defs.context import BuildContext
from pipeline_defs.schedules import Schedule

PIPELINE_NAME = "parallel-shards"
SCHEDULES = (
    # A long shard run must not overlap the next one: start only when none is running.
    Schedule(name="every-6-hours", expression="rate(6 hours)", parameter_values={"InstanceCount": 3}, skip_if_running=True),
)


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.mlops.workflow.steps import ProcessingStep

    input_uri = ParameterString(
        name="InputUri", default_value=f"s3://{ctx.artifact_bucket}/datasets/shards/"
    )
    instance_count = ParameterInteger(name="InstanceCount", default_value=3)

    processor = script_processor(ctx, step="SummariseShards", instance_count=instance_count)
    step = ProcessingStep(
        name="SummariseShards",
        step_args=processor.run(
            code=ctx.job_script("shard_worker.py"),
            inputs=[
                s3_processing_input(name="shards", s3_uri=input_uri, local_path="/opt/ml/processing/input", sharded=True)
            ],
            outputs=[
                s3_processing_output(name="summaries", s3_uri=execution_uri(ctx, "summaries"), local_path="/opt/ml/processing/output")
            ],
        ),
    )
    return new_pipeline(ctx, parameters=[input_uri, instance_count], steps=[step])
