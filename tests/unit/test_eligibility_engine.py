"""The decision engine, table-driven from SPEC §3: every threshold on both sides, every
country, region spellings, participation, priority, notes and statuses."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.eligibility.domain import Decision, Engine, mark_enrolled
from services.eligibility.domain.ruleset import default_rule_book
from services.eligibility.schemas import FactoryFacts
from shared.dates import add_months
from shared.errors import Unprocessable

AS_OF = date(2025, 6, 1)
ENGINE = Engine(default_rule_book())

# Facts that make a factory eligible in each programme; each test changes one thing.
ELIGIBLE: dict[str, dict[str, Any]] = {
    "BD": {
        "products": ["garments"],
        "region": "Gazipur",
        "in_export_processing_zone": False,
        "worker_count": 251,
        "nominated_by_partner": True,
    },
    "KH": {
        "products": ["garments"],
        "has_export_license": True,
        "worker_count": 300,
        "operating_since": "2025-04-01",
        "nominated_by_partner": True,
        "wants_advisory": True,
    },
    "EG": {"products": ["garments"], "in_industrial_park": False},
    "ET": {"products": ["garments"], "worker_count": 100, "female_worker_share": 0.75},
    "HT": {"products": ["garments"], "has_export_license": False},
    "ID": {"products": ["garments"], "region": "West Java"},
    "JO": {"products": ["garments"], "export_markets": ["CA"]},
    "PK": {"products": ["textiles"], "region": "Punjab", "nominated_by_partner": True},
    "NI": {"products": ["footwear"]},
    "UZ": {"products": ["textiles"]},
    "VN": {
        "products": ["garments"],
        "region": "Binh Duong",
        "worker_count": 250,
        "operating_since": "2025-03-01",
        "nominated_by_partner": True,
    },
}


def decide(country: str, as_of: date = AS_OF, **changes: Any) -> Decision:
    values = {**ELIGIBLE.get(country, {}), **changes}
    facts = FactoryFacts.model_validate({"country": country, **values})
    return ENGINE.decide(facts, as_of=as_of)


def reason(decision: Decision, code: str) -> Any:
    return next(r for r in decision.reasons if r.code == code)


@pytest.mark.parametrize("country", sorted(ELIGIBLE))
def test_complete_facts_are_eligible_in_every_programme(country: str) -> None:
    decision = decide(country)
    assert decision.status == "eligible", decision.reasons
    assert decision.missing_fields == ()
    assert decision.rules_effective_from == date(2024, 1, 1)
    assert all(r.passed is not False for r in decision.reasons)


@pytest.mark.parametrize(
    ("country", "changes", "status"),
    [
        # Bangladesh: more than 250 workers (251+)
        ("BD", {"worker_count": 250}, "not_eligible"),
        ("BD", {"worker_count": 251}, "eligible"),
        # Cambodia advisory: at least 300 workers, at least 2 months in operation
        ("KH", {"worker_count": 299}, "not_eligible"),
        ("KH", {"worker_count": 300}, "eligible"),
        ("KH", {"operating_since": "2025-04-01"}, "eligible"),  # 2 months on 2025-06-01
        ("KH", {"operating_since": "2025-04-02"}, "not_eligible"),
        # Ethiopia: at least 100 workers, at least 75 % women
        ("ET", {"worker_count": 99}, "not_eligible"),
        ("ET", {"worker_count": 100}, "eligible"),
        ("ET", {"female_worker_share": 0.7499}, "not_eligible"),
        ("ET", {"female_worker_share": 0.75}, "eligible"),
        ("ET", {"female_worker_share": 1.0}, "eligible"),
        # Vietnam: at least 250 workers, at least 3 months in operation
        ("VN", {"worker_count": 249}, "not_eligible"),
        ("VN", {"worker_count": 250}, "eligible"),
        ("VN", {"operating_since": "2025-03-01"}, "eligible"),  # 3 months on 2025-06-01
        ("VN", {"operating_since": "2025-03-02"}, "not_eligible"),
        ("VN", {"operating_since": "2026-01-01"}, "not_eligible"),  # not yet open
    ],
)
def test_thresholds_on_both_sides(country: str, changes: dict[str, Any], status: str) -> None:
    assert decide(country, **changes).status == status


@pytest.mark.parametrize(
    ("country", "field", "code"),
    [
        ("BD", "worker_count", "min_workers"),
        ("BD", "region", "region"),
        ("BD", "in_export_processing_zone", "export_processing_zone"),
        ("BD", "nominated_by_partner", "nomination"),
        ("BD", "products", "products"),
        ("KH", "has_export_license", "export_license"),
        ("KH", "operating_since", "min_months_operating"),
        ("ET", "female_worker_share", "min_female_share"),
        ("ET", "worker_count", "min_workers"),
        ("HT", "has_export_license", "participation"),
        ("JO", "export_markets", "participation"),
        ("ID", "region", "region"),
        ("PK", "region", "region"),
        ("VN", "worker_count", "min_workers"),
        ("VN", "operating_since", "min_months_operating"),
    ],
)
def test_a_missing_fact_is_insufficient_data_never_a_guess(
    country: str, field: str, code: str
) -> None:
    changes: dict[str, Any] = {field: None}
    decision = decide(country, **changes)
    assert decision.status == "insufficient_data"
    assert decision.missing_fields == (field,)
    assert reason(decision, code).outcome == "missing"
    assert reason(decision, code).passed is None


def test_a_failed_rule_wins_over_missing_facts() -> None:
    decision = decide("BD", worker_count=10, region=None)
    assert decision.status == "not_eligible"
    assert decision.missing_fields == ("region",)


def test_empty_products_are_missing() -> None:
    assert decide("BD", products=[]).missing_fields == ("products",)


@pytest.mark.parametrize(
    ("country", "products", "status"),
    [
        ("BD", ["chemical"], "not_eligible"),
        ("BD", ["garments", "chemical"], "eligible"),
        ("BD", ["supporting_processing"], "eligible"),
        ("HT", ["footwear"], "not_eligible"),
        ("JO", ["plastic"], "eligible"),
        ("ET", ["leather", "accessories"], "eligible"),
        ("ID", ["bags"], "eligible"),
        ("EG", ["footwear"], "not_eligible"),
        ("VN", ["textiles"], "eligible"),
    ],
)
def test_products_covered(country: str, products: list[str], status: str) -> None:
    assert decide(country, products=products).status == status


def test_uncovered_products_are_named() -> None:
    message = reason(decide("BD", products=["garments", "chemical"]), "products").message
    assert "not covered: chemical" in message


@pytest.mark.parametrize(
    ("country", "region", "passed"),
    [
        ("BD", "Narayanganj", True),
        ("BD", "Narayangonj", True),
        ("BD", "narayan-ganj", True),
        ("BD", "NARAYANGANJ ", True),
        ("BD", "Chittagong", True),
        ("BD", "Chattogram", True),
        ("BD", "Greater Chittagong", True),
        ("BD", "Shavar", True),
        ("BD", "Ashulia, Savar", True),
        ("BD", "Gazipur District", True),
        ("BD", "Narshindi", True),
        ("BD", "Munshigonj", True),
        ("BD", "Sirajgonj", True),
        ("BD", "Sylhet", False),
        ("BD", "Cox's Bazar", False),
        ("ID", "Jawa Barat", True),
        ("ID", "DI Yogyakarta", True),
        ("ID", "Central Java", True),
        ("ID", "Bali", False),
        ("PK", "Sindh", True),
        ("PK", "Karachi", True),
        ("PK", "Balochistan", False),
    ],
)
def test_region_spellings_and_aliases(country: str, region: str, passed: bool) -> None:
    decision = decide(country, region=region)
    assert reason(decision, "region").passed is passed
    assert decision.status == ("eligible" if passed else "not_eligible")


def test_vietnam_geography_is_unverified_while_no_province_list_is_configured() -> None:
    decision = decide("VN", region="Anywhere")
    region = reason(decision, "region")
    assert (region.outcome, region.passed) == ("unverified", None)
    assert decision.status == "eligible"  # a warning, not a failure
    assert decide("VN", region=None).status == "eligible"


def test_bangladesh_export_processing_zones_are_excluded() -> None:
    decision = decide("BD", in_export_processing_zone=True)
    assert decision.status == "not_eligible"
    assert reason(decision, "export_processing_zone").passed is False


@pytest.mark.parametrize(
    ("country", "as_of", "waitlisted"),
    [
        ("BD", date(2024, 12, 31), True),
        ("BD", date(2024, 3, 1), True),
        ("BD", date(2025, 1, 1), False),
        ("PK", date(2024, 12, 31), False),
    ],
)
def test_bangladesh_waitlist_note_until_end_of_2024(
    country: str, as_of: date, waitlisted: bool
) -> None:
    notes = [n.code for n in decide(country, as_of=as_of).notes]
    assert ("waitlist" in notes) is waitlisted


@pytest.mark.parametrize(
    ("country", "nominated", "status"),
    [
        ("BD", False, "needs_nomination"),
        ("PK", False, "needs_nomination"),
        ("VN", False, "needs_nomination"),
        ("KH", False, "needs_nomination"),
        ("BD", True, "eligible"),
    ],
)
def test_nomination(country: str, nominated: bool, status: str) -> None:
    assert decide(country, nominated_by_partner=nominated).status == status


def test_needs_nomination_only_when_all_else_is_met() -> None:
    assert decide("BD", nominated_by_partner=False, worker_count=10).status == "not_eligible"
    assert decide("BD", nominated_by_partner=False, region=None).status == "insufficient_data"


@pytest.mark.parametrize(
    ("country", "changes", "participation"),
    [
        ("BD", {}, "voluntary"),
        ("EG", {}, "voluntary"),
        ("ET", {}, "voluntary"),
        ("ID", {}, "voluntary"),
        ("NI", {}, "voluntary"),
        ("PK", {}, "voluntary"),
        ("UZ", {}, "voluntary"),
        ("VN", {}, "voluntary"),
        ("HT", {"has_export_license": True}, "mandatory"),
        ("HT", {"has_export_license": False}, "voluntary"),
        ("JO", {"export_markets": ["US"]}, "mandatory"),
        ("JO", {"export_markets": ["IL"]}, "mandatory"),
        ("JO", {"export_markets": ["EU"]}, "mandatory"),
        ("JO", {"export_markets": ["DE", "CA"]}, "mandatory"),  # an EU member state
        ("JO", {"export_markets": ["CA", "JP"]}, "voluntary"),
        ("JO", {"export_markets": []}, "voluntary"),
        ("JO", {"export_markets": ["US"], "is_subcontractor": True}, "mandatory"),
    ],
)
def test_participation(country: str, changes: dict[str, Any], participation: str) -> None:
    decision = decide(country, **changes)
    assert decision.status == "eligible"
    assert decision.participation == participation
    assert decision.services["assessment"].participation == participation


def test_jordan_names_indirect_exporters() -> None:
    decision = decide("JO", export_markets=["US"], is_subcontractor=True)
    assert "indirect (subcontractor)" in reason(decision, "participation").message


class TestCambodia:
    def test_garments_assessment_mandatory_advisory_voluntary(self) -> None:
        decision = decide("KH")
        assert decision.participation == {"assessment": "mandatory", "advisory": "voluntary"}
        assert decision.services["assessment"].available
        assert decision.services["advisory"].available

    def test_assessment_alone_needs_no_advisory_requirements(self) -> None:
        decision = decide(
            "KH",
            wants_advisory=False,
            worker_count=50,
            operating_since=None,
            nominated_by_partner=None,
        )
        assert decision.status == "eligible"
        assert decision.missing_fields == ()
        assert decision.services["assessment"].available
        assert not decision.services["advisory"].available

    def test_advisory_requirements_apply_when_advisory_is_wanted(self) -> None:
        assert decide("KH", wants_advisory=True, worker_count=299).status == "not_eligible"
        assert decide("KH", wants_advisory=True, has_export_license=False).status == (
            "not_eligible"
        )
        missing = decide("KH", wants_advisory=True, worker_count=None)
        assert missing.missing_fields == ("worker_count",)

    def test_footwear_is_a_voluntary_package_subject_to_availability(self) -> None:
        decision = decide("KH", products=["footwear"], wants_advisory=None)
        assert decision.status == "eligible"
        assert decision.participation == {"assessment": "voluntary", "advisory": "voluntary"}
        assert "subject_to_availability" in [n.code for n in decision.notes]
        # the package includes advisory, so its requirements apply without asking
        assert decide(
            "KH", products=["footwear"], wants_advisory=None, worker_count=299
        ).status == ("not_eligible")

    def test_mixed_products_take_the_mandatory_group(self) -> None:
        decision = decide("KH", products=["footwear", "travel_goods"])
        assert decision.participation == {"assessment": "mandatory", "advisory": "voluntary"}

    def test_uncovered_products(self) -> None:
        decision = decide("KH", products=["textiles"])
        assert decision.status == "not_eligible"
        assert decision.participation is None


@pytest.mark.parametrize(("in_park", "priority"), [(True, True), (False, False), (None, None)])
def test_egypt_priority_for_industrial_parks(in_park: bool | None, priority: bool | None) -> None:
    decision = decide("EG", in_industrial_park=in_park)
    assert decision.priority is priority
    assert decision.status == "eligible"  # priority never blocks


def test_no_priority_rule_means_not_prioritised() -> None:
    assert decide("BD").priority is False


@pytest.mark.parametrize("country", ["MG", "LK"])
def test_programmes_without_published_coverage_say_contact_programme(country: str) -> None:
    decision = decide(country)
    assert decision.status == "contact_programme"
    assert decision.participation is None
    assert decision.notes[0].code == "contact_programme"


@pytest.mark.parametrize("country", ["FR", "US", "CN", "IN", "TR"])
def test_other_countries_are_out_of_scope(country: str) -> None:
    decision = decide(country, products=["garments"])
    assert decision.status == "out_of_scope"
    assert decision.reasons[0].passed is False


def test_services_follow_the_status_where_sold_together() -> None:
    decision = decide("BD", worker_count=10)
    assert not decision.services["assessment"].available
    assert not decision.services["advisory"].available


def test_enrolled_keeps_the_reasons() -> None:
    decision = mark_enrolled(decide("BD"), factory_id="fac_1")
    assert decision.status == "enrolled"
    assert decision.reasons[-1].code == "registry_enrolment"


def test_dates_before_any_rules_are_refused() -> None:
    with pytest.raises(Unprocessable, match="2024-01-01"):
        decide("BD", as_of=date(2023, 12, 31))


def test_every_reason_names_its_rule() -> None:
    for country in ELIGIBLE:
        for item in decide(country).reasons:
            assert item.code and item.message and item.rule


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 11, 15), 3, date(2025, 2, 15)),
        (date(2024, 1, 15), 0, date(2024, 1, 15)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_months_past_the_calendar_is_an_overflow() -> None:
    with pytest.raises(OverflowError):
        add_months(date(9999, 11, 1), 3)
