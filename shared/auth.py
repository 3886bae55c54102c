"""Tokens and the caller's identity.

Every service verifies the bearer token again even behind the gateway (defence in depth),
so reaching a service directly gains nothing. Service-to-service calls carry short-lived
`role: "service"` tokens signed with a separate key and audience; the gateway refuses them
and services accept them only on `/internal/...` routes.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, Unauthorized
from shared.settings import Settings

__all__ = [
    "ROLES",
    "SERVICE_AUDIENCE",
    "Advisor",
    "AnyRole",
    "Buyer",
    "BuyerOrAdvisor",
    "PartnerOrAdvisor",
    "Principal",
    "Role",
    "ServiceCaller",
    "TokenVerifier",
    "mint_service_token",
    "mint_token",
    "require",
]

Role = Literal["partner", "participant", "factory", "advisor"]
ROLES: Final = ("partner", "participant", "factory", "advisor")
SERVICE_ROLE: Final = "service"
SERVICE_ISSUER: Final = "betterwork-services"
SERVICE_AUDIENCE: Final = "betterwork-internal"
ASYMMETRIC_ALGORITHMS: Final = ["RS256", "ES256"]
REQUIRED_CLAIMS: Final = ["exp", "iss", "aud", "sub", "org", "role"]
ALL_COUNTRIES: Final = "*"


@dataclass(frozen=True, slots=True)
class Principal:
    user: str
    org: str
    role: str
    countries: tuple[str, ...] = ()

    @property
    def is_buyer(self) -> bool:
        return self.role in ("partner", "participant")

    def covers_country(self, country: str) -> bool:
        """Whether the `countries` claim names `country` (or "*"). Services apply the advisor
        country scope through `shared.scope`, which builds on this."""
        return ALL_COUNTRIES in self.countries or country.upper() in self.countries


def mint_token(
    settings: Settings,
    *,
    sub: str,
    org: str,
    role: str,
    countries: list[str] | None = None,
    ttl_s: int = 3600,
    **extra: Any,
) -> str:
    """A development/test token signed with BW_JWT_SECRET (HS256)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "org": org,
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
        **extra,
    }
    if countries is not None:
        claims["countries"] = countries
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def mint_service_token(settings: Settings, *, service: str, ttl_s: int = 300) -> str:
    now = int(time.time())
    claims = {
        "sub": f"service:{service}",
        "org": "betterwork",
        "role": SERVICE_ROLE,
        "iss": SERVICE_ISSUER,
        "aud": SERVICE_AUDIENCE,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.service_secret, algorithm="HS256")


class _JwksKeys:
    """Public keys by `kid` from a JWKS URL, refetched when an unknown `kid` appears
    (key rotation) at most every `min_refetch_s`, and in any case every `max_age_s`."""

    def __init__(
        self,
        url: str,
        *,
        min_refetch_s: float = 30.0,
        max_age_s: float = 600.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.transport = transport
        self.min_refetch_s = min_refetch_s
        self.max_age_s = max_age_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> Any:
        stale = time.monotonic() - self._fetched_at > self.max_age_s
        if stale or kid not in self._keys:
            async with self._lock:
                since = time.monotonic() - self._fetched_at
                if since > self.max_age_s or (kid not in self._keys and since > self.min_refetch_s):
                    await self._refresh()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if kid not in self._keys:
            raise Unauthorized("The token is signed with a key this service does not know.")
        return self._keys[kid]

    async def _refresh(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5.0, transport=self.transport) as client:
                reply = await client.get(self.url)
                reply.raise_for_status()
                jwks = jwt.PyJWKSet.from_dict(reply.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            if not self._keys:
                raise Unauthorized("The identity provider's keys could not be fetched.") from exc
            return  # keep serving with the keys we have
        self._keys = {k.key_id or "": k.key for k in jwks.keys}
        self._fetched_at = time.monotonic()


SERVICE_CACHE_PREFIX = "service "  # a space never occurs in a JWT


class TokenVerifier:
    """Verifies user tokens (HS256 by default, or RS256/ES256 when a public key or JWKS URL
    is configured, in which case HS256 is refused) and service tokens (HS256, own audience).

    Verified claims are cached by token string until they expire, so the hot path of a
    repeated token costs a dictionary look-up instead of a signature check.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        cache_size: int = 4096,
        jwks_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._jwks = (
            _JwksKeys(settings.jwt_jwks_url, transport=jwks_transport)
            if settings.jwt_jwks_url
            else None
        )
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._cache_size = cache_size

    async def verify_user(self, token: str) -> Principal:
        principal = self._cached(token)
        if principal is None:
            claims = await self._decode_user(token)
            principal = self._principal(claims)
            if principal.role == SERVICE_ROLE:
                raise Forbidden("Service tokens are not accepted here.")
            if principal.role not in ROLES:
                raise Forbidden(
                    f"The role {principal.role!r} is not known; expected one of {', '.join(ROLES)}."
                )
            self._remember(token, float(claims["exp"]), principal)
        return principal

    def verify_service(self, token: str) -> Principal:
        # Cached like user tokens, under a key no user token can take: a service reuses
        # its token for minutes, and every internal call would otherwise check it again.
        cached = self._cached(SERVICE_CACHE_PREFIX + token)
        if cached is not None:
            return cached
        try:
            claims = jwt.decode(
                token,
                self.settings.service_secret,
                algorithms=["HS256"],
                audience=SERVICE_AUDIENCE,
                issuer=SERVICE_ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The service token is not valid: {exc}.") from exc
        if claims.get("role") != SERVICE_ROLE:
            raise Forbidden("Only other Better Work services may call internal endpoints.")
        principal = self._principal(claims)
        self._remember(SERVICE_CACHE_PREFIX + token, float(claims["exp"]), principal)
        return principal

    async def _decode_user(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is malformed.") from exc
        settings = self.settings
        key: Any
        if self._jwks is not None:
            key, algorithms = await self._jwks.key_for(header.get("kid")), ASYMMETRIC_ALGORITHMS
        elif settings.jwt_public_key:
            key, algorithms = settings.jwt_public_key, ASYMMETRIC_ALGORITHMS
        else:
            key, algorithms = settings.jwt_secret, ["HS256"]
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The bearer token has expired; get a new one.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The bearer token is not valid: {exc}.") from exc
        for claim in ("sub", "org", "role"):
            if not isinstance(claims[claim], str) or not claims[claim]:
                raise Unauthorized(f"The token's {claim!r} claim must be a non-empty string.")
        return claims

    @staticmethod
    def _principal(claims: dict[str, Any]) -> Principal:
        countries = claims.get("countries") or ()
        if not isinstance(countries, list | tuple) or not all(
            isinstance(c, str) for c in countries
        ):
            raise Unauthorized("The token's 'countries' claim must be a list of country codes.")
        return Principal(
            user=str(claims["sub"]),
            org=str(claims["org"]),
            role=str(claims["role"]),
            countries=tuple(c.upper() for c in countries),
        )

    def _cached(self, token: str) -> Principal | None:
        hit = self._cache.get(token)
        if hit is None:
            return None
        expires_at, principal = hit
        if expires_at <= time.time():
            self._cache.pop(token, None)
            return None
        self._cache.move_to_end(token)
        return principal

    def _remember(self, token: str, expires_at: float, principal: Principal) -> None:
        self._cache[token] = (expires_at, principal)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


_bearer = HTTPBearer(auto_error=False, description="A JWT from the identity provider.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("Send a bearer token: 'Authorization: Bearer <jwt>'.")
    return credentials.credentials


async def current_principal(request: Request, credentials: Credentials) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify_user(_token(credentials))


def require(*roles: str) -> Any:
    """A dependency that yields the caller's Principal when it holds one of `roles`."""
    allowed = roles or ROLES

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"This endpoint is for the role(s) {', '.join(allowed)}; "
                f"your token has role {principal.role!r}."
            )
        return principal

    dependency.__roles__ = allowed  # type: ignore[attr-defined]  # read into OpenAPI x-roles
    return Depends(dependency)


async def service_caller(request: Request, credentials: Credentials) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify_service(_token(credentials))


AnyRole = Annotated[Principal, require(*ROLES)]
# The role sets several services guard endpoints with, one name each (a set only one
# service uses is named there). "Buyer" is a partner or a participant.
Advisor = Annotated[Principal, require("advisor")]
Buyer = Annotated[Principal, require("partner", "participant")]
BuyerOrAdvisor = Annotated[Principal, require("partner", "participant", "advisor")]
PartnerOrAdvisor = Annotated[Principal, require("partner", "advisor")]
ServiceCaller = Annotated[Principal, Depends(service_caller)]
