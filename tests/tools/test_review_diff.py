"""The review's comparison and rendering: the session synth against copies that carry one deliberate change."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tool_inputs import (
    PIPELINE,
    PIPELINE_STACK,
    REVIEW_NOW,
    derive,
    edit_head,
    edit_step,
    pipeline_properties,
    pipeline_template,
    set_preprocess_instance_type,
)

from base.naming import PIPELINE_RESOURCE_TYPE
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG
from tools.assembly import PipelineDefinition, load_environments
from tools.review.diff import MISSING, Review, ValueChange, compare_outputs, compare_pipeline, value_changes
from tools.review.render import render_markdown, render_plain
from tools.review.synth import cdk_security_table


def _review(synth_dir: Path, head: Path) -> Review:
    return compare_outputs(
        old=load_environments(outdir=synth_dir), new=load_environments(outdir=head), base="base", head="head", now=REVIEW_NOW
    )


@pytest.fixture(scope="module")
def instance_type_change(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return derive(synth_dir, tmp_path_factory.mktemp("review") / "head.out", set_preprocess_instance_type)


def test_identical_outputs_have_no_changes(synth_dir: Path) -> None:
    result = _review(synth_dir, synth_dir)
    assert [env.name for env in result.environments] == ["prod", "sandbox"]
    assert all(env.unchanged for env in result.environments)
    assert not result.security_relevant
    assert render_plain(result).splitlines()[1:] == ["prod: no changes", "sandbox: no changes", "security-relevant changes: none"]


def test_one_step_instance_type_change_is_a_few_lines_and_flagged(synth_dir: Path, instance_type_change: Path) -> None:
    result = _review(synth_dir, instance_type_change)
    sandbox = result.environments[1]
    (pipeline,) = sandbox.pipelines_changed
    assert pipeline.pipeline == PIPELINE and not pipeline.parameters and not pipeline.settings
    assert not pipeline.resources and not pipeline.schedules and not sandbox.cdk_table_stacks
    (step,) = pipeline.steps
    assert (step.step, step.kind, step.step_type) == ("Preprocess", "changed", "Processing")
    (change,) = step.changes
    assert change.path == "Arguments.ProcessingResources.ClusterConfig.InstanceType"
    assert change.new == "ml.c5.4xlarge"
    assert [str(f) for f in sandbox.security] == [
        f'{PIPELINE} step Preprocess: {change.path} "{change.old}" → "ml.c5.4xlarge"'
    ]
    assert result.environments[0].unchanged and not sandbox.resources and not sandbox.schedules
    assert result.security_relevant

    plain = render_plain(result).splitlines()
    assert plain[2:] == [
        "sandbox:",
        f"  ~ pipeline {PIPELINE}",
        "      ~ step Preprocess (Processing)",
        f'          {change.path}: "{change.old}" → "ml.c5.4xlarge"',
        "  instance-hours (most per run; per month):",
        # Preprocess has no run-time limit: it counts at the environment's 24 h cap, now on a c5.
        f"    ~ {PIPELINE}: ml.c5 0 → 24 h/run, ml.t3 73 → 49 h/run",
        "  SECURITY:",
        f'    ! {PIPELINE} step Preprocess: {change.path} "{change.old}" → "ml.c5.4xlarge"',
        "security-relevant changes: YES",
    ]
    markdown = render_markdown(result)
    assert f"`{change.path}`" in markdown and "⚠️" in markdown and "#### sandbox" in markdown


def test_non_security_step_change_is_shown_but_not_flagged(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        edit_step(templates, "Preprocess", lambda s: s.update(DisplayName="Split the abalone data"))

    result = _review(synth_dir, derive(synth_dir, tmp_path / "head.out", edit))
    (pipeline,) = result.environments[1].pipelines_changed
    assert [(c.path, c.old, c.new) for c in pipeline.steps[0].changes] == [("DisplayName", MISSING, "Split the abalone data")]
    assert not result.security_relevant


def test_parameters_added_and_changed_security_by_name(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        def change(head: dict) -> None:
            for parameter in head["Parameters"]:
                if parameter["Name"] == "TrainingInstanceType":
                    parameter["DefaultValue"] = "ml.p4d.24xlarge"
            head["Parameters"].append({"Name": "Epochs", "Type": "Integer", "DefaultValue": 3})

        edit_head(templates, change)

    result = _review(synth_dir, derive(synth_dir, tmp_path / "head.out", edit))
    sandbox = result.environments[1]
    (pipeline,) = sandbox.pipelines_changed
    assert pipeline.parameters[0] == "+ parameter Epochs (Integer, default 3)"
    assert pipeline.parameters[1].startswith("~ parameter TrainingInstanceType: DefaultValue ")
    assert pipeline.parameters[1].endswith('→ "ml.p4d.24xlarge"')
    assert [f.where for f in sandbox.security] == [f"{PIPELINE} parameter TrainingInstanceType"]


def test_steps_and_pipelines_added_or_removed(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        definition = pipeline_properties(templates)["Definition"]
        definition["StepOrder"].remove("Preprocess")
        del definition["Steps"]["Preprocess"]
        # Another pipeline's module deleted: its own stack is left without resources.
        other = next(t for t in templates.values() if t is not pipeline_template(templates) and _pipeline_names(t))
        (edit.removed,) = _pipeline_names(other)
        other["Resources"] = {}

    result = _review(synth_dir, derive(synth_dir, tmp_path / "head.out", edit))
    sandbox = result.environments[1]
    assert sandbox.pipelines_removed == (edit.removed,)
    (pipeline,) = sandbox.pipelines_changed
    assert [(s.step, s.kind) for s in pipeline.steps] == [("Preprocess", "removed")]
    # Removing things narrows what runs: not flagged. The reverse direction adds a job: flagged.
    assert not result.security_relevant
    reverse = compare_outputs(
        old=load_environments(outdir=tmp_path / "head.out"), new=load_environments(outdir=synth_dir), base="a", head="b", now=REVIEW_NOW
    )
    assert reverse.environments[1].pipelines_added == (edit.removed,)
    assert any("new step Preprocess" in f.where and "InstanceType" in f.what for f in reverse.environments[1].security)
    # The added pipeline's own role and its policies are that pipeline's findings.
    added = {f.where: f.what for f in reverse.environments[1].security if f.what == "added"}
    assert added and all(where.startswith(f"{edit.removed} AWS::IAM::") for where in added)
    assert any(where.startswith(f"{edit.removed} AWS::IAM::Role ExecutionRole/") for where in added)


def _pipeline_names(template: dict) -> list[str]:
    return [r["Properties"]["PipelineName"] for r in template.get("Resources", {}).values() if r["Type"] == PIPELINE_RESOURCE_TYPE]


def test_iam_and_security_group_changes_are_flagged_with_cdk_tables(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        resources = templates["smp-sandbox-network"]["Resources"]
        ingress = next(r for r in resources.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress")
        ingress["Properties"]["FromPort"] = 22
        policy = next(r for r in resources.values() if r["Type"] == "AWS::IAM::Policy")
        policy["Properties"]["PolicyDocument"]["Statement"][0]["Action"] = "s3:*"

    head = derive(synth_dir, tmp_path / "head.out", edit)
    result = _review(synth_dir, head)
    sandbox = result.environments[1]
    assert sandbox.cdk_table_stacks == ("sandbox/Network",)
    kinds = sorted(f.where.split(" ")[0] for f in sandbox.security)
    assert kinds == ["AWS::EC2::SecurityGroupIngress", "AWS::IAM::Policy"]
    assert result.security_relevant

    network = load_environments(outdir=synth_dir)["sandbox"].stacks["smp-sandbox-network"]
    table = cdk_security_table(head_outdir=head, base_template=network.template_path, selector="sandbox/Network")
    assert table.startswith("IAM Statement Changes") and "s3:*" in table
    assert "Security Group Changes" in table and "TCP 22" in table


def test_a_change_to_a_pipelines_own_role_is_that_pipelines_security_change(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        resources = templates[PIPELINE_STACK]["Resources"]
        policy = next(r for r in resources.values() if r["Metadata"]["aws:cdk:path"].endswith("/ExecutionRole/Policy/Resource"))
        policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = "*"

    result = _review(synth_dir, derive(synth_dir, tmp_path / "head.out", edit))
    sandbox = result.environments[1]
    (pipeline,) = sandbox.pipelines_changed
    assert (pipeline.pipeline, pipeline.steps, pipeline.settings) == (PIPELINE, (), ())
    own_prefix = f"arn:${{AWS::Partition}}:s3:::smp-sandbox-artifacts-${{AWS::AccountId}}-${{AWS::Region}}/{PIPELINE}/*"
    statement = f"PolicyDocument: ~ statement OwnPrefixObjects: Resource + * - {own_prefix}"
    assert pipeline.resources == ("~ AWS::IAM::Policy ExecutionRole/Policy/Resource", f"    {statement}")
    assert [str(f) for f in sandbox.security] == [f"{PIPELINE} AWS::IAM::Policy ExecutionRole/Policy/Resource: {statement}"]
    assert sandbox.cdk_table_stacks == ("sandbox/PipelineTrainEvaluateRegister",)
    assert not sandbox.resources and result.security_relevant
    plain = render_plain(result).splitlines()
    assert plain[plain.index(f"  ~ pipeline {PIPELINE}") + 1 :][:2] == [f"      {pipeline.resources[0]}", f"          {statement}"]
    assert "smp-sandbox-pipelines" not in render_plain(result)


def _schedule(expression: str, **parameters: str) -> dict:
    listed = [{"Name": name, "Value": value} for name, value in parameters.items()]
    return {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "Name": f"{PIPELINE}-nightly",
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": "Europe/Paris",
            "State": "ENABLED",
            "Target": {"SageMakerPipelineParameters": {"PipelineParameterList": listed}},
        },
    }


def _with_schedule(synth_dir: Path, target: Path, schedule: dict | None) -> Path:
    return derive(synth_dir, target, lambda t: t[PIPELINE_STACK]["Resources"].update(Nightly=schedule) if schedule else None)


def test_a_changed_schedule_shows_its_parameters_by_name_and_next_runs(synth_dir: Path, tmp_path: Path) -> None:
    base = _with_schedule(synth_dir, tmp_path / "base.out", _schedule("cron(0 3 ? * MON *)", MseThreshold="6.0", MaxDepth="3"))
    head = _with_schedule(synth_dir, tmp_path / "head.out", _schedule("cron(0 4 ? * MON *)", MseThreshold="5.5", MaxDepth="3"))
    result = compare_outputs(old=load_environments(outdir=base), new=load_environments(outdir=head), base="a", head="b", now=REVIEW_NOW)
    sandbox = result.environments[1]
    (pipeline,) = sandbox.pipelines_changed
    assert pipeline.schedules == (
        "~ schedule nightly",
        "    expression: cron(0 3 ? * MON *) → cron(0 4 ? * MON *)",
        '    parameter MseThreshold: "6.0" → "5.5"',
        "    next runs: 2026-12-07 04:00, 2026-12-14 04:00, 2026-12-21 04:00 Europe/Paris",
    )
    assert (pipeline.pipeline, pipeline.steps, pipeline.resources, sandbox.schedules) == (PIPELINE, (), (), ())
    assert "PipelineParameterList" not in render_plain(result)
    assert render_plain(result).splitlines()[3:8] == [
        f"  ~ pipeline {PIPELINE}",
        "      ~ schedule nightly",
        "          expression: cron(0 3 ? * MON *) → cron(0 4 ? * MON *)",
        '          parameter MseThreshold: "6.0" → "5.5"',
        "          next runs: 2026-12-07 04:00, 2026-12-14 04:00, 2026-12-21 04:00 Europe/Paris",
    ]
    assert not result.security_relevant


def test_a_new_or_removed_schedule_is_shown_in_full_with_its_cost(synth_dir: Path, tmp_path: Path) -> None:
    base = _with_schedule(synth_dir, tmp_path / "base.out", None)
    head = _with_schedule(synth_dir, tmp_path / "head.out", _schedule("cron(0 2 * * ? *)", TrainingInstanceType="ml.m5.xlarge"))
    added = compare_outputs(old=load_environments(outdir=base), new=load_environments(outdir=head), base="a", head="b", now=REVIEW_NOW)
    whole = [
        "    expression: cron(0 2 * * ? *)",
        "    time zone: Europe/Paris",
        "    state: enabled",
        "    parameters: TrainingInstanceType=ml.m5.xlarge",
        "    next runs: 2026-12-02 02:00, 2026-12-03 02:00, 2026-12-04 02:00 Europe/Paris",
    ]
    (pipeline,) = added.environments[1].pipelines_changed
    assert pipeline.schedules == ("+ schedule nightly", *whole)
    # 365 runs a year: 30.4 a month; Train (1 h) on the schedule's m5, the other jobs at the 24 h cap on the sandbox's t3.
    assert added.environments[1].cost == (f"~ {PIPELINE}: ml.m5 0 → 30.4 h/month, ml.t3 0 → 2,190 h/month",)
    removed = compare_outputs(old=load_environments(outdir=head), new=load_environments(outdir=base), base="a", head="b", now=REVIEW_NOW)
    assert removed.environments[1].pipelines_changed[0].schedules == ("- schedule nightly", *whole)


def test_value_changes_paths_cover_lists_types_and_absence() -> None:
    changes = list(value_changes({"a": [1, 2], "b": {"c": 1}}, {"a": [1, 2, 3], "b": {"c": "1"}, "d": None}))
    assert [(c.path, c.old, c.new) for c in changes] == [("a[2]", MISSING, 3), ("b.c", 1, "1"), ("d", MISSING, None)]


def test_a_network_isolation_exemption_tag_appearing_is_security_relevant() -> None:
    """The tag the compiler writes and the Deny reads, however the path to it is named."""
    exempt = ValueChange(path="Arguments.Tags[2]", old=MISSING, new={"Key": NETWORK_ISOLATION_EXEMPTION_TAG, "Value": PIPELINE})
    other = ValueChange(path="Arguments.Tags[2]", old=MISSING, new={"Key": "Team", "Value": "ml"})
    assert exempt.security_relevant and not other.security_relevant


def test_a_schedule_targets_retry_policy_is_not_a_security_setting() -> None:
    retry = ValueChange(path="Properties.Target.RetryPolicy.MaximumRetryAttempts", old=MISSING, new=3)
    role = ValueChange(path="Properties.Target.RoleArn", old="a", new="b")
    policy = ValueChange(path="Properties.PolicyDocument.Statement[0].Action", old="s3:GetObject", new="s3:*")
    assert not retry.security_relevant and role.security_relevant and policy.security_relevant


def _for_each_pipeline(instance_type: str) -> PipelineDefinition:
    body = {"Name": "Shard", "Type": "Processing", "Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceType": instance_type}}}}
    for_each = {"Name": "EachRegion", "Type": "ForEach", "Arguments": {"ForEachBody": [body], "MaxConcurrency": 4}}
    gate = {"Name": "Gate", "Type": "Condition", "Arguments": {"IfSteps": [for_each], "ElseSteps": []}}
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [gate]}
    return PipelineDefinition(name=PIPELINE, stack="s", logical_id="P", definition=definition, substitutions={}, properties={})


def test_a_change_inside_a_foreach_body_shows_once_as_that_steps_change() -> None:
    old, new = _for_each_pipeline("ml.m5.large"), _for_each_pipeline("ml.m5.2xlarge")
    assert new.steps["EachRegion"]["Arguments"]["ForEachBody"] == ["Shard"]
    change, security = compare_pipeline(old=old, new=new)
    assert [(s.step, s.kind) for s in change.steps] == [("Shard", "changed")]
    assert [(c.path, c.old, c.new) for c in change.steps[0].changes] == [
        ("Arguments.ProcessingResources.ClusterConfig.InstanceType", "ml.m5.large", "ml.m5.2xlarge")
    ]
    assert [f.where for f in security] == [f"{PIPELINE} step Shard"]


def test_a_one_function_change_shows_that_step_only(synth_dir: Path, tmp_path: Path) -> None:
    """A new ``@step`` payload moves one step's build id: in its arguments, and in the role's protection of its code."""
    batch = "smp-sandbox-batch-inference"

    def edit(templates: dict) -> None:
        steps = pipeline_properties(templates, batch)["Definition"]["Steps"]
        (edit.old_id,) = set(re.findall(r"ScoreBatches/(b[0-9a-f]{20})/", steps["ScoreBatches"]["Fn::Sub"][0]))
        template = pipeline_template(templates, batch)
        policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
        edit.protected = any(edit.old_id in json.dumps(policy) for policy in policies)
        text = json.dumps(template).replace(edit.old_id, "b" + "0" * 20)
        template.clear()
        template.update(json.loads(text))

    result = _review(synth_dir, derive(synth_dir, tmp_path / "head.out", edit))
    assert edit.protected, "the role no longer protects the step's code by its build id: this test checks nothing"
    sandbox = result.environments[1]
    (pipeline,) = sandbox.pipelines_changed
    assert [(s.step, s.kind) for s in pipeline.steps] == [("ScoreBatches", "changed")]
    assert all(c.old.count(edit.old_id) if isinstance(c.old, str) else c.old == edit.old_id for c in pipeline.steps[0].changes)
    assert (pipeline.resources, pipeline.settings, sandbox.resources, sandbox.security, sandbox.cdk_table_stacks) == ((), (), (), (), ())
    assert not result.security_relevant
