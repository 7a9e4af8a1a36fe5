"""The review command: comparisons of the session synth with copies that carry one deliberate change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from stacks import review
from stacks.review_assembly import load_environments
from stacks.review_diff import MISSING, Review, compare_outputs, value_changes
from stacks.review_render import render_markdown, render_plain
from stacks.review_synth import cdk_security_table, security_tables

PIPELINE = "smp-sandbox-train-evaluate-register"


def _derive(synth_dir: Path, target: Path, edit: Callable[[dict[str, dict]], None] | None = None) -> Path:
    """A copy of the session synth without its assets; ``edit`` gets the sandbox templates by stack suffix."""
    shutil.copytree(synth_dir, target, ignore=shutil.ignore_patterns("asset.*", "tree.json"))
    if edit is not None:
        paths = {p.name: p for p in (target / "assembly-sandbox").glob("*.template.json")}
        templates = {name: json.loads(path.read_text()) for name, path in paths.items()}
        by_stack = {suffix: t for name, t in templates.items() for suffix in ("Guardrails", "Network", "Pipelines") if suffix in name}
        edit(by_stack)
        for name, path in paths.items():
            path.write_text(json.dumps(templates[name]))
    return target


def _pipeline(templates: dict[str, dict], name: str = PIPELINE) -> dict[str, Any]:
    return next(
        r["Properties"]
        for r in templates["Pipelines"]["Resources"].values()
        if r["Type"] == "Custom::SageMakerPipeline" and r["Properties"]["PipelineName"] == name
    )


def _edit_step(templates: dict[str, dict], step_name: str, change: Callable[[dict], None]) -> None:
    steps = _pipeline(templates)["Definition"]["Steps"]
    sub = steps[step_name]["Fn::Sub"]
    step = json.loads(sub[0])
    change(step)
    sub[0] = json.dumps(step, sort_keys=True, separators=(",", ":"))


def _edit_head(templates: dict[str, dict], change: Callable[[dict], None]) -> None:
    definition = _pipeline(templates)["Definition"]
    body = definition["Head"]["Fn::Sub"]
    head = json.loads(body[0] if isinstance(body, list) else body)
    change(head)
    text = json.dumps(head, sort_keys=True, separators=(",", ":"))
    if isinstance(body, list):
        body[0] = text
    else:
        definition["Head"]["Fn::Sub"] = text


def _review(synth_dir: Path, head: Path) -> Review:
    return compare_outputs(
        old=load_environments(outdir=synth_dir), new=load_environments(outdir=head), base="base", head="head"
    )


def _set_instance_type(step: dict) -> None:
    step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.c5.4xlarge"


@pytest.fixture(scope="module")
def instance_type_change(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _derive(synth_dir, tmp_path_factory.mktemp("review") / "head.out", lambda t: _edit_step(t, "Preprocess", _set_instance_type))


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
        _edit_step(templates, "Preprocess", lambda s: s.update(DisplayName="Split the abalone data"))

    result = _review(synth_dir, _derive(synth_dir, tmp_path / "head.out", edit))
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

        _edit_head(templates, change)

    result = _review(synth_dir, _derive(synth_dir, tmp_path / "head.out", edit))
    sandbox = result.environments[1]
    (pipeline,) = sandbox.pipelines_changed
    assert pipeline.parameters[0] == "+ parameter Epochs (Integer, default 3)"
    assert pipeline.parameters[1].startswith("~ parameter TrainingInstanceType: DefaultValue ")
    assert pipeline.parameters[1].endswith('→ "ml.p4d.24xlarge"')
    assert [f.where for f in sandbox.security] == [f"{PIPELINE} parameter TrainingInstanceType"]


def test_steps_and_pipelines_added_or_removed(synth_dir: Path, tmp_path: Path) -> None:
    def edit(templates: dict) -> None:
        definition = _pipeline(templates)["Definition"]
        definition["StepOrder"].remove("Preprocess")
        del definition["Steps"]["Preprocess"]
        resources = templates["Pipelines"]["Resources"]
        other = next(k for k, r in resources.items() if r["Type"] == "Custom::SageMakerPipeline" and r["Properties"]["PipelineName"] != PIPELINE)
        removed = resources.pop(other)["Properties"]["PipelineName"]
        edit.removed = removed

    result = _review(synth_dir, _derive(synth_dir, tmp_path / "head.out", edit))
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

    head = _derive(synth_dir, tmp_path / "head.out", edit)
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
    base = _derive(synth_dir, tmp_path / "base.out", lambda t: t["Pipelines"]["Resources"].update(Nightly=rule))
    changed = json.loads(json.dumps(rule))
    changed["Properties"]["ScheduleExpression"] = "cron(0 4 ? * MON *)"
    head = _derive(synth_dir, tmp_path / "head.out", lambda t: t["Pipelines"]["Resources"].update(Nightly=changed))
    result = compare_outputs(old=load_environments(outdir=base), new=load_environments(outdir=head), base="a", head="b")
    assert result.environments[1].schedules == (
        "~ AWS::Events::Rule Nightly (smp-sandbox-pipelines): Properties.ScheduleExpression",
        '    Properties.ScheduleExpression: "cron(0 3 ? * MON *)" → "cron(0 4 ? * MON *)"',
    )
    assert not result.security_relevant


def test_value_changes_paths_cover_lists_types_and_absence() -> None:
    changes = list(value_changes({"a": [1, 2], "b": {"c": 1}}, {"a": [1, 2, 3], "b": {"c": "1"}, "d": None}))
    assert [(c.path, c.old, c.new) for c in changes] == [("a[2]", MISSING, 3), ("b.c", 1, "1"), ("d", MISSING, None)]


def test_cdk_security_tables_are_cut_from_the_diff_banner() -> None:
    text = "Stack x\nIAM Statement Changes\n│ + │ s3:* │\n\n(NOTE: There may be ...)\nResources\n[~] AWS::IAM::Policy"
    assert security_tables(text=text) == "IAM Statement Changes\n│ + │ s3:* │"


def test_unknown_base_ref_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert review.main(["--base", "no-such-ref-anywhere"]) == 2
    assert "--base 'no-such-ref-anywhere' is not a commit" in capsys.readouterr().err


def test_head_outdir_must_be_an_assembly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert review.main(["--base", "HEAD", "--head-outdir", str(tmp_path)]) == 2
    assert "has no manifest.json" in capsys.readouterr().err


def test_git_path_synthesizes_the_base_ref_in_a_temporary_tree(synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """End to end through ``git archive`` of HEAD (the working tree side reuses the session synth)."""
    code = review.main(["--base", "HEAD", "--head-outdir", str(synth_dir), "--no-cdk-tables"])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert captured.out.startswith("review HEAD → working tree\n")
    assert captured.out.rstrip().splitlines()[-1].startswith("security-relevant changes:")
    assert code == (1 if "YES" in captured.out.splitlines()[-1] else 0)
