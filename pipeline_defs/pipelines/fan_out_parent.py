"""A parent pipeline whose Lambda step starts one child execution per item, failing if none started.

The FanOut Lambda (``${FanOutFunctionArn}``, ``lambda_src/fan_out``) receives the child pipeline's
name, the items as a JSON list of parameter objects (one child execution each), and the parent's
execution id, from which it derives idempotency tokens; it returns ``started_count`` (Integer) and
``started_executions`` (String, a JSON list of execution ARNs).
"""

from __future__ import annotations

import json

from pipeline_defs.building import new_pipeline
from pipeline_defs.context import BuildContext
from pipeline_defs.schedules import Schedule

PIPELINE_NAME = "fan-out-parent"
CHILD_MODULE_PIPELINE = "parallel-shards"
CHILD_PIPELINES = (CHILD_MODULE_PIPELINE,)
"""The only pipelines the fan-out step may start for this one (checked by the fan-out function)."""
DEFAULT_ITEMS = [{"InputUri": f"s3://${{ArtifactBucket}}/datasets/shards/{region}/"} for region in ("emea", "amer", "apac")]
SCHEDULES = (
    # Off unless an environment enables it in cdk.json (prod does).
    Schedule(name="daily", expression="cron(0 5 * * ? *)", parameter_values={}, enabled=False),
)


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep

    items = ParameterString(name="ItemsJson", default_value=json.dumps(DEFAULT_ITEMS, sort_keys=True))

    fan_out = LambdaStep(
        name="FanOut",
        lambda_func=Lambda(function_arn=ctx.lambda_function_arn("FanOut"), session=ctx.session),
        inputs={
            "child_pipeline": ctx.child_pipeline_name(CHILD_MODULE_PIPELINE),
            "items_json": items,
            "parent_execution_id": ExecutionVariables.PIPELINE_EXECUTION_ID,
            "parent_pipeline": ExecutionVariables.PIPELINE_NAME,
        },
        outputs=[
            LambdaOutput(output_name="started_count", output_type=LambdaOutputTypeEnum.Integer),
            LambdaOutput(output_name="started_executions", output_type=LambdaOutputTypeEnum.String),
        ],
    )
    started = fan_out.properties.Outputs["started_count"]
    nothing_started = FailStep(
        name="NoChildStarted",
        error_message=Join(on=" ", values=["FanOut started", started, "child executions"]),
    )
    check = ConditionStep(
        name="CheckStarted",
        conditions=[ConditionEquals(left=started, right=0)],
        if_steps=[nothing_started],
        else_steps=[],
    )
    return new_pipeline(ctx, parameters=[items], steps=[fan_out, check])
