"""Retry policies of both kinds, step caching, a Boolean parameter and the module's own parallelism."""

from pipeline_defs.building import new_pipeline, script_processor

PIPELINE_NAME = "retry-cache-flags"
MAX_PARALLEL_STEPS = 4


def build_pipeline(ctx):
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.parameters import ParameterBoolean
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.retry import (
        SageMakerJobExceptionTypeEnum,
        SageMakerJobStepRetryPolicy,
        StepExceptionTypeEnum,
        StepRetryPolicy,
    )
    from sagemaker.mlops.workflow.steps import CacheConfig, ProcessingStep

    dry_run = ParameterBoolean(name="DryRun", default_value=False)
    processor = script_processor(ctx, step="Prepare")
    prepare = ProcessingStep(
        name="Prepare",
        step_args=processor.run(code=ctx.job_script("abalone_preprocess.py"), arguments=["--dry-run", dry_run]),
        cache_config=CacheConfig(enable_caching=True, expire_after="P30D"),
        retry_policies=[
            StepRetryPolicy(exception_types=[StepExceptionTypeEnum.THROTTLING, StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=3),
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR],
                failure_reason_types=[SageMakerJobExceptionTypeEnum.INTERNAL_ERROR],
                expire_after_mins=60,
                interval_seconds=30,
            ),
        ],
    )
    stop = FailStep(name="DryRunStop", error_message="dry run: nothing was prepared")
    check = ConditionStep(name="CheckDryRun", conditions=[ConditionEquals(left=dry_run, right=True)], if_steps=[stop], else_steps=[prepare])
    return new_pipeline(ctx, parameters=[dry_run], steps=[check])
