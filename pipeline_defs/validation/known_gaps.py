"""What SDK 3.27 emits that AWS's published schema (April 2025) rejects, and the amendment allowing each.

Only the part of the schema still in scope is amended (:func:`~.schema.schema_in_scope`: the
arguments an API defines are checked against botocore instead). Nothing else is amended: anything
the schema rejects beyond these gaps fails the build. Each gap is shown necessary on real SDK
output by ``tests/pipeline_defs/test_pd_validation.py`` (the schema in scope rejects it, no other
gap covers it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class KnownGap:
    """One thing SDK 3.27 emits that the April 2025 schema rejects, and the amendment allowing it."""

    gap_id: str
    description: str
    amend: Callable[[dict], None]


def _arguments(definitions: dict, step: str) -> dict:
    return definitions[step]["properties"]["Arguments"]


def _add_top_level(schema: dict, *, name: str, fragment: dict) -> None:
    schema["properties"][name] = fragment


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


def _amend_retry_exception_types(schema: dict) -> None:
    exception_type = schema["definitions"]["RetryPolicy"]["properties"]["ExceptionType"]
    schema["definitions"]["RetryPolicy"]["properties"]["ExceptionType"] = {
        "type": "array",
        "minItems": 1,
        "items": exception_type,
    }


def _step_definition(schema: dict, step_type: str, arguments: dict, *, retry: bool, cache: bool) -> dict:
    """A step definition in the published schema's own style: envelope as its steps have it."""
    envelope = schema["definitions"]["FailStep"]["properties"]
    properties = {key: envelope[key] for key in ("Name", "DependsOn", "DisplayName", "Description")}
    properties.update(Type={"type": "string", "enum": [step_type]}, Arguments=arguments)
    if retry:
        properties["RetryPolicies"] = {"type": "array", "items": {"$ref": "#/definitions/RetryPolicy"}}
    if cache:
        properties["CacheConfig"] = {"$ref": "#/definitions/CacheConfig"}
    return {"type": "object", "properties": properties, "required": ["Name", "Type", "Arguments"], "additionalProperties": False}


def _add_step(
    schema: dict, *, name: str, step_type: str, arguments: Callable[[], dict], retry: bool = False, cache: bool = False
) -> None:
    schema["definitions"][name] = _step_definition(schema, step_type, arguments(), retry=retry, cache=cache)


def _closed(properties: dict, *required: str) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


# The arguments of the step types the schema predates, built when a schema is amended rather than at
# import, where ``make mutation`` activates no mutant (so do the partials of KNOWN_GAPS).
_STRING = {"$ref": "#/definitions/StringArgumentValue"}


def _for_each_arguments() -> dict:
    return _closed(
        {
            # A literal list of 1 to 100 items, or an expression resolving to a JSON list.
            "IterableItems": {"oneOf": [{"type": "array", "minItems": 1, "maxItems": 100}, {"type": "object"}]},
            "MaxConcurrency": {"type": "integer", "minimum": 1, "maximum": 50},
            "Selector": _closed({"Pick": {"type": "string", "enum": ["MaxBy", "MinBy"]}, "Field": {"$ref": "#/definitions/GetFunction"}}, "Pick", "Field"),
            "ForEachBody": {"type": "array"},
        },
        "IterableItems",
        "MaxConcurrency",
        "ForEachBody",
    )


def _cleanup_arguments() -> dict:
    return _closed(
        {
            "Resources": _closed(
                {"S3": {"type": "array", "minItems": 1, "items": _closed({"StepName": {"$ref": "#/definitions/StepName"}, "S3Uris": {"type": "array", "minItems": 1, "items": _STRING}}, "StepName")}},
                "S3",
            )
        },
        "Resources",
    )


def _lineage_reference() -> dict:
    return {
        "oneOf": [
            _closed({"Name": _STRING, "Type": {"type": "string", "enum": ["Action", "Artifact", "Context"]}}, "Name", "Type"),
            _closed({"Arn": _STRING}, "Arn"),
        ]
    }


def _lineage_arguments() -> dict:
    return _closed(
        {
            # Each entity is a CreateAction/CreateArtifact/CreateContext request (botocore checks it).
            "Actions": {"type": "array", "items": {"type": "object"}},
            "Artifacts": {"type": "array", "items": {"type": "object"}},
            "Contexts": {"type": "array", "items": {"type": "object"}},
            "Associations": {
                "type": "array",
                "items": _closed({"Source": _lineage_reference(), "Destination": _lineage_reference(), "AssociationType": {"type": "string"}}, "Source", "Destination"),
            },
        }
    )


def _api_request() -> dict:
    """Arguments an API defines: botocore checks them (:mod:`.service_model`)."""
    return {"type": "object"}


def _amend_check_steps(schema: dict) -> None:
    for name in ("QualityCheckStep", "ClarifyCheckStep"):
        properties = schema["definitions"][name]["properties"]
        properties["FailOnViolation"] = {"$ref": "#/definitions/BooleanArgumentValue"}
        for field in ("ModelPackageGroupName", "SuppliedBaselineConstraints", "SuppliedBaselineStatistics", "ModelName"):
            if field in properties:
                properties[field] = {"oneOf": [properties[field], {"type": "null"}]}


def _amend_endpoint_config_type(schema: dict) -> None:
    schema["definitions"]["EndpointConfigStep"]["properties"]["Type"] = {"type": "string", "enum": ["EndpointConfig"]}


KNOWN_GAPS: tuple[KnownGap, ...] = (
    # Pipeline(pipeline_experiment_config=...) adds a top-level object naming experiment and
    # trial, normally from ExecutionVariables PipelineName / PipelineExecutionId.
    KnownGap(
        "pipeline-experiment-config",
        "top-level PipelineExperimentConfig",
        functools.partial(
            _add_top_level,
            name="PipelineExperimentConfig",
            fragment={
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
        functools.partial(_add_top_level, name="MlflowConfig", fragment={"type": ["object", "null"]}),
    ),
    # ProcessingStep(property_files=[PropertyFile(...)]) declares files JsonGet reads.
    KnownGap("property-files", "PropertyFiles on processing steps", _amend_property_files),
    # JsonGet (property files, @step results) and Join used where the schema allows only
    # a literal or a Get, e.g. a condition operand or a Fail message.
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
    # StepRetryPolicy and SageMakerJobStepRetryPolicy write ExceptionType as a list, as the
    # pipeline service documents it; the schema allows one string.
    KnownGap(
        "retry-policy-exception-types",
        "RetryPolicies[].ExceptionType as a list of exception types",
        _amend_retry_exception_types,
    ),
    # QualityCheckStep and ClarifyCheckStep always write FailOnViolation, and write the
    # baseline, model package group and model fields as null when not given.
    KnownGap("check-step-fields", "FailOnViolation and null optional fields on check steps", _amend_check_steps),
    # The published EndpointConfigStep definition names its type "Endpoint".
    KnownGap("endpoint-config-step-type", "EndpointConfig as the type of an EndpointConfig step", _amend_endpoint_config_type),
    # Step types of SDK 3.27 the schema has no definition for.
    KnownGap("for-each-step", "ForEach steps", functools.partial(_add_step, name="ForEachStep", step_type="ForEach", arguments=_for_each_arguments)),
    KnownGap("cleanup-step", "Cleanup steps", functools.partial(_add_step, name="CleanupStep", step_type="Cleanup", arguments=_cleanup_arguments)),
    KnownGap("lineage-step", "Lineage steps", functools.partial(_add_step, name="LineageStep", step_type="Lineage", arguments=_lineage_arguments)),
    KnownGap(
        "inference-component-step",
        "InferenceComponent steps",
        functools.partial(_add_step, name="InferenceComponentStep", step_type="InferenceComponent", arguments=_api_request),
    ),
    KnownGap(
        "emr-serverless-step",
        "EMRServerless steps",
        functools.partial(_add_step, name="EMRServerlessStep", step_type="EMRServerless", arguments=_api_request, retry=True, cache=True),
    ),
)
