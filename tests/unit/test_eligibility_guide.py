"""Issue 12, items 1-3 and 5 in the engine: the guide's product words as synonyms (Bangladesh
supporting processing, Ethiopia leathers and accessories), Cambodia's *exporting* factories,
the Bangladesh waitlist, and nominations from records versus the caller's what-if. Each
rule on both sides, from the rule data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import pytest

from services.eligibility.domain import Decision, Engine, RecordedNomination, mark_enrolled
from services.eligibility.domain.matching import Match
from services.eligibility.domain.nominations import counted_nomination
from services.eligibility.domain.ruleset import default_rule_book
from services.eligibility.domain.scoping import decide_rows
from services.eligibility.schemas import FactoryFacts, FactoryQuery
from shared.auth import Principal

AS_OF = date(2025, 6, 1)
ENGINE = Engine(default_rule_book())

# The factory: nominated, Gazipur, 900 workers, outside EPZs.
BD_GAZIPUR: dict[str, Any] = {
    "region": "Gazipur",
    "in_export_processing_zone": False,
    "worker_count": 900,
    "nominated_by_partner": True,
}
ET_FACTORY: dict[str, Any] = {"worker_count": 100, "female_worker_share": 0.75}
KH_FACTORY: dict[str, Any] = {
    "worker_count": 300,
    "operating_since": "2025-04-01",
    "nominated_by_partner": True,
}


def decide(country: str, as_of: date = AS_OF, **facts: Any) -> Decision:
    return ENGINE.decide(FactoryFacts.model_validate({"country": country, **facts}), as_of=as_of)


def products_reason(decision: Decision) -> Any:
    return next(r for r in decision.reasons if r.code == "products")


def note_codes(decision: Decision) -> list[str]:
    return [n.code for n in decision.notes]


class TestBangladeshSupportingProcessing:
    """Item 1: "supporting processing (printing, washing, textile, knit, woven, embroidery)"."""

    @pytest.mark.parametrize(
        ("products", "status"),
        [
            (["textiles"], "eligible"),  # the Gazipur factory
            (["supporting_processing"], "eligible"),
            (["textiles", "garments"], "eligible"),
            (["textiles", "chemical"], "eligible"),
            (["chemical"], "not_eligible"),
            (["leather"], "not_eligible"),
            (["accessories"], "not_eligible"),
        ],
    )
    def test_textiles_count_as_supporting_processing(
        self, products: list[str], status: str
    ) -> None:
        assert decide("BD", products=products, **BD_GAZIPUR).status == status

    def test_the_reason_quotes_the_guide(self) -> None:
        reason = products_reason(decide("BD", products=["textiles"], **BD_GAZIPUR))
        assert reason.passed is True
        assert "textiles (as supporting_processing" in reason.message
        assert "knit, woven" in reason.message

    @pytest.mark.parametrize(("workers", "status"), [(250, "not_eligible"), (251, "eligible")])
    def test_the_worker_threshold_still_applies(self, workers: int, status: str) -> None:
        facts = {**BD_GAZIPUR, "worker_count": workers}
        assert decide("BD", products=["textiles"], **facts).status == status

    @pytest.mark.parametrize(
        ("country", "status"),
        [
            ("BD", "eligible"),  # via the synonym
            ("KH", "not_eligible"),  # the guide lists no textiles under Cambodia's processing
            ("HT", "not_eligible"),  # garments only
        ],
    )
    def test_synonyms_are_per_programme(self, country: str, status: str) -> None:
        facts = {
            "BD": BD_GAZIPUR,
            "KH": {**KH_FACTORY, "has_export_license": True},
            "HT": {"has_export_license": True},
        }[country]
        assert decide(country, products=["textiles"], **facts).status == status

    def test_no_assumption_note_for_a_plain_synonym(self) -> None:
        assert "product_assumption" not in note_codes(
            decide("BD", products=["textiles"], **BD_GAZIPUR)
        )


class TestEthiopiaLeathersAndAccessories:
    """Item 2: leathers "include leather footwear, leather garments ... and leather goods
    (bags, wallets, gloves)"; accessories "zippers, interlinings, buttons"."""

    @pytest.mark.parametrize(
        ("products", "status", "assumed"),
        [
            (["footwear"], "eligible", True),  # leather footwear
            (["bags"], "eligible", True),  # leather goods
            (["leather"], "eligible", False),
            (["accessories"], "eligible", False),  # zippers, interlinings, buttons
            (["garments", "footwear"], "eligible", True),
            (["travel_goods"], "not_eligible", False),
            (["chemical"], "not_eligible", False),
            (["plastic"], "not_eligible", False),
        ],
    )
    def test_footwear_and_bags_count_as_leathers(
        self, products: list[str], status: str, assumed: bool
    ) -> None:
        decision = decide("ET", products=products, **ET_FACTORY)
        assert decision.status == status
        assert ("product_assumption" in note_codes(decision)) is assumed

    def test_the_assumption_is_said(self) -> None:
        decision = decide("ET", products=["footwear"], **ET_FACTORY)
        note = next(n for n in decision.notes if n.code == "product_assumption")
        assert "leather footwear" in note.message
        assert "leather" in products_reason(decision).message

    @pytest.mark.parametrize(
        ("changes", "status"),
        [
            ({"worker_count": 99}, "not_eligible"),
            ({"worker_count": 100}, "eligible"),
            ({"female_worker_share": 0.7499}, "not_eligible"),
            ({"female_worker_share": 0.75}, "eligible"),
        ],
    )
    def test_thresholds_still_apply_to_leather_footwear(
        self, changes: dict[str, Any], status: str
    ) -> None:
        assert decide("ET", products=["footwear"], **{**ET_FACTORY, **changes}).status == status

    @pytest.mark.parametrize("country", ["EG", "UZ", "PK"])
    def test_footwear_is_no_leather_elsewhere(self, country: str) -> None:
        facts: dict[str, Any] = (
            {"region": "Punjab", "nominated_by_partner": True} if country == "PK" else {}
        )
        assert decide(country, products=["footwear"], **facts).status == "not_eligible"


class TestCambodiaExporting:
    """Item 3: "Exporting garments and travel goods and bags": assessment mandatory only
    for exporting factories (an export licence)."""

    @pytest.mark.parametrize(
        ("products", "licence", "status", "participation"),
        [
            (["garments"], True, "eligible", {"assessment": "mandatory", "advisory": "voluntary"}),
            (["garments"], False, "not_eligible", None),
            (["garments"], None, "insufficient_data", None),
            (
                ["travel_goods"],
                True,
                "eligible",
                {"assessment": "mandatory", "advisory": "voluntary"},
            ),
            (["travel_goods"], False, "not_eligible", None),
            (["bags"], False, "not_eligible", None),
            (["bags"], None, "insufficient_data", None),
        ],
    )
    def test_assessment_only(
        self, products: list[str], licence: bool | None, status: str, participation: Any
    ) -> None:
        decision = decide(
            "KH",
            products=products,
            has_export_license=licence,
            wants_advisory=False,
            worker_count=50,
        )
        assert decision.status == status
        assert decision.participation == participation
        if licence is None:
            assert decision.missing_fields == ("has_export_license",)
        if status != "eligible":
            assert decision.participation != {"assessment": "mandatory", "advisory": "voluntary"}

    def test_the_reason_says_why_a_non_exporter_is_not_covered(self) -> None:
        decision = decide("KH", products=["garments"], has_export_license=False)
        reason = products_reason(decision)
        assert reason.passed is False
        assert "export licence" in reason.message

    @pytest.mark.parametrize(
        ("licence", "status", "missing"),
        [
            (True, "eligible", ()),
            (False, "not_eligible", ()),  # the package's advisory needs the licence too
            (None, "insufficient_data", ("has_export_license",)),
        ],
    )
    def test_mixed_garments_and_footwear(
        self, licence: bool | None, status: str, missing: tuple[str, ...]
    ) -> None:
        decision = decide(
            "KH", products=["garments", "footwear"], has_export_license=licence, **KH_FACTORY
        )
        assert decision.status == status
        assert decision.missing_fields == missing

    def test_footwear_needs_no_export_for_coverage(self) -> None:
        decision = decide("KH", products=["footwear"], has_export_license=True, **KH_FACTORY)
        assert decision.status == "eligible"
        assert products_reason(decision).passed is True


class TestWaitlist:
    """Item 5: Bangladesh "Capacity currently fully booked to 2024" as a visible waitlist."""

    @pytest.mark.parametrize(
        ("as_of", "changes", "waitlisted"),
        [
            (date(2024, 12, 31), {}, True),
            (date(2025, 1, 1), {}, False),
            (date(2024, 1, 1), {}, True),
            (date(2024, 12, 31), {"nominated_by_partner": False}, True),  # needs_nomination
            (date(2024, 12, 31), {"region": None}, True),  # insufficient_data
            (date(2024, 12, 31), {"worker_count": 250}, False),  # not_eligible: cannot join
        ],
    )
    def test_waitlisted_until_end_of_2024(
        self, as_of: date, changes: dict[str, Any], waitlisted: bool
    ) -> None:
        facts = {k: v for k, v in {**BD_GAZIPUR, **changes}.items() if v is not None}
        decision = decide("BD", as_of=as_of, products=["garments"], **facts)
        if waitlisted:
            assert decision.waitlist is not None
            assert decision.waitlist.status == "waitlisted"
            assert decision.waitlist.until == date(2024, 12, 31)
        else:
            assert decision.waitlist is None

    def test_the_note_stays_for_existing_clients(self) -> None:
        decision = decide("BD", as_of=date(2024, 12, 31), products=["garments"], **BD_GAZIPUR)
        assert note_codes(decision) == ["waitlist"]

    def test_enrolled_factories_are_not_waitlisted(self) -> None:
        decision = decide("BD", as_of=date(2024, 6, 1), products=["garments"], **BD_GAZIPUR)
        assert mark_enrolled(decision, factory_id="fac_1").waitlist is None

    def test_other_programmes_have_no_waitlist(self) -> None:
        decision = decide(
            "PK",
            as_of=date(2024, 6, 1),
            products=["garments"],
            region="Sindh",
            nominated_by_partner=True,
        )
        assert decision.waitlist is None


class _Row(NamedTuple):
    id: str
    partner_org: str
    created_at: datetime
    country: str = "BD"


PARTNER = Principal(user="u", org="brand-1", role="partner")
OTHER = Principal(user="u", org="brand-2", role="partner")
ADVISOR = Principal(user="a", org="bw", role="advisor", countries=("*",))
EARLY = _Row("nom_1", "brand-2", datetime(2026, 1, 5, tzinfo=UTC))
LATE = _Row("nom_2", "brand-1", datetime(2026, 2, 5, tzinfo=UTC))


class TestCountedNomination:
    @pytest.mark.parametrize(
        ("viewer", "counted", "named"),
        [
            (PARTNER, "nom_2", "your organisation (brand-1)"),  # its own first
            (OTHER, "nom_1", "your organisation (brand-2)"),
            (ADVISOR, "nom_1", "partner brand-2"),  # the earliest, named to staff
            (Principal(user="a", org="bw", role="advisor", countries=("KH",)), "nom_1", None),
            (Principal(user="p", org="buyer-9", role="participant"), "nom_1", None),
            (None, "nom_1", None),
        ],
    )
    def test_which_nomination_counts_and_who_is_named(
        self, viewer: Principal | None, counted: str, named: str | None
    ) -> None:
        record = counted_nomination("fac_1", [LATE, EARLY], viewer=viewer)
        assert record.nomination_id == counted
        assert record.nominated_by == named

    def test_none_recorded(self) -> None:
        assert counted_nomination("fac_1", [], viewer=PARTNER) == RecordedNomination("fac_1", None)


class _Registry(NamedTuple):
    products: list[str] | None = ["garments"]
    region: str | None = "Gazipur"
    in_export_processing_zone: bool | None = False
    worker_count: int | None = 900
    female_worker_share: float | None = None
    operating_since: date | None = None
    has_export_license: bool | None = True
    export_markets: list[str] | None = None
    is_subcontractor: bool | None = None
    in_industrial_park: bool | None = None


MATCHED = Match("matched", "factory_id", "fac_1", None, "Golden Star", 100.0, "registered")
RECORDED = RecordedNomination("fac_1", "nom_9", date(2026, 11, 29), "your organisation (brand-1)")


def scoped(
    nominated: bool | None, match: Match | None, nominations: dict[str, RecordedNomination]
) -> Decision:
    query = FactoryQuery.model_validate(
        {"country": "BD", "factory_id": "fac_1", "nominated_by_partner": nominated}
    )
    (decision,) = decide_rows(
        ENGINE,
        [query],
        [match],
        {"fac_1": _Registry()} if match is not None else {},
        as_of=AS_OF,
        nominations=nominations,
    )
    return decision


class TestNominationInDecisions:
    """A decision without `nominated_by_partner` uses the records; with it, the caller's
    what-if, said so."""

    @pytest.mark.parametrize(
        ("nominated", "match", "records", "status", "says"),
        [
            (
                None,
                MATCHED,
                {"fac_1": RECORDED},
                "eligible",
                "nomination nom_9 by your organisation",
            ),
            (None, MATCHED, {}, "needs_nomination", "No partner brand has recorded"),
            (None, None, {}, "insufficient_data", "does not match a registry factory"),
            (True, MATCHED, {}, "eligible", "assumed by the caller"),
            (False, MATCHED, {"fac_1": RECORDED}, "needs_nomination", "assumed by the caller"),
            (True, None, {}, "eligible", "assumed by the caller"),
        ],
    )
    def test_records_or_what_if(
        self,
        nominated: bool | None,
        match: Match | None,
        records: dict[str, RecordedNomination],
        status: str,
        says: str,
    ) -> None:
        decision: Decision
        facts = {} if match is not None else {"products": ["garments"], **BD_GAZIPUR}
        if match is None:
            query = FactoryQuery.model_validate(
                {"country": "BD", **facts, "nominated_by_partner": nominated}
            )
            (decision,) = decide_rows(ENGINE, [query], [None], {}, as_of=AS_OF)
        else:
            decision = scoped(nominated, match, records)
        assert decision.status == status
        reason = next(r for r in decision.reasons if r.code == "nomination")
        assert says in reason.message
        if status == "insufficient_data":
            assert decision.missing_fields == ("nominated_by_partner",)
