"""Each step type's synth-time guardrails, on small hand-written steps: every guarded field broken
fails naming the step, the field and what is missing, and the compliant neighbour passes."""

from __future__ import annotations

import copy

import pytest

from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import Guardrail, GuardrailExemption, Schedule
from pipeline_defs.validation.guardrails import check_guardrails
from pipeline_defs.validation.step_checks import REFUSED_STEP_TYPES, STEP_POLICIES, _refused, network_isolation_settings, tuning_job_definitions
from pipeline_defs.validation.step_guard import StepGuard

KEY = "${KmsKeyArn}"
VPC = {"Subnets": ["${SubnetId0}"], "SecurityGroupIds": ["${JobSecurityGroupId}"]}
TAGS = [{"Key": "CostCenter", "Value": "ml-platform"}]
ALLOWED = ("ml.m5.large", "ml.m5d.large")
EXEMPT_IT = "; exempt it explicitly with a reason)"

NO_VPC = "no VPC subnets and security groups (guardrail vpc" + EXEMPT_IT
NO_VOLUME_KEY = "no volume KMS key (guardrail volume-kms-key" + EXEMPT_IT
NO_OUTPUT_KEY = "no output KMS key (guardrail output-kms-key" + EXEMPT_IT
NOT_ISOLATED = "network isolation is off (guardrail network-isolation" + EXEMPT_IT
NOT_ENCRYPTED = "inter-container traffic encryption is off (guardrail inter-container-encryption" + EXEMPT_IT
NO_COST_TAG = "cost tag 'CostCenter' missing (guardrail cost-tag" + EXEMPT_IT
BIG_TYPE = "ml.p4d.24xlarge"
NOT_ALLOWED = f"instance type {BIG_TYPE!r} is not in the environment's allowlist {list(ALLOWED)}"


def _check(*steps: dict, exemptions: tuple[GuardrailExemption, ...] = ()) -> None:
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": list(steps)}
    check_guardrails(
        definition, PipelineDefinitionError, exemptions=exemptions, cost_tag_key="CostCenter", allowed_instance_types=ALLOWED, platform=None
    )


def _refusal(*steps: dict, **kwargs) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as raised:
        _check(*steps, **kwargs)
    return raised.value


def _changed(step: dict, path: str, value: object = None) -> dict:
    """``step`` with the dotted ``path`` of its arguments deleted (``value`` None) or set."""
    step = copy.deepcopy(step)
    *parents, last = path.replace("[", ".[").split(".")
    node = step["Arguments"]
    for part in parents:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return step


def _processing(kind: str = "Processing") -> dict:
    return {
        "Name": "Prepare",
        "Type": kind,
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeKmsKeyId": KEY}},
            "NetworkConfig": {"VpcConfig": VPC, "EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "train"}], "KmsKeyId": KEY},
            "Tags": TAGS,
        },
    }


def _training_job() -> dict:
    return {
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeKmsKeyId": KEY},
        "VpcConfig": VPC,
        "OutputDataConfig": {"KmsKeyId": KEY},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }


def _training() -> dict:
    return {"Name": "Train", "Type": "Training", "Arguments": _training_job() | {"Tags": TAGS}}


def _tuning(*definitions: dict, single: bool = True) -> dict:
    arguments = {"HyperParameterTuningJobConfig": {"Strategy": "Bayesian"}, "Tags": TAGS}
    if single:
        arguments["TrainingJobDefinition"] = definitions[0] if definitions else _training_job()
    else:
        arguments["TrainingJobDefinitions"] = list(definitions)
    return {"Name": "Tune", "Type": "Tuning", "Arguments": arguments}


def _transform() -> dict:
    return {
        "Name": "Score",
        "Type": "Transform",
        "Arguments": {
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeKmsKeyId": KEY},
            "TransformOutput": {"S3OutputPath": "s3://bucket/p/out", "KmsKeyId": KEY},
            "Tags": TAGS,
        },
    }


def _model() -> dict:
    return {"Name": "CreateModel", "Type": "Model", "Arguments": {"VpcConfig": VPC, "EnableNetworkIsolation": True, "Tags": TAGS}}


def _endpoint_config() -> dict:
    return {
        "Name": "Config",
        "Type": "EndpointConfig",
        "Arguments": {
            # A serverless variant first: the refused field names the variant's own position.
            "ProductionVariants": [{"VariantName": "serverless", "ServerlessConfig": {"MemorySizeInMB": 2048}}, {"VariantName": "a", "InstanceType": "ml.m5.large"}],
            "KmsKeyId": KEY,
            "DataCaptureConfig": {"EnableCapture": True, "KmsKeyId": KEY},
            "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://bucket/p/async", "KmsKeyId": KEY}},
            "Tags": TAGS,
        },
    }


def _inference_component() -> dict:
    return {"Name": "Component", "Type": "InferenceComponent", "Arguments": {"Specification": {"ModelName": "smp-sandbox-model"}, "Tags": TAGS}}


def _emr_serverless() -> dict:
    logs = {"logUri": "s3://bucket/p/logs", "encryptionKeyArn": KEY}
    job = {"tags": {"CostCenter": "ml-platform"}, "configurationOverrides": {"monitoringConfiguration": {"s3MonitoringConfiguration": logs}}}
    return {"Name": "Features", "Type": "EMRServerless", "Arguments": {"ApplicationId": "app", "JobConfig": job}}


COMPLIANT = {
    "Processing": _processing,
    "QualityCheck": lambda: _processing("QualityCheck"),
    "ClarifyCheck": lambda: _processing("ClarifyCheck"),
    "Training": _training,
    "Tuning": _tuning,
    "Transform": _transform,
    "Model": _model,
    "EndpointConfig": _endpoint_config,
    "Endpoint": lambda: {"Name": "Endpoint", "Type": "Endpoint", "Arguments": {"EndpointConfigName": "smp-sandbox-c", "Tags": TAGS}},
    "InferenceComponent": _inference_component,
    "EMR": lambda: {"Name": "Spark", "Type": "EMR", "Arguments": {"ClusterId": "j-1", "StepConfig": {"HadoopJarStep": {"Jar": "command-runner.jar"}}}},
    "EMRServerless": _emr_serverless,
}


@pytest.mark.parametrize("kind", sorted(COMPLIANT))
def test_a_step_carrying_every_guardrail_passes(kind):
    _check(COMPLIANT[kind]())


# (step type, path in its arguments, None to delete it or the value to set, field named, message)
BROKEN = [
    *(
        (kind, path, value, field, message)
        for kind in ("Processing", "QualityCheck", "ClarifyCheck")
        for path, value, field, message in [
            ("ProcessingResources.ClusterConfig.InstanceType", BIG_TYPE, "ProcessingResources.ClusterConfig.InstanceType", NOT_ALLOWED),
            ("NetworkConfig.VpcConfig", None, "NetworkConfig.VpcConfig", NO_VPC),
            ("NetworkConfig.VpcConfig.Subnets", [], "NetworkConfig.VpcConfig", NO_VPC),
            ("NetworkConfig", None, "NetworkConfig.VpcConfig", NO_VPC),
            ("ProcessingResources.ClusterConfig.VolumeKmsKeyId", None, "ProcessingResources.ClusterConfig.VolumeKmsKeyId", NO_VOLUME_KEY),
            ("ProcessingResources", None, "ProcessingResources.ClusterConfig.VolumeKmsKeyId", NO_VOLUME_KEY),
            ("ProcessingOutputConfig.KmsKeyId", None, "ProcessingOutputConfig.KmsKeyId", NO_OUTPUT_KEY),
            ("NetworkConfig.EnableNetworkIsolation", None, "NetworkConfig.EnableNetworkIsolation", NOT_ISOLATED),
            ("NetworkConfig.EnableNetworkIsolation", False, "NetworkConfig.EnableNetworkIsolation", NOT_ISOLATED),
            ("NetworkConfig.EnableInterContainerTrafficEncryption", None, "NetworkConfig.EnableInterContainerTrafficEncryption", NOT_ENCRYPTED),
            ("Tags", None, "Tags", NO_COST_TAG),
            ("Tags", [{"Key": "Team", "Value": "ml"}], "Tags", NO_COST_TAG),
        ]
    ),
    ("Training", "ResourceConfig.InstanceType", BIG_TYPE, "ResourceConfig.InstanceType", NOT_ALLOWED),
    ("Training", "VpcConfig", None, "VpcConfig", NO_VPC),
    ("Training", "VpcConfig.SecurityGroupIds", None, "VpcConfig", NO_VPC),
    ("Training", "ResourceConfig.VolumeKmsKeyId", None, "ResourceConfig.VolumeKmsKeyId", NO_VOLUME_KEY),
    ("Training", "ResourceConfig", None, "ResourceConfig.VolumeKmsKeyId", NO_VOLUME_KEY),
    ("Training", "OutputDataConfig.KmsKeyId", None, "OutputDataConfig.KmsKeyId", NO_OUTPUT_KEY),
    ("Training", "OutputDataConfig", None, "OutputDataConfig.KmsKeyId", NO_OUTPUT_KEY),
    ("Training", "EnableNetworkIsolation", None, "EnableNetworkIsolation", NOT_ISOLATED),
    ("Training", "EnableInterContainerTrafficEncryption", False, "EnableInterContainerTrafficEncryption", NOT_ENCRYPTED),
    ("Training", "Tags", None, "Tags", NO_COST_TAG),
    ("Training", "ResourceConfig.KeepAlivePeriodInSeconds", 60, "ResourceConfig.KeepAlivePeriodInSeconds", "warm pools are off on this platform: KeepAlivePeriodInSeconds must be 0"),
    ("Tuning", "TrainingJobDefinition.ResourceConfig.InstanceType", BIG_TYPE, "TrainingJobDefinition.ResourceConfig.InstanceType", NOT_ALLOWED),
    ("Tuning", "TrainingJobDefinition.VpcConfig", None, "TrainingJobDefinition.VpcConfig", NO_VPC),
    ("Tuning", "TrainingJobDefinition.ResourceConfig.VolumeKmsKeyId", None, "TrainingJobDefinition.ResourceConfig.VolumeKmsKeyId", NO_VOLUME_KEY),
    ("Tuning", "TrainingJobDefinition.OutputDataConfig.KmsKeyId", None, "TrainingJobDefinition.OutputDataConfig.KmsKeyId", NO_OUTPUT_KEY),
    ("Tuning", "TrainingJobDefinition.EnableNetworkIsolation", None, "TrainingJobDefinition.EnableNetworkIsolation", NOT_ISOLATED),
    ("Tuning", "TrainingJobDefinition.EnableInterContainerTrafficEncryption", None, "TrainingJobDefinition.EnableInterContainerTrafficEncryption", NOT_ENCRYPTED),
    ("Tuning", "Tags", None, "Tags", NO_COST_TAG),
    ("Tuning", "TrainingJobDefinition", None, "TrainingJobDefinition", "a tuning job needs a training job definition"),
    ("Tuning", "TrainingJobDefinition", "s3://not-a-definition", "TrainingJobDefinition", "a tuning job needs a training job definition"),
    ("Transform", "TransformResources.InstanceType", BIG_TYPE, "TransformResources.InstanceType", NOT_ALLOWED),
    ("Transform", "TransformResources.VolumeKmsKeyId", None, "TransformResources.VolumeKmsKeyId", NO_VOLUME_KEY),
    ("Transform", "TransformResources", None, "TransformResources.VolumeKmsKeyId", NO_VOLUME_KEY),
    ("Transform", "TransformOutput.KmsKeyId", None, "TransformOutput.KmsKeyId", NO_OUTPUT_KEY),
    ("Transform", "TransformOutput", None, "TransformOutput.KmsKeyId", NO_OUTPUT_KEY),
    ("Transform", "Tags", None, "Tags", NO_COST_TAG),
    ("Model", "VpcConfig", None, "VpcConfig", NO_VPC),
    ("Model", "EnableNetworkIsolation", None, "EnableNetworkIsolation", NOT_ISOLATED),
    ("Model", "Tags", None, "Tags", NO_COST_TAG),
    ("EndpointConfig", "ProductionVariants[1].InstanceType", BIG_TYPE, "ProductionVariants[1].InstanceType", NOT_ALLOWED),
    ("EndpointConfig", "KmsKeyId", None, "KmsKeyId", NO_VOLUME_KEY),
    ("EndpointConfig", "DataCaptureConfig.KmsKeyId", None, "DataCaptureConfig.KmsKeyId", NO_OUTPUT_KEY),
    # Capture is on unless turned off explicitly.
    ("EndpointConfig", "DataCaptureConfig", {"DestinationS3Uri": "s3://bucket/p/capture"}, "DataCaptureConfig.KmsKeyId", NO_OUTPUT_KEY),
    ("EndpointConfig", "AsyncInferenceConfig.OutputConfig.KmsKeyId", None, "AsyncInferenceConfig.OutputConfig.KmsKeyId", NO_OUTPUT_KEY),
    ("EndpointConfig", "Tags", None, "Tags", NO_COST_TAG),
    ("Endpoint", "Tags", None, "Tags", NO_COST_TAG),
    ("InferenceComponent", "Specification.ModelName", None, "Specification.ModelName", "an inference component must name the model it serves (Specification.ModelName)"),
    ("InferenceComponent", "Specification.ModelName", "", "Specification.ModelName", "an inference component must name the model it serves (Specification.ModelName)"),
    ("InferenceComponent", "Specification", None, "Specification.ModelName", "an inference component must name the model it serves (Specification.ModelName)"),
    ("InferenceComponent", "Tags", None, "Tags", NO_COST_TAG),
    ("EMRServerless", "JobConfig.configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.encryptionKeyArn", None,
     "JobConfig.configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.encryptionKeyArn", NO_OUTPUT_KEY),
    ("EMRServerless", "JobConfig.tags", None, "JobConfig.tags", NO_COST_TAG),
    ("EMRServerless", "JobConfig.tags", {"Team": "ml"}, "JobConfig.tags", NO_COST_TAG),
]


@pytest.mark.parametrize(("kind", "path", "value", "field", "message"), BROKEN)
def test_a_step_missing_one_guardrail_fails_naming_step_field_and_guardrail(kind, path, value, field, message):
    step = _changed(COMPLIANT[kind](), path, value)
    error = _refusal(step)
    assert (error.step, error.field, error.reason) == (step["Name"], field, message)


def test_a_processing_job_writing_no_output_needs_no_output_key():
    without_key = _changed(_processing(), "ProcessingOutputConfig.KmsKeyId")
    _check(_changed(without_key, "ProcessingOutputConfig.Outputs", []))
    _check(_changed(without_key, "ProcessingOutputConfig.Outputs"))
    _check(_changed(_processing(), "ProcessingOutputConfig"))


def test_cost_tags_are_read_from_a_tag_list_or_a_map():
    _check(_changed(_training(), "Tags", ["not a tag", {"Key": "Team", "Value": "ml"}, {"Key": "CostCenter", "Value": "x"}]))
    _check(_changed(_training(), "Tags", {"CostCenter": "ml-platform"}))
    error = _refusal(_changed(_training(), "Tags", {"Team": "ml"}))
    assert (error.field, error.reason) == ("Tags", NO_COST_TAG)


def test_a_cost_tag_exemption_lets_an_untagged_step_through():
    exemption = GuardrailExemption(guardrail=Guardrail.COST_TAG, reason="r", owner="ml-platform", expires="2099-12-31", steps=("Train",))
    _check(_changed(_training(), "Tags"), exemptions=(exemption,))


def test_a_training_job_without_a_warm_pool_passes():
    _check(_changed(_training(), "ResourceConfig.KeepAlivePeriodInSeconds", 0))
    error = _refusal(_changed(_training(), "ResourceConfig.KeepAlivePeriodInSeconds", 1))
    assert error.field == "ResourceConfig.KeepAlivePeriodInSeconds"


def test_every_training_job_a_tuning_job_starts_is_checked_under_its_own_field():
    second = _training_job() | {"EnableNetworkIsolation": False}
    _check(_tuning(_training_job(), _training_job(), single=False))
    error = _refusal(_tuning(_training_job(), second, single=False))
    assert (error.step, error.field, error.reason) == ("Tune", "TrainingJobDefinitions[1].EnableNetworkIsolation", NOT_ISOLATED)
    error = _refusal(_tuning(single=False))
    assert (error.field, error.reason) == ("TrainingJobDefinition", "a tuning job needs a training job definition")


def _tuning_resources(*instance_types: str, key: str | None = KEY) -> dict:
    resources = {"InstanceConfigs": [{"InstanceType": t, "InstanceCount": 1} for t in instance_types]}
    if key:
        resources["VolumeKmsKeyId"] = key
    job = {k: v for k, v in _training_job().items() if k != "ResourceConfig"}
    return _tuning(job | {"HyperParameterTuningResourceConfig": resources})


def test_a_tuning_job_with_instance_configs_checks_each_type_and_their_volume_key():
    _check(_tuning_resources("ml.m5.large", "ml.m5.large"))
    prefix = "TrainingJobDefinition.HyperParameterTuningResourceConfig"
    error = _refusal(_tuning_resources("ml.m5.large", BIG_TYPE))
    assert (error.field, error.reason) == (f"{prefix}.InstanceConfigs[1].InstanceType", NOT_ALLOWED)
    error = _refusal(_tuning_resources("ml.m5.large", key=None))
    assert (error.field, error.reason) == (f"{prefix}.VolumeKmsKeyId", NO_VOLUME_KEY)
    _check(_tuning_resources("ml.m5d.large", key=None))
    error = _refusal(_tuning_resources("ml.m5d.large"))
    assert error.field == f"{prefix}.VolumeKmsKeyId" and error.reason.startswith("SageMaker refuses a volume KMS key on ml.m5d.large")


def test_an_endpoint_config_of_serverless_variants_needs_no_volume_key():
    serverless = _endpoint_config()["Arguments"]["ProductionVariants"][:1]
    config = _changed(_changed(_endpoint_config(), "ProductionVariants", serverless), "KmsKeyId")
    _check(config)
    _check(_changed(config, "ProductionVariants", ["not a variant", {"VariantName": "s", "InstanceType": None}]))


def test_an_endpoint_config_on_nvme_instances_refuses_a_volume_key():
    config = _changed(_endpoint_config(), "ProductionVariants[1].InstanceType", "ml.m5d.large")
    error = _refusal(config)
    assert error.field == "KmsKeyId" and error.reason.startswith("SageMaker refuses a volume KMS key on ml.m5d.large")
    _check(_changed(config, "KmsKeyId"))


def test_an_endpoint_config_without_capture_or_async_output_needs_no_output_key():
    _check(_changed(_endpoint_config(), "DataCaptureConfig", {"EnableCapture": False}))
    _check(_changed(_changed(_endpoint_config(), "DataCaptureConfig"), "AsyncInferenceConfig"))
    _check(_changed(_endpoint_config(), "AsyncInferenceConfig", {"ClientConfig": {}}))
    _check(_changed(_endpoint_config(), "AsyncInferenceConfig", ["not a config"]))


def test_an_endpoint_config_with_its_own_role_carries_a_vpc_and_isolation():
    config = _changed(_endpoint_config(), "ExecutionRoleArn", "arn:aws:iam::123456789012:role/r")
    error = _refusal(config)
    assert (error.field, error.reason) == ("VpcConfig", NO_VPC)
    error = _refusal(_changed(config, "VpcConfig", VPC))
    assert (error.field, error.reason) == ("EnableNetworkIsolation", NOT_ISOLATED)
    _check(_changed(_changed(config, "VpcConfig", VPC), "EnableNetworkIsolation", True))


def test_an_inference_component_with_its_own_container_is_refused_even_naming_a_model():
    component = _changed(_inference_component(), "Specification.Container", {"Image": "img"})
    error = _refusal(component)
    assert (error.step, error.field) == ("Component", "Specification.Container")
    assert error.reason == (
        "an inference component with its own container runs without a model's VPC and network isolation: create the "
        "model in a Model step (ModelBuilder with network=model_networking(ctx)) and name it in Specification.ModelName"
    )


def test_an_emr_step_creating_its_cluster_is_refused_and_needs_no_cost_tag_otherwise():
    error = _refusal(_changed(COMPLIANT["EMR"](), "ClusterConfig", {"ReleaseLabel": "emr-7.0.0"}))
    assert (error.step, error.field) == ("Spark", "ClusterConfig")
    assert error.reason == (
        "a cluster the step creates would run outside the platform's subnets, keys and tags: run the step on an existing "
        "cluster given as a parameter (EMRStep(cluster_id=ParameterString(...), cluster_config=None))"
    )


def test_an_emr_serverless_step_creating_its_application_is_refused():
    error = _refusal(_changed(_emr_serverless(), "ApplicationConfig", {"type": "SPARK"}))
    assert (error.step, error.field) == ("Features", "ApplicationConfig")
    assert error.reason == (
        "an application the step creates would run outside the platform's network and keys: run the job on an existing "
        "application given as a parameter (EMRServerlessStep(application_id=ParameterString(...)))"
    )


def test_an_emr_serverless_job_without_s3_logs_needs_no_log_key():
    _check(_changed(_emr_serverless(), "JobConfig.configurationOverrides"))
    _check(_changed(_emr_serverless(), "JobConfig.configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration", "s3://bucket/p/logs"))


def test_tuning_job_definitions_are_the_single_one_then_each_of_the_list():
    one, two, three = {"n": 1}, {"n": 2}, {"n": 3}
    arguments = {"TrainingJobDefinition": one, "TrainingJobDefinitions": [two, three]}
    assert list(tuning_job_definitions(arguments)) == [
        ("TrainingJobDefinition", one), ("TrainingJobDefinitions[0]", two), ("TrainingJobDefinitions[1]", three)
    ]
    assert list(tuning_job_definitions({"TrainingJobDefinition": "x", "TrainingJobDefinitions": None})) == []


@pytest.mark.parametrize(
    ("step", "settings"),
    [
        *(({"Type": kind, "Arguments": {"NetworkConfig": {"EnableNetworkIsolation": False}}}, [("NetworkConfig.EnableNetworkIsolation", False)])
          for kind in ("Processing", "QualityCheck", "ClarifyCheck")),
        ({"Type": "Processing", "Arguments": {}}, [("NetworkConfig.EnableNetworkIsolation", None)]),
        ({"Type": "Training", "Arguments": {"EnableNetworkIsolation": True}}, [("EnableNetworkIsolation", True)]),
        ({"Type": "Model"}, [("EnableNetworkIsolation", None)]),
        (
            {"Type": "Tuning", "Arguments": {"TrainingJobDefinitions": [{"EnableNetworkIsolation": True}, {}]}},
            [("TrainingJobDefinitions[0].EnableNetworkIsolation", True), ("TrainingJobDefinitions[1].EnableNetworkIsolation", None)],
        ),
        ({"Type": "EndpointConfig", "Arguments": {"ExecutionRoleArn": "arn:r", "EnableNetworkIsolation": False}}, [("EnableNetworkIsolation", False)]),
        ({"Type": "EndpointConfig", "Arguments": {"ExecutionRoleArn": "", "EnableNetworkIsolation": False}}, []),
        ({"Type": "Transform", "Arguments": {"EnableNetworkIsolation": False}}, []),
        ({"Type": "Lambda", "Arguments": {}}, []),
    ],
)
def test_the_network_isolation_switches_a_step_carries(step, settings):
    assert network_isolation_settings(step) == settings


@pytest.mark.parametrize(("kind", "path"), [("Processing", "ProcessingResources.ClusterConfig"), ("Transform", "TransformResources")])
def test_a_job_on_nvme_instances_refuses_a_volume_key_and_needs_none(kind, path):
    on_nvme = _changed(COMPLIANT[kind](), f"{path}.InstanceType", "ml.m5d.large")
    error = _refusal(on_nvme)
    assert (error.field, error.reason) == (
        f"{path}.VolumeKmsKeyId",
        "SageMaker refuses a volume KMS key on ml.m5d.large (local NVMe storage, encrypted by hardware): exempt the pipeline from volume-kms-key",
    )
    _check(_changed(on_nvme, f"{path}.VolumeKmsKeyId"))


@pytest.mark.parametrize("kind", sorted(REFUSED_STEP_TYPES))
def test_the_refusal_of_a_refused_type_names_the_type_field_and_why(kind):
    """Built here as the policy table builds it when the module loads."""
    guard = StepGuard(fail=PipelineDefinitionError, step="Refused", exemptions=(), allowed_instance_types=())
    for check in (_refused(kind), STEP_POLICIES[kind].check):
        with pytest.raises(PipelineDefinitionError) as raised:
            check(guard, {})
        assert (raised.value.step, raised.value.field) == ("Refused", "Type")
        assert raised.value.reason == f"{kind} steps cannot be compiled here: {REFUSED_STEP_TYPES[kind]}"


def test_an_approved_registration_is_refused_saying_what_to_register_instead():
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "g", "ModelApprovalStatus": "Approved"}}
    error = _refusal(register)
    assert (error.step, error.field) == ("Register", "ModelApprovalStatus")
    assert error.reason == (
        "ModelApprovalStatus is 'Approved': a pipeline registers model versions as 'PendingManualApproval' (or 'Rejected'); "
        "approval is a reviewer's step outside the pipeline"
    )
    _check(register | {"Arguments": {"ModelPackageGroupName": "g", "ModelApprovalStatus": "Rejected"}})


def test_approval_is_refused_through_a_parameters_default_or_a_schedules_value():
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelApprovalStatus": {"Get": "Parameters.Status"}}}
    schedules = (Schedule(name="nightly", expression="cron(0 2 * * ? *)", parameter_values={"Status": "Approved"}),)
    for parameter, schedules, source in (
        ({"Name": "Status", "DefaultValue": "Approved"}, (), "(default of parameter Status)"),
        ({"Name": "Status", "DefaultValue": "PendingManualApproval"}, schedules, "(parameter Status in schedule 'nightly')"),
    ):
        definition = {"Parameters": [parameter], "Steps": [register]}
        with pytest.raises(PipelineDefinitionError) as raised:
            check_guardrails(definition, PipelineDefinitionError, exemptions=(), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None, schedules=schedules)
        assert (raised.value.step, raised.value.field) == ("Register", "ModelApprovalStatus")
        assert raised.value.reason.startswith(f"ModelApprovalStatus is 'Approved' {source}: a pipeline registers model versions as")
    definition = {"Parameters": [{"Name": "Status", "DefaultValue": "PendingManualApproval"}], "Steps": [register]}
    check_guardrails(definition, PipelineDefinitionError, exemptions=(), cost_tag_key="CostCenter", allowed_instance_types=(), platform=None, schedules=())
