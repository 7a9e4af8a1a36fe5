"""Synth-time checks of a compiled definition; every message names pipeline, step and field.

Two layers:

* AWS's published JSON schema (April 2025), amended only by :data:`KNOWN_GAPS`: the fields the
  current SDK emits that the schema predates. Anything else the schema rejects fails the build.
* What no schema checks: references to steps and parameters, duplicate names, cycles, the
  guardrails every job step must carry unless exempted, size, names and placeholders.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import jsonschema

from pipeline_defs import placeholders
from pipeline_defs.contract import has_nvme_storage, iter_steps
from pipeline_defs.errors import PipelineDefinitionError
from pipeline_defs.schedules import Guardrail, GuardrailExemption

SCHEMA_ENV = "PIPELINE_DEFS_SCHEMA"
# AWS's published schema (aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema,
# commit b4012b0, April 2025), kept in the repository so any clone validates on its own.
SCHEMA_PATH = Path(os.environ.get(SCHEMA_ENV) or Path(__file__).resolve().parent / "schema" / "pipeline-definition.schema.json")
MAX_DEFINITION_CHARACTERS = 1_048_576
STEP_NAME_PATTERN = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")

STEP_SCHEMA_DEFINITIONS = {
    "Condition": "ConditionStep",
    "Training": "TrainingStep",
    "Processing": "ProcessingStep",
    "Transform": "TransformStep",
    "Model": "CreateModelStep",
    "RegisterModel": "RegisterModelStep",
    "Lambda": "LambdaStep",
    "Callback": "CallbackStep",
    "Tuning": "TuningStep",
    "ClarifyCheck": "ClarifyCheckStep",
    "QualityCheck": "QualityCheckStep",
    "EMR": "EMRStep",
    "Fail": "FailStep",
    "AutoML": "AutoMLStep",
    "Endpoint": "EndpointStep",
    "EndpointConfig": "EndpointConfigStep",
}
JOB_STEP_TYPES = ("Processing", "Training", "Transform")


# --- known gaps between the published schema and the SDK --------------------------------------


@dataclass(frozen=True)
class KnownGap:
    """One thing SDK 3.27 emits that the April 2025 schema rejects, and the amendment allowing it."""

    gap_id: str
    description: str
    amend: Callable[[dict], None]


def _arguments(definitions: dict, step: str) -> dict:
    return definitions[step]["properties"]["Arguments"]


def _add_top_level(name: str, fragment: dict) -> Callable[[dict], None]:
    def amend(schema: dict) -> None:
        schema["properties"][name] = fragment

    return amend


def _amend_property_files(schema: dict) -> None:
    schema["definitions"]["ProcessingStep"]["properties"]["PropertyFiles"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "PropertyFileName": {"type": "string"},
                "OutputName": {"type": "string"},
                "FilePath": {"type": "string"},
            },
            "required": ["PropertyFileName", "OutputName", "FilePath"],
            "additionalProperties": False,
        },
    }


def _amend_std_functions(schema: dict) -> None:
    definitions = schema["definitions"]
    # The published JoinFunction requires "Values" yet allows no property, so no Join passes.
    definitions["JoinFunction"] = {
        "type": "object",
        "properties": {
            "Std:Join": {
                "type": "object",
                "properties": {
                    "On": {"type": "string"},
                    "Values": {
                        "type": "array",
                        "items": {"$ref": "#/definitions/StringArgumentValue"},
                    },
                },
                "required": ["Values"],
                "additionalProperties": False,
            }
        },
        "required": ["Std:Join"],
        "additionalProperties": False,
    }
    definitions["JsonGetFunction"] = {
        "type": "object",
        "properties": {
            "Std:JsonGet": {
                "type": "object",
                "properties": {
                    "PropertyFile": {"$ref": "#/definitions/GetFunction"},
                    "S3Uri": {},
                    "Path": {"type": "string"},
                },
                "required": ["Path"],
                "additionalProperties": False,
            }
        },
        "required": ["Std:JsonGet"],
        "additionalProperties": False,
    }
    for name in (
        "StringArgumentValue",
        "IntegerArgumentValue",
        "FloatArgumentValue",
        "BooleanArgumentValue",
    ):
        definitions[name]["oneOf"].extend(
            [{"$ref": "#/definitions/JsonGetFunction"}, {"$ref": "#/definitions/JoinFunction"}]
        )


def _amend_branch_steps(schema: dict) -> None:
    branches = _arguments(schema["definitions"], "ConditionStep")["properties"]
    for branch in ("IfSteps", "ElseSteps"):
        branches[branch]["items"]["oneOf"].extend(
            [{"$ref": "#/definitions/LambdaStep"}, {"$ref": "#/definitions/CreateModelStep"}]
        )


def _amend_function_step_training(schema: dict) -> None:
    arguments = _arguments(schema["definitions"], "TrainingStep")["properties"]
    algorithm = arguments["AlgorithmSpecification"]["properties"]
    algorithm["ContainerEntrypoint"] = {"type": "array", "items": {"type": "string"}}
    algorithm["ContainerArguments"] = {
        "type": "array",
        "items": {"$ref": "#/definitions/StringArgumentValue"},
    }
    arguments["Environment"] = {
        "type": "object",
        "additionalProperties": {"$ref": "#/definitions/StringArgumentValue"},
    }
    arguments["RetryStrategy"] = {
        "type": "object",
        "properties": {"MaximumRetryAttempts": {"$ref": "#/definitions/IntegerArgumentValue"}},
        "additionalProperties": False,
    }
    arguments["ResourceConfig"]["properties"]["KeepAlivePeriodInSeconds"] = {
        "$ref": "#/definitions/IntegerArgumentValue"
    }


def _amend_training_output_compression(schema: dict) -> None:
    output = _arguments(schema["definitions"], "TrainingStep")["properties"]["OutputDataConfig"]
    output["properties"]["CompressionType"] = {"type": "string", "enum": ["GZIP", "NONE"]}


def _amend_model_data_url(schema: dict) -> None:
    container = schema["definitions"]["ContainerDefinition"]["properties"]
    container["ModelDataUrl"] = {
        "oneOf": [container["ModelDataUrl"], {"$ref": "#/definitions/GetFunction"}]
    }


def _amend_register_model(schema: dict) -> None:
    arguments = _arguments(schema["definitions"], "RegisterModelStep")["properties"]
    containers = arguments["InferenceSpecification"]["properties"]["Containers"]["items"]
    containers["properties"]["Environment"] = {
        "type": "object",
        "additionalProperties": {"$ref": "#/definitions/StringArgumentValue"},
    }
    arguments["ModelApprovalStatus"] = {"$ref": "#/definitions/StringArgumentValue"}
    arguments["SkipModelValidation"] = {"type": "string", "enum": ["All", "None"]}


KNOWN_GAPS: tuple[KnownGap, ...] = (
    # Pipeline(pipeline_experiment_config=...) adds a top-level object naming experiment and
    # trial, normally from ExecutionVariables PipelineName / PipelineExecutionId.
    KnownGap(
        "pipeline-experiment-config",
        "top-level PipelineExperimentConfig",
        _add_top_level(
            "PipelineExperimentConfig",
            {
                "type": ["object", "null"],
                "properties": {
                    "ExperimentName": {"$ref": "#/definitions/StringArgumentValue"},
                    "TrialName": {"$ref": "#/definitions/StringArgumentValue"},
                },
                "additionalProperties": False,
            },
        ),
    ),
    # v3 always writes "MlflowConfig" at top level, null unless Pipeline(mlflow_config=...).
    KnownGap(
        "mlflow-config",
        "top-level MlflowConfig (v3)",
        _add_top_level("MlflowConfig", {"type": ["object", "null"]}),
    ),
    # ProcessingStep(property_files=[PropertyFile(...)]) declares files JsonGet reads.
    KnownGap("property-files", "PropertyFiles on processing steps", _amend_property_files),
    # JsonGet (property files, @step results) and Join used where the schema allows only
    # a literal or a Get, e.g. a condition operand, a Fail message, a container argument.
    KnownGap(
        "std-functions-as-values",
        "Std:JsonGet and Std:Join as argument values",
        _amend_std_functions,
    ),
    # ConditionStep branches holding LambdaStep or ModelStep (create model).
    KnownGap(
        "branch-lambda-and-model-steps",
        "Lambda and Model steps inside condition branches",
        _amend_branch_steps,
    ),
    # @step functions compile to training jobs with an entrypoint, arguments, environment,
    # retry strategy and keep-alive period.
    KnownGap(
        "function-step-training-fields",
        "ContainerEntrypoint, ContainerArguments, Environment, RetryStrategy, "
        "KeepAlivePeriodInSeconds on training steps",
        _amend_function_step_training,
    ),
    # ModelTrainer (v3) always writes OutputDataConfig.CompressionType ("GZIP"), a valid
    # CreateTrainingJob field the schema predates. Found here, not in the design notes.
    KnownGap(
        "training-output-compression",
        "CompressionType in a training step's OutputDataConfig",
        _amend_training_output_compression,
    ),
    # A model built from a training step's output: ModelDataUrl is a Get of ModelArtifacts.
    KnownGap("model-data-url-get", "ModelDataUrl given as a Get", _amend_model_data_url),
    # ModelBuilder.register(approval_status=...), its SkipModelValidation default, and the
    # model's container Environment copied into the package (the schema lists no Environment
    # for package containers although CreateModelPackage accepts one).
    KnownGap(
        "register-model-approval",
        "ModelApprovalStatus, SkipModelValidation and container Environment on RegisterModel",
        _amend_register_model,
    ),
)


@functools.lru_cache(maxsize=1)
def published_schema() -> dict:
    """AWS's published schema, from pipeline_defs/schema (or $PIPELINE_DEFS_SCHEMA)."""
    if not SCHEMA_PATH.is_file():
        raise PipelineDefinitionError(
            f"pipeline definition schema not found at {SCHEMA_PATH}; set {SCHEMA_ENV} to its path"
        )
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def amended_schema() -> dict:
    """The published schema with exactly the :data:`KNOWN_GAPS` amendments applied."""
    schema = copy.deepcopy(published_schema())
    for gap in KNOWN_GAPS:
        gap.amend(schema)
    return schema


@functools.lru_cache(maxsize=64)
def _validator(definition_name: str | None, *, amended: bool = True) -> jsonschema.Draft7Validator:
    schema = amended_schema() if amended else published_schema()
    if definition_name is None:
        return jsonschema.Draft7Validator(schema)
    return jsonschema.Draft7Validator(
        {"$ref": f"#/definitions/{definition_name}", "definitions": schema["definitions"]}
    )


def schema_errors(instance: Any, definition_name: str | None, *, amended: bool = True) -> list[tuple[str, str]]:
    """Schema errors as (field path, message), descending into oneOf/anyOf to the closest match."""
    errors = list(_validator(definition_name, amended=amended).iter_errors(instance))
    found = []
    for error in errors:
        best = jsonschema.exceptions.best_match([error])
        while best.context:
            best = jsonschema.exceptions.best_match(best.context)
        field = "/".join(str(p) for p in best.absolute_path) or "(root)"
        found.append((field, best.message[:300]))
    return found


# --- traversal ---------------------------------------------------------------------------------


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _references(value: Any) -> Iterator[str]:
    for node in _walk(value):
        if isinstance(node, dict) and isinstance(node.get("Get"), str):
            yield node["Get"]


# --- checks ------------------------------------------------------------------------------------


class _Failure:
    def __init__(self, *, pipeline_name: str, module_file: str | None) -> None:
        self.pipeline_name = pipeline_name
        self.module_file = module_file

    def __call__(self, message: str, *, step: str | None = None, field: str | None = None) -> PipelineDefinitionError:
        return PipelineDefinitionError(
            message,
            module_file=self.module_file,
            pipeline=self.pipeline_name,
            step=step,
            field=field,
        )


JOB_NAME_FIELDS = {
    "Training": "TrainingJobName",
    "Processing": "ProcessingJobName",
    "Transform": "TransformJobName",
    "Model": "ModelName",
    "RegisterModel": "ModelPackageGroupName",
}


def _check_job_names(definition: dict, fail: _Failure, *, prefix: str) -> None:
    """Job, model and model package group names are the execution role's IAM scope (``<prefix>-*``)."""
    for step, _ in iter_steps(definition.get("Steps", [])):
        field = JOB_NAME_FIELDS.get(step.get("Type", ""))
        if field is None:
            continue
        name = (step.get("Arguments") or {}).get(field)
        if not isinstance(name, str) or not name.startswith(f"{prefix}-"):
            raise fail(
                f"{field} is {name!r}: job, model and model package group names must start with "
                f"{prefix + '-'!r} (the execution role may only create those); use ctx.job_name(step)",
                step=step.get("Name"),
                field=field,
            )


def _check_schema(definition: dict, fail: _Failure) -> None:
    top = {key: value for key, value in definition.items() if key != "Steps"}
    top["Steps"] = []
    for field, message in schema_errors(top, None):
        raise fail(f"schema: {message}", field=field)
    for step, _ in iter_steps(definition.get("Steps", [])):
        kind = step.get("Type")
        definition_name = STEP_SCHEMA_DEFINITIONS.get(kind)
        if definition_name is None:
            raise fail(f"unknown step type {kind!r}", step=step.get("Name"), field="Type")
        instance = step
        if kind == "Condition":
            instance = copy.deepcopy(step)
            arguments = instance.get("Arguments") or {}
            for key in ("IfSteps", "ElseSteps"):
                nested = arguments.get(key, [])
                allowed = _branch_step_types()
                for child in nested:
                    if child.get("Type") not in allowed:
                        raise fail(
                            f"step type {child.get('Type')!r} is not allowed in a condition branch",
                            step=child.get("Name"),
                            field="Type",
                        )
                if key in arguments:
                    arguments[key] = []
        for field, message in schema_errors(instance, definition_name):
            raise fail(f"schema: {message}", step=step.get("Name"), field=field)


@functools.lru_cache(maxsize=1)
def _branch_step_types() -> frozenset[str]:
    items = amended_schema()["definitions"]["ConditionStep"]["properties"]["Arguments"]["properties"]
    names = {ref["$ref"].rsplit("/", 1)[-1] for ref in items["IfSteps"]["items"]["oneOf"]}
    return frozenset(kind for kind, name in STEP_SCHEMA_DEFINITIONS.items() if name in names)


def _check_names(definition: dict, fail: _Failure) -> tuple[set[str], set[str]]:
    step_names: set[str] = set()
    for step, _ in iter_steps(definition.get("Steps", [])):
        name = step.get("Name")
        if not isinstance(name, str) or not STEP_NAME_PATTERN.match(name):
            raise fail(f"step name {name!r} must match {STEP_NAME_PATTERN.pattern}", step=str(name), field="Name")
        if name in step_names:
            raise fail("duplicate step name", step=name, field="Name")
        step_names.add(name)
    parameter_names: set[str] = set()
    for parameter in definition.get("Parameters", []):
        name = parameter.get("Name")
        if name in parameter_names:
            raise fail(f"duplicate parameter name {name!r}", field=f"Parameters/{name}")
        parameter_names.add(name)
    return step_names, parameter_names


def _check_references(
    definition: dict, fail: _Failure, step_names: set[str], parameter_names: set[str]
) -> dict[str, set[str]]:
    """DependsOn targets, Get of parameters/steps/property files; returns the dependency graph."""
    property_files = {
        (step["Name"], item.get("PropertyFileName"))
        for step, _ in iter_steps(definition.get("Steps", []))
        for item in step.get("PropertyFiles", []) or []
    }
    graph: dict[str, set[str]] = {}
    experiment = definition.get("PipelineExperimentConfig")
    for reference in _references(experiment):
        if reference.startswith("Parameters.") and reference.split(".", 1)[1] not in parameter_names:
            raise fail(f"Get of undeclared parameter {reference!r}", field="PipelineExperimentConfig")
    for step, _ in iter_steps(definition.get("Steps", [])):
        name = step["Name"]
        edges = graph.setdefault(name, set())
        for dependency in step.get("DependsOn", []) or []:
            target = dependency if isinstance(dependency, str) else dependency.get("StepName")
            if target not in step_names:
                raise fail(f"DependsOn names a step that does not exist: {target!r}", step=name, field="DependsOn")
            if target == name:
                raise fail("step depends on itself", step=name, field="DependsOn")
            edges.add(target)
        own = step.get("Arguments") if step.get("Type") != "Condition" else {
            "Conditions": (step.get("Arguments") or {}).get("Conditions")
        }
        for reference in _references(own):
            if reference.startswith("Parameters."):
                parameter = reference.split(".", 1)[1]
                if parameter not in parameter_names:
                    raise fail(f"Get of undeclared parameter {parameter!r}", step=name, field="Arguments")
            elif reference.startswith("Steps."):
                target = reference.split(".")[1].split("[")[0]
                if target not in step_names:
                    raise fail(f"reference to a step that does not exist: {reference!r}", step=name, field="Arguments")
                if target == name:
                    raise fail(f"step references its own properties: {reference!r}", step=name, field="Arguments")
                parts = reference.split(".")
                if len(parts) >= 4 and parts[2] == "PropertyFiles" and (target, parts[3]) not in property_files:
                    raise fail(f"property file {parts[3]!r} is not declared on step {target!r}", step=name, field="Arguments")
                edges.add(target)
            elif not reference.startswith("Execution."):
                raise fail(f"Get of unknown kind {reference!r}", step=name, field="Arguments")
    return graph


def _check_cycles(graph: dict[str, set[str]], fail: _Failure) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target] if target in path else [node, target]
                raise fail(f"dependency cycle: {' -> '.join(cycle)}", step=node, field="DependsOn")
            if state.get(target) is None:
                visit(target, path + [target])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [node])


def _exempt(exemptions: tuple[GuardrailExemption, ...], guardrail: Guardrail, step: str) -> bool:
    return any(e.guardrail is guardrail and e.covers(step) for e in exemptions)


def _has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


@dataclass(frozen=True)
class PlatformValues:
    """The only subnets, security groups and KMS key a job may name (the stacks' own)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    kms_key: str


def _check_platform_values(arguments: dict, platform: PlatformValues, fail: _Failure, step: str) -> None:
    for node in _walk(arguments):
        if not isinstance(node, dict):
            continue
        for key, allowed in (("Subnets", platform.subnet_ids), ("SecurityGroupIds", platform.security_group_ids)):
            values = node.get(key)
            if isinstance(values, list):
                foreign = [v for v in values if v not in allowed]
                if foreign:
                    raise fail(f"{key} {foreign} are not the platform's own {list(allowed)}", step=step, field=key)
        for key in ("KmsKeyId", "VolumeKmsKeyId"):
            value = node.get(key)
            if isinstance(value, str) and value != platform.kms_key:
                raise fail(f"{key} {value!r} is not the platform's key {platform.kms_key!r}", step=step, field=key)


def _check_guardrails(
    definition: dict,
    fail: _Failure,
    *,
    exemptions: tuple[GuardrailExemption, ...],
    cost_tag_key: str,
    allowed_instance_types: tuple[str, ...],
    platform: PlatformValues | None,
) -> None:
    for step, _ in iter_steps(definition.get("Steps", [])):
        kind, name = step.get("Type"), step["Name"]
        arguments = step.get("Arguments") or {}
        if kind not in JOB_STEP_TYPES and kind != "Model":
            continue
        if platform is not None:
            _check_platform_values(arguments, platform, fail, name)

        def require(guardrail: Guardrail, ok: bool, field: str, message: str) -> None:
            if not ok and not _exempt(exemptions, guardrail, name):
                raise fail(f"{message} (guardrail {guardrail.value}; exempt it explicitly with a reason)", step=name, field=field)

        tags = arguments.get("Tags") or []
        require(
            Guardrail.COST_TAG,
            any(isinstance(t, dict) and t.get("Key") == cost_tag_key for t in tags),
            "Tags",
            f"cost tag {cost_tag_key!r} missing",
        )
        if kind == "Processing":
            network = arguments.get("NetworkConfig") or {}
            vpc = network.get("VpcConfig") or {}
            cluster = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {}
            output_kms = (arguments.get("ProcessingOutputConfig") or {}).get("KmsKeyId")
            _check_instance_type(cluster.get("InstanceType"), allowed_instance_types, fail, name, "ProcessingResources.ClusterConfig.InstanceType")
            require(Guardrail.VPC, _has_value(vpc.get("Subnets")) and _has_value(vpc.get("SecurityGroupIds")), "NetworkConfig.VpcConfig", "no VPC subnets and security groups")
            _check_volume_key(cluster.get("InstanceType"), cluster.get("VolumeKmsKeyId"), require, fail, name, "ProcessingResources.ClusterConfig.VolumeKmsKeyId")
            outputs = (arguments.get("ProcessingOutputConfig") or {}).get("Outputs") or []
            require(Guardrail.OUTPUT_KMS_KEY, not outputs or _has_value(output_kms), "ProcessingOutputConfig.KmsKeyId", "no output KMS key")
            require(Guardrail.NETWORK_ISOLATION, network.get("EnableNetworkIsolation") is True, "NetworkConfig.EnableNetworkIsolation", "network isolation is off")
            require(Guardrail.INTER_CONTAINER_ENCRYPTION, network.get("EnableInterContainerTrafficEncryption") is True, "NetworkConfig.EnableInterContainerTrafficEncryption", "inter-container traffic encryption is off")
        elif kind == "Training":
            vpc = arguments.get("VpcConfig") or {}
            resources = arguments.get("ResourceConfig") or {}
            _check_instance_type(resources.get("InstanceType"), allowed_instance_types, fail, name, "ResourceConfig.InstanceType")
            require(Guardrail.VPC, _has_value(vpc.get("Subnets")) and _has_value(vpc.get("SecurityGroupIds")), "VpcConfig", "no VPC subnets and security groups")
            _check_volume_key(resources.get("InstanceType"), resources.get("VolumeKmsKeyId"), require, fail, name, "ResourceConfig.VolumeKmsKeyId")
            require(Guardrail.OUTPUT_KMS_KEY, _has_value((arguments.get("OutputDataConfig") or {}).get("KmsKeyId")), "OutputDataConfig.KmsKeyId", "no output KMS key")
            require(Guardrail.NETWORK_ISOLATION, arguments.get("EnableNetworkIsolation") is True, "EnableNetworkIsolation", "network isolation is off")
            require(Guardrail.INTER_CONTAINER_ENCRYPTION, arguments.get("EnableInterContainerTrafficEncryption") is True, "EnableInterContainerTrafficEncryption", "inter-container traffic encryption is off")
            keep_alive = resources.get("KeepAlivePeriodInSeconds")
            if keep_alive not in (None, 0):
                raise fail("warm pools are off on this platform: KeepAlivePeriodInSeconds must be 0", step=name, field="ResourceConfig.KeepAlivePeriodInSeconds")
        elif kind == "Transform":
            resources = arguments.get("TransformResources") or {}
            _check_instance_type(resources.get("InstanceType"), allowed_instance_types, fail, name, "TransformResources.InstanceType")
            _check_volume_key(resources.get("InstanceType"), resources.get("VolumeKmsKeyId"), require, fail, name, "TransformResources.VolumeKmsKeyId")
            require(Guardrail.OUTPUT_KMS_KEY, _has_value((arguments.get("TransformOutput") or {}).get("KmsKeyId")), "TransformOutput.KmsKeyId", "no output KMS key")
        elif kind == "Model":
            vpc = arguments.get("VpcConfig") or {}
            require(Guardrail.VPC, _has_value(vpc.get("Subnets")) and _has_value(vpc.get("SecurityGroupIds")), "VpcConfig", "no VPC subnets and security groups")
            require(Guardrail.NETWORK_ISOLATION, arguments.get("EnableNetworkIsolation") is True, "EnableNetworkIsolation", "network isolation is off")


def _check_instance_type(value: Any, allowed: tuple[str, ...], fail: _Failure, step: str, field: str) -> None:
    if allowed and isinstance(value, str) and value not in allowed:
        raise fail(f"instance type {value!r} is not in the environment's allowlist {list(allowed)}", step=step, field=field)


def _check_volume_key(
    instance_type: Any, volume_key: Any, require: Callable[[Guardrail, bool, str, str], None], fail: _Failure, step: str, field: str
) -> None:
    """A volume key everywhere, except on NVMe types, where SageMaker refuses one."""
    if has_nvme_storage(instance_type):
        if _has_value(volume_key):
            raise fail(
                f"SageMaker refuses a volume KMS key on {instance_type} (local NVMe storage, encrypted "
                f"by hardware): exempt the pipeline from {Guardrail.VOLUME_KMS_KEY.value}",
                step=step,
                field=field,
            )
        return
    require(Guardrail.VOLUME_KMS_KEY, _has_value(volume_key), field, "no volume KMS key")


def _check_placeholders(definition_text: str, definition: dict, fail: _Failure) -> None:
    unknown = placeholders.unknown_names(definition_text)
    if not unknown:
        return
    name = unknown[0]
    token = "${" + name + "}"
    for step, _ in iter_steps(definition.get("Steps", [])):
        if token in json.dumps(step.get("Arguments")):
            raise fail(f"placeholder {token} is not one the stacks resolve (known: {sorted(placeholders.NAMES)})", step=step.get("Name"), field="Arguments")
    raise fail(f"placeholder {token} is not one the stacks resolve (known: {sorted(placeholders.NAMES)})")


def validate_definition(
    definition: dict,
    *,
    definition_text: str,
    pipeline_name: str,
    module_file: str | None,
    exemptions: tuple[GuardrailExemption, ...] = (),
    allowed_instance_types: tuple[str, ...] = (),
    cost_tag_key: str,
    platform: PlatformValues | None = None,
    job_name_prefix: str | None = None,
) -> None:
    """Raise :class:`PipelineDefinitionError` for the first problem found."""
    fail = _Failure(pipeline_name=pipeline_name, module_file=module_file)
    if len(definition_text) > MAX_DEFINITION_CHARACTERS:
        raise fail(f"definition has {len(definition_text)} characters; the limit is {MAX_DEFINITION_CHARACTERS}")
    _check_placeholders(definition_text, definition, fail)
    step_names, parameter_names = _check_names(definition, fail)
    _check_schema(definition, fail)
    graph = _check_references(definition, fail, step_names, parameter_names)
    _check_cycles(graph, fail)
    if job_name_prefix:
        _check_job_names(definition, fail, prefix=job_name_prefix)
    _check_guardrails(
        definition,
        fail,
        exemptions=exemptions,
        cost_tag_key=cost_tag_key,
        allowed_instance_types=allowed_instance_types,
        platform=platform,
    )
