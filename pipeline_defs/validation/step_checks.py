"""What each SDK step type must carry at synth, one small check per type that creates compute or stores data.

The same rules are IAM Denies at run time; failing here names the step and field at synth. Every
step type of SDK 3.27 has exactly one entry in :data:`STEP_POLICIES`: checked (its function
below), refused (with what is missing and what to do instead), or neither creating compute nor
storing data. Fields are dotted paths inside the step's ``Arguments``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from pipeline_defs.validation.step_guard import StepGuard, has_value

REFUSED_STEP_TYPES: dict[str, str] = {
    "AutoML": (
        "SDK 3.27 has no producer for AutoMLStep (the v2 AutoML class and Session.auto_ml are gone in v3); "
        "until the SDK brings one back, run AutoML as a training or tuning step"
    ),
    "Job": (
        "the CreateJob producers (MultiTurnRLTrainer) look up the model in the hub, check the S3 paths and "
        "resolve model package groups against AWS while being constructed, and the compile makes no AWS "
        "call; run such a job outside the pipeline"
    ),
    "Callback": (
        "a Callback step needs an SQS queue and sqs:SendMessage for the pipeline's role, and the platform "
        "provides no callback queue yet; use a Lambda step (ctx.lambda_function_arn), or ask for a platform "
        "callback queue with its placeholder and grant"
    ),
}
"""Step types synth refuses, and why; the compiler raises the same reason where the SDK builds them."""


def _tags(tags: Any) -> dict[str, Any]:
    """Tags as a dict, from the API's ``[{"Key", "Value"}]`` list or a plain map."""
    if isinstance(tags, dict):
        return tags
    return {t.get("Key"): t.get("Value") for t in tags or [] if isinstance(t, dict)}


def _processing(guard: StepGuard, arguments: dict) -> None:
    network = arguments.get("NetworkConfig") or {}
    cluster = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    output = arguments.get("ProcessingOutputConfig") or {}
    guard.instance_type(cluster.get("InstanceType"), "ProcessingResources.ClusterConfig.InstanceType")
    guard.vpc(network.get("VpcConfig"), "NetworkConfig.VpcConfig")
    guard.volume_key([cluster.get("InstanceType")], cluster.get("VolumeKmsKeyId"), "ProcessingResources.ClusterConfig.VolumeKmsKeyId")
    guard.output_key(not (output.get("Outputs") or []) or has_value(output.get("KmsKeyId")), "ProcessingOutputConfig.KmsKeyId")
    guard.isolation(network.get("EnableNetworkIsolation"), "NetworkConfig.EnableNetworkIsolation")
    guard.inter_container_encryption(
        network.get("EnableInterContainerTrafficEncryption"), "NetworkConfig.EnableInterContainerTrafficEncryption"
    )


def _training_job(guard: StepGuard, job: dict, prefix: str) -> None:
    """A training job, or a tuning job's definition of the training jobs it starts (``prefix``)."""
    at = f"{prefix}." if prefix else ""
    resources = job.get("ResourceConfig") or {}
    tuning_resources = job.get("HyperParameterTuningResourceConfig") or {}
    if tuning_resources:
        resources, resources_field = tuning_resources, "HyperParameterTuningResourceConfig"
        types = [(c.get("InstanceType"), f"{resources_field}.InstanceConfigs[{i}].InstanceType") for i, c in enumerate(tuning_resources.get("InstanceConfigs") or [])]
    else:
        resources_field = "ResourceConfig"
        types = [(resources.get("InstanceType"), "ResourceConfig.InstanceType")]
    for value, field in types:
        guard.instance_type(value, at + field)
    guard.vpc(job.get("VpcConfig"), at + "VpcConfig")
    guard.volume_key([value for value, _ in types], resources.get("VolumeKmsKeyId"), f"{at}{resources_field}.VolumeKmsKeyId")
    guard.output_key(has_value((job.get("OutputDataConfig") or {}).get("KmsKeyId")), at + "OutputDataConfig.KmsKeyId")
    guard.isolation(job.get("EnableNetworkIsolation"), at + "EnableNetworkIsolation")
    guard.inter_container_encryption(job.get("EnableInterContainerTrafficEncryption"), at + "EnableInterContainerTrafficEncryption")


def _training(guard: StepGuard, arguments: dict) -> None:
    _training_job(guard, arguments, "")
    if (arguments.get("ResourceConfig") or {}).get("KeepAlivePeriodInSeconds") not in (None, 0):
        guard.refuse("warm pools are off on this platform: KeepAlivePeriodInSeconds must be 0", "ResourceConfig.KeepAlivePeriodInSeconds")


def tuning_job_definitions(arguments: dict) -> Iterator[tuple[str, dict]]:
    """(field, definition) of each kind of training job a tuning job starts."""
    if isinstance(arguments.get("TrainingJobDefinition"), dict):
        yield "TrainingJobDefinition", arguments["TrainingJobDefinition"]
    for index, definition in enumerate(arguments.get("TrainingJobDefinitions") or []):
        yield f"TrainingJobDefinitions[{index}]", definition


def _tuning(guard: StepGuard, arguments: dict) -> None:
    definitions = list(tuning_job_definitions(arguments))
    if not definitions:
        guard.refuse("a tuning job needs a training job definition", "TrainingJobDefinition")
    for field, definition in definitions:
        _training_job(guard, definition, field)


def _transform(guard: StepGuard, arguments: dict) -> None:
    resources = arguments.get("TransformResources") or {}
    guard.instance_type(resources.get("InstanceType"), "TransformResources.InstanceType")
    guard.volume_key([resources.get("InstanceType")], resources.get("VolumeKmsKeyId"), "TransformResources.VolumeKmsKeyId")
    guard.output_key(has_value((arguments.get("TransformOutput") or {}).get("KmsKeyId")), "TransformOutput.KmsKeyId")


def _model(guard: StepGuard, arguments: dict) -> None:
    guard.vpc(arguments.get("VpcConfig"), "VpcConfig")
    guard.isolation(arguments.get("EnableNetworkIsolation"), "EnableNetworkIsolation")


def _register_model(guard: StepGuard, arguments: dict) -> None:
    """A pipeline registers versions for review; it never approves its own (default, schedule or literal).

    A value given when a run is started by hand is refused at run time by the serving guardrails'
    ``DenyRegisteringApprovedVersions``.
    """
    for source, status in guard.parameters.candidates(arguments.get("ModelApprovalStatus")):
        if status == "Approved":
            guard.refuse(
                f"ModelApprovalStatus is 'Approved'{source}: a pipeline registers model versions as "
                "'PendingManualApproval' (or 'Rejected'); approval is a reviewer's step outside the pipeline",
                "ModelApprovalStatus",
            )


def _endpoint_config(guard: StepGuard, arguments: dict) -> None:
    variants = arguments.get("ProductionVariants") or []
    types = [v.get("InstanceType") for v in variants if isinstance(v, dict) and v.get("InstanceType") is not None]
    for index, variant in enumerate(variants):
        if isinstance(variant, dict) and variant.get("InstanceType") is not None:
            guard.instance_type(variant["InstanceType"], f"ProductionVariants[{index}].InstanceType")
    if types:
        guard.volume_key(types, arguments.get("KmsKeyId"), "KmsKeyId")
    capture = arguments.get("DataCaptureConfig")
    if isinstance(capture, dict) and capture.get("EnableCapture") is not False:
        guard.output_key(has_value(capture.get("KmsKeyId")), "DataCaptureConfig.KmsKeyId")
    output = ((arguments.get("AsyncInferenceConfig") or {}).get("OutputConfig")) if isinstance(arguments.get("AsyncInferenceConfig"), dict) else None
    if output is not None:
        guard.output_key(has_value(output.get("KmsKeyId")), "AsyncInferenceConfig.OutputConfig.KmsKeyId")
    if has_value(arguments.get("ExecutionRoleArn")):
        # Inference components run under the config's own networking, not a model's.
        guard.vpc(arguments.get("VpcConfig"), "VpcConfig")
        guard.isolation(arguments.get("EnableNetworkIsolation"), "EnableNetworkIsolation")


def _inference_component(guard: StepGuard, arguments: dict) -> None:
    specification = arguments.get("Specification") or {}
    if "Container" in specification:
        guard.refuse(
            "an inference component with its own container runs without a model's VPC and network isolation: "
            "create the model in a Model step (ModelBuilder with network=model_networking(ctx)) and name it in "
            "Specification.ModelName",
            "Specification.Container",
        )
    if not has_value(specification.get("ModelName")):
        guard.refuse("an inference component must name the model it serves (Specification.ModelName)", "Specification.ModelName")


def _emr(guard: StepGuard, arguments: dict) -> None:
    if "ClusterConfig" in arguments:
        guard.refuse(
            "a cluster the step creates would run outside the platform's subnets, keys and tags: run the step on "
            "an existing cluster given as a parameter (EMRStep(cluster_id=ParameterString(...), cluster_config=None))",
            "ClusterConfig",
        )


def _emr_serverless(guard: StepGuard, arguments: dict) -> None:
    if "ApplicationConfig" in arguments:
        guard.refuse(
            "an application the step creates would run outside the platform's network and keys: run the job on "
            "an existing application given as a parameter (EMRServerlessStep(application_id=ParameterString(...)))",
            "ApplicationConfig",
        )
    overrides = (arguments.get("JobConfig") or {}).get("configurationOverrides") or {}
    logs = (overrides.get("monitoringConfiguration") or {}).get("s3MonitoringConfiguration")
    if isinstance(logs, dict):
        guard.output_key(has_value(logs.get("encryptionKeyArn")), "JobConfig.configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.encryptionKeyArn")


def _refused(kind: str) -> Callable[[StepGuard, dict], None]:
    def refuse(guard: StepGuard, arguments: dict) -> None:
        guard.refuse(f"{kind} steps cannot be compiled here: {REFUSED_STEP_TYPES[kind]}", "Type")

    return refuse


@dataclass(frozen=True)
class StepPolicy:
    """What synth checks on one step type: the check, and where its cost tag sits (None: no tag)."""

    check: Callable[[StepGuard, dict], None] | None
    tags: Callable[[dict], tuple[dict[str, Any], str]] | None = None


def _api_tags(arguments: dict) -> tuple[dict[str, Any], str]:
    return _tags(arguments.get("Tags")), "Tags"


def _job_run_tags(arguments: dict) -> tuple[dict[str, Any], str]:
    return _tags((arguments.get("JobConfig") or {}).get("tags")), "JobConfig.tags"


STEP_POLICIES: dict[str, StepPolicy] = {
    "Processing": StepPolicy(_processing, _api_tags),
    "QualityCheck": StepPolicy(_processing, _api_tags),
    "ClarifyCheck": StepPolicy(_processing, _api_tags),
    "Training": StepPolicy(_training, _api_tags),
    "Tuning": StepPolicy(_tuning, _api_tags),
    "Transform": StepPolicy(_transform, _api_tags),
    "Model": StepPolicy(_model, _api_tags),
    "EndpointConfig": StepPolicy(_endpoint_config, _api_tags),
    "Endpoint": StepPolicy(None, _api_tags),
    "InferenceComponent": StepPolicy(_inference_component, _api_tags),
    "EMR": StepPolicy(_emr),
    "EMRServerless": StepPolicy(_emr_serverless, _job_run_tags),
    **{kind: StepPolicy(_refused(kind)) for kind in REFUSED_STEP_TYPES},
    # Neither compute nor data of their own: their nested steps (condition branches, a ForEach
    # body) are checked as steps; Cleanup is checked against its sources (guardrails.py).
    "RegisterModel": StepPolicy(_register_model),
    **{kind: StepPolicy(None) for kind in ("Condition", "Fail", "Lambda", "Lineage", "ForEach", "Cleanup")},
}
"""Every step type of SDK 3.27 (``StepTypeEnum``), each once."""


def network_isolation_settings(step: dict) -> list[tuple[str, Any]]:
    """(field, value) of each network isolation switch a step carries; empty where the type has none."""
    kind, arguments = step.get("Type"), step.get("Arguments") or {}
    if kind in ("Processing", "QualityCheck", "ClarifyCheck"):
        return [("NetworkConfig.EnableNetworkIsolation", (arguments.get("NetworkConfig") or {}).get("EnableNetworkIsolation"))]
    if kind in ("Training", "Model"):
        return [("EnableNetworkIsolation", arguments.get("EnableNetworkIsolation"))]
    if kind == "Tuning":
        return [(f"{field}.EnableNetworkIsolation", job.get("EnableNetworkIsolation")) for field, job in tuning_job_definitions(arguments)]
    if kind == "EndpointConfig" and has_value(arguments.get("ExecutionRoleArn")):
        return [("EnableNetworkIsolation", arguments.get("EnableNetworkIsolation"))]
    return []
