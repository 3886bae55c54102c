"""Which releases the cycles service asks reports about: only those that can count yet."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.cycles.api.replies import releases_that_count
from services.cycles.models import Cycle, Visit, plan_of

D = date.fromisoformat


def cycle(*, skipped: bool = False) -> Cycle:
    return Cycle(
        id="cyc_1",
        factory_id="f",
        number=1,
        country="BD",
        start_date=D("2025-01-15"),
        end_date=D("2026-01-14"),
        assessment_skipped=skipped,
        training_participant_days=20,
        schedule_rules="2026-11-29",
        released_documents=[],
        opened_by="u",
        opened_at=datetime.now(UTC),
    )


def assessment(status: str) -> Visit:
    return Visit(
        id="vis_1",
        cycle_id="cyc_1",
        factory_id="f",
        country="BD",
        type="assessment",
        status=status,
        date=D("2025-04-25"),
        end_date=D("2025-04-26"),
        requested_by="u",
        created_at=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("today", "visits", "kinds"),
    [
        ("2025-04-30", [], set()),  # month 4, nothing held: no call at all
        ("2025-04-30", ["scheduled"], set()),
        ("2025-04-30", ["completed"], {"assessment"}),
        ("2025-05-15", [], {"progress_report_1"}),  # month 5 opens
        ("2025-11-15", ["completed"], {"assessment", "progress_report_1", "progress_report_2"}),
    ],
)
def testreleases_that_count(today: str, visits: list[str], kinds: set[str]) -> None:
    found = releases_that_count(cycle(), [assessment(s) for s in visits], D(today))
    assert found == kinds


def test_no_assessment_report_in_a_skipped_cycle() -> None:
    assert (
        releases_that_count(cycle(skipped=True), [assessment("completed")], D("2025-05-01"))
        == set()
    )


@pytest.mark.parametrize(("version", "window_end"), [("2024-01-01", 6), ("2026-11-29", 5)])
def test_a_cycle_is_planned_by_the_rules_it_was_opened_with(version: str, window_end: int) -> None:
    stored = cycle()
    stored.schedule_rules = version
    plan = plan_of(stored)
    assert plan.rules.cycle.version == version
    assert plan.assessment_latest == date(2025, window_end, 14)
