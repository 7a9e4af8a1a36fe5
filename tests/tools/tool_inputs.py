"""Inputs the command tests build themselves: a project with the tests' environments, cdk.out copies with one change."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from support.environments import ENVIRONMENTS

from base.naming import PIPELINE_RESOURCE_TYPE, pipeline_stack_name
from tools.assembly import load_environments

REVIEW_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
"""When the review tests say a review runs: the next runs of schedules count from it."""
PIPELINE = "smp-sandbox-train-evaluate-register"
PIPELINE_STACK = pipeline_stack_name(resource_prefix="smp-sandbox", module_pipeline_name="train-evaluate-register")
"""The own stack of :data:`PIPELINE`, whose role, policies and schedules are that pipeline's."""


def project_root(*, root: Path, environments: Mapping[str, Any] = ENVIRONMENTS) -> Path:
    """``root`` with a ``cdk.json`` naming ``environments`` (the tests' own, never the shipped ones)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": {"environments": dict(environments)}}))
    return root


def derive(synth_dir: Path, target: Path, edit: Callable[[dict[str, dict]], None] | None = None) -> Path:
    """A copy of the session synth without its assets; ``edit`` gets the sandbox templates by stack name."""
    shutil.copytree(synth_dir, target, ignore=shutil.ignore_patterns("asset.*", "tree.json"))
    if edit is not None:
        stacks = load_environments(outdir=target)["sandbox"].stacks
        templates = {name: stack.template for name, stack in stacks.items()}
        edit(templates)
        for name, stack in stacks.items():
            stack.template_path.write_text(json.dumps(templates[name]))
    return target


def pipeline_template(templates: dict[str, dict], name: str = PIPELINE) -> dict[str, Any]:
    """The template of the sandbox stack that deploys pipeline ``name``."""
    (template,) = (
        t
        for t in templates.values()
        for r in t.get("Resources", {}).values()
        if r["Type"] == PIPELINE_RESOURCE_TYPE and r["Properties"]["PipelineName"] == name
    )
    return template


def pipeline_properties(templates: dict[str, dict], name: str = PIPELINE) -> dict[str, Any]:
    """The properties of pipeline ``name``'s custom resource in its sandbox template."""
    return next(
        r["Properties"]
        for r in pipeline_template(templates, name)["Resources"].values()
        if r["Type"] == PIPELINE_RESOURCE_TYPE and r["Properties"]["PipelineName"] == name
    )


def edit_step(templates: dict[str, dict], step_name: str, change: Callable[[dict], None]) -> None:
    """Apply ``change`` to one step of the train-evaluate-register definition, in place."""
    steps = pipeline_properties(templates)["Definition"]["Steps"]
    sub = steps[step_name]["Fn::Sub"]
    step = json.loads(sub[0])
    change(step)
    sub[0] = json.dumps(step, sort_keys=True, separators=(",", ":"))


def edit_head(templates: dict[str, dict], change: Callable[[dict], None]) -> None:
    """Apply ``change`` to the head (parameters, settings) of the train-evaluate-register definition."""
    definition = pipeline_properties(templates)["Definition"]
    body = definition["Head"]["Fn::Sub"]
    head = json.loads(body[0] if isinstance(body, list) else body)
    change(head)
    text = json.dumps(head, sort_keys=True, separators=(",", ":"))
    if isinstance(body, list):
        body[0] = text
    else:
        definition["Head"]["Fn::Sub"] = text


def set_preprocess_instance_type(templates: dict[str, dict]) -> None:
    """The one-step security-relevant change most tests review: Preprocess on a bigger instance."""

    def change(step: dict) -> None:
        step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.c5.4xlarge"

    edit_step(templates, "Preprocess", change)
