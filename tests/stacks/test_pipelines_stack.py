"""Each pipeline's own stack (role, job files, upsert resource, outputs) and the shared pipeline services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from base.config import EnvironmentConfig
from base.naming import PIPELINE_RESOURCE_TYPE
from support.assembly import Assembly, StackTemplate, unsubstituted
from support.environments import PLAN_DAY, app_context
from support.iam_evaluator import Decision, Request, evaluate
from support.lambdas import load_handler

handler = load_handler("pipeline_upsert")


@pytest.fixture(scope="module")
def pipelines(assembly: Assembly) -> StackTemplate:
    """The shared pipeline services stack of the sandbox."""
    return assembly.stack("smp-sandbox-pipelines")


@pytest.fixture(scope="module")
def pipeline_stacks(assembly: Assembly) -> dict[str, StackTemplate]:
    """Each sandbox pipeline's own stack, by pipeline name."""
    found = {}
    for name, stack in assembly.stacks.items():
        if name.startswith("smp-sandbox-pipeline-"):
            (resource,) = stack.resources(PIPELINE_RESOURCE_TYPE).values()
            found[resource["Properties"]["PipelineName"]] = stack
    return found


def _resource(stack: StackTemplate) -> dict[str, Any]:
    (resource,) = stack.resources(PIPELINE_RESOURCE_TYPE).values()
    return resource


def test_one_stack_with_one_pipeline_resource_per_compiled_pipeline(pipelines: StackTemplate, pipeline_stacks: dict, sandbox_compiled: dict) -> None:
    assert sorted(pipeline_stacks) == sorted(sandbox_compiled)
    assert len(sandbox_compiled) >= 4
    assert pipelines.resources(PIPELINE_RESOURCE_TYPE) == {}
    for name, stack in pipeline_stacks.items():
        assert stack.name == f"smp-sandbox-pipeline-{name.removeprefix('smp-sandbox-')}"


def test_handler_reassembles_the_compiler_output_byte_for_byte(pipeline_stacks: dict, sandbox_compiled: dict) -> None:
    for name, stack in pipeline_stacks.items():
        properties = json.loads(json.dumps(unsubstituted(_resource(stack)["Properties"])))
        assert handler.assemble_definition(parts=properties["Definition"]) == sandbox_compiled[name].definition


def test_each_step_is_its_own_property_with_only_the_placeholders_it_uses(pipeline_stacks: dict) -> None:
    resource = _resource(pipeline_stacks["smp-sandbox-train-evaluate-register"])
    steps = resource["Properties"]["Definition"]["Steps"]
    assert resource["Properties"]["Definition"]["StepOrder"] == list(steps)
    preprocess = steps["Preprocess"]["Fn::Sub"]
    assert set(preprocess[1]) <= {"ArtifactBucket", "KmsKeyArn", "ExecutionRoleName", "JobSecurityGroupId", "SubnetId0", "SubnetId1"}
    assert "${KmsKeyArn}" in preprocess[0] and "${SubnetId0}" in preprocess[0]


def test_job_files_travel_as_one_zip_holding_exactly_the_staged_files(pipeline_stacks: dict, assembly: Assembly, synth_dir: Path, sandbox_compiled: dict) -> None:
    for name, stack in pipeline_stacks.items():
        properties = _resource(stack)["Properties"]
        compiled = sandbox_compiled[name]
        if not compiled.staged_files:
            assert "JobFiles" not in properties
            continue
        job_files = properties["JobFiles"]
        assert assembly.resolve(stack, job_files["Bucket"]) == f"smp-sandbox-artifacts-{stack.account}-{stack.region}"
        (asset_dir,) = synth_dir.glob(f"asset.{job_files['S3Key'].split('.')[0]}")
        deployed = {p.relative_to(asset_dir).as_posix(): p.read_bytes() for p in asset_dir.rglob("*") if p.is_file()}
        assert deployed == dict(compiled.staged_files)
        assert all(key.startswith(f"{name}/") for key in deployed)


def test_a_pipeline_may_be_adopted_only_from_the_shared_stack_that_held_it(pipeline_stacks: dict) -> None:
    for stack in pipeline_stacks.values():
        assert _resource(stack)["Properties"]["AdoptFrom"] == ["smp-sandbox-pipelines"]


def test_the_shared_stack_hands_its_pipelines_over_with_one_resource(pipelines: StackTemplate) -> None:
    (handover,) = pipelines.resources("Custom::SageMakerPipelineHandover").values()
    properties = {k: v for k, v in handover["Properties"].items() if k != "ServiceToken"}
    assert properties == {"PipelineNamePrefix": "smp-sandbox-", "ResourcePrefix": "smp-sandbox"}


def test_outputs_name_each_pipeline_and_its_arn(pipeline_stacks: dict) -> None:
    for name, stack in pipeline_stacks.items():
        outputs = stack.template["Outputs"]
        assert [o["Value"] for o in outputs.values() if isinstance(o["Value"], str)] == [name]
        assert [o["Value"]["Fn::GetAtt"][1] for o in outputs.values() if isinstance(o["Value"], dict)] == ["PipelineArn"]


def test_each_pipeline_runs_as_its_own_role(assembly: Assembly, pipeline_stacks: dict) -> None:
    roles = {}
    for name, stack in pipeline_stacks.items():
        role_id = stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role")
        role = stack.template["Resources"][role_id]["Properties"]
        assert role["RoleName"] == f"{name}-exec"
        assert _resource(stack)["Properties"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
        roles[name] = role["RoleName"]
    assert len(set(roles.values())) == len(roles)


def test_each_role_invokes_only_the_lambda_steps_its_definition_uses(assembly: Assembly, pipeline_stacks: dict, pipelines: StackTemplate) -> None:
    functions = {
        f["Properties"]["FunctionName"]: f"arn:aws:lambda:{pipelines.region}:{pipelines.account}:function:{f['Properties']['FunctionName']}"
        for f in pipelines.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName", "").startswith("smp-sandbox-step-")
    }
    expected = {
        "smp-sandbox-lambda-data-passing": {"smp-sandbox-step-data-passing"},
        "smp-sandbox-fan-out-parent": {"smp-sandbox-step-fan-out"},
    }
    for name, stack in pipeline_stacks.items():
        identity, boundary = assembly.role_policies(stack, stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role"))
        allowed = {
            fn for fn, arn in functions.items()
            if evaluate(identity_policies=identity, boundary=boundary, request=Request("lambda:InvokeFunction", _function_arn(assembly, pipelines, fn))) is Decision.ALLOW
        }
        assert allowed == expected.get(name, set()), name
    assert sorted(functions) == ["smp-sandbox-step-data-passing", "smp-sandbox-step-fan-out"]


def _function_arn(assembly: Assembly, stack: StackTemplate, function_name: str) -> str:
    (logical_id,) = [k for k, f in stack.resources("AWS::Lambda::Function").items() if f["Properties"].get("FunctionName") == function_name]
    return assembly.resolve(stack, {"Fn::GetAtt": [logical_id, "Arn"]})


def test_tags_carry_cost_environment_pipeline_and_source_version(pipeline_stacks: dict) -> None:
    for resource in (_resource(stack) for stack in pipeline_stacks.values()):
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
    role_id = pipelines.logical_id("AWS::IAM::Role", "Upsert/FunctionRole")
    identity, boundary = assembly.role_policies(pipelines, role_id)
    arn = f"arn:aws:sagemaker:{pipelines.region}:{pipelines.account}:pipeline"
    roles = f"arn:aws:iam::{pipelines.account}:role"
    bucket = f"arn:aws:s3:::smp-sandbox-artifacts-{pipelines.account}-{pipelines.region}"
    assets = f"arn:aws:s3:::cdk-hnb659fds-assets-{pipelines.account}-{pipelines.region}"
    to_sagemaker = {"iam:PassedToService": "sagemaker.amazonaws.com"}

    def decide(action: str, resource: str, **context: str) -> Decision:
        return evaluate(identity_policies=identity, boundary=boundary, request=Request(action, resource, context))

    for action in ("sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", "sagemaker:DeletePipeline", "sagemaker:DescribePipeline", "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags"):
        assert decide(action, f"{arn}/smp-sandbox-abalone") is Decision.ALLOW, action
    assert decide("sagemaker:CreatePipeline", f"{arn}/smp-prod-abalone") is Decision.IMPLICIT_DENY
    assert decide("sagemaker:StartPipelineExecution", f"{arn}/smp-sandbox-abalone") is Decision.IMPLICIT_DENY
    # Passes each pipeline's own role, and nothing else, to SageMaker only.
    assert decide("iam:PassRole", f"{roles}/smp-sandbox-abalone-exec", **to_sagemaker) is Decision.ALLOW
    assert decide("iam:PassRole", f"{roles}/smp-prod-abalone-exec", **to_sagemaker) is Decision.IMPLICIT_DENY
    assert decide("iam:PassRole", f"{roles}/smp-sandbox-admin", **to_sagemaker) is Decision.IMPLICIT_DENY
    assert decide("iam:PassRole", f"{roles}/smp-sandbox-abalone-exec", **{"iam:PassedToService": "lambda.amazonaws.com"}) is Decision.IMPLICIT_DENY
    # Deploys job files under the environment's pipeline prefixes only, from the CDK asset bucket only.
    assert decide("s3:PutObject", f"{bucket}/smp-sandbox-abalone/code/x.py") is Decision.ALLOW
    assert decide("s3:PutObject", f"{bucket}/shared/x.py") is Decision.IMPLICIT_DENY
    assert decide("s3:DeleteObject", f"{bucket}/smp-sandbox-abalone/code/x.py") is Decision.IMPLICIT_DENY
    assert decide("s3:GetObject", f"{assets}/abc.zip") is Decision.ALLOW
    assert decide("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/abc.zip") is Decision.IMPLICIT_DENY


def test_step_functions_are_named_for_the_execution_roles_grant(pipelines: StackTemplate) -> None:
    names = sorted(f["Properties"]["FunctionName"] for f in pipelines.resources("AWS::Lambda::Function").values() if "FunctionName" in f["Properties"])
    assert names == ["smp-sandbox-pipeline-upsert", "smp-sandbox-step-data-passing", "smp-sandbox-step-fan-out"]
    for function in pipelines.resources("AWS::Lambda::Function").values():
        if function["Properties"].get("FunctionName", "").startswith("smp-"):
            assert function["Properties"]["Runtime"] == "python3.14"
            assert function["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"
            assert function["Properties"]["ReservedConcurrentExecutions"] >= 1


def _synth_stage(outdir: Path, compiled: list, *, config: EnvironmentConfig | None = None) -> Path:
    import aws_cdk as cdk

    from app import add_environment
    from planning.plan import plan_environment

    app = cdk.App(outdir=str(outdir), context=app_context())
    add_environment(app=app, plan=plan_environment(today=PLAN_DAY, config=config or EnvironmentConfig(name="sandbox"), compiled=compiled))
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
    (old_template,) = old.glob("sandboxPipelineTrainEvaluateRegister*.template.json")
    result = subprocess.run(
        [str(root / "node_modules" / ".bin" / "cdk"), "diff", "--app", str(new.parent), "--template", str(old_template), "sandbox/PipelineTrainEvaluateRegister", "--exclusively", "--no-color"],
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
    assert "[~] Custom::SageMakerPipeline PipelineTrainEvaluateRegister/Pipeline/Pipeline" in output, output
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
    (template_path,) = assembly_dir.glob("sandboxPipelineLambdaDataPassing*.template.json")
    template = json.loads(template_path.read_text())
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == PIPELINE_RESOURCE_TYPE]
    parts = resource["Properties"]["Definition"]
    assert set(parts) == {"S3Bucket", "S3Key", "Substitutions"}
    assert set(parts["Substitutions"]) == set(large.placeholders_used)
    assert parts["Substitutions"]["AWS::Partition"] == {"Ref": "AWS::Partition"}
    # No grant is added per pipeline: the upsert function reads the asset bucket through one shared statement.
    assert not [p for p in template["Resources"].values() if p["Type"] == "AWS::IAM::Policy" and "Upsert" in json.dumps(p)]
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


def test_declared_prefixes_are_granted_and_their_neighbours_refused(tmp_path: Path, sandbox_compiled: dict) -> None:
    import dataclasses

    from pipeline_defs.schedules import DataAccess

    item = dataclasses.replace(
        sandbox_compiled["smp-sandbox-lambda-data-passing"],
        data_access=DataAccess(read=("shared/reference/",), write=("shared/features/",)),
    )
    _synth_stage(tmp_path, [item])
    assembly = Assembly(tmp_path)
    stack = assembly.stack("smp-sandbox-pipeline-lambda-data-passing")
    identity, boundary = assembly.role_policies(stack, stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role"))
    bucket = f"arn:aws:s3:::smp-sandbox-artifacts-{stack.account}-{stack.region}"

    def decide(action: str, key: str, **context: str) -> Decision:
        resource = bucket if action == "s3:ListBucket" else f"{bucket}/{key}"
        return evaluate(identity_policies=identity, boundary=boundary, request=Request(action, resource, context))

    assert decide("s3:GetObject", "shared/reference/a.csv") is Decision.ALLOW
    assert decide("s3:PutObject", "shared/reference/a.csv") is Decision.IMPLICIT_DENY
    assert decide("s3:PutObject", "shared/features/a.parquet") is Decision.ALLOW
    assert decide("s3:GetObject", "shared/other/a.csv") is Decision.IMPLICIT_DENY
    assert decide("s3:GetObject", "shared/referenced/a.csv") is Decision.IMPLICIT_DENY
    assert decide("s3:ListBucket", "", **{"s3:prefix": "shared/reference/2026/"}) is Decision.ALLOW
    assert decide("s3:ListBucket", "", **{"s3:prefix": "shared/"}) is Decision.IMPLICIT_DENY


def test_each_pipeline_runs_at_most_the_steps_at_once_its_module_declares(tmp_path: Path, pipeline_stacks: dict, sandbox_compiled: dict) -> None:
    import dataclasses

    for name, stack in pipeline_stacks.items():
        assert _resource(stack)["Properties"]["MaxParallelExecutionSteps"] == str(sandbox_compiled[name].max_parallel_steps)
    item = dataclasses.replace(sandbox_compiled["smp-sandbox-lambda-data-passing"], max_parallel_steps=3)
    _synth_stage(tmp_path, [item])
    stack = Assembly(tmp_path).stack("smp-sandbox-pipeline-lambda-data-passing")
    assert _resource(stack)["Properties"]["MaxParallelExecutionSteps"] == "3"


def _development_signing_rules(stack: StackTemplate) -> list[dict]:
    from stacks.pipelines.pipeline_stack import DEVELOPMENT_SIGNING_RULE_ID

    rule = stack.template.get("Rules", {}).get(DEVELOPMENT_SIGNING_RULE_ID)
    return [rule] if rule else []


def test_every_pipeline_stack_signed_with_the_development_key_for_an_account_refuses_to_deploy(assembly: Assembly) -> None:
    prod = {name: stack for name, stack in assembly.stacks.items() if name.startswith("smp-prod-pipeline-")}
    assert prod
    for name, stack in prod.items():
        (rule,) = _development_signing_rules(stack)
        (assertion,) = rule["Assertions"]
        left, right = assertion["Assert"]["Fn::Equals"]
        assert isinstance(left, str) and isinstance(right, str) and left != right, name  # never true
        assert "PIPELINE_DEFS_SIGNING_SEED" in assertion["AssertDescription"]
    # An env-agnostic sandbox's key is the development key; the shared stacks sign nothing.
    others = {name: stack for name, stack in assembly.stacks.items() if name not in prod}
    assert not [name for name, stack in others.items() if _development_signing_rules(stack)]


def test_a_pipeline_signed_with_the_seed_deploys_to_an_account(tmp_path: Path, sandbox_compiled: dict) -> None:
    import dataclasses

    item = sandbox_compiled["smp-sandbox-lambda-data-passing"]
    account = EnvironmentConfig(name="sandbox", account="111111111111", region="us-east-1")
    for development_only, expected in ((True, 1), (False, 0)):
        outdir = tmp_path / str(development_only)
        _synth_stage(outdir, [dataclasses.replace(item, signing_key_development_only=development_only)], config=account)
        stack = Assembly(outdir).stack("smp-sandbox-pipeline-lambda-data-passing")
        assert len(_development_signing_rules(stack)) == expected
