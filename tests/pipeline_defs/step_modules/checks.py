"""A data-quality check and a data-bias check on the training split, before anything is registered."""

from pipeline_defs.building import check_job_config, new_pipeline

PIPELINE_NAME = "checks"


def build_pipeline(ctx):
    from sagemaker.core.clarify import BiasConfig, DataConfig
    from sagemaker.mlops.workflow.clarify_check_step import ClarifyCheckStep, DataBiasCheckConfig
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep

    dataset = ctx.s3_uri("datasets", "train", "abalone.csv")
    group = f"{ctx.name_prefix}-abalone-regression"
    quality = QualityCheckStep(
        name="DataQuality",
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=dataset, dataset_format={"csv": {"header": False}}, output_s3_uri=ctx.s3_uri("checks", "quality")
        ),
        check_job_config=check_job_config(ctx, step="DataQuality"),
        model_package_group_name=group,
    )
    data = DataConfig(
        s3_data_input_path=dataset,
        s3_output_path=ctx.s3_uri("checks", "bias"),
        s3_analysis_config_output_path=ctx.s3_uri("checks", "bias-config"),
        label="rings",
        headers=["sex", "length", "diameter", "height", "rings"],
        dataset_type="text/csv",
    )
    bias = ClarifyCheckStep(
        name="DataBias",
        clarify_check_config=DataBiasCheckConfig(
            data_config=data, data_bias_config=BiasConfig(label_values_or_threshold=[10], facet_name="sex"), kms_key=ctx.kms_key
        ),
        check_job_config=check_job_config(ctx, step="DataBias"),
        model_package_group_name=group,
        depends_on=[quality],
    )
    return new_pipeline(ctx, parameters=[], steps=[quality, bias])
