"""The review's comparison and rendering: the session synth against copies that carry one deliberate change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tool_inputs import PIPELINE, derive, edit_head, edit_step, pipeline_properties, set_preprocess_instance_type

from tools.review.assembly import load_environments
from pipeline_defs.contract import NETWORK_ISOLATION_EXEMPTION_TAG
from tools.review.diff import MISSING, Review, ValueChange, compare_outputs, value_changes
from tools.review.render import render_markdown, render_plain
from tools.review.synth import cdk_security_table


def _review(synth_dir: Path, head: Path) -> Review:
    return compare_outputs(
        old=load_environments(outdir=synth_dir), new=load_environments(outdir=head), base="base", head="head"
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

    plain = render_plain(result)
    assert len(plain.splitlines()) <= 10
    assert f'{change.path}: "{change.old}" → "ml.c5.4xlarge"' in plain
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
        resources = templates["Pipelines"]["Resources"]
        other = next(k for k, r in resources.items() if r["Type"] == "Custom::SageMakerPipeline" and r["Properties"]["PipelineName"] != PIPELINE)
        removed = resources.pop(other)["Properties"]["PipelineName"]
        edit.removed = removed

    result = _review(synth_dir, derive(synth_dir, tmp_path / "head.out", edit))
    sandbox = result.environments[1]
    assert sandbox.pipelines_removed == (edit.removed,)
    (pipeline,) = sandbox.pipelines_changed
    assert [(s.step, s.kind) for s in pipeline.steps] == [("Preprocess", "removed")]
    # Removing things narrows what runs: not flagged. The reverse direction adds a job: flagged.
    assert not result.security_relevant
    reverse = compare_outputs(
        old=load_environments(outdir=tmp_path / "head.out"), new=load_environments(outdir=synth_dir), base="a", head="b"
    )
    assert reverse.environments[1].pipelines_added == (edit.removed,)
    assert any("new step Preprocess" in f.where and "InstanceType" in f.what for f in reverse.environments[1].security)


def test_iam_and_security_group_changes_are_flagged_with_cdk_tables(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        resources = templates["Network"]["Resources"]
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


def test_schedule_resources_are_reported_with_their_changes(synth_dir: Path, tmp_path: Path) -> None:
    rule = {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "cron(0 3 ? * MON *)", "State": "ENABLED"}}
    base = derive(synth_dir, tmp_path / "base.out", lambda t: t["Pipelines"]["Resources"].update(Nightly=rule))
    changed = json.loads(json.dumps(rule))
    changed["Properties"]["ScheduleExpression"] = "cron(0 4 ? * MON *)"
    head = derive(synth_dir, tmp_path / "head.out", lambda t: t["Pipelines"]["Resources"].update(Nightly=changed))
    result = compare_outputs(old=load_environments(outdir=base), new=load_environments(outdir=head), base="a", head="b")
    assert result.environments[1].schedules == (
        "~ AWS::Events::Rule Nightly (smp-sandbox-pipelines): Properties.ScheduleExpression",
        '    Properties.ScheduleExpression: "cron(0 3 ? * MON *)" → "cron(0 4 ? * MON *)"',
    )
    assert not result.security_relevant


def test_value_changes_paths_cover_lists_types_and_absence() -> None:
    changes = list(value_changes({"a": [1, 2], "b": {"c": 1}}, {"a": [1, 2, 3], "b": {"c": "1"}, "d": None}))
    assert [(c.path, c.old, c.new) for c in changes] == [("a[2]", MISSING, 3), ("b.c", 1, "1"), ("d", MISSING, None)]


def test_a_network_isolation_exemption_tag_appearing_is_security_relevant() -> None:
    """The tag the compiler writes and the Deny reads, however the path to it is named."""
    exempt = ValueChange(path="Arguments.Tags[2]", old=MISSING, new={"Key": NETWORK_ISOLATION_EXEMPTION_TAG, "Value": PIPELINE})
    other = ValueChange(path="Arguments.Tags[2]", old=MISSING, new={"Key": "Team", "Value": "ml"})
    assert exempt.security_relevant and not other.security_relevant
