"""Lineage recorded for a batch transform, whose scratch output a Cleanup step then deletes."""

from pipeline_defs.building import execution_uri, new_pipeline

PIPELINE_NAME = "lineage-cleanup"


def build_pipeline(ctx):
    from sagemaker.core.lineage.action import Action
    from sagemaker.core.lineage.artifact import Artifact
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.cleanup_step import CleanupStep, S3CleanupSource
    from sagemaker.mlops.workflow.lineage_step import LineageAssociation, LineageEntityReference, LineageStep
    from sagemaker.mlops.workflow.steps import TransformStep

    scoring = ctx.job_name("Scoring")
    model = ParameterString(name="ModelName", default_value=f"{ctx.name_prefix}-abalone-model")
    transformer = Transformer(
        model_name=model,
        instance_count=1,
        instance_type=ctx.default_instance_type,
        output_path=execution_uri(ctx, "scratch"),
        output_kms_key=ctx.kms_key,
        volume_kms_key=ctx.kms_key,
        base_transform_job_name=ctx.job_name("Score"),
        sagemaker_session=ctx.session,
    )
    score = TransformStep(name="Score", step_args=transformer.transform(data=ctx.s3_uri("datasets", "test"), content_type="text/csv"))
    lineage = LineageStep(
        name="RecordLineage",
        actions=[Action.create(action_name=scoring, source_uri=ctx.s3_uri("datasets", "test"), action_type="BatchTransform", sagemaker_session=ctx.session)],
        artifacts=[Artifact.create(artifact_name="scores", source_uri=ctx.s3_uri("scores"), artifact_type="DataSet", sagemaker_session=ctx.session)],
        associations=[
            LineageAssociation(
                source=LineageEntityReference(name=scoring, type="Action"),
                destination=LineageEntityReference(name="scores", type="Artifact"),
                association_type="Produced",
            )
        ],
        depends_on=[score],
    )
    cleanup = CleanupStep(
        name="DeleteScratch",
        s3_sources=[S3CleanupSource(step=score, s3_uris=[execution_uri(ctx, "scratch", "test.out")])],
        depends_on=[lineage],
    )
    return new_pipeline(ctx, parameters=[model], steps=[score, lineage, cleanup])
