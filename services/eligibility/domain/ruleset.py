"""Country programme rules as data: one JSON file per programme and effective date in
`rules/` (`<COUNTRY>_<YYYY-MM-DD>.json`), validated at start-up. A new threshold or price
next year is a new file, never a code change; `RuleBook.in_force(country, as_of)` picks the
file of the latest effective date on or before `as_of`.
"""

from __future__ import annotations

import bisect
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.eligibility.domain.countries import ISO_COUNTRIES, MARKET_CODES

__all__ = [
    "PRODUCT_CODES",
    "RULES_DIR",
    "SERVICE_NAMES",
    "NominationRequirement",
    "ParticipationLevel",
    "ProductCode",
    "ProductCondition",
    "ProductSynonym",
    "Programme",
    "RuleBook",
    "RuleBookError",
    "ServiceName",
    "default_rule_book",
    "load_rule_book",
]

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"  # services/eligibility/rules

ProductCode = Literal[
    "garments",
    "footwear",
    "textiles",
    "travel_goods",
    "bags",
    "leather",
    "accessories",
    "supporting_processing",
    "chemical",
    "engineering",
    "plastic",
]
PRODUCT_CODES: tuple[str, ...] = ProductCode.__args__  # type: ignore[attr-defined]
ServiceName = Literal["assessment", "advisory"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("assessment", "advisory")
ParticipationLevel = Literal["mandatory", "voluntary"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Data):
    name: str = Field(description="The region's name as the programme writes it.")
    aliases: list[str] = Field(
        default_factory=list, description="Other spellings and names accepted for it."
    )


class _Requirement(_Data):
    code: str = Field(description="Stable code of the rule, used in decision reasons.")
    text: str = Field(description="The rule as a person reads it.")
    services: list[ServiceName] | None = Field(
        None, description="The services this rule gates; null: every service."
    )


class ProductsRequirement(_Requirement):
    """At least one of the factory's products is covered by the programme."""

    kind: Literal["products"]


class RegionRequirement(_Requirement):
    """The factory is in one of the listed regions (null list: not configured, unverified)."""

    kind: Literal["region"]
    regions: list[Region] | None = Field(
        description="Accepted regions; null while the list is not configured (then unverified)."
    )


class OutsideExportProcessingZoneRequirement(_Requirement):
    kind: Literal["outside_export_processing_zone"]


class MinWorkersRequirement(_Requirement):
    kind: Literal["min_workers"]
    minimum: int = Field(ge=0, description="Smallest worker count that passes (inclusive).")


class MinFemaleShareRequirement(_Requirement):
    kind: Literal["min_female_share"]
    minimum: float = Field(ge=0, le=1, description="Smallest female share that passes (0..1).")


class MinMonthsOperatingRequirement(_Requirement):
    kind: Literal["min_months_operating"]
    months: int = Field(ge=0, description="Whole calendar months in operation on `as_of`.")


class ExportLicenseRequirement(_Requirement):
    kind: Literal["export_license"]


class NominationRequirement(_Requirement):
    kind: Literal["nomination"]


Requirement = Annotated[
    ProductsRequirement
    | RegionRequirement
    | OutsideExportProcessingZoneRequirement
    | MinWorkersRequirement
    | MinFemaleShareRequirement
    | MinMonthsOperatingRequirement
    | ExportLicenseRequirement
    | NominationRequirement,
    Field(discriminator="kind"),
]


class Note(_Data):
    code: str
    message: str
    valid_from: date | None = Field(None, description="Shown for `as_of` on or after this date.")
    valid_until: date | None = Field(None, description="Shown for `as_of` on or before this date.")
    participation_status: Literal["waitlisted"] | None = Field(
        None,
        description="What the note does to a factory's participation while it applies: "
        "`waitlisted` (capacity fully booked) puts a `waitlist` on the decisions of factories "
        "that could join, with the note's `valid_until` as the date it applies to.",
    )

    def applies(self, as_of: date) -> bool:
        return (self.valid_from is None or self.valid_from <= as_of) and (
            self.valid_until is None or as_of <= self.valid_until
        )

    @model_validator(mode="after")
    def _dated_waitlist(self) -> Note:
        if self.participation_status == "waitlisted" and self.valid_until is None:
            raise ValueError("a waitlist note needs valid_until: the date it applies to")
        return self


class ProductSynonym(_Data):
    """A product code that counts as one of the programme's covered products, because the
    guide's product words include it (Bangladesh: "supporting processing (printing,
    washing, textile, knit, woven, embroidery)" includes textiles)."""

    code: ProductCode = Field(description="The product code a factory sends.")
    counts_as: ProductCode = Field(description="The covered product it counts as here.")
    guide: str = Field(description="The guide's words that make it count.")
    assumption: str | None = Field(
        None,
        description="What the factory is taken to make when its product counts this way (the "
        "code says less than the guide: Ethiopia's footwear counts as leather footwear). "
        "Shown on the decision as a `product_assumption` note.",
    )


class ProductCondition(_Data):
    """Covered products that count only when a yes/no fact is true (Cambodia covers
    *exporting* garment, travel-goods and bag factories: an export licence)."""

    products: list[ProductCode] = Field(min_length=1)
    fact: Literal["has_export_license"]
    text: str = Field(description="The condition as a person reads it.")


class FixedParticipation(_Data):
    kind: Literal["fixed"]
    value: ParticipationLevel
    text: str


class FactParticipation(_Data):
    """Mandatory when a yes/no fact is true, otherwise voluntary."""

    kind: Literal["mandatory_when_fact"]
    fact: Literal["has_export_license"]
    text: str


class ExportMarketParticipation(_Data):
    """Mandatory for direct and indirect (subcontractor) exporters to the listed markets."""

    kind: Literal["mandatory_for_export_markets"]
    markets: list[str] = Field(min_length=1)
    market_groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Markets that stand for several countries (EU: its member states).",
    )
    text: str


class ProductGroup(_Data):
    products: list[ProductCode] = Field(min_length=1)
    services: dict[ServiceName, ParticipationLevel]
    package: bool = Field(
        False, description="Assessment and advisory are taken together as one package."
    )
    note: Note | None = None


class ProductGroupParticipation(_Data):
    """Participation per service, by the factory's products (Cambodia)."""

    kind: Literal["by_product_group"]
    groups: list[ProductGroup] = Field(min_length=1)
    text: str


Participation = Annotated[
    FixedParticipation | FactParticipation | ExportMarketParticipation | ProductGroupParticipation,
    Field(discriminator="kind"),
]


class PriorityRule(_Data):
    fact: Literal["in_industrial_park"]
    text: str


class Programme(_Data):
    """One country programme's rules from `effective_from` until the next file's date."""

    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    name: str
    effective_from: date
    coverage_published: bool = Field(
        description="False where the programme exists but its coverage is not published: "
        "decisions say contact_programme."
    )
    contact: str | None = Field(None, description="Where to ask when coverage is unpublished.")
    products: list[ProductCode] = Field(default_factory=list)
    product_synonyms: list[ProductSynonym] = Field(
        default_factory=list,
        description="Other product codes that count as a covered product here (the guide's "
        "own product words).",
    )
    product_conditions: list[ProductCondition] = Field(
        default_factory=list,
        description="Covered products that count only when a fact is true (exporting).",
    )
    product_notes: str | None = None
    geography: str | None = Field(None, description="The programme's geography in words.")
    requirements: list[Requirement] = Field(default_factory=list)
    services_sold_separately: bool = Field(
        False, description="Only where assessment and advisory are sold separately (Cambodia)."
    )
    participation: Participation | None = None
    priority: PriorityRule | None = None
    notes: list[Note] = Field(default_factory=list)
    training_participant_days: int = Field(
        ge=15, le=25, description="Training participant-days included per service cycle."
    )
    source: str = Field(description="Where the rule comes from (guide table, SPEC rule).")

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        if self.country not in ISO_COUNTRIES:
            raise ValueError(f"{self.country} is not an ISO 3166-1 alpha-2 code")
        if self.coverage_published and (not self.products or self.participation is None):
            raise ValueError("a published programme needs products and participation")
        codes = [r.code for r in self.requirements]
        if len(codes) != len(set(codes)):
            raise ValueError("requirement codes must be unique")
        self._check_products()
        if isinstance(self.participation, ProductGroupParticipation):
            for group in self.participation.groups:
                if not set(group.products) <= set(self.products):
                    raise ValueError("a product group names a product the programme does not cover")
            if not self.services_sold_separately:
                raise ValueError("per-product-group participation needs services_sold_separately")
        if isinstance(self.participation, ExportMarketParticipation):
            markets = set(self.participation.markets) | {
                c for group in self.participation.market_groups.values() for c in group
            }
            unknown = markets - MARKET_CODES
            if unknown:
                raise ValueError(f"unknown market codes: {sorted(unknown)}")
        return self

    def _check_products(self) -> None:
        covered = set(self.products)
        synonyms = [s.code for s in self.product_synonyms]
        if len(synonyms) != len(set(synonyms)):
            raise ValueError("a product code has at most one synonym entry")
        for synonym in self.product_synonyms:
            if synonym.counts_as not in covered:
                raise ValueError(f"{synonym.code} counts as {synonym.counts_as}, not covered here")
            if synonym.code in covered:
                raise ValueError(f"{synonym.code} is covered in its own right: no synonym needed")
        conditioned = [p for c in self.product_conditions for p in c.products]
        if len(conditioned) != len(set(conditioned)):
            raise ValueError("a product has at most one condition")
        if not set(conditioned) <= covered:
            raise ValueError("a product condition names a product the programme does not cover")
        waitlists = [n for n in self.notes if n.participation_status == "waitlisted"]
        if len(waitlists) > 1:
            raise ValueError("at most one waitlist note per programme version")

    @property
    def asks_for_nomination(self) -> bool:
        """Whether a factory needs a partner brand's nomination here (BD, KH, PK, VN)."""
        return any(isinstance(r, NominationRequirement) for r in self.requirements)


class RuleBookError(RuntimeError):
    """The rule files are not valid: the service refuses to start."""


class RuleBook:
    """Every programme version, by country, sorted by effective date."""

    def __init__(self, programmes: list[Programme]) -> None:
        if not programmes:
            raise RuleBookError("no programme rules found")
        by_country: dict[str, list[Programme]] = {}
        for programme in sorted(programmes, key=lambda p: (p.country, p.effective_from)):
            versions = by_country.setdefault(programme.country, [])
            if versions and versions[-1].effective_from == programme.effective_from:
                raise RuleBookError(
                    f"two rule files for {programme.country} effective {programme.effective_from}"
                )
            versions.append(programme)
        self._versions = by_country
        self._dates = {c: [p.effective_from for p in v] for c, v in by_country.items()}
        self.earliest: date = min(p.effective_from for p in programmes)

    @property
    def countries(self) -> list[str]:
        return sorted(self._versions)

    def has_programme(self, country: str) -> bool:
        return country in self._versions

    def in_force(self, country: str, as_of: date) -> Programme | None:
        """The rules of `country` on `as_of`; None when there is no programme then."""
        dates = self._dates.get(country)
        if dates is None:
            return None
        index = bisect.bisect_right(dates, as_of) - 1
        return self._versions[country][index] if index >= 0 else None

    def effective_until(self, programme: Programme) -> date | None:
        """The day before the next version takes effect (None: open-ended)."""
        versions = self._versions[programme.country]
        index = versions.index(programme)
        if index + 1 < len(versions):
            return date.fromordinal(versions[index + 1].effective_from.toordinal() - 1)
        return None

    def all_in_force(self, as_of: date) -> list[Programme]:
        found = (self.in_force(country, as_of) for country in self.countries)
        return [programme for programme in found if programme is not None]


def _load_file(path: Path) -> Programme:
    try:
        programme = Programme.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise RuleBookError(f"{path.name}: {exc}") from exc
    expected = f"{programme.country}_{programme.effective_from.isoformat()}.json"
    if path.name != expected:
        raise RuleBookError(f"{path.name}: a file with these rules must be named {expected}")
    return programme


def load_rule_book(directory: Path = RULES_DIR) -> RuleBook:
    return RuleBook([_load_file(path) for path in sorted(directory.glob("*.json"))])


@lru_cache
def default_rule_book() -> RuleBook:
    """The service's own rule files, loaded and validated once per process."""
    return load_rule_book()
