"""Summarise each region's shards in its own processing job, at most three at once: a ForEach fan-out.

PerRegion (ForEach over ``Regions``) -> Summarise (one job per region, ``jobs/shard_worker.py``)

Each iteration reads ``datasets/shards/<region>/`` and writes its summaries under
``<execution>/summaries/<region>/``. Compare ``fan-out-parent``, which starts whole child pipelines
through a Lambda step (``pipeline_defs/README.md``, "ForEach or a Lambda fan-out").
"""

from __future__ import annotations

from pipeline_defs.building import execution_uri, new_pipeline, s3_processing_input, s3_processing_output, script_processor
from pipeline_defs.context import BuildContext

PIPELINE_NAME = "for-each-regions"
REGIONS = ("emea", "amer", "apac")


def build_pipeline(ctx: BuildContext):
    import json

    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.for_each_step import CurrentItem, ForEachStep
    from sagemaker.mlops.workflow.steps import ProcessingStep

    regions = ParameterString(name="Regions", default_value=json.dumps(list(REGIONS)))
    region = CurrentItem()
    processor = script_processor(ctx, step="Summarise")
    summarise = ProcessingStep(
        name="Summarise",
        step_args=processor.run(
            code=ctx.job_script("shard_worker.py"),
            inputs=[
                s3_processing_input(
                    name="shards",
                    s3_uri=Join(on="/", values=["s3:/", ctx.artifact_bucket, ctx.pipeline_name, "datasets", "shards", region, ""]),
                    local_path="/opt/ml/processing/input",
                )
            ],
            outputs=[
                s3_processing_output(name="summaries", s3_uri=execution_uri(ctx, "summaries", region), local_path="/opt/ml/processing/output")
            ],
        ),
    )
    per_region = ForEachStep(name="PerRegion", iterable_items=regions, max_concurrency=3, for_each_body=[summarise])
    return new_pipeline(ctx, parameters=[regions], steps=[per_region])
