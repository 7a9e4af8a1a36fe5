"""`make test` stays green after the steps the README tells a user to take.

A copy of the tree gets the README's new environment (its JSON example, verbatim), that
environment's availability zones in ``cdk.context.json``, a new pipeline module copied from the
one the README suggests, the README's schedule, and an override of it in ``cdk.json``; then the
checks that used to assert the shipped ``cdk.json`` or the shipped pipelines run in the copy.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from base.config import availability_zones_key, check_availability_zones, project_context, project_environments

ROOT = Path(__file__).resolve().parents[1]
NEW_PIPELINE = "my-pipeline"
CHECKS_THAT_USED_TO_BREAK = (
    "tests/base/test_config.py::test_the_projects_cdk_json_validates_whatever_environments_it_names",
    "tests/planning/test_schedule_plan.py::test_module_schedules_with_overrides",
)


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def readme_environment() -> tuple[str, dict]:
    """The environment the README's "Environments" section shows how to add."""
    block = re.search(r"To add one:\n\n```json\n(.*?)\n```", _readme(), re.S)
    assert block, "README.md no longer shows an environment to add"
    ((name, settings),) = json.loads("{" + block.group(1) + "}").items()
    return name, settings


def readme_schedule() -> tuple[str, str]:
    """The ``SCHEDULES = (...)`` line of the README's quickstart, and the schedule's name."""
    match = re.search(r"`(SCHEDULES = \(Schedule\(.*?\),\))`", _readme(), re.S)
    assert match, "README.md no longer shows a schedule to add"
    line = " ".join(match.group(1).split())
    return line, re.search(r'name="([^"]+)"', line).group(1)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project after the README's steps, in a temporary copy."""
    tree = tmp_path_factory.mktemp("readme-steps") / "project"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", ".venv-checkov", "node_modules", "cdk.out*", "__pycache__", ".pytest_cache"))
    name, settings = readme_environment()
    schedules, schedule = readme_schedule()
    settings = {**settings, "schedules": {NEW_PIPELINE: {schedule: {"enabled": True}}}}
    cdk_json = json.loads((tree / "cdk.json").read_text())
    cdk_json["context"]["environments"][name] = settings
    (tree / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
    lookups = tree / "cdk.context.json"
    cached = json.loads(lookups.read_text()) if lookups.exists() else {}
    region = settings["region"]
    cached[availability_zones_key(account=settings["account"], region=region)] = [f"{region}{z}" for z in "abc"]
    lookups.write_text(json.dumps(cached, indent=2))
    pipelines = tree / "pipeline_defs" / "pipelines"
    source = (pipelines / "lambda_data_passing.py").read_text()
    declarations = f'from pipeline_defs.schedules import Schedule\n\nPIPELINE_NAME = "{NEW_PIPELINE}"\n{schedules}'
    source = re.sub(r'^PIPELINE_NAME = ".*"$', declarations, source, count=1, flags=re.M)
    (pipelines / "my_pipeline.py").write_text(source)
    return tree


def test_the_readme_environment_pipeline_and_schedule_are_valid(tree: Path) -> None:
    from pipeline_defs.compiler import compile_environment
    from planning.compilation import build_context_for
    from planning.schedules import plan_schedules

    name, _ = readme_environment()
    environment = project_environments(root=tree)[name]
    check_availability_zones(environments=[environment], context=project_context(root=tree))
    (compiled,) = compile_environment(build_context_for(config=environment), module_paths=[tree / "pipeline_defs" / "pipelines" / "my_pipeline.py"])
    (planned,) = plan_schedules(config=environment, compiled=[compiled])
    assert (planned.resource_name, planned.deployed) == (f"smp-{name}-{NEW_PIPELINE}-{readme_schedule()[1]}", True)


def test_make_test_stays_green_after_the_readme_steps(tree: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKS_THAT_USED_TO_BREAK],
        cwd=tree, capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"{len(CHECKS_THAT_USED_TO_BREAK)} passed" in result.stdout
