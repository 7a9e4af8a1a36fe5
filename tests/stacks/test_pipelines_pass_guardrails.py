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
from support.assembly import Assembly, StackTemplate
from support.iam_evaluator import Decision, Request, evaluate, matching_sids

ACTIONS = {
    "Processing": ("sagemaker:CreateProcessingJob", "processing-job", "ProcessingJobName"),
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
    if kind == "Processing":
        network, cluster = a.get("NetworkConfig", {}), a["ProcessingResources"]["ClusterConfig"]
        vpc = network.get("VpcConfig", {})
        volume, output = cluster.get("VolumeKmsKeyId"), a.get("ProcessingOutputConfig", {}).get("KmsKeyId")
        ict, isolation, instance = network.get("EnableInterContainerTrafficEncryption"), network.get("EnableNetworkIsolation"), cluster["InstanceType"]
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
    name = f"{given}-0a1b2c3d4e" if isinstance(given, str) else f"pipelines-0abc123def-{step['Name']}-0a1b2c3d4e"
    return Request(action=action, resource=f"arn:aws:sagemaker:{region}:{account}:{resource_kind}/{name}", context=context)


def _job_steps(steps: list[dict]) -> list[dict]:
    found = []
    for step in steps:
        if step["Type"] in ACTIONS:
            found.append(step)
        if step["Type"] == "Condition":
            found += _job_steps(step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", []))
    return found


@pytest.mark.parametrize("env", ["sandbox", "prod"])
def test_every_job_of_every_pipeline_is_allowed(assembly: Assembly, env: str) -> None:
    guardrails, pipelines = assembly.stack(f"smp-{env}-guardrails"), assembly.stack(f"smp-{env}-pipelines")
    identity, boundary = assembly.role_policies(guardrails, guardrails.logical_id("AWS::IAM::Role", "ExecutionRole/Role"))
    checked = 0
    for resource in pipelines.resources(PIPELINE_RESOURCE_TYPE).values():
        properties = resource["Properties"]
        name = properties["PipelineName"]
        head = json.loads(_substituted(assembly, pipelines, properties["Definition"]["Head"]))
        parameters = {p["Name"]: p.get("DefaultValue") for p in head.get("Parameters", [])}
        steps = [json.loads(_substituted(assembly, pipelines, properties["Definition"]["Steps"][s])) for s in properties["Definition"]["StepOrder"]]
        for step in _job_steps(steps):
            request = _request(step, pipeline=name, account=pipelines.account, region=pipelines.region, parameters=parameters)
            decision = evaluate(identity_policies=identity, boundary=boundary, request=request)
            denied_by = matching_sids(identity + [boundary], request, effect="Deny")
            assert decision is Decision.ALLOW, (name, step["Name"], decision, denied_by, request.context)
            checked += 1
    assert checked >= 10


def test_a_job_without_the_exemption_tag_would_be_denied(assembly: Assembly) -> None:
    """The @step jobs pass only because the compiler tags them: without the tag they are denied."""
    guardrails, pipelines = assembly.stack("smp-sandbox-guardrails"), assembly.stack("smp-sandbox-pipelines")
    identity, boundary = assembly.role_policies(guardrails, guardrails.logical_id("AWS::IAM::Role", "ExecutionRole/Role"))
    (resource,) = [r for r in pipelines.resources(PIPELINE_RESOURCE_TYPE).values() if r["Properties"]["PipelineName"] == "smp-sandbox-batch-inference"]
    step_text = _substituted(assembly, pipelines, next(iter(resource["Properties"]["Definition"]["Steps"].values())))
    step = json.loads(step_text)
    assert {"Key": "smp:network-isolation-exempt", "Value": "smp-sandbox-batch-inference"} in step["Arguments"]["Tags"]
    step["Arguments"]["Tags"] = [t for t in step["Arguments"]["Tags"] if t["Key"] != "smp:network-isolation-exempt"]
    request = _request(step, pipeline="smp-sandbox-batch-inference", account=pipelines.account, region=pipelines.region, parameters={})
    assert evaluate(identity_policies=identity, boundary=boundary, request=request) is Decision.EXPLICIT_DENY
    assert matching_sids([boundary], request, effect="Deny") == ["DenyJobsWithoutNetworkIsolation"]
