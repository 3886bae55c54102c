"""The milestone alert plan (pure): two alerts per milestone, on the right days, none for a
skipped assessment; past moments settled on a backfill; the scheduler's setting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

import pytest

from services.cycles import events, jobs
from services.cycles.domain.schedule import MILESTONE_CODES
from services.cycles.domain.visibility import Audience
from services.cycles.models import Cycle, Visit
from shared.settings import Settings

Environment = Literal["development", "test", "production"]


def cycle(*, skipped: bool = False) -> Cycle:
    return Cycle(
        id="cyc_1",
        factory_id="fac_1",
        number=2,
        country="BD",
        start_date=date(2025, 1, 15),
        end_date=date(2026, 1, 14),
        assessment_skipped=skipped,
        training_participant_days=20,
        schedule_rules="2026-11-29",
        released_documents=[],
        opened_by="u",
        opened_at=datetime(2025, 1, 15, tzinfo=UTC),
    )


def planned_assessment(day: date) -> Visit:
    return Visit(
        id="vis_1",
        cycle_id="cyc_1",
        factory_id="fac_1",
        country="BD",
        type="assessment",
        status="scheduled",
        date=day,
        end_date=day + timedelta(days=1),
        assessors=["A", "B"],
        requested_by="u",
        created_at=datetime(2025, 1, 20, tzinfo=UTC),
    )


EVERYONE = (Audience.FACTORY, Audience.BUYER)


@pytest.mark.parametrize(
    ("milestone", "parties", "released", "expected"),
    [
        ("progress_report_1", EVERYONE, [], ["fac_1", "brand-1", "buyer-2"]),
        ("progress_report_1", (Audience.FACTORY,), [], ["fac_1"]),
        ("progress_report_1", (), [], []),
        ("progress_report_1", EVERYONE, ["progress_report_1"], []),  # done: nobody
        ("assessment_report_release", EVERYONE, [], ["fac_1", "brand-1", "buyer-2"]),
        # Its dates are withheld from the factory and buyers: nobody, whatever the parties.
        ("assessment", EVERYONE, [], []),
    ],
)
def test_the_audience_of_an_alert(
    milestone: str, parties: tuple[Audience, ...], released: list[str], expected: list[str]
) -> None:
    the_cycle = cycle()
    for visits in ([], [planned_assessment(date(2025, 4, 20))]):
        orgs = events.milestone_audience(
            the_cycle,
            milestone=milestone,
            parties=parties,
            visits=visits,
            released=released,
            buyers=["brand-1", "buyer-2", "brand-1"],
            today=date(2025, 6, 10),
        )
        assert orgs == expected, visits


def test_the_assessments_alerts_are_for_advisors_only() -> None:
    assert jobs.AUDIENCES["assessment"] == ()
    assert set(jobs.DEFAULT_AUDIENCE) == {Audience.FACTORY, Audience.BUYER}


def test_two_alerts_per_milestone_on_their_days() -> None:
    rows = jobs.alert_rows(cycle())
    assert {(r["milestone"], r["kind"]) for r in rows} == {
        (code, kind) for code in MILESTONE_CODES for kind in ("due_soon", "overdue")
    }
    for row in rows:
        due = row["due"]
        assert isinstance(due, date)
        if row["kind"] == "due_soon":
            assert row["fire_on"] == due - timedelta(days=7)
        else:
            assert isinstance(row["fire_on"], date) and row["fire_on"] > due - timedelta(days=1)
        assert row["sent_at"] is None and row["outcome"] is None
    release = {r["kind"]: r for r in rows if r["milestone"] == "assessment_report_release"}
    # the outer bound (end of month 5), which a factory sees before the assessment
    assert release["overdue"]["fire_on"] == date(2025, 6, 15)


def test_no_alerts_for_a_skipped_assessment() -> None:
    assert "assessment" not in {r["milestone"] for r in jobs.alert_rows(cycle(skipped=True))}


def test_a_backfill_settles_what_is_past() -> None:
    rows = jobs.alert_rows(cycle(), settled_before=date(2025, 7, 1))
    for row in rows:
        fire_on = row["fire_on"]
        assert isinstance(fire_on, date)
        settled = fire_on < date(2025, 7, 1)
        assert (row["outcome"] == "backfilled") is settled
        assert (row["sent_at"] is not None) is settled


@pytest.mark.parametrize(
    ("environment", "env", "seconds"),
    [
        ("test", None, 0.0),
        ("development", None, 60.0),
        ("test", "5", 5.0),
        ("production", "0", 0.0),
    ],
)
def test_scheduler_seconds(
    monkeypatch: pytest.MonkeyPatch, environment: Environment, env: str | None, seconds: float
) -> None:
    if env is None:
        monkeypatch.delenv("BW_SCHEDULER_SECONDS", raising=False)
    else:
        monkeypatch.setenv("BW_SCHEDULER_SECONDS", env)
    settings = Settings.model_construct(environment=environment)
    assert jobs.scheduler_seconds(settings) == seconds
