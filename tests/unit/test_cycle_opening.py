"""Opening a cycle and registering for a seminar, as pure rules (services/cycles/domain):
each check in its order, named by its `rule`."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.cycles.domain.opening import PreviousCycle, plan_next_cycle
from services.cycles.domain.seminars import CycleSpan, action_plan_cycle, check_registration
from shared.errors import ApiError

START = date(2026, 3, 2)
OPEN: dict[str, Any] = {
    "factory_id": "fac_1",
    "country": "BD",
    "enrolment_status": "enrolled",
    "training_participant_days": 20,
    "previous": None,
    "start": START,
    "skip_assessment": False,
    "high_performing": False,
}
EARLIER = PreviousCycle(1, date(2026, 3, 1), assessment_skipped=False)


def _rule(call: Any, **kw: Any) -> str:
    with pytest.raises(ApiError) as refused:
        call(**kw)
    return str(refused.value.extra["rule"])


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"enrolment_status": "registered", "training_participant_days": None}, "factory_enrolled"),
        ({"training_participant_days": None}, "programme_country"),
        ({"previous": EARLIER, "start": EARLIER.end_date}, "cycles_do_not_overlap"),
        ({"skip_assessment": True}, "high_performing_option"),
        (
            {"skip_assessment": True, "high_performing": True,
             "previous": EARLIER._replace(assessment_skipped=True)},
            "assessment_every_other_year",
        ),
    ],
)  # fmt: skip
def test_the_first_broken_rule_refuses_the_cycle(change: dict[str, Any], rule: str) -> None:
    assert _rule(plan_next_cycle, **(OPEN | change)) == rule


def test_the_next_cycle_follows_the_previous_one() -> None:
    assert plan_next_cycle(**OPEN)[0] == 1
    number, plan = plan_next_cycle(**(OPEN | {"previous": EARLIER}))
    assert (number, plan.start) == (2, START)
    skipped = plan_next_cycle(**(OPEN | {"previous": EARLIER, "skip_assessment": True,
                                          "high_performing": True}))[1]  # fmt: skip
    assert skipped.assessment_skipped


SEMINAR: dict[str, Any] = {
    "seminar_day": date(2026, 5, 1),
    "seminar_country": "BD",
    "capacity": 10,
    "taken": 7,
    "factory_id": "fac_1",
    "factory_country": "bd",
    "enrolment_status": "enrolled",
    "participants": 3,
    "today": date(2026, 4, 1),
}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"enrolment_status": "registered"}, "factory_enrolled"),
        ({"factory_country": "KH"}, "seminar_country"),
        ({"participants": 4}, "seminar_capacity"),
    ],
)
def test_a_registration_is_refused_by_its_first_broken_rule(
    change: dict[str, Any], rule: str
) -> None:
    assert _rule(check_registration, **(SEMINAR | change)) == rule


def test_a_registration_leaves_the_places_left_and_closes_with_the_day() -> None:
    assert check_registration(**SEMINAR) == 0
    with pytest.raises(ApiError, match="registration is closed"):
        check_registration(**(SEMINAR | {"today": date(2026, 5, 2)}))


def test_an_action_plan_goes_to_the_cycle_running_on_the_seminar_day() -> None:
    cycles = [CycleSpan(1, date(2025, 1, 1), date(2025, 12, 31)),
              CycleSpan(2, date(2026, 1, 1), date(2026, 12, 31))]  # fmt: skip
    assert action_plan_cycle(cycles, date(2025, 6, 1), "fac_1") == 1
    assert action_plan_cycle(cycles, date(2027, 6, 1), "fac_1") == 2  # the latest started
    assert action_plan_cycle(cycles, date(2024, 6, 1), "fac_1") == 2  # none started: latest
    with pytest.raises(ApiError, match="no service cycle"):
        action_plan_cycle([], date(2026, 6, 1), "fac_1")
