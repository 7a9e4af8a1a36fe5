"""One processing job per region, at most four at once, as a ForEach fan-out."""

from pipeline_defs.building import new_pipeline, script_processor

PIPELINE_NAME = "for-each"


def build_pipeline(ctx):
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.for_each_step import CurrentItem, ForEachStep
    from sagemaker.mlops.workflow.steps import ProcessingStep

    regions = ParameterString(name="Regions", default_value='["emea", "amer", "apac"]')
    processor = script_processor(ctx, step="Summarise")
    body = ProcessingStep(
        name="Summarise",
        step_args=processor.run(code=ctx.job_script("shard_worker.py"), arguments=["--region", CurrentItem()]),
    )
    fan_out = ForEachStep(name="PerRegion", iterable_items=regions, max_concurrency=4, for_each_body=[body])
    return new_pipeline(ctx, parameters=[regions], steps=[fan_out])
