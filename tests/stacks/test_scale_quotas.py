"""500 pipelines per environment fit every quota with 20% headroom, and a pipeline change stays in its stack.

Measured from small synths of cloned pipelines: the shared stacks' growth per pipeline, extrapolated
to 500, and each pipeline stack's own figures, which do not depend on how many pipelines exist.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import add_environment
from base.config import EnvironmentConfig
from planning.plan import plan_environment
from support.environments import PLAN_DAY, app_context
from tools.quotas import HEADROOM, QUOTA_BY_KEY, measure_assembly, stack_templates

PLANNED_PIPELINES = 500
CONFIG = EnvironmentConfig(name="scale", schedules_enabled=True)
SHARED_STACKS = ("smp-scale-guardrails", "smp-scale-network", "smp-scale-pipelines")


def _clone(item: Any, index: int, *, first_clone: dict[str, str]) -> Any:
    module = f"{item.module_pipeline_name}-{index:03d}"
    children = tuple(first_clone[child] for child in item.child_pipelines)  # every parent starts the first clone of its child
    return dataclasses.replace(
        item, pipeline_name=f"{CONFIG.resource_prefix}-{module}", module_pipeline_name=module, env_name=CONFIG.name, child_pipelines=children
    )


def _synth(outdir: Path, compiled: list[Any]) -> Path:
    app = cdk.App(outdir=str(outdir), context=app_context(environments={}))
    add_environment(app=app, plan=plan_environment(today=PLAN_DAY, config=CONFIG, compiled=compiled))
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def clones(sandbox_compiled: dict[str, Any]) -> list[Any]:
    ordered = [sandbox_compiled[name] for name in sorted(sandbox_compiled)]
    first_clone = {item.module_pipeline_name: f"{item.module_pipeline_name}-{i:03d}" for i, item in enumerate(ordered)}
    return [_clone(ordered[i % len(ordered)], i, first_clone=first_clone) for i in range(len(ordered) + 2)]


@pytest.fixture(scope="module")
def small_and_large(clones: list[Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, int, Path]:
    small = len(clones) - 2  # every example pipeline once, so both synths hold every kind of shared resource
    return (
        small, _synth(tmp_path_factory.mktemp("small"), clones[:small]),
        len(clones), _synth(tmp_path_factory.mktemp("large"), clones),
    )


def test_shared_stacks_extrapolated_to_500_pipelines_stay_within_headroom(small_and_large: tuple) -> None:
    small_count, small_dir, large_count, large_dir = small_and_large
    small, large = measure_assembly(outdir=small_dir), measure_assembly(outdir=large_dir)
    over = []
    for stack in SHARED_STACKS:
        for key, quota in QUOTA_BY_KEY.items():
            growth = (large[stack][key] - small[stack][key]) / (large_count - small_count)
            at_scale = large[stack][key] + growth * (PLANNED_PIPELINES - large_count)
            if at_scale > HEADROOM * quota.limit:
                over.append(f"{stack} {key}: {at_scale:.0f} at {PLANNED_PIPELINES} pipelines, quota {quota.limit}")
    assert over == []


def test_nothing_shared_grows_per_pipeline(small_and_large: tuple) -> None:
    """The shared templates are identical whatever the number of pipelines (no per-pipeline grants, statements, outputs)."""
    _, small_dir, _, large_dir = small_and_large
    small = {name: path.read_text() for name, path in stack_templates(outdir=small_dir) if name in SHARED_STACKS}
    large = {name: path.read_text() for name, path in stack_templates(outdir=large_dir) if name in SHARED_STACKS}
    assert sorted(small) == sorted(SHARED_STACKS)
    assert small == large


def test_every_pipeline_stack_stays_within_headroom(small_and_large: tuple) -> None:
    _, _, large_count, large_dir = small_and_large
    figures = measure_assembly(outdir=large_dir)
    pipeline_stacks = {name: f for name, f in figures.items() if name not in SHARED_STACKS}
    assert len(pipeline_stacks) == large_count
    over = {
        name: [key for key, value in f.items() if value > HEADROOM * QUOTA_BY_KEY[key].limit]
        for name, f in pipeline_stacks.items()
    }
    assert {name: keys for name, keys in over.items() if keys} == {}


def test_a_change_to_one_pipeline_changes_only_its_stack(small_and_large: tuple, clones: list[Any], tmp_path: Path) -> None:
    small_count, small_dir, _, _ = small_and_large
    changed = list(clones[:small_count])
    definition = json.loads(changed[0].definition)
    definition["Steps"][0]["Description"] = "changed"
    changed[0] = dataclasses.replace(changed[0], definition=json.dumps(definition, sort_keys=True, separators=(",", ":")))
    before = {name: path.read_text() for name, path in stack_templates(outdir=small_dir)}
    after = {name: path.read_text() for name, path in stack_templates(outdir=_synth(tmp_path, changed))}
    assert sorted(before) == sorted(after)
    assert [name for name in sorted(before) if before[name] != after[name]] == [f"smp-scale-pipeline-{changed[0].module_pipeline_name}"]
