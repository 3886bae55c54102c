"""Request and response shapes of the eligibility API (tables are in `models`).

Decisions, matches and list rows are the dataclasses of `domain`, `domain.matching` and
`domain.scoping`: the same objects the engine returns are what the reply serialises.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from services.eligibility.domain import EnrolmentStatus
from services.eligibility.domain.decision import RecordedNomination
from services.eligibility.domain.partnership import (
    COMMITMENTS,
    ApplicationStatus,
    Commitment,
    DueDiligenceBody,
    DueDiligenceOutcome,
)
from services.eligibility.domain.ruleset import ProductCode, Programme
from services.eligibility.domain.scoping import RowResult, ScopedDecision, ScopeSummary
from services.eligibility.schemas.fields import (
    Address,
    CountryCode,
    Email,
    IsoDate,
    LongText,
    MarketCode,
    ShareOfOne,
    StrictBool,
    Text,
    Text64,
    Text120,
    Text500,
    WorkerCount,
)
from shared.types import Id

__all__ = [
    "AgreementRequest",
    "ApplicationCreate",
    "ApplicationPage",
    "ApplicationPublic",
    "BulkCheckReply",
    "BulkCheckRequest",
    "CheckRequest",
    "CommitmentPublic",
    "Commitments",
    "DueDiligenceRecord",
    "DueDiligenceRequest",
    "EnrolmentChange",
    "EnrolmentStatus",
    "FactFields",
    "FactoryCreate",
    "FactoryFacts",
    "FactoryInternal",
    "FactoryListPage",
    "FactoryListResult",
    "FactoryListStatus",
    "FactoryListSummary",
    "FactoryListUpload",
    "FactoryLookupPage",
    "FactoryLookupPublic",
    "FactoryPage",
    "FactoryPublic",
    "FactoryQuery",
    "FactoryUpdate",
    "InternalFactories",
    "InternalFactoryBrief",
    "InternalFactoryLookup",
    "InternalListRow",
    "InternalListRows",
    "InternalSupplier",
    "InternalSuppliers",
    "NominationCreate",
    "NominationPage",
    "NominationPublic",
    "NominationStatus",
    "ProgrammeList",
    "ProgrammePublic",
    "RegistrationForm",
]

MAX_BULK = 10_000
MAX_LIST_ROWS = 50_000
FactoryListStatus = Literal["queued", "running", "done", "failed"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FactFields(_Body):
    """Facts about a factory (SPEC §3). All optional but `country`: a rule whose fact is
    missing makes the decision `insufficient_data`, naming the field."""

    country: CountryCode
    products: list[ProductCode] | None = Field(
        None,
        max_length=11,
        description="What the factory makes. A programme also counts the codes its guide "
        "words include (`product_synonyms` in GET /programmes): in Bangladesh `textiles` "
        "counts as supporting processing (textile, knit, woven); in Ethiopia `footwear` and "
        "`bags` count as leathers (leather footwear, leather goods), taken to be leather, "
        "which a `product_assumption` note says. Cambodia covers garments, travel goods and "
        "bags of exporting factories only (`has_export_license`).",
    )
    region: Text120 | None = Field(None, description="Province or district, e.g. 'Gazipur'.")
    in_export_processing_zone: StrictBool | None = None
    worker_count: WorkerCount | None = None
    female_worker_share: ShareOfOne | None = Field(None, description="Share of women, 0..1.")
    operating_since: IsoDate | None = Field(None, description="First day of operation.")
    has_export_license: StrictBool | None = None
    export_markets: list[MarketCode] | None = Field(
        None, max_length=260, description="Where its goods go: ISO codes, or EU."
    )
    is_subcontractor: StrictBool | None = None
    in_industrial_park: StrictBool | None = None


class FactoryFacts(FactFields):
    nominated_by_partner: StrictBool | None = Field(
        None,
        description="Your assumption (a what-if) that a partner brand nominated the factory "
        "(BD, KH, PK, VN require it); the reason then says 'assumed by the caller'. Leave it "
        "out to use the nominations partners recorded (POST /nominations) for the matched "
        "registry factory: none recorded is `needs_nomination`; a factory that matches no "
        "registry factory stays `insufficient_data` with this field in `missing_fields`.",
    )
    wants_advisory: StrictBool | None = Field(
        None, description="Cambodia sells advisory separately: true checks its rules too."
    )

    @property
    def recorded_nomination(self) -> RecordedNomination | None:
        """The caller's own facts never carry a recorded nomination (scoping adds it)."""
        return None


class FactoryQuery(FactoryFacts):
    """A factory's facts and, optionally, what identifies it in the registry: a row that
    matches an enrolled registry factory is `enrolled`."""

    client_ref: Text | None = Field(None, description="Your reference, echoed back.")
    name: Text | None = Field(None, description="Factory name, matched against the registry.")
    address: Address | None = Field(None, description="Helps tell factories of one name apart.")
    os_id: Text64 | None = Field(None, description="Open Supply Hub id.")
    factory_id: Id | None = Field(None, description="Better Work factory id.")


class CheckRequest(FactoryQuery):
    as_of: IsoDate | None = Field(None, description="Evaluation date; default today (UTC).")


class BulkCheckRequest(_Body):
    factories: list[FactoryQuery] = Field(min_length=1, max_length=MAX_BULK)
    as_of: IsoDate | None = None


class BulkCheckReply(BaseModel):
    results: list[ScopedDecision]
    summary: ScopeSummary


class FactoryListRow(BaseModel):
    """One row of an uploaded list. Types are checked for the whole upload; values (an
    unknown country, negative workers, ...) row by row, so one bad row never fails a list."""

    model_config = ConfigDict(extra="allow")

    client_ref: str | None = None
    name: str | None = None
    address: str | None = None
    os_id: str | None = None
    factory_id: str | None = None
    country: str | None = None
    products: list[str] | None = None
    region: str | None = None
    in_export_processing_zone: StrictBool | None = None
    worker_count: int | None = Field(None, strict=True)
    female_worker_share: float | None = Field(None, strict=True)
    operating_since: str | None = None
    has_export_license: StrictBool | None = None
    nominated_by_partner: StrictBool | None = None
    export_markets: list[str] | None = None
    is_subcontractor: StrictBool | None = None
    in_industrial_park: StrictBool | None = None
    wants_advisory: StrictBool | None = None


class FactoryListUpload(_Body):
    factories: list[FactoryListRow] = Field(min_length=1, max_length=MAX_LIST_ROWS)
    as_of: IsoDate | None = None
    name: Text | None = Field(None, description="A name for the list, e.g. 'AW25 suppliers'.")


class FactoryListSummary(BaseModel):
    id: str
    name: str | None
    status: FactoryListStatus
    as_of: date
    row_count: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    summary: ScopeSummary | None
    warnings: list[str]
    error: str | None = Field(description="Why scoping failed (status failed).")


class FactoryListResult(FactoryListSummary):
    """The scoping result: per row in input order, its `client_ref`, the registry match and
    the decision (or, for a row that could not be read, `status: invalid` and the error)."""

    results: list[RowResult]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next rows.")


class FactoryListPage(BaseModel):
    items: list[FactoryListSummary]
    next_cursor: str | None = None


class FactoryCreate(FactFields):
    name: Text
    address: Address | None = None
    os_id: Text64 | None = Field(None, description="Open Supply Hub id.")


class FactoryUpdate(_Body):
    """Fields to change; those left out stay as they are (null clears a fact)."""

    name: Text | None = None
    address: Address | None = None
    region: Text120 | None = None
    products: list[ProductCode] | None = Field(None, max_length=11)
    in_export_processing_zone: StrictBool | None = None
    worker_count: WorkerCount | None = None
    female_worker_share: ShareOfOne | None = None
    operating_since: IsoDate | None = None
    has_export_license: StrictBool | None = None
    export_markets: list[MarketCode] | None = Field(None, max_length=260)
    is_subcontractor: StrictBool | None = None
    in_industrial_park: StrictBool | None = None
    os_id: Text64 | None = None


class FactoryPublic(BaseModel):
    """A registry factory. Its `id` is the `org` claim of the factory's users."""

    id: str
    name: str
    address: str | None
    country: str
    region: str | None
    products: list[str] | None
    worker_count: int | None
    female_worker_share: float | None
    operating_since: date | None
    has_export_license: bool | None
    in_export_processing_zone: bool | None
    in_industrial_park: bool | None
    is_subcontractor: bool | None
    export_markets: list[str] | None
    os_id: str | None
    enrolment_status: EnrolmentStatus
    enrolled_at: datetime | None
    withdrawn_at: datetime | None
    created_at: datetime
    updated_at: datetime


class InternalSupplier(BaseModel):
    """A registry factory's public fields (reports' supplier quick-find)."""

    id: str
    name: str
    country: str
    region: str | None
    os_id: str | None
    enrolled: bool
    match_score: float | None


class InternalSuppliers(BaseModel):
    items: list[InternalSupplier]
    next_cursor: str | None = None


MAX_INTERNAL_LOOKUP = 1000  # factories per internal look-up (a bulk access request's)


class InternalFactoryLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(min_length=1, max_length=MAX_INTERNAL_LOOKUP)


class InternalFactoryBrief(BaseModel):
    id: str
    name: str
    country: str
    enrolment_status: EnrolmentStatus


class InternalFactories(BaseModel):
    """The registry factories asked for (unknown ids are left out)."""

    factories: list[InternalFactoryBrief]


class InternalListRow(BaseModel):
    row: int
    client_ref: str | None
    factory_id: str | None = Field(
        description="The registry factory the row matched; null "
        "when it matched none, several (ambiguous) or was invalid."
    )


class InternalListRows(BaseModel):
    list_id: str
    owner_org: str
    row_count: int
    rows: list[InternalListRow] = Field(description="The first `limit` rows, in input order.")


class FactoryInternal(FactoryPublic):
    training_participant_days: int | None = Field(
        description="Participant-days of training per cycle in the factory's programme today."
    )


class FactoryPage(BaseModel):
    items: list[FactoryPublic]
    next_cursor: str | None = None


class EnrolmentChange(_Body):
    status: Literal["enrolled", "withdrawn"] = Field(
        description="enrolled: registered and paid; withdrawn: left the programme."
    )


class FactoryLookupPublic(BaseModel):
    id: str
    factory_id: str
    org: str
    user: str
    role: str
    source: Literal["check", "bulk_check", "factory_list"]
    reference: str | None = Field(description="The request id or factory list id.")
    looked_up_at: datetime


class FactoryLookupPage(BaseModel):
    items: list[FactoryLookupPublic]
    next_cursor: str | None = None


class ProgrammePublic(Programme):
    effective_until: date | None = Field(
        None, description="Last day these rules apply; null until newer rules are published."
    )
    requires_nomination: bool = Field(
        False,
        description="Whether a factory needs a partner brand's nomination here (a "
        "`nomination` requirement): partners record one with POST /nominations.",
    )


NominationStatus = Literal["active", "withdrawn"]


class NominationCreate(_Body):
    factory_id: Id = Field(
        description="The registry factory nominated (the `match.factory_id` of a check)."
    )


class NominationPublic(BaseModel):
    """A partner brand's nomination of a registry factory for its programme."""

    id: str
    factory_id: str
    country: str
    partner_org: str = Field(description="The nominating partner brand.")
    status: NominationStatus = Field(description="active, or withdrawn by the partner.")
    nominated_by: str = Field(description="The user who recorded it.")
    created_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class NominationPage(BaseModel):
    items: list[NominationPublic]
    next_cursor: str | None = None


class ProgrammeList(BaseModel):
    as_of: date
    items: list[ProgrammePublic]


class RegistrationForm(_Body):
    """The partnership registration form."""

    legal_name: Text
    trading_name: Text | None = None
    headquarters_country: CountryCode
    website: Text500 | None = None
    contact_name: Text
    contact_email: Email
    contact_phone: Text64 | None = None
    brands: list[Text] | None = Field(None, max_length=100, description="Brands it sells under.")


def _commitment_field(commitment: Commitment) -> Any:
    return Field(
        validation_alias=AliasChoices(commitment.code, commitment.numeral),
        description=f"({commitment.numeral}, {commitment.group}) {commitment.text}",
    )


class Commitments(_Body):
    """An explicit yes (true) or no (false) on each of the eleven partnership commitments;
    each may also be keyed by its numeral in the guide (i..xi)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    stop_duplicate_audits: StrictBool = _commitment_field(COMMITMENTS[0])
    increase_participating_factories: StrictBool = _commitment_field(COMMITMENTS[1])
    support_improvement_process: StrictBool = _commitment_field(COMMITMENTS[2])
    participate_in_business_forums: StrictBool = _commitment_field(COMMITMENTS[3])
    encourage_others_to_engage: StrictBool = _commitment_field(COMMITMENTS[4])
    engage_in_governance: StrictBool = _commitment_field(COMMITMENTS[5])
    review_business_practices: StrictBool = _commitment_field(COMMITMENTS[6])
    clear_roles_and_communication: StrictBool = _commitment_field(COMMITMENTS[7])
    provide_planning_information: StrictBool = _commitment_field(COMMITMENTS[8])
    adhere_to_communication_protocols: StrictBool = _commitment_field(COMMITMENTS[9])
    no_fee_charge_back: StrictBool = _commitment_field(COMMITMENTS[10])


class ApplicationCreate(_Body):
    registration: RegistrationForm
    logo_reference: Text500 = Field(description="Where the high-resolution logo is (URL or id).")
    factory_list_id: Id | None = Field(
        None, description="Your current factory list, uploaded with POST /factory-lists."
    )
    commitments: Commitments


class DueDiligenceRequest(_Body):
    body: DueDiligenceBody
    outcome: DueDiligenceOutcome
    note: LongText | None = None


class AgreementRequest(_Body):
    signed_on: IsoDate | None = Field(None, description="Date on the signed agreement.")


class DueDiligenceRecord(BaseModel):
    outcome: DueDiligenceOutcome
    note: str | None
    recorded_by: str | None
    recorded_at: datetime | None


class ApplicationPublic(BaseModel):
    id: str
    org: str
    status: ApplicationStatus
    registration: dict[str, Any]
    logo_reference: str
    factory_list_id: str | None
    commitments: dict[str, bool]
    declined_commitments: list[str]
    due_diligence: dict[DueDiligenceBody, DueDiligenceRecord]
    rejection_reason: str | None = Field(
        description="Why it was rejected: 'engage as participant' when a commitment is declined."
    )
    approved_at: datetime | None
    agreement_signed_at: datetime | None
    agreement_signed_on: date | None
    created_at: datetime
    updated_at: datetime


class ApplicationPage(BaseModel):
    items: list[ApplicationPublic]
    next_cursor: str | None = None


class CommitmentPublic(BaseModel):
    code: str
    numeral: str
    group: str
    text: str
