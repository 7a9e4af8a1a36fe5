"""An approved model deployed to an endpoint, and an inference component on another endpoint."""

from pipeline_defs.building import new_pipeline

PIPELINE_NAME = "endpoint"


def build_pipeline(ctx):
    from sagemaker.core.helper.session_helper import production_variant
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.endpoint_step import EndpointConfigStep, EndpointStep
    from sagemaker.mlops.workflow.inference_component_step import InferenceComponentStep

    model = ParameterString(name="ModelName", default_value=f"{ctx.name_prefix}-abalone-model")
    variant = production_variant(model_name=model, instance_type=ctx.default_instance_type, initial_instance_count=1)
    config = EndpointConfigStep(
        name="EndpointConfig",
        step_args=ctx.session.create_endpoint_config(
            name=ctx.job_name("EndpointConfig"), production_variants=[variant], kms_key=ctx.kms_key, tags=ctx.cost_tags()
        ),
    )
    endpoint = EndpointStep(
        name="Endpoint",
        step_args=ctx.session.create_endpoint(
            endpoint_name=ctx.job_name("Endpoint"), config_name=config.properties.EndpointConfigName, tags=ctx.cost_tags()
        ),
    )
    component = InferenceComponentStep(
        name="Component",
        step_args=ctx.session.create_inference_component(
            inference_component_name=ctx.job_name("Component"),
            endpoint_name=f"{ctx.name_prefix}-shared-endpoint",
            variant_name="AllTraffic",
            specification={"ModelName": model, "ComputeResourceRequirements": {"NumberOfCpuCoresRequired": 1, "MinMemoryRequiredInMb": 1024}},
            tags=ctx.cost_tags(),
        ),
    )
    return new_pipeline(ctx, parameters=[model], steps=[config, endpoint, component])
