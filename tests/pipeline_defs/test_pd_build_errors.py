"""An exception while a module builds is told with its type, its message, the module's line and the step."""

from __future__ import annotations

import textwrap

import pytest

from pipeline_defs.errors import PipelineDefinitionError

QUALITY_CHECK = '''
from pipeline_defs.building import check_job_config, new_pipeline

PIPELINE_NAME = "broken"


def build_pipeline(ctx):
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep

    config = DataQualityCheckConfig(baseline_dataset=ctx.s3_uri("data.csv"), dataset_format={"csv": {"header": False}}, output_s3_uri=ctx.s3_uri("quality"))
    quality = QualityCheckStep(name="DataQuality", quality_check_config=config, check_job_config=check_job_config(ctx, step="DataQuality"))
    return new_pipeline(ctx, parameters=[], steps=[quality])
'''


@pytest.fixture
def build_error(tmp_path, offline_guard, sandbox_context):
    from pipeline_defs.compiler import compile_module
    from pipeline_defs.loader import load_pipeline_modules

    def run(source: str) -> PipelineDefinitionError:
        path = tmp_path / "broken.py"
        path.write_text(textwrap.dedent(source))
        (module,) = load_pipeline_modules([path])
        before = len(offline_guard.ATTEMPTS)
        with pytest.raises(PipelineDefinitionError) as raised:
            compile_module(module, ctx=sandbox_context, signing_seed=b"errors", development_only_key=False)
        assert offline_guard.ATTEMPTS[before:] == [], "the failing build reached for the network"
        assert raised.value.module_file == "broken.py" and raised.value.pipeline == "sandbox-broken"
        return raised.value

    return run


def test_an_sdk_exception_in_the_builder_names_type_message_and_line(build_error):
    error = build_error(
        '''
        PIPELINE_NAME = "broken"


        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.retry import StepRetryPolicy

            return StepRetryPolicy(exception_types=["THROTTLING"], max_attempts=3)
        '''
    )
    assert error.reason.startswith("build_pipeline raised ValueError: THROTTLING is not of StepExceptionTypeEnum.")
    assert error.reason.endswith('; at broken.py:8: return StepRetryPolicy(exception_types=["THROTTLING"], max_attempts=3)')


def test_a_value_the_sdk_cannot_serialize_names_step_field_type_and_the_steps_line(build_error, monkeypatch):
    from pipeline_defs.compiler import sdk_step_pins

    # Without its pin, SDK 3.27 leaves the NetworkConfig object itself in a check step's request.
    monkeypatch.setattr(sdk_step_pins, "_check_job_request_in_api_form", sdk_step_pins._original_check_job_request)
    error = build_error(QUALITY_CHECK)
    assert (error.step, error.field) == ("DataQuality", "Arguments.NetworkConfig")
    assert error.reason.startswith("building the definition raised TypeError: Object of type NetworkConfig is not JSON serializable")
    assert "the SDK left a NetworkConfig object where the API takes plain data" in error.reason
    assert "step 'DataQuality' created at broken.py:11: quality = QualityCheckStep(" in error.reason


def test_a_missing_session_is_refused_where_the_object_is_created_even_with_credentials(build_error, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    error = build_error(
        '''
        from pipeline_defs.building import cost_tag_shapes, new_pipeline, sklearn_image_uri, training_output

        PIPELINE_NAME = "broken"


        def build_pipeline(ctx):
            from sagemaker.mlops.workflow.steps import TrainingStep
            from sagemaker.train.configs import Compute, SourceCode
            from sagemaker.train.model_trainer import ModelTrainer

            trainer = ModelTrainer(
                training_image=sklearn_image_uri(ctx),
                source_code=SourceCode(source_dir="jobs/abalone_train", entry_script="train.py"),
                compute=Compute(instance_type="ml.m5.large", instance_count=1, volume_kms_key_id=ctx.kms_key),
                base_job_name=ctx.job_name("Train"),
                role=ctx.execution_role_arn,
                output_data_config=training_output(ctx),
                tags=cost_tag_shapes(ctx),
            )
            return new_pipeline(ctx, parameters=[], steps=[TrainingStep(name="Train", step_args=trainer.train())])
        '''
    )
    assert error.field == "sagemaker_session"
    assert "pass sagemaker_session=ctx.session to it" in error.reason
    assert "; at broken.py:12: trainer = ModelTrainer(" in error.reason
