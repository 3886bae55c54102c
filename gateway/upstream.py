"""What the client is told when a service cannot be used: unreachable is 503, too slow
504, a reply that breaks the protocol 502. One mapping for the proxied call and for the
gateway's own fetch of a service's OpenAPI document (without which it cannot route)."""

from __future__ import annotations

import httpx

from shared.errors import ApiError

__all__ = ["BadGateway", "GatewayTimeout", "ServiceDown", "upstream_error"]


class BadGateway(ApiError):
    status = 502


class GatewayTimeout(ApiError):
    status = 504


class ServiceDown(ApiError):
    status = 503


def upstream_error(service: str, exc: BaseException | None) -> ApiError:
    if isinstance(exc, httpx.TimeoutException):
        return GatewayTimeout(f"The {service} service did not answer in time; try again.")
    if isinstance(exc, httpx.ConnectError) or exc is None:
        # Retry-After: a service that is restarting or shedding a replica is back in moments.
        return ServiceDown(
            f"The {service} service is not available right now; try again shortly.",
            headers={"Retry-After": "1"},
        )
    return BadGateway(f"The {service} service gave a reply that could not be read.")
