"""One exception hierarchy, mapped once to RFC 9457 problem+json."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

from shared.requestid import current_request_id

__all__ = [
    "PROBLEM_JSON",
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "PaymentRequired",
    "ProblemResponse",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "Unprocessable",
    "problem_body",
    "problem_response",
]

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """An error a client can act on. `detail` is the sentence a person reads."""

    status: int = 500
    title: str | None = None  # defaults to the HTTP reason phrase
    type_slug: str = "about:blank"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}, **extra
        )


class PaymentRequired(ApiError):
    status = 402


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class Unprocessable(ApiError):
    status = 422


class TooManyRequests(ApiError):
    status = 429


class Unavailable(ApiError):
    status = 503


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return body


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    title: str | None = None,
    **extra: Any,
) -> ProblemResponse:
    return ProblemResponse(
        problem_body(status, detail, title=title, instance=instance, **extra),
        status_code=status,
        headers=headers,
    )
