"""Every SDK internal the compiler's SDK modules (sdk_session, sdk_config, sdk_pins) rely on, checked against the installed SDK.

When an SDK upgrade moves one of these, this file fails with the assumption that broke instead of
definitions drifting or the compile reaching AWS.
"""

from __future__ import annotations

import inspect

import pytest

from conftest import TEST_SIGNING_SEED


@pytest.fixture(scope="module")
def session_module():
    from pipeline_defs.compiler import sdk_session

    return sdk_session


@pytest.fixture(scope="module")
def config_module():
    from pipeline_defs.compiler import sdk_config

    return sdk_config


@pytest.fixture(scope="module")
def pins():
    from pipeline_defs.compiler import sdk_pins

    return sdk_pins


@pytest.fixture(scope="module")
def signing():
    from pipeline_defs.compiler import signing

    return signing


def test_sdk_versions_are_the_pinned_ones(session_module):
    assert session_module.SDK_VERSIONS == {
        "sagemaker": "3.27.0",
        "sagemaker-core": "2.27.0",
        "sagemaker-mlops": "1.27.0",
        "sagemaker-train": "1.27.0",
        "sagemaker-serve": "1.27.0",
    }


def test_steps_compiler_sets_build_time_and_signing_key_in_init(pins):
    from sagemaker.mlops.workflow._steps_compiler import StepsCompiler

    source = inspect.getsource(StepsCompiler.__init__)
    assert "self.pipeline_build_time = sagemaker_timestamp()" in source
    assert "self._function_step_secret_token = ec.generate_private_key" in source
    assert "StepsCompiler(" in inspect.getsource(pins.sdk_pipeline_module.Pipeline.definition)


@pytest.mark.usefixtures("pins")  # the SDK imported the way the compiler imports it
def test_function_step_payloads_are_signed_with_the_compilers_key():
    from sagemaker.core.remote_function import job
    from sagemaker.core.remote_function.core import serialization

    compile_source = inspect.getsource(job._Job.compile)
    assert "step_compilation_context.function_step_secret_token" in compile_source
    assert "step_compilation_context.pipeline_build_time" in compile_source
    assert "private_key.sign(buffer, ec.ECDSA(hashes.SHA256()))" in inspect.getsource(
        serialization._sign_payload
    )


def test_deterministic_signatures_verify_with_the_published_public_key(signing):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = signing.signing_key_for(seed=TEST_SIGNING_SEED.encode(), pipeline_name="p", development_only=False)
    first = key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    assert first == key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    key.public_key().verify(first, b"payload", ec.ECDSA(hashes.SHA256()))
    other = signing.signing_key_for(seed=TEST_SIGNING_SEED.encode(), pipeline_name="q", development_only=False)
    assert other.sign(b"payload", ec.ECDSA(hashes.SHA256())) != first


def test_missing_seed_warns_and_marks_the_key_development_only(signing, monkeypatch):
    monkeypatch.delenv(signing.SIGNING_SEED_ENV, raising=False)
    with pytest.warns(UserWarning, match="DEVELOPMENT-ONLY"):
        seed, development_only = signing.signing_seed_from_environment()
    assert development_only and seed == signing.DEVELOPMENT_SIGNING_SEED


@pytest.mark.usefixtures("pins")  # the SDK imported the way the compiler imports it
def test_pinned_attributes_exist_where_the_pins_expect_them():
    import sagemaker.mlops.workflow.steps as steps
    import sagemaker.train.model_trainer as model_trainer
    from sagemaker.core.config.config_manager import SageMakerConfig

    assert "LocalSagemakerClient().create_processing_job.__name__" in inspect.getsource(
        steps.ProcessingStep.__init__
    )
    assert "LocalSagemakerClient().create_transform_job.__name__" in inspect.getsource(
        steps.TransformStep.__init__
    )
    assert isinstance(SageMakerConfig.__dict__["validate_sagemaker_config"], staticmethod)
    assert "_get_unique_name(self.base_job_name)" in inspect.getsource(
        model_trainer.ModelTrainer._create_training_job_args
    )
    assert "simulate_principal_policy" in inspect.getsource(
        model_trainer.ModelTrainer._resolve_staging_bucket
    )


def test_pins_are_restored_after_a_build(pins, signing):
    import sagemaker.mlops.workflow.steps as steps

    before = (pins.sdk_pipeline_module.StepsCompiler, steps.LocalSagemakerClient)
    key = signing.signing_key_for(seed=b"s", pipeline_name="p", development_only=True)
    with pins.pinned_sdk(signing_key=key):
        assert pins.sdk_pipeline_module.StepsCompiler is not before[0]
    assert (pins.sdk_pipeline_module.StepsCompiler, steps.LocalSagemakerClient) == before


@pytest.mark.usefixtures("pins")  # the SDK imported the way the compiler imports it
def test_config_lookups_revalidate_the_whole_config_each_time():
    """Why the validation is trusted once: the SDK validates on every single lookup."""
    from sagemaker.core import common_utils

    assert "SageMakerConfig().validate_sagemaker_config(config_to_check)" in inspect.getsource(
        common_utils.get_sagemaker_config_value
    )


def test_placeholder_role_is_rejected_by_the_sdk_config_schema(config_module):
    """Why configs are validated with stand-ins: the SDK's role pattern needs a 12-digit account."""
    import jsonschema

    config = config_module.sdk_defaults_config(
        role_arn="arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ExecutionRoleName}",
        bucket="${ArtifactBucket}",
        subnet_ids=("${SubnetId0}",),
        security_group_ids=("${JobSecurityGroupId}",),
        volume_kms_key="${KmsKeyArn}",
        output_kms_key="${KmsKeyArn}",
        tags=[{"Key": "CostCenter", "Value": "x"}],
        network_isolation=True,
        inter_container_encryption=True,
        step_instance_type="ml.m5.large",
        step_image_uri="image",
    )
    with pytest.raises(jsonschema.ValidationError, match="RoleArn|does not match"):
        config_module.original_validate(config)
    assert config_module.trust_config(config) is config


def test_transformer_cannot_take_kms_keys_from_the_sdk_config():
    """Why TransformJob KMS keys are passed by builders: the SDK merges PascalCase keys into
    snake_case dicts. When this starts passing, move the keys back into the SDK config."""
    from sagemaker.core import transformer

    source = inspect.getsource(transformer.Transformer.transform)
    assert "[KMS_KEY_ID]" in source and "[VOLUME_KMS_KEY_ID]" in source
    assert 'config["kms_key_id"]' in inspect.getsource(transformer.Transformer._prepare_output_config)


def test_model_builder_defaults_isolation_to_false_without_reading_config():
    from sagemaker.serve import model_builder

    source = inspect.getsource(model_builder)
    assert 'self._enable_network_isolation = False' in source


def test_function_steps_always_disable_network_isolation():
    from sagemaker.core.remote_function import job

    assert "self.enable_network_isolation = False" in inspect.getsource(job._JobSettings.__init__)


def test_offline_session_refuses_and_records_aws_requests(session_module):
    session = session_module.OfflinePipelineSession(region="eu-west-1", bucket="${ArtifactBucket}")
    with pytest.raises(session_module.OfflineCallError):
        session.boto_session.client("sts").get_caller_identity()
    assert session.request_guard.attempts and "sts" in session.request_guard.attempts[0]
    assert session.expand_role("arn:aws:iam::${AWS::AccountId}:role/x") == "arn:aws:iam::${AWS::AccountId}:role/x"
    with pytest.raises(session_module.OfflineCallError):
        session.get_caller_identity_arn()
    assert session.default_bucket() == "${ArtifactBucket}"


def test_staging_refuses_other_buckets_and_conflicting_bytes(session_module):
    staged = session_module.StagedFiles(bucket="${ArtifactBucket}")
    staged.put(bucket="${ArtifactBucket}", key="p/a", body=b"1")
    staged.put(bucket="${ArtifactBucket}", key="p/a", body=b"1")
    with pytest.raises(session_module.StagingConflictError, match="same S3 key"):
        staged.put(bucket="${ArtifactBucket}", key="p/a", body=b"2")
    with pytest.raises(session_module.StagingConflictError, match="only the artifact bucket"):
        staged.put(bucket="someone-elses", key="p/b", body=b"1")


@pytest.fixture(scope="module")
def step_pins():
    from pipeline_defs.compiler import sdk_step_pins

    return sdk_step_pins


def test_check_steps_still_put_the_network_config_object_into_their_request(step_pins):
    """Without the pin a check step's definition fails to serialize (TypeError: NetworkConfig)."""
    source = inspect.getsource(step_pins._original_check_job_request)
    assert 'request_dict["NetworkConfig"] = processor.network_config' in source
    assert '"ProcessingJobName": processor._current_job_name or default_job_name' in source
    for module in (step_pins.sdk_quality_module, step_pins.sdk_clarify_module):
        assert "_build_check_job_request(" in inspect.getsource(module)


def test_clarify_monitoring_config_keys_hold_a_timestamp_and_a_uuid(step_pins):
    source = inspect.getsource(step_pins.ClarifyModelMonitor._upload_analysis_config)
    assert "str(uuid.uuid4())" in source
    assert "name_from_base(" in inspect.getsource(step_pins.sdk_clarify_module.ClarifyCheckStep._upload_monitoring_analysis_config)


def test_the_tuner_uploads_its_source_with_its_own_client_under_a_clock_key(step_pins):
    source = inspect.getsource(step_pins._original_tuning_channels)
    assert 'key_prefix = f"{base_name}/tuning-{int(time.time())}/input"' in source
    assert "s3_client.upload_file(tar_path, bucket, s3_key)" in source
    assert "elif source_code.source_dir and _is_valid_s3_uri(source_code.source_dir):" in source
    assert "_build_driver_and_code_channels(model_trainer)" in inspect.getsource(step_pins._Tuner._prepare_model_trainer_for_tuning)


def test_the_tuner_drops_the_trainers_isolation_encryption_and_volume_key(step_pins):
    source = inspect.getsource(step_pins._original_training_definition)
    assert "vpc_config" in source and "_populate_intelligent_defaults" not in source
    for dropped in ("enable_network_isolation", "enable_inter_container_traffic_encryption", "volume_kms_key_id"):
        assert dropped not in source, f"the SDK now carries {dropped}: the pin may go"
    from sagemaker.train.model_trainer import ModelTrainer

    # The trainer fills in its SDK-config defaults only when it builds its own job.
    assert "self._populate_intelligent_defaults()" in inspect.getsource(ModelTrainer._create_training_job_args)


def test_automl_and_create_job_steps_still_cannot_build_offline(step_pins):
    from sagemaker.core.helper.session_helper import Session

    assert not hasattr(Session, "auto_ml"), "Session.auto_ml is back: AutoMLStep may compile now"
    assert "Session.auto_ml.__name__" in inspect.getsource(step_pins.sdk_automl_module.AutoMLStep.__init__)
    init = inspect.getsource(step_pins.sdk_multi_turn_module.MultiTurnRLTrainer.__init__)
    assert "_validate_s3_path_exists(" in init and "_resolve_model_and_name(" in init


def test_notebook_job_steps_still_stage_their_notebook_under_the_build_time(step_pins):
    """The reason NotebookJobStep is refused: the input key comes from name_from_base (the clock), and
    the job has no network isolation. When either changes, the refusal may give way to a pin."""
    source = inspect.getsource(step_pins.sdk_notebook_module.NotebookJobStep.arguments.fget)
    assert 'name_from_base("input")' in source
    assert "EnableNetworkIsolation" not in source


def test_the_definition_is_serialized_from_a_local_request_dict(step_pins):
    """build_errors finds a value that is not JSON in this frame's ``request_dict``."""
    from sagemaker.mlops.workflow.pipeline import Pipeline

    source = inspect.getsource(Pipeline.definition)
    assert "request_dict = {" in source and "json.dumps(request_dict)" in source


def test_sdk_objects_given_no_session_make_their_own(step_pins):
    from sagemaker.core.helper.session_helper import Session

    from pipeline_defs.compiler.sdk_session import OfflinePipelineSession

    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig

    assert issubclass(OfflinePipelineSession, Session)
    assert "sagemaker_session or Session()" in inspect.getsource(CheckJobConfig.__init__)
