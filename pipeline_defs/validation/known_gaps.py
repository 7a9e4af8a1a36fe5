"""What SDK 3.27 emits that AWS's published schema (April 2025) rejects, and the amendment allowing each.

Only the part of the schema still in scope is amended (:func:`~.schema.schema_in_scope`: the
arguments an API defines are checked against botocore instead). Nothing else is amended: anything
the schema rejects beyond these gaps fails the build. Each gap is shown necessary on real SDK
output by ``tests/pipeline_defs/test_pd_validation.py`` (the schema in scope rejects it, no other
gap covers it).
"""

from __future__ import annotations

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


def _amend_retry_exception_types(schema: dict) -> None:
    exception_type = schema["definitions"]["RetryPolicy"]["properties"]["ExceptionType"]
    schema["definitions"]["RetryPolicy"]["properties"]["ExceptionType"] = {
        "type": "array",
        "minItems": 1,
        "items": exception_type,
    }


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
)
