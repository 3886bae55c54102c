"""The outcome table of bulk access requests (services/reports/domain/__init__.py), both sides of
each rule: registry status by the buyer's existing request."""

from __future__ import annotations

import pytest

from services.reports.domain import bulk_access_outcome

CASES: list[tuple[str | None, str | None, str]] = [
    (None, None, "unknown"),
    (None, "approved", "unknown"),  # not in the registry (any more): nothing to say of it
    ("enrolled", None, "requested"),
    ("enrolled", "pending", "already_requested"),
    ("enrolled", "approved", "already_approved"),
    ("enrolled", "declined", "requested"),
    ("enrolled", "revoked", "requested"),
    ("registered", None, "not_enrolled"),
    ("registered", "declined", "not_enrolled"),
    ("withdrawn", "revoked", "not_enrolled"),
    ("withdrawn", "approved", "already_approved"),  # kept as it is
    ("registered", "pending", "already_requested"),
]


@pytest.mark.parametrize(("enrolment", "tpa", "outcome"), CASES)
def test_outcome(enrolment: str | None, tpa: str | None, outcome: str) -> None:
    assert bulk_access_outcome(enrolment_status=enrolment, tpa_status=tpa) == outcome
