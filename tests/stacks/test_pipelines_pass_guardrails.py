"""Every job the shipped pipelines start is allowed by the environment's own guardrails.

Each job step of each deployed definition (as CloudFormation would substitute it) becomes the
request its Create call makes, and the execution role's real policies decide it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from base.naming import PIPELINE_RESOURCE_TYPE
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG, iter_steps
from support.assembly import Assembly, StackTemplate
from support.iam_evaluator import Decision, Request, evaluate, matching_sids

ACTIONS = {
    "Processing": ("sagemaker:CreateProcessingJob", "processing-job", "ProcessingJobName"),
    "QualityCheck": ("sagemaker:CreateProcessingJob", "processing-job", "ProcessingJobName"),
    "ClarifyCheck": ("sagemaker:CreateProcessingJob", "processing-job", "ProcessingJobName"),
    "Tuning": ("sagemaker:CreateHyperParameterTuningJob", "hyper-parameter-tuning-job", "HyperParameterTuningJobName"),
    "EndpointConfig": ("sagemaker:CreateEndpointConfig", "endpoint-config", "EndpointConfigName"),
    "Endpoint": ("sagemaker:CreateEndpoint", "endpoint", "EndpointName"),
    "Training": ("sagemaker:CreateTrainingJob", "training-job", "TrainingJobName"),
    "Model": ("sagemaker:CreateModel", "model", "ModelName"),
    "Transform": ("sagemaker:CreateTransformJob", "transform-job", "TransformJobName"),
    "RegisterModel": ("sagemaker:CreateModelPackage", "model-package", "ModelPackageGroupName"),
}


def _substituted(assembly: Assembly, stack: StackTemplate, value: Any) -> str:
    if isinstance(value, str):
        body, variables = value, {}
    else:
        sub = value["Fn::Sub"]
        body, variables = (sub, {}) if isinstance(sub, str) else (sub[0], assembly.resolve(stack, sub[1]))
    pseudo = {"AWS::Region": stack.region, "AWS::AccountId": stack.account, "AWS::Partition": "aws"}
    return re.sub(r"\$\{([^}]+)\}", lambda m: str(variables.get(m.group(1), pseudo.get(m.group(1), m.group(0)))), body)


def _value(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "Get" in value and value["Get"].startswith("Parameters."):
        return parameters[value["Get"].split(".", 1)[1]]
    return value


def _request(step: dict, *, pipeline: str, account: str, region: str, parameters: dict) -> Request:
    kind = step["Type"]
    action, resource_kind, name_field = ACTIONS[kind]
    a = step["Arguments"]
    context: dict[str, Any] = {}
    if kind in ("Processing", "QualityCheck", "ClarifyCheck"):
        network, cluster = a.get("NetworkConfig", {}), a["ProcessingResources"]["ClusterConfig"]
        vpc = network.get("VpcConfig", {})
        volume, output = cluster.get("VolumeKmsKeyId"), a.get("ProcessingOutputConfig", {}).get("KmsKeyId")
        ict, isolation, instance = network.get("EnableInterContainerTrafficEncryption"), network.get("EnableNetworkIsolation"), cluster["InstanceType"]
    elif kind == "Tuning":
        # The tuning job's request carries its training jobs' settings (TrainingJobDefinition).
        job = a["TrainingJobDefinition"]
        vpc = job.get("VpcConfig", {})
        volume, output = job["ResourceConfig"].get("VolumeKmsKeyId"), job.get("OutputDataConfig", {}).get("KmsKeyId")
        ict, isolation, instance = job.get("EnableInterContainerTrafficEncryption"), job.get("EnableNetworkIsolation"), job["ResourceConfig"]["InstanceType"]
        a = {**a, "StoppingCondition": job.get("StoppingCondition", {})}
    elif kind == "EndpointConfig":
        (variant,) = a["ProductionVariants"]
        vpc, ict, isolation, output = {}, None, None, None
        volume, instance = a.get("KmsKeyId"), variant["InstanceType"]
        # A model created by an earlier step is named inside the environment prefix (the role's scope).
        model = variant["ModelName"] if isinstance(variant.get("ModelName"), str) else f"{pipeline}-model-0a1b2c3d"
        context["sagemaker:ModelArn"] = f"arn:aws:sagemaker:{region}:{account}:model/{model}"
    elif kind == "Endpoint":
        vpc, volume, output, ict, isolation, instance = {}, None, None, None, None, None
    elif kind == "Training":
        vpc = a.get("VpcConfig", {})
        volume, output = a["ResourceConfig"].get("VolumeKmsKeyId"), a.get("OutputDataConfig", {}).get("KmsKeyId")
        ict, isolation, instance = a.get("EnableInterContainerTrafficEncryption"), a.get("EnableNetworkIsolation"), a["ResourceConfig"]["InstanceType"]
    elif kind == "RegisterModel":
        group = a["ModelPackageGroupName"]
        return Request(action=action, resource=f"arn:aws:sagemaker:{region}:{account}:{resource_kind}/{group}/1", context={})
    elif kind == "Model":
        vpc, volume, output, ict, instance = a.get("VpcConfig", {}), None, None, None, None
        isolation = a.get("EnableNetworkIsolation")
    else:
        vpc, ict, isolation = {}, None, None
        volume, output = a["TransformResources"].get("VolumeKmsKeyId"), a["TransformOutput"].get("KmsKeyId")
        instance = a["TransformResources"]["InstanceType"]
        # A model created by an earlier step is named inside the environment prefix (the role's scope).
        model = a["ModelName"] if isinstance(a.get("ModelName"), str) else f"{pipeline}-model-0a1b2c3d"
        context["sagemaker:ModelArn"] = f"arn:aws:sagemaker:{region}:{account}:model/{model}"
    runtime = a.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    if runtime is not None:
        context["sagemaker:MaxRuntimeInSeconds"] = str(_value(runtime, parameters))
    for key, value in (
        ("sagemaker:VpcSubnets", vpc.get("Subnets")),
        ("sagemaker:VpcSecurityGroupIds", vpc.get("SecurityGroupIds")),
        ("sagemaker:VolumeKmsKey", volume),
        ("sagemaker:OutputKmsKey", output),
    ):
        if value:
            context[key] = value
    for key, value in (("sagemaker:InterContainerTrafficEncryption", ict), ("sagemaker:NetworkIsolation", isolation)):
        if value is not None:
            context[key] = str(value).lower()
    if instance is not None:
        context["sagemaker:InstanceTypes"] = [str(_value(instance, parameters))]
    for tag in a.get("Tags", []):
        context[f"aws:RequestTag/{tag['Key']}"] = tag["Value"]
    context["aws:TagKeys"] = [t["Key"] for t in a.get("Tags", [])]
    # With a custom job prefix the service appends a suffix to the name in the definition;
    # without one it names the job pipelines-<execution>-<step>-<suffix>.
    given = a.get(name_field)
    join = given.get("Std:Join") if isinstance(given, dict) else None
    if join:  # a name made unique per execution: its literal head, then the execution id
        given = f"{join['Values'][0]}{join['On']}0abc123def45"
    name = f"{given}-0a1b2c3d4e" if isinstance(given, str) else f"pipelines-0abc123def-{step['Name']}-0a1b2c3d4e"
    return Request(action=action, resource=f"arn:aws:sagemaker:{region}:{account}:{resource_kind}/{name}", context=context)


def _job_steps(steps: list[dict]) -> list[dict]:
    """The job steps of a definition, condition branches and ForEach bodies included."""
    return [step for step, _ in iter_steps(steps) if step["Type"] in ACTIONS]


def _pipeline_stacks(assembly: Assembly, env: str) -> list[StackTemplate]:
    return [stack for name, stack in sorted(assembly.stacks.items()) if name.startswith(f"smp-{env}-pipeline-")]


def _role(assembly: Assembly, stack: StackTemplate) -> tuple[list[dict], dict | None, dict[str, str]]:
    """The pipeline role's identity policies, boundary, and tags (which IAM sees as aws:PrincipalTag)."""
    role_id = stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role")
    identity, boundary = assembly.role_policies(stack, role_id)
    tags = {t["Key"]: t["Value"] for t in stack.template["Resources"][role_id]["Properties"].get("Tags", [])}
    return identity, boundary, tags


def _job_requests(assembly: Assembly, stack: StackTemplate) -> tuple[str, list[Request]]:
    (resource,) = stack.resources(PIPELINE_RESOURCE_TYPE).values()
    properties = resource["Properties"]
    name = properties["PipelineName"]
    head = json.loads(_substituted(assembly, stack, properties["Definition"]["Head"]))
    parameters = {p["Name"]: p.get("DefaultValue") for p in head.get("Parameters", [])}
    steps = [json.loads(_substituted(assembly, stack, properties["Definition"]["Steps"][s])) for s in properties["Definition"]["StepOrder"]]
    return name, [
        _request(step, pipeline=name, account=stack.account, region=stack.region, parameters=parameters) for step in _job_steps(steps)
    ]


def _as_role(request: Request, tags: dict[str, str]) -> Request:
    return Request(action=request.action, resource=request.resource, context={**request.context, **{f"aws:PrincipalTag/{k}": v for k, v in tags.items()}})


@pytest.mark.parametrize("env", ["sandbox", "prod"])
def test_every_job_of_every_pipeline_is_allowed_for_its_own_role(assembly: Assembly, env: str) -> None:
    checked = 0
    actions = set()
    for stack in _pipeline_stacks(assembly, env):
        identity, boundary, tags = _role(assembly, stack)
        name, requests = _job_requests(assembly, stack)
        for request in requests:
            request = _as_role(request, tags)
            decision = evaluate(identity_policies=identity, boundary=boundary, request=request)
            denied_by = matching_sids(identity + [boundary], request, effect="Deny")
            assert decision is Decision.ALLOW, (name, request.resource, decision, denied_by, request.context)
            checked += 1
            actions.add(request.action)
    assert checked >= 10
    assert {"sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint"} <= actions


def test_the_isolation_exempt_jobs_would_be_denied_under_another_pipelines_role(assembly: Assembly) -> None:
    """The @step jobs pass only because their own role carries the exemption tag; another role is refused."""
    stacks = {s.name: s for s in _pipeline_stacks(assembly, "sandbox")}
    _, requests = _job_requests(assembly, stacks["smp-sandbox-pipeline-batch-inference"])
    identity, boundary, tags = _role(assembly, stacks["smp-sandbox-pipeline-train-evaluate-register"])
    assert NETWORK_ISOLATION_EXEMPTION_TAG not in tags
    request = _as_role(requests[0], tags)
    assert request.context["sagemaker:NetworkIsolation"] == "false"
    assert evaluate(identity_policies=identity, boundary=boundary, request=request) is Decision.EXPLICIT_DENY
    assert matching_sids([*identity, boundary], request, effect="Deny") == ["DenyJobsWithoutNetworkIsolation"]
