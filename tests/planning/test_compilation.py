"""``compile_pipelines`` goes through the compile cache: the same synth with or without it, and no SDK when nothing changed."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

import app as cdk_app
from base.config import EnvironmentConfig
from pipeline_defs.loader import load_pipeline_modules
from planning.compilation import compile_pipelines
from planning.plan import plan_environment
from support.environments import PLAN_DAY, app_context

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = "planning tests seed, not a secret of any environment"


@pytest.fixture
def seeded(monkeypatch):
    monkeypatch.setenv("PIPELINE_DEFS_SIGNING_SEED", SEED)
    monkeypatch.delenv("PIPELINE_DEFS_NO_CACHE", raising=False)


def _synth(outdir: Path, compiled: tuple) -> list[Path]:
    app = cdk.App(outdir=str(outdir), context=app_context())
    cdk_app.add_environment(app=app, plan=plan_environment(today=PLAN_DAY, config=EnvironmentConfig(name="sandbox"), compiled=compiled))
    app.synth()
    return sorted(p.relative_to(outdir) for p in outdir.rglob("*") if p.is_file())


@pytest.mark.usefixtures("seeded")
def test_a_synth_from_the_cache_is_byte_identical_to_one_without_it(tmp_path, monkeypatch):
    config = EnvironmentConfig(name="sandbox")
    cache_dir = tmp_path / "cache"
    compile_pipelines(config=config, cache_dir=cache_dir)
    warm = compile_pipelines(config=config, cache_dir=cache_dir)
    monkeypatch.setenv("PIPELINE_DEFS_NO_CACHE", "1")
    uncached = compile_pipelines(config=config, cache_dir=cache_dir)
    with_cache = _synth(tmp_path / "with-cache", warm)
    without = _synth(tmp_path / "without", uncached)
    assert with_cache == without and any(p.suffix == ".json" for p in without)
    assert [str(p) for p in without if not filecmp.cmp(tmp_path / "with-cache" / p, tmp_path / "without" / p, shallow=False)] == []


@pytest.mark.usefixtures("seeded")
def test_compile_pipelines_takes_module_files_and_the_cache_directory(tmp_path):
    module = tmp_path / "only.py"
    module.write_text((REPO_ROOT / "pipeline_defs" / "pipelines" / "fan_out_parent.py").read_text())
    (compiled,) = compile_pipelines(config=EnvironmentConfig(name="sandbox"), module_paths=[module], cache_dir=tmp_path / "cache")
    assert compiled.pipeline_name == "smp-sandbox-fan-out-parent"
    assert [p.name for p in (tmp_path / "cache" / "sandbox").iterdir()] == ["only.json"]


def test_the_default_cache_is_in_the_checkout_and_ignored_by_git():
    from pipeline_defs.compiler.cache import DEFAULT_CACHE_DIR

    relative = DEFAULT_CACHE_DIR.relative_to(REPO_ROOT)
    assert relative.parts[0] == ".cache"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(relative / "sandbox" / "x.json")], cwd=REPO_ROOT)
    assert ignored.returncode == 0


@pytest.mark.usefixtures("seeded")
def test_planning_an_unchanged_environment_never_imports_the_sdk():
    """The synth path (settings, plan, schedules) with every pipeline served from the default cache."""
    compile_pipelines(config=EnvironmentConfig(name="sandbox"))
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        "from base.config import EnvironmentConfig\n"
        "from planning.plan import plan_environment\n"
        "from datetime import date\n"
        f"plan = plan_environment(today=date.fromisoformat({PLAN_DAY.isoformat()!r}), config=EnvironmentConfig(name='sandbox'))\n"
        "print(len(plan.pipelines), sorted(m for m in sys.modules if m.split('.')[0] in ('sagemaker', 'boto3', 'botocore')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(load_pipeline_modules())), "[]"]


def test_jobs_name_every_job_subnet_of_the_environment() -> None:
    from base.config import EnvironmentConfig, ExistingVpc
    from planning.compilation import build_context_for

    def subnets(config: EnvironmentConfig) -> tuple[str, ...]:
        return build_context_for(config=config).subnet_ids

    assert subnets(EnvironmentConfig(name="prod", account="111111111111", region="eu-west-1", max_azs=3)) == ("${SubnetId0}", "${SubnetId1}", "${SubnetId2}")
    # CDK gives an env-agnostic stage two zones, whatever maxAzs says.
    assert subnets(EnvironmentConfig(name="sandbox", max_azs=3)) == ("${SubnetId0}", "${SubnetId1}")
    existing = ExistingVpc(
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=tuple(f"subnet-0aaaaaaaaaaaaaaa{i}" for i in range(4)),
        security_group_ids=("sg-0bbbbbbbbbbbbbbb1",),
        availability_zones=tuple(f"eu-west-1{z}" for z in "abcd"),
    )
    assert len(subnets(EnvironmentConfig(name="shared", existing_vpc=existing))) == 4


def test_an_environment_with_an_account_is_refused_without_the_seed_before_anything_compiles(tmp_path, monkeypatch):
    from pipeline_defs.compiler.signing import SigningSeedError

    monkeypatch.delenv("PIPELINE_DEFS_SIGNING_SEED", raising=False)
    monkeypatch.delenv("PIPELINE_DEFS_DEVELOPMENT_SIGNING", raising=False)
    config = EnvironmentConfig(name="prod", account="111111111111", region="eu-west-1")
    with pytest.raises(SigningSeedError, match="environment 'prod' has an account and region"):
        compile_pipelines(config=config, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
