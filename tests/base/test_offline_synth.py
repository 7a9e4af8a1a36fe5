"""The offline-synth recipe: what reaches the synthesizing process, and what never does."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.naming import DEVELOPMENT_SIGNING_ENV, SIGNING_SEED_ENV
from base.offline_synth import synth_environment

ROOT = Path(__file__).resolve().parents[2]


def test_neither_aws_credentials_nor_the_signing_seed_reach_an_unreviewed_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_SEED_ENV, "the real secret")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_PROFILE", "prod-admin")
    env = synth_environment(tree=ROOT, outdir=tmp_path / "out", workdir=tmp_path / "work", context={"environments": {}})
    assert SIGNING_SEED_ENV not in env
    # ... so it signs with the development key, whose stacks for an account refuse to deploy.
    assert env[DEVELOPMENT_SIGNING_ENV] == "1"
    assert not [k for k in env if k.startswith("AWS_") and k not in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED")]
    assert env["AWS_CONFIG_FILE"].startswith(str(tmp_path)) and env["AWS_SHARED_CREDENTIALS_FILE"].startswith(str(tmp_path))


def test_a_test_may_give_its_own_seed_explicitly(tmp_path: Path) -> None:
    env = synth_environment(tree=ROOT, outdir=tmp_path / "out", workdir=tmp_path / "work", context={}, extra_env={SIGNING_SEED_ENV: "tests only"})
    assert env[SIGNING_SEED_ENV] == "tests only"
