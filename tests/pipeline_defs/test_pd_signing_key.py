"""The ``@step`` payload signing key: the same seed and pipeline give the same key in every release
(builds stay byte-identical, and review shows no change where none was made), each pipeline and seed
its own, signatures that verify and repeat, and a loud development-only fallback without a seed."""

from __future__ import annotations

import warnings

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pipeline_defs.compiler import signing

SEED = b"a reviewed main-branch seed"
PIPELINE = "smp-prod-train-evaluate-register"
# The public key this seed and pipeline gave when the derivation was introduced.
PUBLISHED = "0446762b139eb239805e27a6aa43d7574b989f2ce3930ecbaca5db2d3f9d2b68f2c49d6a29888c53daef3cf79586468f797747964de8f1ee35a8b83dd3c9f6e6ae"


def _public(key: signing.DeterministicSigningKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint).hex()


def test_a_seed_and_pipeline_give_the_same_key_in_every_release() -> None:
    assert _public(signing.signing_key_for(seed=SEED, pipeline_name=PIPELINE, development_only=False)) == PUBLISHED


def test_each_pipeline_and_each_seed_get_their_own_key() -> None:
    keys = {
        _public(signing.signing_key_for(seed=seed, pipeline_name=name, development_only=False))
        for seed in (SEED, SEED + b"!", b"")
        for name in (PIPELINE, PIPELINE + "-2", "")
    }
    assert len(keys) == 9


def test_signatures_repeat_and_verify_only_for_their_data() -> None:
    key = signing.signing_key_for(seed=SEED, pipeline_name=PIPELINE, development_only=False)
    signature = key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    assert signature == key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    key.public_key().verify(signature, b"payload", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, b"payload!", ec.ECDSA(hashes.SHA256()))
    other = signing.signing_key_for(seed=SEED, pipeline_name=PIPELINE + "-2", development_only=False)
    with pytest.raises(InvalidSignature):
        other.public_key().verify(signature, b"payload", ec.ECDSA(hashes.SHA256()))


def test_the_signature_uses_the_hash_the_sdk_asks_for() -> None:
    key = signing.signing_key_for(seed=SEED, pipeline_name=PIPELINE, development_only=False)
    signature = key.sign(b"payload", ec.ECDSA(hashes.SHA384()))
    key.public_key().verify(signature, b"payload", ec.ECDSA(hashes.SHA384()))
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, b"payload", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("development_only", [True, False])
def test_the_key_says_whether_it_is_development_only(development_only: bool) -> None:
    assert signing.signing_key_for(seed=SEED, pipeline_name=PIPELINE, development_only=development_only).development_only is development_only


def test_a_seed_from_the_environment_is_used_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = "sécret, long enough to be a real seed: 0123456789"
    monkeypatch.setenv(signing.SIGNING_SEED_ENV, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert signing.signing_seed_from_environment() == (seed.encode("utf-8"), False)


@pytest.mark.parametrize("value", [None, ""])
def test_without_a_seed_the_published_one_is_used_with_a_warning_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    monkeypatch.delenv(signing.DEVELOPMENT_SIGNING_ENV, raising=False)  # asked for explicitly, it is quiet
    if value is None:
        monkeypatch.delenv(signing.SIGNING_SEED_ENV, raising=False)
    else:
        monkeypatch.setenv(signing.SIGNING_SEED_ENV, value)
    with pytest.warns(UserWarning) as caught:
        assert signing.signing_seed_from_environment() == (signing.DEVELOPMENT_SIGNING_SEED, True)
    (warning,) = caught
    assert str(warning.message) == (
        f"{signing.SIGNING_SEED_ENV} is not set: @step payloads are signed with a DEVELOPMENT-ONLY key derived from a published seed. "
        "Anyone who can write the artifact bucket could forge them. Set the seed from a secret at synth for any shared environment."
    )
