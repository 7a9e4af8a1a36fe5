"""The pipelines stack: one upsert resource per compiled pipeline, its job files, its outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from base.naming import PIPELINE_RESOURCE_TYPE
from base.config import EnvironmentConfig
from support.environments import app_context
from planning.compilation import compile_pipelines
from support.assembly import Assembly, StackTemplate, unsubstituted
from support.iam_evaluator import Decision, Request, evaluate
from support.lambdas import load_handler

handler = load_handler("pipeline_upsert")


@pytest.fixture(scope="module")
def pipelines(assembly: Assembly) -> StackTemplate:
    return assembly.stack("smp-sandbox-pipelines")


def test_one_pipeline_resource_per_compiled_pipeline(pipelines: StackTemplate, sandbox_compiled: dict) -> None:
    resources = pipelines.resources(PIPELINE_RESOURCE_TYPE)
    assert sorted(r["Properties"]["PipelineName"] for r in resources.values()) == sorted(sandbox_compiled)
    assert len(sandbox_compiled) >= 4


def test_handler_reassembles_the_compiler_output_byte_for_byte(pipelines: StackTemplate, sandbox_compiled: dict) -> None:
    for resource in pipelines.resources(PIPELINE_RESOURCE_TYPE).values():
        properties = json.loads(json.dumps(unsubstituted(resource["Properties"])))
        compiled = sandbox_compiled[properties["PipelineName"]]
        assert handler.assemble_definition(parts=properties["Definition"]) == compiled.definition


def test_each_step_is_its_own_property_with_only_the_placeholders_it_uses(pipelines: StackTemplate) -> None:
    resource = next(r for r in pipelines.resources(PIPELINE_RESOURCE_TYPE).values() if r["Properties"]["PipelineName"] == "smp-sandbox-train-evaluate-register")
    steps = resource["Properties"]["Definition"]["Steps"]
    assert resource["Properties"]["Definition"]["StepOrder"] == list(steps)
    preprocess = steps["Preprocess"]["Fn::Sub"]
    assert set(preprocess[1]) <= {"ArtifactBucket", "KmsKeyArn", "ExecutionRoleName", "JobSecurityGroupId", "SubnetId0", "SubnetId1"}
    assert "${KmsKeyArn}" in preprocess[0] and "${SubnetId0}" in preprocess[0]


def test_job_files_are_deployed_before_the_pipeline_without_pruning(pipelines: StackTemplate, assembly: Assembly, synth_dir: Path, sandbox_compiled: dict) -> None:
    deployments = pipelines.resources("Custom::CDKBucketDeployment")
    for logical_id, resource in pipelines.resources(PIPELINE_RESOURCE_TYPE).items():
        name = resource["Properties"]["PipelineName"]
        compiled = sandbox_compiled[name]
        depends = [d for d in resource.get("DependsOn", []) if d in deployments]
        if not compiled.staged_files:
            assert depends == []
            continue
        (deployment_id,) = depends
        deployment = deployments[deployment_id]["Properties"]
        assert deployment["Prune"] is False
        assert deployment["RetainOnDelete"] is True
        assert deployment["SystemMetadata"]["sse"] == "aws:kms"
        assert assembly.resolve(pipelines, deployment["DestinationBucketName"]) == f"smp-sandbox-artifacts-{pipelines.account}-{pipelines.region}"
        asset_hash = deployment["SourceObjectKeys"][0].split(".")[0]
        asset_dir = synth_dir / f"asset.{asset_hash}"
        deployed = {str(p.relative_to(asset_dir)): p.read_bytes() for p in asset_dir.rglob("*") if p.is_file()}
        assert deployed == dict(compiled.staged_files)


def test_the_job_file_copier_may_use_the_environment_key(assembly: Assembly, pipelines: StackTemplate) -> None:
    (function_id,) = [k for k in pipelines.resources("AWS::Lambda::Function") if k.startswith("CustomCDKBucketDeployment")]
    role_id = pipelines.template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    identity, boundary = assembly.role_policies(pipelines, role_id)
    guardrails = assembly.stack("smp-sandbox-guardrails")
    key = assembly.resolve(guardrails, {"Fn::GetAtt": [guardrails.logical_id("AWS::KMS::Key", "ArtifactStore/Key"), "Arn"]})
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert evaluate(identity_policies=identity, boundary=boundary, request=Request(action, key)) is Decision.ALLOW


def test_outputs_name_each_pipeline_and_its_arn(pipelines: StackTemplate, sandbox_compiled: dict) -> None:
    outputs = pipelines.template["Outputs"]
    names = sorted(o["Value"] for o in outputs.values() if isinstance(o["Value"], str) and o["Value"].startswith("smp-sandbox-"))
    arns = [o for o in outputs.values() if isinstance(o["Value"], dict) and o["Value"].get("Fn::GetAtt", [None, None])[1] == "PipelineArn"]
    assert names == sorted(sandbox_compiled)
    assert len(arns) == len(sandbox_compiled)


def test_tags_carry_cost_environment_pipeline_and_source_version(pipelines: StackTemplate) -> None:
    for resource in pipelines.resources(PIPELINE_RESOURCE_TYPE).values():
        tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
        assert tags["CostCenter"] == "ml-platform" and tags["Environment"] == "sandbox"
        assert resource["Properties"]["PipelineName"] == f"smp-sandbox-{tags['Pipeline']}"
        assert tags["SourceVersion"].startswith("sha256-") and len(tags["SourceVersion"]) == 23


def test_env_agnostic_stage_must_deploy_in_the_region_it_compiled_for(assembly: Assembly) -> None:
    sandbox = assembly.stack("smp-sandbox-pipelines").template.get("Rules", {})
    prod = assembly.stack("smp-prod-pipelines").template.get("Rules", {})
    assert sandbox["DeployRegionMatchesDefinitions"]["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    assert "DeployRegionMatchesDefinitions" not in prod


def test_upsert_function_may_manage_only_this_environments_pipelines(assembly: Assembly, pipelines: StackTemplate) -> None:
    role_id = pipelines.logical_id("AWS::IAM::Role", "Upsert/Function/ServiceRole")
    identity, boundary = assembly.role_policies(pipelines, role_id)
    arn = f"arn:aws:sagemaker:{pipelines.region}:{pipelines.account}:pipeline"
    guardrails = assembly.stack("smp-sandbox-guardrails")
    execution_role = assembly.resolve(guardrails, {"Fn::GetAtt": [guardrails.logical_id("AWS::IAM::Role", "ExecutionRole/Role"), "Arn"]})

    def decide(action: str, resource: str, **context: str) -> Decision:
        return evaluate(identity_policies=identity, boundary=boundary, request=Request(action, resource, context))

    for action in ("sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", "sagemaker:DeletePipeline", "sagemaker:DescribePipeline", "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags"):
        assert decide(action, f"{arn}/smp-sandbox-abalone") is Decision.ALLOW, action
    assert decide("sagemaker:CreatePipeline", f"{arn}/smp-prod-abalone") is Decision.IMPLICIT_DENY
    assert decide("sagemaker:StartPipelineExecution", f"{arn}/smp-sandbox-abalone") is Decision.IMPLICIT_DENY
    assert decide("iam:PassRole", execution_role, **{"iam:PassedToService": "sagemaker.amazonaws.com"}) is Decision.ALLOW
    assert decide("iam:PassRole", execution_role.replace("sagemaker-execution", "admin"), **{"iam:PassedToService": "sagemaker.amazonaws.com"}) is Decision.IMPLICIT_DENY


def test_step_functions_are_named_for_the_execution_roles_grant(pipelines: StackTemplate) -> None:
    names = sorted(f["Properties"]["FunctionName"] for f in pipelines.resources("AWS::Lambda::Function").values() if "FunctionName" in f["Properties"])
    assert names == ["smp-sandbox-pipeline-upsert", "smp-sandbox-step-data-passing", "smp-sandbox-step-fan-out"]
    for function in pipelines.resources("AWS::Lambda::Function").values():
        if function["Properties"].get("FunctionName", "").startswith("smp-"):
            assert function["Properties"]["Runtime"] == "python3.14"
            assert function["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"
            assert function["Properties"]["ReservedConcurrentExecutions"] >= 1


def _synth_stage(outdir: Path, compiled: list) -> Path:
    import aws_cdk as cdk

    from app import add_environment
    from planning.plan import plan_environment

    app = cdk.App(outdir=str(outdir), context=app_context())
    add_environment(app=app, plan=plan_environment(config=EnvironmentConfig(name="sandbox"), compiled=compiled))
    app.synth()
    return outdir / "assembly-sandbox"


def _with_instance_type(compiled: Any, *, step: str, instance_type: str) -> Any:
    import dataclasses

    definition = json.loads(compiled.definition)
    (target,) = [s for s in definition["Steps"] if s["Name"] == step]
    target["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] = instance_type
    return dataclasses.replace(compiled, definition=handler.canonical_json(definition))


def test_cdk_diff_of_a_one_step_change_names_only_that_step(tmp_path: Path, sandbox_compiled: dict) -> None:
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    base = list(sandbox_compiled.values())
    name = "smp-sandbox-train-evaluate-register"
    changed = [_with_instance_type(c, step="Evaluate", instance_type="ml.m5.2xlarge") if c.pipeline_name == name else c for c in base]
    old = _synth_stage(tmp_path / "old", base)
    new = _synth_stage(tmp_path / "new", changed)
    (old_template,) = old.glob("sandboxPipelines*.template.json")
    result = subprocess.run(
        [str(root / "node_modules" / ".bin" / "cdk"), "diff", "--app", str(new.parent), "--template", str(old_template), "sandbox/Pipelines", "--exclusively", "--no-color"],
        cwd=tmp_path,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    changed_lines = [line for line in output.splitlines() if line.lstrip().startswith(("[-]", "[+]", "[~]", "-", "+"))]
    assert any("Evaluate" in line for line in output.splitlines()), output
    assert "ml.m5.2xlarge" in output
    assert "TrainEvaluateRegisterPipeline" in output
    for other in ("Preprocess", "CheckMse", "BatchInference", "ParallelShards"):
        assert not any(other in line for line in changed_lines), (other, output)


def test_a_definition_too_large_for_the_template_travels_as_an_s3_asset(tmp_path: Path, sandbox_compiled: dict) -> None:
    import dataclasses

    from planning.staging import INLINE_DEFINITION_LIMIT

    big = sandbox_compiled["smp-sandbox-lambda-data-passing"]
    definition = json.loads(big.definition)
    definition["Metadata"] = {"padding": "x" * INLINE_DEFINITION_LIMIT}
    large = dataclasses.replace(big, definition=handler.canonical_json(definition))
    assembly_dir = _synth_stage(tmp_path, [large])
    (template_path,) = assembly_dir.glob("sandboxPipelines*.template.json")
    template = json.loads(template_path.read_text())
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == PIPELINE_RESOURCE_TYPE]
    parts = resource["Properties"]["Definition"]
    assert set(parts) == {"S3Bucket", "S3Key", "Substitutions"}
    assert set(parts["Substitutions"]) == set(large.placeholders_used)
    assert parts["Substitutions"]["AWS::Partition"] == {"Ref": "AWS::Partition"}
    readers = [p["Properties"] for p in template["Resources"].values() if p["Type"] == "AWS::IAM::Policy" and "Upsert" in p["Metadata"]["aws:cdk:path"]]
    assert any("s3:GetObject*" in st["Action"] for p in readers for st in p["PolicyDocument"]["Statement"])
    asset = tmp_path / f"asset.{parts['S3Key'].split('.')[0]}.json"
    assert asset.read_text() == large.definition
    assert len(template_path.read_text()) < INLINE_DEFINITION_LIMIT
    # The handler fills the placeholders CloudFormation would have resolved.
    values = {name: f"value-of-{name}" for name in parts["Substitutions"]}
    assembled = json.loads(handler.assemble_definition(parts={**parts, "Substitutions": values}, s3_text=asset.read_text()))
    assert "${" not in json.dumps(assembled)


def test_functions_calling_only_sagemaker_run_in_the_job_vpc(assembly: Assembly) -> None:
    network = assembly.stack("smp-prod-network")
    pipelines = assembly.stack("smp-prod-pipelines")
    function_sg = network.logical_id("AWS::EC2::SecurityGroup", "FunctionSecurityGroup")
    endpoint_sg = network.logical_id("AWS::EC2::SecurityGroup", "EndpointSecurityGroup")
    placed = {}
    for function in pipelines.resources("AWS::Lambda::Function").values():
        properties = function["Properties"]
        if "VpcConfig" in properties:
            placed[properties["FunctionName"]] = assembly.resolve(pipelines, properties["VpcConfig"]["SecurityGroupIds"])
    assert sorted(placed) == ["smp-prod-schedule-guard", "smp-prod-step-fan-out"]
    assert all(groups == [f"{function_sg}.GroupId"] for groups in placed.values())
    egress = [r["Properties"] for r in network.resources("AWS::EC2::SecurityGroupEgress").values() if r["Properties"]["GroupId"] == {"Fn::GetAtt": [function_sg, "GroupId"]}]
    assert [(e["DestinationSecurityGroupId"], e["FromPort"]) for e in egress] == [({"Fn::GetAtt": [endpoint_sg, "GroupId"]}, 443)]
