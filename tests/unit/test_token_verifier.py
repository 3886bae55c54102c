"""RS256/ES256 verification from a public key or a JWKS URL, with key rotation; HS256
refused once an asymmetric key is configured (no algorithm confusion)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import TokenVerifier
from shared.errors import Forbidden, Unauthorized
from shared.settings import Settings


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "u",
        "org": "o",
        "role": "advisor",
        "iss": "betterwork-dev",
        "aud": "betterwork-api",
        "exp": now + 60,
        "countries": ["bd", "KH"],
        **extra,
    }


def _pem(private_key: Any) -> str:
    return str(
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _jwk(private_key: Any, kid: str) -> dict[str, Any]:
    algorithm = (
        jwt.algorithms.RSAAlgorithm
        if isinstance(private_key, rsa.RSAPrivateKey)
        else jwt.algorithms.ECAlgorithm
    )
    data: dict[str, Any] = json.loads(algorithm.to_jwk(private_key.public_key()))
    data["kid"] = kid
    return data


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


async def test_rs256_with_public_key() -> None:
    verifier = TokenVerifier(Settings(BW_JWT_PUBLIC_KEY=_pem(RSA_KEY)))
    principal = await verifier.verify_user(jwt.encode(_claims(), RSA_KEY, algorithm="RS256"))
    assert principal.role == "advisor"
    assert principal.countries == ("BD", "KH")
    assert principal.covers_country("bd") and not principal.covers_country("VN")


async def test_es256_with_public_key() -> None:
    verifier = TokenVerifier(Settings(BW_JWT_PUBLIC_KEY=_pem(EC_KEY)))
    principal = await verifier.verify_user(jwt.encode(_claims(), EC_KEY, algorithm="ES256"))
    assert principal.org == "o"


async def test_hs256_refused_when_public_key_configured() -> None:
    settings = Settings(BW_JWT_PUBLIC_KEY=_pem(RSA_KEY))
    verifier = TokenVerifier(settings)
    # Algorithm confusion: an HS256 token signed with the public key text as the secret.
    forged = jwt.encode(_claims(), _pem(RSA_KEY).encode()[:64], algorithm="HS256")
    with pytest.raises(Unauthorized):
        await verifier.verify_user(forged)
    with pytest.raises(Unauthorized):
        await verifier.verify_user(jwt.encode(_claims(), settings.jwt_secret, algorithm="HS256"))


async def test_jwks_with_key_rotation() -> None:
    old, new = rsa.generate_private_key(public_exponent=65537, key_size=2048), RSA_KEY
    served = {"keys": [_jwk(old, "k1")]}
    fetches = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal fetches
        fetches += 1
        return httpx.Response(200, json=served)

    verifier = TokenVerifier(
        Settings(BW_JWT_JWKS_URL="https://idp.example/jwks"),
        jwks_transport=httpx.MockTransport(handler),
    )
    verifier._jwks.min_refetch_s = 0  # type: ignore[union-attr]
    token_old = jwt.encode(_claims(), old, algorithm="RS256", headers={"kid": "k1"})
    assert (await verifier.verify_user(token_old)).user == "u"
    # The identity provider rotates: a token with an unknown kid triggers one refetch.
    served["keys"] = [_jwk(new, "k2"), _jwk(old, "k1")]
    token_new = jwt.encode(_claims(sub="u2"), new, algorithm="RS256", headers={"kid": "k2"})
    assert (await verifier.verify_user(token_new)).user == "u2"
    assert fetches == 2
    unknown = jwt.encode(_claims(), EC_KEY, algorithm="ES256", headers={"kid": "nope"})
    with pytest.raises(Unauthorized):
        await verifier.verify_user(unknown)


async def test_jwks_unreachable_is_401_not_500() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    verifier = TokenVerifier(
        Settings(BW_JWT_JWKS_URL="https://idp.example/jwks"),
        jwks_transport=httpx.MockTransport(handler),
    )
    with pytest.raises(Unauthorized):
        await verifier.verify_user(
            jwt.encode(_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "k"})
        )


async def test_verified_tokens_are_cached_until_expiry() -> None:
    settings = Settings(BW_JWT_SECRET="s" * 40)
    verifier = TokenVerifier(settings)
    token = jwt.encode(_claims(), settings.jwt_secret, algorithm="HS256")
    first = await verifier.verify_user(token)
    assert await verifier.verify_user(token) is first  # served from the cache
    verifier._cache[token] = (time.time() - 1, first)  # the cached entry has expired
    again = await verifier.verify_user(token)  # so it is verified afresh
    assert again == first and again is not first


async def test_service_role_in_user_token_is_forbidden() -> None:
    settings = Settings(BW_JWT_SECRET="s" * 40)
    with pytest.raises(Forbidden):
        await TokenVerifier(settings).verify_user(
            jwt.encode(_claims(role="service"), settings.jwt_secret, algorithm="HS256")
        )


def test_production_refuses_development_secrets() -> None:
    with pytest.raises(ValueError, match="BW_JWT_SECRET"):
        Settings(BW_ENV="production")
    with pytest.raises(ValueError, match="BW_SERVICE_TOKEN_SECRET"):
        Settings(BW_ENV="production", BW_JWT_SECRET="a-real-secret-" * 3)
    Settings(
        BW_ENV="production",
        BW_JWT_SECRET="a-real-secret-" * 3,
        BW_SERVICE_TOKEN_SECRET="other-" * 8,
    )
