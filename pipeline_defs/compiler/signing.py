"""The ``@step`` payload signing key, derived per pipeline from a secret seed given at synth.

The SDK would generate a new key per build (so staged payloads and definitions change every
time); a key derived from the seed keeps builds byte-identical, and a committed seed would let
anyone who can write the artifact bucket forge payloads, so the seed comes from the environment.
"""

from __future__ import annotations

import os
import warnings

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from base.errors import UserError
from base.naming import DEVELOPMENT_SIGNING_ENV
from pipeline_defs.contract import SIGNING_SEED_ENV

DEVELOPMENT_SIGNING_SEED = b"pipeline_defs development-only seed; published, not secret"
MIN_SEED_LENGTH = 32
"""Characters a real seed needs (``openssl rand -hex 32`` gives 64): a short one could be guessed."""
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class DeterministicSigningKey:
    """An EC P-256 key whose signatures are deterministic (RFC 6979), as the SDK's key API.

    The SDK signs ``@step`` payloads with ``key.sign(data, ECDSA(SHA256))`` and publishes
    ``key.public_key()`` in the definition; OpenSSL's default ECDSA nonce is random, which would
    change the staged ``metadata.json`` on every build.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, *, development_only: bool) -> None:
        self._private_key = private_key
        self.development_only = development_only

    def sign(self, data: bytes, signature_algorithm: ec.ECDSA) -> bytes:
        return self._private_key.sign(
            data, ec.ECDSA(signature_algorithm.algorithm, deterministic_signing=True)
        )

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._private_key.public_key()


class SigningSeedError(UserError):
    """The seed is missing where only a secret one may sign, or too weak to be one."""


def development_signing_requested() -> bool:
    """Whether the synth was asked, explicitly, to sign with the published development key."""
    return os.environ.get(DEVELOPMENT_SIGNING_ENV, "") == "1"


def check_signing_seed(*, env_name: str, env_agnostic: bool) -> None:
    """Refuse to sign an environment with an account with the published key unless asked to.

    An env-agnostic environment is a developer's sandbox: the development key is its key. An
    environment with an account is shared: its payloads are signed with the secret seed, or, when
    :data:`DEVELOPMENT_SIGNING_ENV` is ``1`` (a review, the tests, ``make synth`` on a laptop), with
    the development key in stacks that CloudFormation refuses to deploy.
    """
    if os.environ.get(SIGNING_SEED_ENV) or env_agnostic or development_signing_requested():
        return
    raise SigningSeedError(
        f"environment '{env_name}' has an account and region, and {SIGNING_SEED_ENV} is not set: its @step "
        f"payloads are signed only with a secret seed. Set {SIGNING_SEED_ENV} from a secret (at least "
        f"{MIN_SEED_LENGTH} characters, e.g. `openssl rand -hex 32`), or set {DEVELOPMENT_SIGNING_ENV}=1 "
        "(what `make synth` does without a seed) for an assembly signed with the published development "
        "key that CloudFormation refuses to deploy"
    )


def signing_seed_from_environment() -> tuple[bytes, bool]:
    """The synth-time seed and whether it is the development-only fallback (warns unless asked for)."""
    seed = os.environ.get(SIGNING_SEED_ENV, "")
    if seed:
        if len(seed) < MIN_SEED_LENGTH or seed.encode("utf-8") == DEVELOPMENT_SIGNING_SEED:
            raise SigningSeedError(
                f"{SIGNING_SEED_ENV} has {len(seed)} characters"
                + (" and is the published development seed" if seed.encode("utf-8") == DEVELOPMENT_SIGNING_SEED else "")
                + f": a signing seed is a secret of at least {MIN_SEED_LENGTH} characters, e.g. `openssl rand -hex 32`"
            )
        return seed.encode("utf-8"), False
    if development_signing_requested():
        return DEVELOPMENT_SIGNING_SEED, True
    message = (
        f"{SIGNING_SEED_ENV} is not set: @step payloads are signed with a DEVELOPMENT-ONLY key "
        "derived from a published seed. Anyone who can write the artifact bucket could forge "
        "them. Set the seed from a secret at synth for any shared environment."
    )
    warnings.warn(message, stacklevel=2)
    return DEVELOPMENT_SIGNING_SEED, True


def signing_key_for(*, seed: bytes, pipeline_name: str, development_only: bool) -> DeterministicSigningKey:
    """Derive the pipeline's ``@step`` signing key from the seed (HKDF-SHA256, per pipeline)."""
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=48,
        salt=b"pipeline_defs/step-signing/v1",
        info=pipeline_name.encode("utf-8"),
    ).derive(seed)
    scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
    return DeterministicSigningKey(
        ec.derive_private_key(scalar, ec.SECP256R1()), development_only=development_only
    )
