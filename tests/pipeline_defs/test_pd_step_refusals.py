"""Step types and settings synth refuses, each with what is missing and what to do instead."""

from __future__ import annotations

import textwrap

import pytest

from pipeline_defs.errors import PipelineDefinitionError

HEADER = '''
from pipeline_defs.building import new_pipeline, script_processor, execution_uri

PIPELINE_NAME = "refused"
'''


@pytest.fixture
def refusal(tmp_path, offline_guard, sandbox_context):
    """Compile one module body (a ``build_pipeline``) and return the error it stops synth with."""
    from pipeline_defs.compiler import compile_module
    from pipeline_defs.loader import load_pipeline_modules

    def run(body: str, *, extra: str = "") -> PipelineDefinitionError:
        path = tmp_path / "refused.py"
        path.write_text(HEADER + textwrap.dedent(extra) + textwrap.dedent(body))
        (module,) = load_pipeline_modules([path])
        with pytest.raises(PipelineDefinitionError) as raised:
            compile_module(module, ctx=sandbox_context, signing_seed=b"refusals", development_only_key=False)
        error = raised.value
        assert error.pipeline == "sandbox-refused" and error.module_file.endswith("refused.py")
        return error

    return run


def test_callback_steps_are_refused_until_the_platform_has_a_queue(refusal):
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.callback_step import CallbackOutput, CallbackStep

            step = CallbackStep(name="Approve", sqs_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q", inputs={"x": "y"}, outputs=[CallbackOutput(output_name="ok")])
            return new_pipeline(ctx, parameters=[], steps=[step])
    ''')
    assert (error.step, error.field) == ("Approve", "Type")
    assert "needs an SQS queue and sqs:SendMessage" in error.reason and "use a Lambda step" in error.reason


def test_automl_steps_are_refused_naming_the_missing_sdk_producer(refusal):
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.automl_step import AutoMLStep

            return new_pipeline(ctx, parameters=[], steps=[AutoMLStep(name="Automl", step_args=None)])
    ''')
    assert (error.step, error.field) == ("Automl", "Type")
    assert "SDK 3.27 has no producer for AutoMLStep" in error.reason


def test_create_job_producers_are_refused_before_they_reach_aws(refusal, offline_guard):
    before = len(offline_guard.ATTEMPTS)
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.steps import JobStep
            from sagemaker.train.multi_turn_rl_trainer import MultiTurnRLTrainer

            trainer = MultiTurnRLTrainer(model="huggingface-reasoning-qwen3-32b", agent_env="arn:aws:lambda:us-east-1:123456789012:function:agent", sagemaker_session=ctx.session)
            return new_pipeline(ctx, parameters=[], steps=[JobStep(name="Rft", step_args=trainer.train())])
    ''')
    assert error.field == "Type" and "Job steps cannot be compiled here" in error.reason
    assert "look up the model in the hub" in error.reason
    assert offline_guard.ATTEMPTS[before:] == []


def test_notebook_job_steps_are_refused_naming_the_timestamped_input_key(refusal, tmp_path):
    notebook = tmp_path / "analysis.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    error = refusal(f'''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.notebook_job_step import NotebookJobStep

            step = NotebookJobStep(name="Analyse", input_notebook={str(notebook)!r}, image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/img:1", kernel_name="python3", sagemaker_session=ctx.session)
            return new_pipeline(ctx, parameters=[], steps=[step])
    ''')
    assert (error.step, error.field) == ("Analyse", "Type")
    assert "input-<timestamp>" in error.reason and "every synth would change the definition" in error.reason
    assert "ProcessingStep with ctx.job_script" in error.reason


def test_an_emr_cluster_the_step_would_create_is_refused(refusal):
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.emr_step import EMRStep, EMRStepConfig

            cluster = {"ReleaseLabel": "emr-7.0.0", "Instances": {"InstanceGroups": [{"InstanceRole": "MASTER", "InstanceType": "m5.xlarge", "InstanceCount": 1}]}}
            step = EMRStep(name="Spark", display_name="Spark", description="d", cluster_id=None, cluster_config=cluster, step_config=EMRStepConfig(jar="command-runner.jar", args=["spark-submit"]))
            return new_pipeline(ctx, parameters=[], steps=[step])
    ''')
    assert (error.step, error.field) == ("Spark", "ClusterConfig")
    assert "existing cluster given as a parameter" in error.reason


def test_an_emr_serverless_application_the_step_would_create_is_refused(refusal):
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.emr_serverless_step import EMRServerlessJobConfig, EMRServerlessStep

            job = EMRServerlessJobConfig(job_driver={"sparkSubmit": {"entryPoint": "s3://b/job.py"}}, execution_role_arn=ctx.execution_role_arn, tags={"CostCenter": "ml-platform"})
            step = EMRServerlessStep(name="Spark", display_name="Spark", description="d", job_config=job, application_config={"releaseLabel": "emr-7.0.0", "type": "SPARK"})
            return new_pipeline(ctx, parameters=[], steps=[step])
    ''')
    assert (error.step, error.field) == ("Spark", "ApplicationConfig")


def test_cleanup_of_a_step_running_in_a_vpc_is_refused(refusal):
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.cleanup_step import CleanupStep, S3CleanupSource
            from sagemaker.mlops.workflow.steps import ProcessingStep

            work = ProcessingStep(name="Work", step_args=script_processor(ctx, step="Work").run(code=ctx.job_script("abalone_preprocess.py")))
            cleanup = CleanupStep(name="Cleanup", s3_sources=[S3CleanupSource(step=work, s3_uris=[ctx.s3_uri("scratch", "x")])])
            return new_pipeline(ctx, parameters=[], steps=[work, cleanup])
    ''')
    assert (error.step, error.field) == ("Cleanup", "Resources.S3[0].StepName")
    assert "it runs in a VPC" in error.reason


def test_cleanup_outside_the_pipelines_prefix_is_refused(refusal):
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.core.transformer import Transformer
            from sagemaker.mlops.workflow.cleanup_step import CleanupStep, S3CleanupSource
            from sagemaker.mlops.workflow.steps import TransformStep

            transformer = Transformer(model_name="sandbox-model", instance_count=1, instance_type="ml.m5.large", output_path=ctx.s3_uri("out"), output_kms_key=ctx.kms_key, volume_kms_key=ctx.kms_key, base_transform_job_name=ctx.job_name("Score"), sagemaker_session=ctx.session)
            score = TransformStep(name="Score", step_args=transformer.transform(data=ctx.s3_uri("in")))
            cleanup = CleanupStep(name="Cleanup", s3_sources=[S3CleanupSource(step=score, s3_uris=["s3://someone-elses-bucket/data.csv"])])
            return new_pipeline(ctx, parameters=[], steps=[score, cleanup])
    ''')
    assert (error.step, error.field) == ("Cleanup", "Resources.S3[0].S3Uris[0]")
    assert "deletes only what the pipeline wrote" in error.reason


def test_an_inference_component_with_its_own_container_is_refused(refusal):
    error = refusal('''
        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.inference_component_step import InferenceComponentStep

            args = ctx.session.create_inference_component(
                inference_component_name=ctx.job_name("Component"), endpoint_name="sandbox-endpoint", variant_name="AllTraffic",
                specification={"Container": {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x@sha256:689e9dd50804826d04c324c720104e2fc7362bd1a54df6e4898a8b423f2cae15"}, "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 1024}},
                tags=ctx.cost_tags(),
            )
            return new_pipeline(ctx, parameters=[], steps=[InferenceComponentStep(name="Component", step_args=args)])
    ''')
    assert (error.step, error.field) == ("Component", "Specification.Container")


def test_an_instance_type_a_schedule_passes_outside_the_allowlist_fails_synth(refusal):
    error = refusal(
        '''
        def build_pipeline(ctx):
            from sagemaker.core.workflow.parameters import ParameterString
            from sagemaker.mlops.workflow.steps import ProcessingStep

            instance_type = ParameterString(name="InstanceType", default_value="ml.m5.large")
            processor = script_processor(ctx, step="Work")
            processor.instance_type = instance_type
            step = ProcessingStep(name="Work", step_args=processor.run(code=ctx.job_script("abalone_preprocess.py")))
            return new_pipeline(ctx, parameters=[instance_type], steps=[step])
        ''',
        extra='''
        from pipeline_defs.schedules import Schedule

        SCHEDULES = (Schedule(name="nightly", expression="cron(0 2 * * ? *)", parameter_values={"InstanceType": "ml.p4d.24xlarge"}),)
        ''',
    )
    assert (error.step, error.field) == ("Work", "ProcessingResources.ClusterConfig.InstanceType")
    assert "'ml.p4d.24xlarge' (parameter InstanceType in schedule 'nightly') is not in the environment's allowlist" in error.reason
