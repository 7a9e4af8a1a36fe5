"""The context the stacks build from their environment settings, and its placeholders."""

from __future__ import annotations

import pytest

from pipeline_defs import placeholders
from pipeline_defs.context import context_for_environment
from pipeline_defs.errors import PipelineDefinitionError


def test_env_agnostic_context_compiles_for_us_east_1_and_says_so():
    ctx = context_for_environment(env_name="sandbox", region=None, cost_tag_key="CostCenter", cost_tag_value="x")
    assert (ctx.region, ctx.region_is_pinned) == ("us-east-1", False)
    assert ctx.full_pipeline_name("train") == "sandbox-train"
    pinned = context_for_environment(env_name="prod", region="eu-west-1", cost_tag_key="CostCenter", cost_tag_value="x", name_prefix="smp-prod")
    assert (pinned.region, pinned.region_is_pinned) == ("eu-west-1", True)
    assert pinned.full_pipeline_name("train") == "smp-prod-train"


def test_default_instance_type_comes_from_the_allowlist():
    ctx = context_for_environment(env_name="prod", region="eu-west-1", cost_tag_key="K", cost_tag_value="v", allowed_instance_types=["ml.c5.xlarge", "ml.m5.large"])
    assert ctx.default_instance_type == "ml.c5.xlarge"
    with pytest.raises(PipelineDefinitionError, match="not in the allowlist"):
        context_for_environment(env_name="prod", region=None, cost_tag_key="K", cost_tag_value="v", allowed_instance_types=["ml.c5.xlarge"], default_instance_type="ml.p4d.24xlarge")


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"env_name": "has space"}, "environment name"),
        ({"cost_tag_key": ""}, "cost_tag_key"),
        ({"name_prefix": "-bad"}, "pipeline name prefix"),
    ],
)
def test_bad_environment_values_are_named(changes, needle):
    arguments = {"env_name": "sandbox", "region": None, "cost_tag_key": "K", "cost_tag_value": "v"} | changes
    with pytest.raises(PipelineDefinitionError, match=needle):
        context_for_environment(**arguments)


def test_cost_tags_are_a_fresh_list_each_time():
    ctx = context_for_environment(env_name="sandbox", region=None, cost_tag_key="K", cost_tag_value="v")
    first = ctx.cost_tags()
    first.append({"Key": "extra", "Value": "1"})
    assert ctx.cost_tags() == [{"Key": "K", "Value": "v"}]


def test_context_values_are_the_registered_placeholders():
    ctx = context_for_environment(env_name="sandbox", region=None, cost_tag_key="K", cost_tag_value="v")
    used = placeholders.find_names(" ".join([ctx.execution_role_arn, ctx.artifact_bucket, ctx.kms_key, *ctx.subnet_ids, *ctx.security_group_ids]))
    assert set(used) <= placeholders.NAMES
    assert ctx.lambda_function_arn("FanOut") == "${FanOutFunctionArn}"
    with pytest.raises(PipelineDefinitionError, match="unknown Lambda function 'Nope'"):
        ctx.lambda_function_arn("Nope")
    assert placeholders.unknown_names("${AWS::Region} ${Bogus} ${ArtifactBucket}") == ["Bogus"]


def test_job_names_read_pipeline_then_step_and_survive_the_sdks_39_character_cut():
    ctx = context_for_environment(env_name="dev", region=None, cost_tag_key="K", cost_tag_value="v")
    assert ctx.for_pipeline(pipeline_name="dev-batch", session=None).job_name("Score") == "dev-batch-Score"
    prod = context_for_environment(env_name="prod", region=None, cost_tag_key="K", cost_tag_value="v", name_prefix="smp-prod")
    long = prod.for_pipeline(pipeline_name="smp-prod-train-evaluate-register", session=None)
    names = {long.job_name(step) for step in ("Preprocess", "Evaluate", "BatchTransform")}
    assert len(names) == 3
    for name in names:
        assert len(name) <= 39 and name.startswith("smp-prod-train")
    assert long.job_name("Preprocess").endswith("-Preprocess")
    # A long environment prefix and step still keep the whole prefix, the role's IAM scope.
    wide = context_for_environment(env_name="analytics", region=None, cost_tag_key="K", cost_tag_value="v", name_prefix="smp-analytics123")
    name = wide.for_pipeline(pipeline_name="smp-analytics123-train-evaluate-register", session=None).job_name("AVeryLongStepNameIndeed")
    assert len(name) <= 39 and name.startswith("smp-analytics123-")
