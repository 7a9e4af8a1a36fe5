"""Pipeline DAGs as Mermaid, and the review files written beside the definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_defs.contract import CompiledPipeline, iter_steps
from pipeline_defs.mermaid import definition_to_mermaid
from planning.review_files import REVIEW_DIRECTORY, write_review_files
from tools.assembly import load_environments

CONDITIONAL = {
    "Steps": [
        {"Name": "Prepare", "Type": "Processing", "Arguments": {}},
        {
            "Name": "Train",
            "Type": "Training",
            "Arguments": {"Input": {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}},
        },
        {"Name": "Audit", "Type": "Lambda", "DependsOn": ["Prepare"], "Arguments": {}},
        {
            "Name": "Check",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {
                        "Type": "LessThanOrEqualTo",
                        "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Train.PropertyFiles.Report"}, "Path": "mse"}},
                        "RightValue": 6.0,
                    }
                ],
                "IfSteps": [
                    {"Name": "Register", "Type": "RegisterModel", "Arguments": {"Model": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}}
                ],
                "ElseSteps": [{"Name": "end", "Type": "Fail", "Arguments": {"ErrorMessage": "too \"bad\""}}],
            },
        },
    ]
}


def test_nodes_carry_step_types_and_condition_branches_are_labelled() -> None:
    assert definition_to_mermaid(CONDITIONAL) == (
        "flowchart TD\n"
        '  s0["Prepare<br/><i>Processing</i>"]\n'
        '  s1["Train<br/><i>Training</i>"]\n'
        '  s2["Audit<br/><i>Lambda</i>"]\n'
        '  s3{"Check<br/><i>Condition</i>"}\n'
        '  s4["Register<br/><i>RegisterModel</i>"]\n'
        '  s5(["end<br/><i>Fail</i>"])\n'
        "  s0 --> s1\n"
        "  s0 --> s2\n"
        "  s1 --> s3\n"
        "  s1 --> s4\n"
        "  s3 -->|if| s4\n"
        "  s3 -->|else| s5\n"
    )


def test_a_step_without_references_is_a_lone_node_and_unknown_references_are_ignored() -> None:
    text = definition_to_mermaid({"Steps": [{"Name": "Only", "Type": "Processing", "Arguments": {"X": {"Get": "Steps.Gone.Y"}}}]})
    assert text == 'flowchart TD\n  s0["Only<br/><i>Processing</i>"]\n'


def _compiled(name: str, definition: dict) -> CompiledPipeline:
    return CompiledPipeline(
        pipeline_name=name,
        module_pipeline_name=name,
        env_name="sandbox",
        definition=json.dumps(definition, sort_keys=True, separators=(",", ":")),
        staged_files={},
        manifest={},
        parameters=(),
        schedules=(),
        guardrail_exemptions=(),
        region="us-east-1",
        region_is_pinned=False,
        source_module=f"pipeline_defs/pipelines/{name}.py",
        placeholders_used=(),
        build_id="test",
        signing_key_development_only=True,
    )


@pytest.fixture(scope="module")
def synthesized_definitions(synth_dir: Path) -> dict[str, dict]:
    """Every sandbox definition as deployed (top-level steps in order, branches nested), from every stack of the session synth."""
    return {name: pipeline.definition for name, pipeline in load_environments(outdir=synth_dir)["sandbox"].pipelines().items()}


def test_every_step_of_the_shipped_pipelines_is_a_node(synthesized_definitions: dict[str, dict]) -> None:
    for name, definition in synthesized_definitions.items():
        text = definition_to_mermaid(definition)
        steps = [step["Name"] for step, _ in iter_steps(definition["Steps"])]
        nodes = [line for line in text.splitlines() if "<br/><i>" in line]
        assert len(nodes) == len(steps), name
        assert all(any(f'"{step}<br/>' in node for node in nodes) for step in steps), name
        assert text.startswith("flowchart TD\n") and text.endswith("\n")
    diagram = definition_to_mermaid(synthesized_definitions["smp-sandbox-train-evaluate-register"])
    assert '{"CheckMse<br/><i>Condition</i>"}' in diagram
    assert "-->|if|" in diagram and "-->|else|" in diagram


def test_review_files_are_byte_identical_and_replace_stale_ones(synthesized_definitions: dict[str, dict], tmp_path: Path) -> None:
    compiled = [_compiled(name, definition) for name, definition in synthesized_definitions.items()]
    (tmp_path / "a" / REVIEW_DIRECTORY).mkdir(parents=True)
    (tmp_path / "a" / REVIEW_DIRECTORY / "smp-sandbox-renamed.mmd").write_text("old")
    write_review_files(outdir=tmp_path / "a", compiled=compiled)
    write_review_files(outdir=tmp_path / "b", compiled=list(reversed(compiled)))
    first = {p.name: p.read_bytes() for p in (tmp_path / "a" / REVIEW_DIRECTORY).iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "b" / REVIEW_DIRECTORY).iterdir()}
    assert first == second
    assert sorted(first) == sorted(["index.md", *(f"{n}.json" for n in synthesized_definitions), *(f"{n}.mmd" for n in synthesized_definitions)])
    for name, definition in synthesized_definitions.items():
        assert json.loads(first[f"{name}.json"]) == definition
        assert first[f"{name}.mmd"].decode() == definition_to_mermaid(definition)
        assert f"## {name}\n\n```mermaid\nflowchart TD\n" in first["index.md"].decode()


def test_synth_writes_review_files_when_the_stage_calls_it(synth_dir: Path, synthesized_definitions: dict[str, dict]) -> None:
    directory = synth_dir / "assembly-sandbox" / REVIEW_DIRECTORY
    if not directory.exists():
        pytest.skip("stacks/stage.py does not call write_review_files yet")
    for name, definition in synthesized_definitions.items():
        assert json.loads((directory / f"{name}.json").read_text()) == definition
        assert (directory / f"{name}.mmd").read_text() == definition_to_mermaid(definition)
