"""Which seed signs ``@step`` payloads: a secret one for environments with an account, never the published one."""

from __future__ import annotations

import warnings

import pytest
from cryptography.hazmat.primitives import serialization

from base.errors import ExitCode
from base.naming import DEVELOPMENT_SIGNING_ENV, SIGNING_SEED_ENV
from pipeline_defs.compiler import signing

SEEDS = ("a" * 32, "b" * 32, "0123456789abcdef" * 4)


def _public(seed: bytes, pipeline: str = "smp-prod-train") -> bytes:
    key = signing.signing_key_for(seed=seed, pipeline_name=pipeline, development_only=False)
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_different_seeds_give_different_keys_and_none_is_the_development_key() -> None:
    development = _public(signing.DEVELOPMENT_SIGNING_SEED)
    keys = {_public(seed.encode()) for seed in SEEDS}
    assert len(keys) == len(SEEDS)
    assert development not in keys
    # One seed, two pipelines: two keys, so one pipeline's payload never verifies as another's.
    assert _public(SEEDS[0].encode(), "smp-prod-a") != _public(SEEDS[0].encode(), "smp-prod-b")


@pytest.fixture
def no_seed(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(SIGNING_SEED_ENV, raising=False)
    monkeypatch.delenv(DEVELOPMENT_SIGNING_ENV, raising=False)
    return monkeypatch


def test_an_environment_with_an_account_is_refused_without_the_seed(no_seed: pytest.MonkeyPatch) -> None:
    with pytest.raises(signing.SigningSeedError) as raised:
        signing.check_signing_seed(env_name="prod", env_agnostic=False)
    message = str(raised.value)
    assert "environment 'prod'" in message and SIGNING_SEED_ENV in message and f"{DEVELOPMENT_SIGNING_ENV}=1" in message
    assert raised.value.exit_code == ExitCode.BAD_INPUT


@pytest.mark.parametrize("value", ["", "0", "true", "yes"])
def test_only_an_explicit_1_asks_for_development_signing(no_seed: pytest.MonkeyPatch, value: str) -> None:
    no_seed.setenv(DEVELOPMENT_SIGNING_ENV, value)
    with pytest.raises(signing.SigningSeedError):
        signing.check_signing_seed(env_name="prod", env_agnostic=False)


def test_the_seed_or_development_signing_or_no_account_pass(no_seed: pytest.MonkeyPatch) -> None:
    signing.check_signing_seed(env_name="sandbox", env_agnostic=True)
    no_seed.setenv(DEVELOPMENT_SIGNING_ENV, "1")
    signing.check_signing_seed(env_name="prod", env_agnostic=False)
    no_seed.delenv(DEVELOPMENT_SIGNING_ENV)
    no_seed.setenv(SIGNING_SEED_ENV, SEEDS[0])
    signing.check_signing_seed(env_name="prod", env_agnostic=False)


def test_asked_for_development_signing_uses_the_published_seed_quietly(no_seed: pytest.MonkeyPatch) -> None:
    no_seed.setenv(DEVELOPMENT_SIGNING_ENV, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert signing.signing_seed_from_environment() == (signing.DEVELOPMENT_SIGNING_SEED, True)


def test_a_given_seed_wins_over_development_signing(no_seed: pytest.MonkeyPatch) -> None:
    no_seed.setenv(DEVELOPMENT_SIGNING_ENV, "1")
    no_seed.setenv(SIGNING_SEED_ENV, SEEDS[1])
    assert signing.signing_seed_from_environment() == (SEEDS[1].encode(), False)


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        ("x" * (signing.MIN_SEED_LENGTH - 1), f"{signing.MIN_SEED_LENGTH - 1} characters"),
        (signing.DEVELOPMENT_SIGNING_SEED.decode(), "the published development seed"),
    ],
)
def test_a_weak_or_published_seed_is_refused(no_seed: pytest.MonkeyPatch, seed: str, expected: str) -> None:
    no_seed.setenv(SIGNING_SEED_ENV, seed)
    with pytest.raises(signing.SigningSeedError, match=expected):
        signing.signing_seed_from_environment()


def test_a_seed_of_exactly_the_minimum_length_is_accepted(no_seed: pytest.MonkeyPatch) -> None:
    no_seed.setenv(SIGNING_SEED_ENV, "s" * signing.MIN_SEED_LENGTH)
    assert signing.signing_seed_from_environment() == (b"s" * signing.MIN_SEED_LENGTH, False)


def test_the_refusals_say_exactly_what_to_do(no_seed: pytest.MonkeyPatch) -> None:
    with pytest.raises(signing.SigningSeedError) as missing:
        signing.check_signing_seed(env_name="prod", env_agnostic=False)
    assert str(missing.value) == (
        "environment 'prod' has an account and region, and PIPELINE_DEFS_SIGNING_SEED is not set: its @step payloads "
        "are signed only with a secret seed. Set PIPELINE_DEFS_SIGNING_SEED from a secret (at least 32 characters, "
        "e.g. `openssl rand -hex 32`), or set PIPELINE_DEFS_DEVELOPMENT_SIGNING=1 (what `make synth` does without a "
        "seed) for an assembly signed with the published development key that CloudFormation refuses to deploy"
    )
    no_seed.setenv(SIGNING_SEED_ENV, "short")
    with pytest.raises(signing.SigningSeedError) as short:
        signing.signing_seed_from_environment()
    assert str(short.value) == (
        "PIPELINE_DEFS_SIGNING_SEED has 5 characters: a signing seed is a secret of at least 32 characters, "
        "e.g. `openssl rand -hex 32`"
    )
    no_seed.setenv(SIGNING_SEED_ENV, signing.DEVELOPMENT_SIGNING_SEED.decode())
    with pytest.raises(signing.SigningSeedError) as published:
        signing.signing_seed_from_environment()
    assert str(published.value).startswith(
        f"PIPELINE_DEFS_SIGNING_SEED has {len(signing.DEVELOPMENT_SIGNING_SEED)} characters and is the published development seed: "
    )
