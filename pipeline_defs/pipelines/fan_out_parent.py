"""A parent pipeline whose Lambda step starts child pipelines, failing if none started.

The FanOut Lambda (``${FanOutFunctionArn}``, delivered with the schedules work) receives the
child pipeline names as a JSON list, the parameters to start them with as a JSON object, and the
parent's execution id for tracing; it returns ``started_count`` (Integer) and
``started_executions`` (String, a JSON list of execution ARNs).
"""

from __future__ import annotations

import json

from pipeline_defs.building import new_pipeline
from pipeline_defs.context import BuildContext
from pipeline_defs.schedules import Schedule

PIPELINE_NAME = "fan-out-parent"
CHILD_MODULE_PIPELINES = ("parallel-shards", "lambda-data-passing")
SCHEDULES = (
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

    child_parameters = ParameterString(name="ChildParametersJson", default_value="{}")
    children = [ctx.child_pipeline_name(name) for name in CHILD_MODULE_PIPELINES]

    fan_out = LambdaStep(
        name="FanOut",
        lambda_func=Lambda(function_arn=ctx.lambda_function_arn("FanOut"), session=ctx.session),
        inputs={
            "child_pipelines_json": json.dumps(children),
            "child_parameters_json": child_parameters,
            "parent_execution_id": ExecutionVariables.PIPELINE_EXECUTION_ID,
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
    return new_pipeline(ctx, parameters=[child_parameters], steps=[fan_out, check])
