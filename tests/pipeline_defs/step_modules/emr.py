"""A Spark step on an existing EMR cluster, and an EMR Serverless job run on an existing application."""

from pipeline_defs.building import new_pipeline

PIPELINE_NAME = "emr"


def build_pipeline(ctx):
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.emr_serverless_step import EMRServerlessJobConfig, EMRServerlessStep
    from sagemaker.mlops.workflow.emr_step import EMRStep, EMRStepConfig

    cluster = ParameterString(name="EmrClusterId", default_value="j-0123456789ABC")
    application = ParameterString(name="EmrServerlessApplicationId", default_value="00f0123456789abc")
    spark = EMRStep(
        name="Aggregate",
        display_name="Aggregate",
        description="Spark aggregation on the shared cluster",
        cluster_id=cluster,
        step_config=EMRStepConfig(jar="command-runner.jar", args=["spark-submit", ctx.s3_uri("spark", "aggregate.py")]),
    )
    job = EMRServerlessJobConfig(
        job_driver={"sparkSubmit": {"entryPoint": ctx.s3_uri("spark", "features.py")}},
        execution_role_arn=ctx.execution_role_arn,
        configuration_overrides={
            "monitoringConfiguration": {
                "s3MonitoringConfiguration": {"logUri": ctx.s3_uri("emr-logs"), "encryptionKeyArn": ctx.kms_key}
            }
        },
        tags={tag["Key"]: tag["Value"] for tag in ctx.cost_tags()},
    )
    features = EMRServerlessStep(
        name="Features",
        display_name="Features",
        description="Feature build on EMR Serverless",
        job_config=job,
        application_id=application,
        depends_on=[spark],
    )
    return new_pipeline(ctx, parameters=[cluster, application], steps=[spark, features])
