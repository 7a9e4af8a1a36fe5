"""Each job step's ``Arguments`` checked as the API request they are, against the pinned botocore model.

SageMaker Pipelines sends a job step's ``Arguments`` as the request of one API call
(CreateTrainingJob, CreateHyperParameterTuningJob, ...). botocore's own ``ParamValidator``, which
boto3 runs before sending any request, checks them here against that request's shape in the
pinned botocore service model: required fields, unknown fields, types, minimum lengths and
ranges. The model moves with the pinned versions, unlike AWS's published definition schema
(April 2025), which now only checks what lies around the arguments (:mod:`.schema`).

A step's ``Arguments`` differ from the API request in three ways only, and all are allowed here:

* a pipeline expression (``{"Get": ...}``, ``{"Std:Join": ...}``, ``{"Std:JsonGet": ...}``)
  stands where a value is expected, resolved at run time. ``Std:Join`` gives a string, so it
  fits only string fields; a ``Get`` of a declared String parameter fits no number or boolean;
* names the pipeline service sets at run time (:attr:`RequestShape.supplied`) may be absent;
* a ``${Name}`` placeholder stands for a deploy-time string, whose length is not known at synth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Mapping

import botocore
import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator, range_check

from pipeline_defs import placeholders
from pipeline_defs.contract import iter_steps
from pipeline_defs.errors import DefinitionFailure

PIPELINE_EXPRESSIONS = ("Get", "Std:Join", "Std:JsonGet")
_SUPPLIED = "supplied-by-the-pipeline-service"
_NUMERIC_OR_BOOLEAN = {"integer", "long", "float", "double", "boolean"}
_PARAMETER_FITS = {
    "integer": {"Integer"},
    "long": {"Integer"},
    "float": {"Integer", "Float"},
    "double": {"Integer", "Float"},
    "boolean": {"Boolean"},
}


@dataclass(frozen=True)
class RequestShape:
    """What a step type's ``Arguments`` are in a botocore service model.

    Either the whole request of ``operation``, or, member by member, the shapes in ``members``
    (``"Shape"``, ``"[Shape]"`` for a list of it, ``"Shape.member"`` for one member of it; None
    for a member no API defines, which the schema checks). ``supplied`` lists dotted paths of
    required fields the pipeline service fills in at run time.
    """

    service: str
    operation: str | None = None
    members: Mapping[str, str | None] = field(default_factory=dict)
    supplied: tuple[str, ...] = ()

    @property
    def covers_all_arguments(self) -> bool:
        """True when botocore checks every member, so the schema need not check the arguments."""
        return self.operation is not None or all(shape is not None for shape in self.members.values())

    def describe(self) -> str:
        if self.operation:
            return f"the {self.operation} request"
        return f"the {self.service} shapes of " + ", ".join(sorted(self.members))


_sagemaker = functools.partial(RequestShape, service="sagemaker")
"""A request of the SageMaker API. A partial rather than a helper function: the table is built at import,
before ``make mutation`` activates a mutant, so a helper's mutants could never be detected."""


STEP_REQUESTS: dict[str, RequestShape] = {
    "Training": _sagemaker(operation="CreateTrainingJob", supplied=("TrainingJobName",)),
    "Processing": _sagemaker(operation="CreateProcessingJob", supplied=("ProcessingJobName",)),
    # A check step's arguments are its baselining job, a processing job.
    "QualityCheck": _sagemaker(operation="CreateProcessingJob", supplied=("ProcessingJobName",)),
    "ClarifyCheck": _sagemaker(operation="CreateProcessingJob", supplied=("ProcessingJobName",)),
    "Transform": _sagemaker(operation="CreateTransformJob", supplied=("TransformJobName",)),
    "Tuning": _sagemaker(operation="CreateHyperParameterTuningJob", supplied=("HyperParameterTuningJobName",)),
    "Model": _sagemaker(operation="CreateModel", supplied=("ModelName",)),
    "RegisterModel": _sagemaker(operation="CreateModelPackage"),
    # The step's AutoMLJobConfig.Mode is a member of CreateAutoMLJob; CreateAutoMLJobV2 has none.
    "AutoML": _sagemaker(operation="CreateAutoMLJob", supplied=("AutoMLJobName",)),
    "EndpointConfig": _sagemaker(operation="CreateEndpointConfig", supplied=("EndpointConfigName",)),
    "Endpoint": _sagemaker(operation="CreateEndpoint", supplied=("EndpointName",)),
    "InferenceComponent": _sagemaker(operation="CreateInferenceComponent", supplied=("InferenceComponentName",)),
    "Job": _sagemaker(operation="CreateJob", supplied=("JobName",)),
    # The service creates every entity, then adds the associations (named by the step, no API shape).
    "Lineage": RequestShape(
        service="sagemaker",
        members={
            "Actions": "[CreateActionRequest]",
            "Artifacts": "[CreateArtifactRequest]",
            "Contexts": "[CreateContextRequest]",
            "Associations": None,
        },
    ),
    # AddJobFlowSteps on an existing cluster, or RunJobFlow for one the step creates.
    "EMR": RequestShape(
        service="emr",
        members={
            "ClusterId": "AddJobFlowStepsInput.JobFlowId",
            "ExecutionRoleArn": "AddJobFlowStepsInput.ExecutionRoleArn",
            "StepConfig": "StepConfig",
            "ClusterConfig": "RunJobFlowInput",
        },
        supplied=("StepConfig.Name", "ClusterConfig.Name"),
    ),
    # StartJobRun on an existing application, or CreateApplication for one the step creates.
    "EMRServerless": RequestShape(
        service="emr-serverless",
        members={
            "ApplicationId": "StartJobRunRequest.applicationId",
            "ExecutionRoleArn": "StartJobRunRequest.executionRoleArn",
            "JobConfig": "StartJobRunRequest",
            "ApplicationConfig": "CreateApplicationRequest",
        },
        # The service fills in the application it created (ApplicationConfig) and a client token.
        supplied=("JobConfig.clientToken", "JobConfig.applicationId", "ApplicationConfig.clientToken"),
    ),
}
"""Step types whose arguments an API defines; the others (Condition, Fail, Lambda, Callback,
ForEach, Cleanup) are the pipeline service's own and checked by the schema alone."""


@functools.lru_cache(maxsize=None)
def service_model(service: str) -> Any:
    """The pinned botocore model of ``service`` (loaded once)."""
    return botocore.session.get_session().get_service_model(service)


def _unlisted(reference: str) -> str:
    """``Shape`` for ``[Shape]`` (a list of it)."""
    return reference.removeprefix("[").removesuffix("]")


def _shape(service: str, reference: str) -> Shape:
    model = service_model(service)
    name, _, member = _unlisted(reference).partition(".")
    shape = model.shape_for(name)
    return shape.members[member] if member else shape


def _expression(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in PIPELINE_EXPRESSIONS:
            return key
    return None


class _Findings:
    """Collects what ``ParamValidator`` reports, as (reason, field, details)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str, dict]] = []

    def report(self, name: str, reason: str, **details: Any) -> None:
        self.found.append((reason, name, details))


class _PipelineArgumentsValidator(ParamValidator):
    """botocore's ``ParamValidator``, with pipeline expressions accepted where a value fits."""

    def __init__(self, parameter_types: Mapping[str, str]) -> None:
        self._parameter_types = parameter_types

    def _validate(self, params: Any, shape: Shape, errors: _Findings, name: str) -> None:
        # No structure of the pinned models has a member named like an expression (a test checks it).
        kind = _expression(params)
        if kind is None:
            super()._validate(params, shape, errors, name)
            return
        if kind == "Std:Join" and shape.type_name != "string":
            errors.report(name, "join is a string", expected=shape.type_name)
        target = params.get("Get")
        if isinstance(target, str) and target.startswith("Parameters.") and shape.type_name in _NUMERIC_OR_BOOLEAN:
            declared = self._parameter_types.get(target.split(".", 1)[1])
            if declared is not None and declared not in _PARAMETER_FITS[shape.type_name]:
                errors.report(name, "parameter type", parameter=target, declared=declared, expected=shape.type_name)

    def _validate_string(self, param: Any, shape: Shape, errors: _Findings, name: str) -> None:
        # A ${Name} placeholder stands for a deploy-time value whose length is not known here.
        if isinstance(param, str) and placeholders.find_names(param):
            return
        super()._validate_string(param, shape, errors, name)

    def findings(self, params: Any, shape: Shape) -> list[tuple[str, str]]:
        """(field, what is expected) for each problem of ``params`` as ``shape``."""
        collected = _Findings()
        self._validate(params, shape, collected, "")
        return [_describe(reason, name.removeprefix("."), details) for reason, name, details in collected.found]

    def _validate_list(self, param: Any, shape: Shape, errors: _Findings, name: str) -> None:
        # botocore checks items of unconstrained scalar lists by type alone, which refuses expressions.
        if not isinstance(param, (list, tuple)):
            errors.report(name, "invalid type", param=param, valid_types=["list"])
            return
        range_check(name, len(param), shape, "invalid length", errors)
        for index, item in enumerate(param):
            self._validate(item, shape.member, errors, f"{name}[{index}]")


def _with_supplied(arguments: dict, supplied: tuple[str, ...]) -> dict:
    """A copy of ``arguments`` with the fields the pipeline service fills in present."""
    copied = dict(arguments)
    for path in supplied:
        *parents, last = path.split(".")
        node = copied
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                break
            node[part] = node = dict(child)
        else:
            node.setdefault(last, _SUPPLIED)
    return copied


def _field(prefix: str, name: str) -> str:
    return ".".join(part for part in (prefix, name) if part)


def _describe(reason: str, name: str, details: dict) -> tuple[str, str]:
    """(field, what is expected) for one botocore validation error."""
    if reason == "missing required field":
        return _field(name, details["required_name"]), "is required"
    if reason == "unknown field":
        allowed = ", ".join(sorted(details["valid_names"]))
        return _field(name, details["unknown_param"]), f"is not a field here (allowed: {allowed})"
    if reason == "join is a string":
        return name, f"expects {details['expected']}; Std:Join gives a string"
    if reason == "parameter type":
        return name, f"expects {details['expected']}; {details['parameter']} is a {details['declared']} parameter"
    if reason == "invalid length":
        return name, f"is too short: length {details['param']} is below the minimum {details['min_allowed']}"
    if reason == "invalid range":
        return name, f"is too small: {details['param']!r} is below the minimum {details['min_allowed']}"
    if reason == "invalid type":
        valid = ", ".join(str(t).replace("<class '", "").replace("'>", "") for t in details["valid_types"])
        return name, f"expects {valid}, got {type(details['param']).__name__} {details['param']!r:.80}"
    return name, reason


def _errors(arguments: Any, request: RequestShape, parameter_types: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(field, what is expected, which request or shape says so) for each problem."""
    validator = _PipelineArgumentsValidator(parameter_types)
    if not isinstance(arguments, dict):
        return [("(root)", "must be an object", request.describe())]
    arguments = _with_supplied(arguments, request.supplied)
    if request.operation:
        shape = service_model(request.service).operation_model(request.operation).input_shape
        return [(field, text, request.describe()) for field, text in validator.findings(arguments, shape)]
    found = []
    for member, value in arguments.items():
        if member not in request.members:
            found.append((member, f"is not a field here (allowed: {', '.join(sorted(request.members))})", request.describe()))
            continue
        reference = request.members[member]
        if reference is None:
            continue
        shape = _shape(request.service, reference)
        items = value if reference.startswith("[") and isinstance(value, list) else [value]
        for index, item in enumerate(items):
            at = f"{member}[{index}]" if reference.startswith("[") else member
            where = f"the {_unlisted(reference)} shape"
            found += [(_field(at, field), text, where) for field, text in validator.findings(item, shape)]
    return found


def check_service_requests(definition: dict, fail: DefinitionFailure) -> None:
    """Every step whose type an API defines: its ``Arguments`` as that API's request."""
    parameter_types = {p.get("Name"): p.get("Type") for p in definition.get("Parameters", [])}
    for step, _ in iter_steps(definition.get("Steps", [])):
        request = STEP_REQUESTS.get(step.get("Type"))
        if request is None:
            continue
        for field_path, expected, where in _errors(step.get("Arguments"), request, parameter_types):
            raise fail(
                f"{expected}, says {where} in the pinned {request.service} service model (botocore "
                f"{botocore.__version__}). If your module does not set this field, the SDK wrote it and this "
                "check has a gap: record the difference in pipeline_defs/validation/service_model.py",
                step=step.get("Name"),
                field=f"Arguments.{field_path}",
            )
