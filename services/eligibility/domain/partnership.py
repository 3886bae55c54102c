"""Partnership applications (guide 2.4, FAQ IV.3): the eleven commitments and the states.

submitted -> due_diligence -> approved -> agreement_signed, or rejected with a reason.
Declining any commitment rejects at once ("engage as participant"); ILO and IFC each run
their own due diligence (pending / cleared / refused): both cleared approves, either refused
rejects. Pure functions; the routes load and store the application.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.errors import Conflict

__all__ = [
    "COMMITMENTS",
    "DECLINED_REASON",
    "ApplicationStatus",
    "Commitment",
    "DueDiligenceBody",
    "DueDiligenceOutcome",
    "Screening",
    "after_due_diligence",
    "screen_commitments",
    "sign_agreement",
]

ApplicationStatus = Literal[
    "submitted", "due_diligence", "approved", "agreement_signed", "rejected"
]
DueDiligenceBody = Literal["ILO", "IFC"]
DueDiligenceOutcome = Literal["pending", "cleared", "refused"]
CommitmentGroup = Literal["operational", "engagement", "administrative"]
DECLINED_REASON = "engage as participant"


@dataclass(frozen=True, slots=True)
class Commitment:
    code: str
    numeral: str
    group: CommitmentGroup
    text: str


COMMITMENTS: tuple[Commitment, ...] = (
    Commitment(
        "stop_duplicate_audits",
        "i",
        "operational",
        "Stop auditing suppliers enrolled in the programme where those audits duplicate "
        "Better Work assessments.",
    ),
    Commitment(
        "increase_participating_factories",
        "ii",
        "operational",
        "Increase the number of participating factories in Better Work country programmes.",
    ),
    Commitment(
        "support_improvement_process",
        "iii",
        "operational",
        "Support the improvement process and timeline; do not drop or downgrade factories "
        "on compliance results while they make sufficient progress.",
    ),
    Commitment(
        "participate_in_business_forums",
        "iv",
        "engagement",
        "Participate in the Better Work Business Forums at global and country levels.",
    ),
    Commitment(
        "encourage_others_to_engage",
        "v",
        "engagement",
        "Encourage other buyers, suppliers, licensees and agents to engage with Better Work.",
    ),
    Commitment(
        "engage_in_governance",
        "vi",
        "engagement",
        "Engage in the programme's governance (Advisory Committee, business caucus).",
    ),
    Commitment(
        "review_business_practices",
        "vii",
        "engagement",
        "Review and address business practices that may influence non-compliance.",
    ),
    Commitment(
        "clear_roles_and_communication",
        "viii",
        "administrative",
        "Establish clear internal roles, responsibilities and lines of communication.",
    ),
    Commitment(
        "provide_planning_information",
        "ix",
        "administrative",
        "Provide information that lets Better Work plan, resource and scope its services.",
    ),
    Commitment(
        "adhere_to_communication_protocols",
        "x",
        "administrative",
        "Adhere to agreed communication protocols.",
    ),
    Commitment(
        "no_fee_charge_back",
        "xi",
        "administrative",
        "Ensure buyer fees are not charged back to factories.",
    ),
)


@dataclass(frozen=True, slots=True)
class Screening:
    status: ApplicationStatus
    declined: list[str]
    rejection_reason: str | None


def screen_commitments(accepted: dict[str, bool]) -> Screening:
    """A buyer unwilling to meet every commitment is not eligible for partnership."""
    declined = [c.code for c in COMMITMENTS if not accepted.get(c.code, False)]
    if declined:
        return Screening("rejected", declined, DECLINED_REASON)
    return Screening("submitted", [], None)


@dataclass(frozen=True, slots=True)
class DueDiligenceState:
    status: ApplicationStatus
    ilo: DueDiligenceOutcome
    ifc: DueDiligenceOutcome
    rejection_reason: str | None


def after_due_diligence(
    *,
    status: str,
    ilo: DueDiligenceOutcome,
    ifc: DueDiligenceOutcome,
    body: DueDiligenceBody,
    outcome: DueDiligenceOutcome,
) -> DueDiligenceState:
    """Record one body's outcome. An outcome once cleared or refused is final (recording
    the same again changes nothing; a different one is a conflict)."""
    if status not in ("submitted", "due_diligence"):
        raise Conflict(
            f"The application is {status}: due diligence is recorded only while it is "
            "submitted or in due diligence."
        )
    current = ilo if body == "ILO" else ifc
    if current != "pending" and current != outcome:
        raise Conflict(f"{body} due diligence is already recorded as {current}; it is final.")
    if body == "ILO":
        ilo = outcome
    else:
        ifc = outcome
    if "refused" in (ilo, ifc):
        refused_by = "ILO" if ilo == "refused" else "IFC"
        return DueDiligenceState("rejected", ilo, ifc, f"{refused_by} due diligence refused")
    if ilo == ifc == "cleared":
        return DueDiligenceState("approved", ilo, ifc, None)
    return DueDiligenceState("due_diligence", ilo, ifc, None)


def sign_agreement(status: str) -> ApplicationStatus:
    if status != "approved":
        raise Conflict(
            f"The application is {status}: the partnership agreement can be signed only "
            "once ILO and IFC have approved it."
        )
    return "agreement_signed"
