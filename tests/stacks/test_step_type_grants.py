"""The execution role may run a step type only when its definition has one, inside the guardrails.

The step-type modules of ``tests/pipeline_defs/step_modules/`` (tuning, checks, endpoint, EMR,
lineage) are deployed as pipelines of a sandbox environment; each new create action gets its
compliant request (allowed), its violating requests (denied by the named Deny), and the same request
from a role whose definition has no such step (not granted).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

import app as cdk_app
from base.config import EnvironmentConfig
from pipeline_defs.contract import PIPELINE_TAG
from planning.compilation import compile_pipelines
from planning.plan import plan_environment
from stacks.guardrails.boundary import BOUNDARY_CEILING_ACTIONS
from stacks.pipelines.step_grants import SAGEMAKER_STEP_GRANTS
from support.assembly import Assembly
from support.environments import PLAN_DAY, app_context
from support.iam_evaluator import Decision, Request, matching_sids
from support.roles import RoleUnderTest, role_under_test

STEP_MODULES = Path(__file__).resolve().parents[1] / "pipeline_defs" / "step_modules"
CLUSTER = "j-0123456789ABC"
APPLICATION = "00f0123456789abc"


@pytest.fixture(scope="module")
def step_assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    """A sandbox whose pipelines are the step-type modules, synthesized with cdk-nag."""
    outdir = tmp_path_factory.mktemp("step-types")
    app = cdk.App(outdir=str(outdir), context=app_context(environments={"sandbox": {}}))
    config = EnvironmentConfig(name="sandbox")
    compiled = compile_pipelines(config=config, module_paths=sorted(STEP_MODULES.glob("*.py")), cache_dir=outdir / "cache")
    cdk_app.add_environment(app=app, plan=plan_environment(config=config, today=PLAN_DAY, compiled=compiled))
    cdk.Validations.of(app).add_plugins(cdk_app.AwsSolutionsChecks(verbose=True))
    app.synth()
    assert cdk_app.nag_violations(outdir=outdir) == []
    return Assembly(outdir)


@pytest.fixture(scope="module")
def roles(step_assembly: Assembly) -> dict[str, RoleUnderTest]:
    return {
        module: role_under_test(step_assembly, "sandbox", module)
        for module in ("tuning", "checks", "endpoint", "emr", "lineage-cleanup", "for-each")
    }


def _deny_sids(role: RoleUnderTest, request: Request) -> list[str]:
    return matching_sids(role.identity + [role.boundary], request, effect="Deny")


def tuning_job(role: RoleUnderTest, *, pipeline: str | None = None, **overrides: object) -> Request:
    """A tuning job as SageMaker Pipelines starts it: named by the service, tagged with its pipeline."""
    context = {f"aws:RequestTag/{PIPELINE_TAG}": pipeline or role.pipeline, **role.job_context(**overrides)}
    return Request("sagemaker:CreateHyperParameterTuningJob", role.arn("hyper-parameter-tuning-job/0abc123def45-Tune-x1"), context)


def endpoint_config(role: RoleUnderTest, *, model: str | None = "abalone-model", **overrides: object) -> Request:
    """A model-based configuration (no networking of its own) unless ``overrides`` add those keys."""
    given = {key.replace("__", "/").replace("_", ":", 1) for key in overrides}
    context = {
        k: v
        for k, v in role.job_context(**overrides).items()
        if k in given or not any(f in k for f in ("Vpc", "Isolation", "InterContainer", "OutputKmsKey"))
    }
    if model is not None:
        context["sagemaker:ModelArn"] = role.arn(f"model/{role.prefix}-{model}")
    return Request("sagemaker:CreateEndpointConfig", role.arn(f"endpoint-config/{role.prefix}-endpoint-EndpointConfig"), context)


def _tags_only(role: RoleUnderTest, **context: object) -> dict:
    base = {k: v for k, v in role.job_context().items() if k.startswith("aws:")}
    base.update(context)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "deny_sid"),
    [
        ({"sagemaker_VpcSubnets": None, "sagemaker_VpcSecurityGroupIds": None}, "DenyJobsOutsideVpc"),
        ({"sagemaker_VolumeKmsKey": None}, "DenyJobsWithoutVolumeKmsKey"),
        ({"sagemaker_OutputKmsKey": None}, "DenyJobsWithoutOutputKmsKey"),
        ({"sagemaker_InstanceTypes": None}, "DenyJobsWithoutInstanceTypes"),
        ({"sagemaker_InstanceTypes": ["ml.m5.xlarge", "ml.p4d.24xlarge"]}, "DenyInstanceTypesOutsideAllowlist"),
        ({"sagemaker_InterContainerTrafficEncryption": None}, "DenyUnencryptedInterContainerTraffic"),
        ({"sagemaker_NetworkIsolation": "false"}, "DenyJobsWithoutNetworkIsolation"),
        ({"sagemaker_MaxRuntimeInSeconds": "86401"}, "DenyJobsAboveRuntimeCap"),
        ({"aws_RequestTag__CostCenter": None}, "DenyCreatesWithoutTheCostTag"),
        ({"sagemaker_VpcSubnets": ["subnet-0f0f0f0f0f0f0f0f0"]}, "DenyForeignSubnets"),
    ],
    ids=["no-vpc", "no-volume-key", "no-output-key", "no-instance-types", "mixed-types", "ict-unset", "isolation-off", "runtime", "no-cost-tag", "foreign-subnet"],
)
def test_a_tuning_job_is_held_to_the_job_guardrails(roles: dict[str, RoleUnderTest], overrides: dict, deny_sid: str) -> None:
    role = roles["tuning"]
    assert role.decide(tuning_job(role)) is Decision.ALLOW, _deny_sids(role, tuning_job(role))
    request = tuning_job(role, **overrides)
    assert role.decide(request) is Decision.EXPLICIT_DENY
    assert deny_sid in _deny_sids(role, request)


def test_only_a_pipeline_with_a_tuning_step_may_start_a_tuning_job(roles: dict[str, RoleUnderTest]) -> None:
    for module in ("checks", "endpoint", "for-each"):
        assert roles[module].decide(tuning_job(roles[module])) is Decision.IMPLICIT_DENY, module
        assert roles[module].decide(tuning_job(roles[module], pipeline=roles["tuning"].pipeline)) is Decision.IMPLICIT_DENY, module
    role = roles["tuning"]
    for other in ("smp-sandbox-endpoint", "smp-prod-tuning"):
        assert role.decide(tuning_job(role, pipeline=other)) is Decision.IMPLICIT_DENY, other
    untagged = tuning_job(role)
    untagged = Request(untagged.action, untagged.resource, {k: v for k, v in untagged.context.items() if PIPELINE_TAG not in k})
    assert role.decide(untagged) is Decision.IMPLICIT_DENY
    # Its own jobs, and only those, may be described and stopped.
    job = role.arn("hyper-parameter-tuning-job/0abc123def45-Tune-x1")
    assert role.decide(Request("sagemaker:StopHyperParameterTuningJob", job, {f"aws:ResourceTag/{PIPELINE_TAG}": role.pipeline})) is Decision.ALLOW
    assert role.decide(Request("sagemaker:StopHyperParameterTuningJob", job, {f"aws:ResourceTag/{PIPELINE_TAG}": "smp-sandbox-checks"})) is Decision.IMPLICIT_DENY
    # Tuning does not bring plain training or processing jobs with it.
    training = Request("sagemaker:CreateTrainingJob", role.arn(f"training-job/{role.prefix}-tuning-Tune-x1"), role.job_context())
    assert role.decide(training) is Decision.IMPLICIT_DENY


def test_check_steps_run_processing_jobs_and_read_the_registry(roles: dict[str, RoleUnderTest]) -> None:
    role = roles["checks"]
    job = Request("sagemaker:CreateProcessingJob", role.arn(f"processing-job/{role.prefix}-checks-DataBias-x1"), role.job_context())
    assert role.decide(job) is Decision.ALLOW
    unencrypted = Request(job.action, job.resource, role.job_context(sagemaker_OutputKmsKey=None))
    assert _deny_sids(role, unencrypted) == ["DenyJobsWithoutOutputKmsKey"]
    group = role.arn(f"model-package-group/{role.prefix}-abalone-regression")
    assert role.decide(Request("sagemaker:DescribeModelPackageGroup", group)) is Decision.ALLOW
    assert role.decide(Request("sagemaker:CreateModelPackageGroup", group, _tags_only(role))) is Decision.IMPLICIT_DENY
    # A pipeline with neither a processing nor a check step may start no processing job.
    tuning = roles["tuning"]
    assert tuning.decide(Request(job.action, tuning.arn(f"processing-job/{tuning.prefix}-tuning-x1"), tuning.job_context())) is Decision.IMPLICIT_DENY


def test_a_compliant_endpoint_config_is_allowed_and_each_violation_denied(roles: dict[str, RoleUnderTest]) -> None:
    role = roles["endpoint"]
    assert role.decide(endpoint_config(role)) is Decision.ALLOW, _deny_sids(role, endpoint_config(role))
    violations = {
        "DenyEndpointConfigsWithoutVolumeKmsKey": endpoint_config(role, sagemaker_VolumeKmsKey=None),
        "DenyEndpointInstanceTypesOutsideAllowlist": endpoint_config(role, sagemaker_InstanceTypes=["ml.m5.xlarge", "ml.p3.16xlarge"]),
        "DenyServingModelsOutsideEnvironment": endpoint_config(role, model=None),
        "DenyServingCreatesWithoutTheCostTag": endpoint_config(role, aws_RequestTag__CostCenter="someone-else"),
        "DenyEndpointConfigsWithoutNetworkIsolation": endpoint_config(role, sagemaker_NetworkIsolation="false"),
        "DenyForeignSecurityGroups": endpoint_config(role, sagemaker_VpcSecurityGroupIds=["sg-0f0f0f0f0f0f0f0f0"]),
    }
    for sid, request in violations.items():
        assert role.decide(request) is Decision.EXPLICIT_DENY, sid
        assert sid in _deny_sids(role, request), (sid, _deny_sids(role, request))
    foreign_model = Request(endpoint_config(role).action, endpoint_config(role).resource, {**endpoint_config(role).context, "sagemaker:ModelArn": role.arn("model/someone-elses-model")})
    assert _deny_sids(role, foreign_model) == ["DenyServingModelsOutsideEnvironment"]
    # An NVMe-only variant needs no volume key (SageMaker refuses one there); the config's own
    # networking is optional (its variants run in their model's VPC), so neither is denied.
    nvme = endpoint_config(role, sagemaker_VolumeKmsKey=None, sagemaker_InstanceTypes=["ml.g5.xlarge"])
    assert _deny_sids(role, nvme) == ["DenyEndpointInstanceTypesOutsideAllowlist"]


def test_endpoints_and_inference_components_carry_the_cost_tag_and_the_environments_models(roles: dict[str, RoleUnderTest]) -> None:
    role = roles["endpoint"]
    endpoint = Request("sagemaker:CreateEndpoint", role.arn(f"endpoint/{role.prefix}-endpoint-Endpoint"), _tags_only(role))
    update = Request("sagemaker:UpdateEndpoint", role.arn(f"endpoint/{role.prefix}-endpoint-Endpoint"))
    component = Request(
        "sagemaker:CreateInferenceComponent",
        role.arn(f"inference-component/{role.prefix}-endpoint-Component"),
        _tags_only(role, **{"sagemaker:ModelArn": role.arn(f"model/{role.prefix}-abalone-model")}),
    )
    for request in (endpoint, update, component):
        assert role.decide(request) is Decision.ALLOW, (request.action, _deny_sids(role, request))
    untagged = Request(endpoint.action, endpoint.resource, _tags_only(role, **{"aws:RequestTag/CostCenter": None}))
    assert _deny_sids(role, untagged) == ["DenyServingCreatesWithoutTheCostTag"]
    inline_container = Request(component.action, component.resource, _tags_only(role))
    assert _deny_sids(role, inline_container) == ["DenyServingModelsOutsideEnvironment"]
    outside = Request(endpoint.action, role.arn("endpoint/production-endpoint"), _tags_only(role))
    assert role.decide(outside) is Decision.IMPLICIT_DENY
    for module in ("tuning", "checks", "emr"):
        other = roles[module]
        for request in (endpoint, component, endpoint_config(other)):
            request = Request(request.action, request.resource.replace(role.prefix, other.prefix), request.context)
            assert other.decide(request) is Decision.IMPLICIT_DENY, (module, request.action)


def test_emr_steps_only_on_the_cluster_and_application_the_definition_names(roles: dict[str, RoleUnderTest]) -> None:
    role = roles["emr"]
    cluster = f"arn:aws:elasticmapreduce:{role.region}:{role.account}:cluster/{CLUSTER}"
    add_step = Request("elasticmapreduce:AddJobFlowSteps", cluster)
    assert role.decide(add_step) is Decision.ALLOW
    assert role.decide(Request(add_step.action, cluster.replace(CLUSTER, "j-FOREIGN000000"))) is Decision.IMPLICIT_DENY
    application = f"arn:aws:emr-serverless:{role.region}:{role.account}:/applications/{APPLICATION}"
    run = Request("emr-serverless:StartJobRun", application, _tags_only(role))
    assert role.decide(run) is Decision.ALLOW, _deny_sids(role, run)
    assert role.decide(Request("emr-serverless:GetJobRun", f"{application}/jobruns/00f1")) is Decision.ALLOW
    untagged = Request(run.action, application, _tags_only(role, **{"aws:RequestTag/CostCenter": "free"}))
    assert _deny_sids(role, untagged) == ["DenyServingCreatesWithoutTheCostTag"]
    assert role.decide(Request(run.action, application.replace(APPLICATION, "00f0000000000000"), _tags_only(role))) is Decision.IMPLICIT_DENY
    # The job run runs as the pipeline's own role: it may pass itself to EMR Serverless, nothing else.
    to_emr = {"iam:PassedToService": "emr-serverless.amazonaws.com"}
    assert role.decide(Request("iam:PassRole", role.role_arn, to_emr)) is Decision.ALLOW
    other = roles["tuning"]
    assert role.decide(Request("iam:PassRole", other.role_arn, to_emr)) is Decision.IMPLICIT_DENY
    assert other.decide(Request("iam:PassRole", other.role_arn, to_emr)) is Decision.IMPLICIT_DENY
    assert other.decide(add_step) is Decision.IMPLICIT_DENY
    assert other.decide(Request(run.action, application, _tags_only(other))) is Decision.IMPLICIT_DENY


def test_only_the_emr_serverless_pipeline_role_trusts_emr_serverless(step_assembly: Assembly) -> None:
    def principals(module: str) -> list:
        stack = step_assembly.stack(f"smp-sandbox-pipeline-{module}")
        role = stack.template["Resources"][stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role")]["Properties"]
        statements = step_assembly.resolve(stack, role["AssumeRolePolicyDocument"])["Statement"]
        assert all(s["Condition"] == {"StringEquals": {"aws:SourceAccount": stack.account}} for s in statements)
        services = [s["Principal"]["Service"] for s in statements]
        return sorted(x for service in services for x in ([service] if isinstance(service, str) else service))

    assert principals("emr") == ["emr-serverless.amazonaws.com", "sagemaker.amazonaws.com"]
    assert principals("tuning") == ["sagemaker.amazonaws.com"]


def test_lineage_only_on_the_environments_named_entities(roles: dict[str, RoleUnderTest]) -> None:
    role = roles["lineage-cleanup"]
    action = role.arn(f"action/{role.prefix}-lineage-cleanup-Scoring")
    assert role.decide(Request("sagemaker:CreateAction", action)) is Decision.ALLOW
    assert role.decide(Request("sagemaker:AddAssociation", action)) is Decision.ALLOW
    assert role.decide(Request("sagemaker:CreateArtifact", role.arn("artifact/0a1b2c3d4e5f"))) is Decision.ALLOW
    assert role.decide(Request("sagemaker:CreateAction", role.arn("action/someone-elses-action"))) is Decision.IMPLICIT_DENY
    for module in ("tuning", "endpoint"):
        other = roles[module]
        assert other.decide(Request("sagemaker:CreateAction", action)) is Decision.IMPLICIT_DENY, module
        assert other.decide(Request("sagemaker:CreateArtifact", role.arn("artifact/0a1b2c3d4e5f"))) is Decision.IMPLICIT_DENY, module


def test_the_serving_denies_sit_in_the_job_guardrails_every_role_carries(step_assembly: Assembly) -> None:
    for module in ("endpoint", "emr", "tuning", "checks", "lineage-cleanup"):
        stack = step_assembly.stack(f"smp-sandbox-pipeline-{module}")
        identity, _ = step_assembly.role_policies(stack, stack.logical_id("AWS::IAM::Role", "ExecutionRole/Role"))
        sids = {s.get("Sid") for doc in identity for s in doc["Statement"] if s["Effect"] == "Deny"}
        assert {"DenyServingModelsOutsideEnvironment", "DenyServingCreatesWithoutTheCostTag", "DenyEndpointInstanceTypesOutsideAllowlist"} <= sids, module


def test_a_for_each_body_is_granted_as_a_top_level_step(roles: dict[str, RoleUnderTest]) -> None:
    role = roles["for-each"]
    job = Request("sagemaker:CreateProcessingJob", role.arn(f"processing-job/{role.prefix}-for-each-Summarise-x1"), role.job_context())
    assert role.decide(job) is Decision.ALLOW


def test_every_granted_step_action_is_listed_in_the_boundary_ceiling(step_assembly: Assembly, roles: dict[str, RoleUnderTest]) -> None:
    granted = {action for grant in SAGEMAKER_STEP_GRANTS for action in grant.actions}
    for name, stack in step_assembly.stacks.items():
        if "-pipeline-" in name:
            for resource in stack.resources("AWS::IAM::Policy").values():
                for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                    if statement.get("Sid", "") in ("EmrSteps", "EmrServerlessJobRuns", "EmrServerlessJobRunStatus", "TuningJobs", "OwnTuningJobs"):
                        actions = statement["Action"]
                        granted.update([actions] if isinstance(actions, str) else actions)
    assert granted - set(BOUNDARY_CEILING_ACTIONS) == set()
    # The synthesized ceiling leaves out what its own wildcards cover, and still allows each of them.
    boundary = roles["emr"].boundary
    for action in sorted(granted):
        assert matching_sids([boundary], Request(action, "arn:aws:sagemaker:us-east-1:123456789012:x/y"), effect="Allow") == ["Ceiling"], action
    assert {"sagemaker:CreateHyperParameterTuningJob", "elasticmapreduce:AddJobFlowSteps", "emr-serverless:StartJobRun"} <= granted
