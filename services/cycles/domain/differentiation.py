"""Differentiation (SPEC section 6, guide Table 2 part C), pure: after two consecutive
assessments a factory is high-performing when all four criteria hold, each reported with
its evidence. Criterion 1 is read from the released assessment reports; the others from
what the advisor recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from shared.errors import Conflict, Unprocessable

__all__ = [
    "CRITERIA",
    "AdvisorEvidence",
    "AssessedCycle",
    "Classification",
    "CriterionResult",
    "CycleRecord",
    "Finding",
    "check_high_performing_option",
    "classification_basis",
    "classify",
]

PUBLIC_COMPLIANCE: Final = "public_compliance"
MANAGEMENT_SYSTEMS: Final = "management_systems"
SOCIAL_DIALOGUE: Final = "social_dialogue"
LEARNING: Final = "learning"
CRITERIA: Final = {
    PUBLIC_COMPLIANCE: "Compliance with publicly reported issues",
    MANAGEMENT_SYSTEMS: "Effective systems to sustain changes",
    SOCIAL_DIALOGUE: "Effective social dialogue",
    LEARNING: "Learning for sustainable improvement",
}
# Element code -> what the guide asks for; each must hold for its criterion to pass.
ELEMENTS: Final = {
    MANAGEMENT_SYSTEMS: {
        "osh_management_system": "all elements of the OSH management system are satisfied",
        "hr_management_system": "all elements of the HR management system are satisfied",
    },
    SOCIAL_DIALOGUE: {
        "active_bipartite_committee": "an active, effectively functioning bipartite committee",
        "management_decision_authority": (
            "management representatives on the committee have sufficient decision authority"
        ),
        "freely_chosen_worker_members": "freely chosen, representative worker members",
        "open_union_communication": (
            "open communication with unions present; union representatives may join the "
            "committee; the committee is not used as an alternative to a union"
        ),
        "effective_grievance_handling": "an effective grievance handling procedure",
    },
    LEARNING: {
        "needs_based_learning_plan": (
            "a needs-based learning plan developed with elected worker representatives"
        ),
        "learning_plan_implemented": "the learning plan is implemented",
    },
}


@dataclass(frozen=True, slots=True)
class Finding:
    cluster: str
    question: str
    publicly_reported: bool
    compliant: bool


@dataclass(frozen=True, slots=True)
class AssessedCycle:
    """One assessment, as released in the reports service."""

    cycle: int
    released: bool
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class CycleRecord:
    number: int
    assessment_skipped: bool
    assessment_held: bool


@dataclass(frozen=True, slots=True)
class AdvisorEvidence:
    """What the advisor observed, per criterion 2-4: element code -> holds, and notes."""

    elements: dict[str, dict[str, bool]]
    notes: dict[str, str]


@dataclass(frozen=True, slots=True)
class CriterionResult:
    code: str
    title: str
    passed: bool
    evidence: tuple[str, ...]
    failed_elements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Classification:
    cycles: tuple[int, int]
    criteria: tuple[CriterionResult, ...]

    @property
    def high_performing(self) -> bool:
        return all(c.passed for c in self.criteria)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria if not c.passed)


def classification_basis(cycles: Sequence[CycleRecord]) -> tuple[int, int]:
    """The two consecutive assessments a classification rests on (no fast track).

    Cycles after the latest held assessment (still running) and cycles skipped under the
    high-performing option are passed over; a cycle whose assessment was due but never
    held breaks the sequence."""
    ordered = sorted(cycles, key=lambda c: c.number)
    while ordered and not ordered[-1].assessment_held:
        ordered.pop()
    relevant = [c for c in ordered if not c.assessment_skipped]
    held = sum(c.assessment_held for c in relevant)
    if held < 2:
        raise Conflict(
            "Classification needs two consecutive completed assessments (no fast track); "
            f"this factory has {held}.",
            rule="two_consecutive_assessments",
        )
    latest, previous = relevant[-1], relevant[-2]
    if not previous.assessment_held:
        raise Conflict(
            f"Classification needs two consecutive completed assessments: the assessment of "
            f"cycle {previous.number} was not held, so cycle {latest.number}'s has no "
            "predecessor.",
            rule="two_consecutive_assessments",
        )
    return previous.number, latest.number


def _public_compliance(assessments: Sequence[AssessedCycle]) -> CriterionResult:
    evidence, failures = [], []
    for assessed in assessments:
        public = [f for f in assessed.findings if f.publicly_reported]
        failing = [f for f in public if not f.compliant]
        if failing:
            for finding in failing:
                failures.append(f"cycle_{assessed.cycle}:{finding.cluster}:{finding.question}")
            names = "; ".join(f"{f.cluster}: {f.question}" for f in failing)
            evidence.append(
                f"Cycle {assessed.cycle} assessment report: {len(failing)} non-compliance(s) "
                f"on publicly reported issues ({names})."
            )
        else:
            evidence.append(
                f"Cycle {assessed.cycle} assessment report: no non-compliance on the "
                f"{len(public)} publicly reported issue(s) assessed."
            )
    return CriterionResult(
        code=PUBLIC_COMPLIANCE,
        title=CRITERIA[PUBLIC_COMPLIANCE],
        passed=not failures,
        evidence=tuple(evidence),
        failed_elements=tuple(failures),
    )


def _recorded(code: str, evidence: AdvisorEvidence) -> CriterionResult:
    observed = evidence.elements.get(code, {})
    lines, failures = [], []
    for element, wording in ELEMENTS[code].items():
        holds = observed.get(element, False)
        lines.append(f"{'Met' if holds else 'Not met'}: {wording}.")
        if not holds:
            failures.append(element)
    note = evidence.notes.get(code, "").strip()
    if note:
        lines.append(f"Advisor's evidence: {note}")
    return CriterionResult(
        code=code,
        title=CRITERIA[code],
        passed=not failures,
        evidence=tuple(lines),
        failed_elements=tuple(failures),
    )


def classify(assessments: Sequence[AssessedCycle], evidence: AdvisorEvidence) -> Classification:
    """Evaluate the four criteria over two consecutive released assessments."""
    if len(assessments) != 2:
        raise ValueError("a classification rests on exactly two assessments")
    for assessed in assessments:
        if not assessed.released:
            raise Conflict(
                f"The assessment report of cycle {assessed.cycle} is not released yet; criterion "
                "1 is read from released reports, so release it first.",
                rule="released_assessment_reports",
            )
    first, second = sorted(assessments, key=lambda a: a.cycle)
    return Classification(
        cycles=(first.cycle, second.cycle),
        criteria=(
            _public_compliance((first, second)),
            _recorded(MANAGEMENT_SYSTEMS, evidence),
            _recorded(SOCIAL_DIALOGUE, evidence),
            _recorded(LEARNING, evidence),
        ),
    )


def check_high_performing_option(*, high_performing: bool, previous_skipped: bool | None) -> None:
    """May the next cycle skip its assessment? Only for a factory classified
    high-performing, and only every other year (`previous_skipped`: None = no cycle yet)."""
    if not high_performing or previous_skipped is None:
        raise Unprocessable(
            "Only a factory classified high-performing may skip a cycle's assessment "
            "(POST /factories/{factory_id}/classification after two assessments).",
            rule="high_performing_option",
        )
    if previous_skipped:
        raise Unprocessable(
            "A high-performing factory is assessed every other year: the previous cycle "
            "skipped its assessment, so this one is assessed.",
            rule="assessment_every_other_year",
        )
