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

from pipeline_defs.contract import SIGNING_SEED_ENV

DEVELOPMENT_SIGNING_SEED = b"pipeline_defs development-only seed; published, not secret"
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


def signing_seed_from_environment() -> tuple[bytes, bool]:
    """The synth-time seed and whether it is the development-only fallback (warns loudly)."""
    seed = os.environ.get(SIGNING_SEED_ENV, "")
    if seed:
        return seed.encode("utf-8"), False
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
