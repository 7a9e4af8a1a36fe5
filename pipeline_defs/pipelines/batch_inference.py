"""Batch inference with ``@step`` functions: plan batches, score them on spot capacity, summarise.

ListBatches returns a tuple; ScoreBatches takes its first member (the batches), Summarise takes
ScoreBatches' dict result and the tuple's second member. The function bodies run in the job
container: they import what they use inside the body (boto3, json) and nothing from this repo.
"""

from __future__ import annotations

from pipeline_defs.building import new_pipeline
from pipeline_defs.context import BuildContext
from pipeline_defs.schedules import Guardrail, GuardrailExemption, Schedule

PIPELINE_NAME = "batch-inference"
SCHEDULES = (
    Schedule(
        name="nightly",
        expression="cron(30 1 * * ? *)",
        parameter_values={"BatchSize": 4},
        enabled=True,
        timezone="Europe/Paris",
    ),
)
GUARDRAIL_EXEMPTIONS = (
    GuardrailExemption(
        guardrail=Guardrail.NETWORK_ISOLATION,
        reason="@step jobs download their signed payload and bootstrap scripts from S3 inside "
        "the container; the SDK always disables network isolation for them",
        owner="ml-platform-oncall@example.com",
        expires="2027-06-30",
    ),
)
DEPENDENCIES_FILE = "jobs/batch_inference_requirements.txt"


def list_batches(input_uri: str, batch_size: int) -> tuple[list[list[str]], int]:
    """Group the CSV objects under ``input_uri`` into batches of ``batch_size`` keys."""
    import boto3

    bucket, _, prefix = input_uri.removeprefix("s3://").partition("/")
    paginator = boto3.client("s3").get_paginator("list_objects_v2")
    keys = sorted(
        item["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
        if item["Key"].endswith(".csv")
    )
    size = max(1, int(batch_size))
    batches = [[f"s3://{bucket}/{key}" for key in keys[i : i + size]] for i in range(0, len(keys), size)]
    return batches, len(keys)


def score_batches(batches: list[list[str]], model_uri: str, output_root: str, execution_id: str) -> dict:
    """Score every CSV row with the linear model at ``model_uri``; write one CSV per input."""
    import json

    import boto3

    s3 = boto3.client("s3")

    def split(uri: str) -> tuple[str, str]:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bucket, key

    bucket, key = split(model_uri)
    model = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    weights = [float(w) for w in model["weights"]]
    intercept = float(model.get("intercept", 0.0))
    output_uri = f"{output_root.rstrip('/')}/{execution_id}"
    out_bucket, out_prefix = split(output_uri)
    scored = 0
    files = 0
    for batch in batches:
        for uri in batch:
            bucket, key = split(uri)
            lines = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8").splitlines()
            predictions = []
            for line in lines:
                if not line.strip():
                    continue
                values = [float(v) for v in line.split(",")]
                predictions.append(intercept + sum(w * v for w, v in zip(weights, values)))
            name = key.rsplit("/", 1)[-1]
            body = "".join(f"{p:.6f}\n" for p in predictions)
            s3.put_object(Bucket=out_bucket, Key=f"{out_prefix}/{name}", Body=body.encode("utf-8"))
            scored += len(predictions)
            files += 1
    return {"scored_rows": scored, "scored_files": files, "output_uri": output_uri}


def summarise(scored_rows: int, listed_files: int, output_uri: str) -> str:
    """Write a summary next to the predictions; return its URI."""
    import json

    import boto3

    bucket, _, prefix = output_uri.rstrip("/").removeprefix("s3://").partition("/")
    key = f"{prefix}/_summary.json"
    summary = {"listed_files": int(listed_files), "scored_rows": int(scored_rows)}
    boto3.client("s3").put_object(
        Bucket=bucket, Key=key, Body=json.dumps(summary, sort_keys=True).encode("utf-8")
    )
    return f"s3://{bucket}/{key}"


def build_pipeline(ctx: BuildContext):
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.mlops.workflow.function_step import step

    input_uri = ParameterString(
        name="InputUri", default_value=f"s3://{ctx.artifact_bucket}/datasets/batch-inference/input"
    )
    model_uri = ParameterString(
        name="ModelUri", default_value=f"s3://{ctx.artifact_bucket}/models/linear/model.json"
    )
    batch_size = ParameterInteger(name="BatchSize", default_value=4)
    scoring_instance_type = ParameterString(
        name="ScoringInstanceType", default_value=ctx.default_instance_type
    )
    output_root = ctx.s3_uri("predictions")

    listed = step(
        list_batches,
        name="ListBatches",
        display_name="ListBatches",
        dependencies=DEPENDENCIES_FILE,
        job_name_prefix=ctx.job_name("ListBatches"),
    )(input_uri, batch_size)
    scored = step(
        score_batches,
        name="ScoreBatches",
        display_name="ScoreBatches",
        dependencies=DEPENDENCIES_FILE,
        instance_type=scoring_instance_type,
        use_spot_instances=True,
        max_runtime_in_seconds=3600,
        max_wait_time_in_seconds=7200,
        job_name_prefix=ctx.job_name("ScoreBatches"),
    )(listed[0], model_uri, output_root, ExecutionVariables.PIPELINE_EXECUTION_ID)
    summary = step(
        summarise,
        name="Summarise",
        display_name="Summarise",
        dependencies=DEPENDENCIES_FILE,
        job_name_prefix=ctx.job_name("Summarise"),
    )(scored["scored_rows"], listed[1], scored["output_uri"])

    return new_pipeline(
        ctx,
        parameters=[input_uri, model_uri, batch_size, scoring_instance_type],
        steps=[summary],
    )
