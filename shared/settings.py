"""The configuration contract (ARCHITECTURE.md): every knob is an environment variable."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("eligibility", "billing", "reports", "cycles", "integrations")
ServiceName = Literal["eligibility", "billing", "reports", "cycles", "integrations"]
DEFAULT_PORTS: dict[str, int] = {
    "eligibility": 8001,
    "billing": 8002,
    "reports": 8003,
    "cycles": 8004,
    "integrations": 8005,
}

# Known only so that `make run` works out of the box; refused outside development.
DEV_JWT_SECRET = "dev-only-insecure-secret-change-me-0123456789"  # noqa: S105

log = logging.getLogger("betterwork.settings")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = Field(
        "development", validation_alias="BW_ENV"
    )
    jwt_secret: str = Field(DEV_JWT_SECRET, validation_alias="BW_JWT_SECRET")
    jwt_public_key: str | None = Field(None, validation_alias="BW_JWT_PUBLIC_KEY")
    jwt_jwks_url: str | None = Field(None, validation_alias="BW_JWT_JWKS_URL")
    jwt_issuer: str = Field("betterwork-dev", validation_alias="BW_JWT_ISSUER")
    jwt_audience: str = Field("betterwork-api", validation_alias="BW_JWT_AUDIENCE")
    # Service-to-service tokens are always HS256 with this key (never accepted by the gateway).
    service_token_secret: str | None = Field(None, validation_alias="BW_SERVICE_TOKEN_SECRET")
    # Signs pagination cursors (shared/pagination.py). Unset: derived from the service token
    # secret, so every replica of a service agrees without one more secret to deploy.
    cursor_secret: str | None = Field(None, validation_alias="BW_CURSOR_SECRET")

    eligibility_database_url: str = Field(
        "sqlite+aiosqlite:///var/eligibility.db", validation_alias="ELIGIBILITY_DATABASE_URL"
    )
    billing_database_url: str = Field(
        "sqlite+aiosqlite:///var/billing.db", validation_alias="BILLING_DATABASE_URL"
    )
    reports_database_url: str = Field(
        "sqlite+aiosqlite:///var/reports.db", validation_alias="REPORTS_DATABASE_URL"
    )
    cycles_database_url: str = Field(
        "sqlite+aiosqlite:///var/cycles.db", validation_alias="CYCLES_DATABASE_URL"
    )
    integrations_database_url: str = Field(
        "sqlite+aiosqlite:///var/integrations.db", validation_alias="INTEGRATIONS_DATABASE_URL"
    )

    eligibility_url: str = Field("http://127.0.0.1:8001", validation_alias="ELIGIBILITY_URL")
    billing_url: str = Field("http://127.0.0.1:8002", validation_alias="BILLING_URL")
    reports_url: str = Field("http://127.0.0.1:8003", validation_alias="REPORTS_URL")
    cycles_url: str = Field("http://127.0.0.1:8004", validation_alias="CYCLES_URL")
    integrations_url: str = Field("http://127.0.0.1:8005", validation_alias="INTEGRATIONS_URL")
    gateway_port: int = Field(8000, validation_alias="BW_GATEWAY_PORT")

    # Gateway limits.
    rate_limit_per_minute: int = Field(600, ge=1, validation_alias="BW_RATE_LIMIT_PER_MINUTE")
    rate_limit_burst: int = Field(120, ge=1, validation_alias="BW_RATE_LIMIT_BURST")
    redis_url: str | None = Field(None, validation_alias="BW_REDIS_URL")
    # Reports' supplier search (GET /v1/reports/suppliers), per organisation, on top of the
    # gateway's limit: a search reads the registry, so it is kept well below the general budget.
    supplier_search_per_minute: int = Field(
        60, ge=1, validation_alias="BW_SUPPLIER_SEARCH_PER_MINUTE"
    )
    supplier_search_burst: int = Field(20, ge=1, validation_alias="BW_SUPPLIER_SEARCH_BURST")
    upstream_timeout_s: float = Field(30.0, gt=0, validation_alias="BW_UPSTREAM_TIMEOUT")
    # Bodies above this are refused with 413 (a 50,000-row CSV is about 6 MB).
    max_body_bytes: int = Field(20 * 1024 * 1024, ge=1024, validation_alias="BW_MAX_BODY_BYTES")
    max_header_bytes: int = Field(16 * 1024, ge=1024, validation_alias="BW_MAX_HEADER_BYTES")
    # Peers whose X-Forwarded-For the gateway believes (comma-separated IPs or CIDRs): the
    # load balancer or ingress in front of it. None by default: the client is the peer.
    trusted_proxies: str = Field("", validation_alias="BW_TRUSTED_PROXIES")

    # Service-to-service HTTP.
    http_timeout_s: float = Field(5.0, gt=0, validation_alias="BW_HTTP_TIMEOUT")
    http_retries: int = Field(2, ge=0, validation_alias="BW_HTTP_RETRIES")
    # Database connections each process keeps (pool) and may open beyond them (overflow,
    # closed again when returned). Under a steady load above the pool, the overflow churns:
    # opening a connection costs far more than the queries a request makes on it, so size
    # the pool for the load (and the server's max_connections, or PgBouncer, for the sum).
    db_pool_size: int = Field(10, ge=1, validation_alias="BW_DB_POOL_SIZE")
    db_max_overflow: int = Field(20, ge=0, validation_alias="BW_DB_MAX_OVERFLOW")
    # The database URLs lead to PgBouncer in transaction pooling (deploy/k8s): no prepared
    # statement cache (shared.db.PGBOUNCER_CONNECT_ARGS).
    db_pgbouncer: bool = Field(False, validation_alias="BW_DB_PGBOUNCER")
    # How long an unlock attempt holds its pending unlock before another attempt (or the
    # recovery sweep) may take it over: longer than an attempt's billing calls can take.
    unlock_lease_s: float = Field(30.0, gt=0, validation_alias="BW_UNLOCK_LEASE_SECONDS")
    # A factory list being scoped is leased to one process, renewed every third of this
    # while it works: a list whose process died is taken over this long after its last
    # renewal, by the sweep every replica runs every `list_sweep_s` (0: no sweep, tests).
    list_lease_s: float = Field(30.0, gt=0, validation_alias="BW_LIST_LEASE_SECONDS")
    list_sweep_s: float = Field(5.0, ge=0, validation_alias="BW_LIST_SWEEP_SECONDS")
    # How often integrations looks for new events when the last look found none; 0 turns
    # the background puller off (tests take events in themselves).
    events_poll_s: float = Field(0.2, ge=0, validation_alias="BW_EVENTS_POLL_SECONDS")

    log_level: str = Field("INFO", validation_alias="BW_LOG_LEVEL")
    # `/metrics` (Prometheus) on each process's own port; never routed by the gateway.
    metrics_enabled: bool = Field(True, validation_alias="BW_METRICS_ENABLED")
    # On SIGTERM: fail /readyz and keep serving for `drain` seconds (so the load balancer
    # stops sending), then stop accepting and give in-flight requests and background rounds
    # up to `grace` seconds to finish (keep it under Kubernetes' terminationGracePeriodSeconds).
    shutdown_drain_s: float = Field(0.0, ge=0, validation_alias="BW_SHUTDOWN_DRAIN_SECONDS")
    shutdown_grace_s: float = Field(20.0, ge=0, validation_alias="BW_SHUTDOWN_GRACE_SECONDS")

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_development(self) -> Settings:
        if self.environment != "production":
            return self
        problems = []
        if self.uses_hs256 and self.jwt_secret == DEV_JWT_SECRET:
            problems.append("BW_JWT_SECRET (or BW_JWT_PUBLIC_KEY / BW_JWT_JWKS_URL)")
        if self.service_token_secret in (None, DEV_JWT_SECRET):
            problems.append("BW_SERVICE_TOKEN_SECRET")
        if self.cursor_secret == DEV_JWT_SECRET:
            problems.append("BW_CURSOR_SECRET (or leave it unset)")
        if problems:
            raise ValueError(f"BW_ENV=production needs real secrets: set {', '.join(problems)}")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_addresses(cls, value: str) -> str:
        # uvicorn would take a mistyped entry as a host name and silently trust nothing
        # (or, with "*", everyone); refuse both at start instead.
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"BW_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network "
                    "(write 0.0.0.0/0,::/0 to trust every peer, which is never safe on a "
                    "public address)"
                ) from None
        return ",".join(entries)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @property
    def uses_hs256(self) -> bool:
        return not (self.jwt_public_key or self.jwt_jwks_url)

    @property
    def service_secret(self) -> str:
        return self.service_token_secret or self.jwt_secret

    @property
    def cursor_key(self) -> bytes:
        """The HMAC key of pagination cursors, derived rather than the secret itself: when
        it comes from the service token secret, a cursor's tag is never a valid signature
        of anything else made with that secret."""
        secret = (self.cursor_secret or self.service_secret).encode()
        return hmac.new(secret, b"betterwork pagination cursor v1", hashlib.sha256).digest()

    def database_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_database_url"))

    def service_urls(self, service: str) -> list[str]:
        """The base URL of each of the service's replicas (`shared.replicas`): the setting
        may list several, comma-separated."""
        value = str(getattr(self, f"{service}_url"))
        return [url.strip().rstrip("/") for url in value.split(",") if url.strip()]

    def service_url(self, service: str) -> str:
        """The service's first (usually only) base URL."""
        return self.service_urls(service)[0]

    def warn_if_insecure(self) -> None:
        if self.uses_hs256 and self.jwt_secret == DEV_JWT_SECRET:
            log.warning(
                "using the built-in development JWT secret; set BW_JWT_SECRET outside development"
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
