"""The rule every service applies before it works with a factory: Better Work's services
(service cycles, report cycles, seminars) are for factories enrolled in the programme, that
is once registration and payment are complete. Pure: the caller brings the status."""

from __future__ import annotations

from shared.errors import Conflict

__all__ = ["ensure_enrolled"]

ENROL = "POST /v1/eligibility/factories/{id}/enrolment"


def ensure_enrolled(factory_id: str, status: str, *, service: str) -> None:
    """409 (rule `factory_enrolled`) unless the factory is enrolled; `service` says what
    waits for it ("a service cycle starts", …)."""
    if status != "enrolled":
        raise Conflict(
            f"Factory {factory_id} is {status!r}, not enrolled: {service} once registration "
            f"and payment are complete ({ENROL}).",
            rule="factory_enrolled",
        )
