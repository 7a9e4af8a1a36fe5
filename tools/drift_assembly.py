"""What one environment's ``cdk.out`` says each SageMaker pipeline should be, for the drift check.

Pipelines and their definitions come from the tools' one assembly reader (:mod:`tools.assembly`),
here in the upsert handler's terms: DescribePipeline's field names and the tags ListTags should
answer. Deploy-time values stay ``${Name}`` placeholders, each with the CloudFormation expression it
stands for, because only the account knows most of them; a reference to a resource of the
pipeline's own stack is made stack-specific (its role resolved to the ARN its name gives), since
every pipeline stack has the same logical ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from base.naming import MANAGED_BY_TAG
from tools.assembly import PipelineDefinition, SynthesizedStack, load_environment

ROLE_PLACEHOLDER = "RoleArn"
"""The role is an expression in the template; it is compared like a ``${RoleArn}`` placeholder."""
ROLE_TYPE = "AWS::IAM::Role"


@dataclass(frozen=True)
class SynthesizedPipeline:
    """One pipeline as the template deploys it, with deploy-time values left as ``${Name}``.

    ``settings`` and ``definition`` use the field names DescribePipeline answers with, ``tags`` are
    the ones ListTags should answer; ``variables`` maps each placeholder that CloudFormation fills
    from an expression to that expression. ``adopt_from`` names the stacks the pipeline moves from:
    until that move is deployed, one of them still owns it.
    """

    name: str
    stack_name: str
    definition: dict[str, Any]
    settings: dict[str, Any]
    tags: dict[str, str]
    variables: dict[str, Any] = field(default_factory=dict)
    adopt_from: tuple[str, ...] = ()


def _role_arn(*, role: dict[str, Any]) -> Any:
    """The ARN expression of a role with a literal name, in pseudo parameters only; None when its name is not literal."""
    properties = role.get("Properties", {})
    name, path = properties.get("RoleName"), properties.get("Path", "/")
    if not (isinstance(name, str) and isinstance(path, str)):
        return None
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, f":role{path}{name}"]]}


def own_stack_expression(*, expression: Any, stack: SynthesizedStack) -> Any:
    """``expression`` with each reference to a resource of ``stack`` made specific to that stack.

    A role with a literal name becomes its name (``Ref``) or the ARN that name gives (``Arn``), which
    the drift check then compares exactly; any other resource's logical id is qualified with the
    stack name, so equal logical ids in two pipeline stacks never read as one value.
    """
    resources = stack.resources()
    if isinstance(expression, list):
        return [own_stack_expression(expression=item, stack=stack) for item in expression]
    if not isinstance(expression, dict):
        return expression
    if set(expression) == {"Ref"} and expression["Ref"] in resources:
        logical_id = expression["Ref"]
        name = resources[logical_id].get("Properties", {}).get("RoleName")
        if resources[logical_id].get("Type") == ROLE_TYPE and isinstance(name, str):
            return name
        return {"Ref": f"{stack.name}/{logical_id}"}
    if set(expression) == {"Fn::GetAtt"} and isinstance(expression["Fn::GetAtt"], list) and expression["Fn::GetAtt"][0] in resources:
        logical_id, attribute = expression["Fn::GetAtt"]
        resource = resources[logical_id]
        if resource.get("Type") == ROLE_TYPE and attribute == "Arn" and _role_arn(role=resource) is not None:
            return _role_arn(role=resource)
        return {"Fn::GetAtt": [f"{stack.name}/{logical_id}", attribute]}
    return {key: own_stack_expression(expression=value, stack=stack) for key, value in expression.items()}


def _pipeline(*, pipeline: PipelineDefinition, stack: SynthesizedStack) -> SynthesizedPipeline:
    """The pipeline one resource deploys, in the upsert handler's terms (``lambda_src/pipeline_upsert``)."""
    properties = pipeline.properties
    variables = {name: own_stack_expression(expression=value, stack=stack) for name, value in pipeline.substitutions.items()}
    role = own_stack_expression(expression=properties.get("RoleArn"), stack=stack)
    settings: dict[str, Any] = {"PipelineDisplayName": str(properties.get("DisplayName", pipeline.name))[:256]}
    if isinstance(role, str):
        settings["RoleArn"] = role
    else:
        settings["RoleArn"] = "${" + ROLE_PLACEHOLDER + "}"
        variables[ROLE_PLACEHOLDER] = role
    if properties.get("Description"):
        settings["PipelineDescription"] = str(properties["Description"])
    if properties.get("MaxParallelExecutionSteps") not in (None, ""):
        settings["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": int(properties["MaxParallelExecutionSteps"])}
    # The upsert handler adds the owner tag to the template's.
    tags = {**{str(tag["Key"]): tag["Value"] for tag in properties.get("Tags") or []}, MANAGED_BY_TAG: stack.name}
    return SynthesizedPipeline(
        name=pipeline.name,
        stack_name=stack.name,
        definition=pipeline.definition,
        settings=settings,
        tags=tags,
        variables=variables,
        adopt_from=pipeline.adopt_from,
    )


def read_pipelines(*, assembly: Path, environment: str) -> list[SynthesizedPipeline]:
    """Every pipeline the environment's stacks deploy, by name."""
    synthesized = load_environment(outdir=assembly, name=environment, hint=f"run `make synth ENV={environment}` first")
    pipelines = synthesized.pipelines()
    return [_pipeline(pipeline=pipelines[name], stack=synthesized.stacks[pipelines[name].stack]) for name in sorted(pipelines)]
