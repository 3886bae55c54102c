"""The eligibility decision: pure functions over the rule data, no I/O. Start reading here.

`Engine(rule_book).decide(facts, as_of=...)` answers for one factory: a status, the
participation (per service where services are sold separately), the services open to it,
priority, notes, and one reason per rule so a person can see why. A decision is, in this
order (`Engine.decide_as`, then `Engine._evaluate`):

1. the programme in force for the factory's country on `as_of` (`ruleset.RuleBook`, read
   from `rules/<COUNTRY>_<date>.json`): none is `out_of_scope`, one whose coverage is not
   published is `contact_programme`;
2. every requirement of that programme, in the order its rule file lists them, each a
   check compiled by `rule_checks` (one builder per requirement kind; the products rule
   through `products`). A check that does not pass closes the services it gates: e.g.
   Cambodia's "advisory: at least 300 workers" is the `min_workers` requirement of
   `rules/KH_2024-01-01.json`, checked by `rule_checks._min_workers_check`;
3. the participation (`rule_checks.participation_rule`, or the factory's product group);
4. the status: `not_eligible` (a rule failed) before `insufficient_data` (a fact is
   missing) before `needs_nomination` before `eligible`; then the services open, the
   priority (`rule_checks.priority_rule`) and the programme's notes.

A rule whose input is missing makes the decision `insufficient_data` and names the field:
never a guess. Each programme's rules are compiled once into small closures, so deciding
costs a few microseconds per factory (the bulk endpoints decide tens of thousands at a time).

Beside this module: `decision` (the facts read, the decision returned), `ruleset` (the rule
data), `rule_checks`, `products`, `countries` and `normalise` (what the checks use); and the
service's other pure rules: `matching` (a buyer's row to the registry), `scoping` (rows to
decisions and a summary), `nominations`, `partnership` (applications) and `access` (who
sees which row).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from services.eligibility.domain.decision import (
    DECISION_STATUSES,
    Decision,
    DecisionNote,
    DecisionStatus,
    DecisionT,
    Facts,
    Participation,
    Reason,
    RecordedNomination,
    ServiceOffer,
    Waitlist,
)
from services.eligibility.domain.products import Coverage, ProductCoverage
from services.eligibility.domain.rule_checks import (
    CACHE_LIMIT,
    Check,
    ParticipationRule,
    PriorityRule,
    build_check,
    participation_rule,
    priority_rule,
    products_check,
)
from services.eligibility.domain.ruleset import (
    SERVICE_NAMES,
    NominationRequirement,
    ParticipationLevel,
    ProductGroup,
    ProductGroupParticipation,
    ProductsRequirement,
    Programme,
    RuleBook,
    ServiceName,
)
from shared.errors import Conflict, Unprocessable

__all__ = [
    "DECISION_STATUSES",
    "Decision",
    "DecisionNote",
    "DecisionStatus",
    "Engine",
    "EnrolmentStatus",
    "Facts",
    "Reason",
    "RecordedNomination",
    "ServiceOffer",
    "Waitlist",
    "enrolment_changes",
    "mark_enrolled",
]


@dataclass(slots=True)
class _Compiled:
    programme: Programme
    checks: list[tuple[frozenset[ServiceName], bool, Check]]  # (gated services, nomination?, check)
    participation: ParticipationRule | None
    groups: list[ProductGroup]
    country_reason: Reason
    priority: PriorityRule
    coverage: ProductCoverage
    notes_on: dict[date, tuple[list[DecisionNote], Waitlist | None]] = field(default_factory=dict)

    def notes(self, as_of: date) -> tuple[list[DecisionNote], Waitlist | None]:
        """The notes shown on `as_of`, and the waitlist one of them puts in force."""
        found = self.notes_on.get(as_of)
        if found is None:
            if len(self.notes_on) >= CACHE_LIMIT:
                self.notes_on.clear()
            shown = [n for n in self.programme.notes if n.applies(as_of)]
            waitlist = next(
                (
                    Waitlist("waitlisted", n.valid_until, n.message)
                    for n in shown
                    if n.participation_status == "waitlisted" and n.valid_until is not None
                ),
                None,
            )
            notes = [DecisionNote(n.code, n.message) for n in shown]
            found = self.notes_on[as_of] = (notes, waitlist)
        return found


def _compile(programme: Programme) -> _Compiled:
    products_req = next(
        (r for r in programme.requirements if isinstance(r, ProductsRequirement)), None
    )
    coverage = ProductCoverage(
        programme,
        code=products_req.code if products_req else "products",
        rule=products_req.text if products_req else "Products covered by the programme.",
    )
    checks = []
    for req in programme.requirements:
        gated = frozenset(req.services or SERVICE_NAMES)
        check = products_check(coverage) if req is products_req else build_check(req, programme)
        checks.append((gated, isinstance(req, NominationRequirement), check))
    groups = (
        list(programme.participation.groups)
        if isinstance(programme.participation, ProductGroupParticipation)
        else []
    )
    country_reason = Reason(
        "country_programme",
        True,
        "passed",
        f"{programme.name}: rules effective {programme.effective_from}.",
        _COUNTRY_RULE,
    )
    return _Compiled(
        programme,
        checks,
        participation_rule(programme),
        groups,
        country_reason,
        priority_rule(programme),
        coverage,
    )


# Decisions share these small parts (read-only by convention) instead of building them anew:
# fewer objects per decision is what keeps tens of thousands of decisions a second.
_LEVELS: tuple[ParticipationLevel | None, ...] = ("mandatory", "voluntary", None)
_SERVICES: dict[
    tuple[bool, ParticipationLevel | None, bool, ParticipationLevel | None],
    dict[ServiceName, ServiceOffer],
] = {
    (a_open, a_level, b_open, b_level): {
        "assessment": ServiceOffer(a_open, a_level),
        "advisory": ServiceOffer(b_open, b_level),
    }
    for a_open in (True, False)
    for a_level in _LEVELS
    for b_open in (True, False)
    for b_level in _LEVELS
}
_COUNTRY_RULE = "Better Work runs a programme in the country."
_ALL_SERVICES: frozenset[ServiceName] = frozenset(SERVICE_NAMES)
# A full programme waitlists the factories that could join: not those that cannot, and not
# those already enrolled (mark_enrolled clears it).
_WAITLISTED_STATUSES = frozenset(("eligible", "needs_nomination", "insufficient_data"))
_ASSESSMENT_ONLY: frozenset[ServiceName] = frozenset(("assessment",))


class Engine:
    """Decisions over one rule book; compiled programmes are kept for reuse."""

    def __init__(self, rule_book: RuleBook) -> None:
        self.rule_book = rule_book
        self._compiled: dict[tuple[str, date], _Compiled] = {}
        self._programme_list = ", ".join(rule_book.countries)

    def require_rules_on(self, as_of: date) -> None:
        """422 for a date before any rules were published: there is nothing to decide by."""
        if as_of < self.rule_book.earliest:
            raise Unprocessable(
                f"No programme rules are in force on {as_of}: the earliest rules take effect "
                f"on {self.rule_book.earliest}."
            )

    def programme(self, country: str, as_of: date) -> Programme | None:
        """The programme in force, or None outside the programme countries."""
        self.require_rules_on(as_of)
        return self.rule_book.in_force(country, as_of)

    def decide(self, facts: Facts, *, as_of: date) -> Decision:
        """The decision for one factory."""
        return self.decide_as(Decision, facts, as_of=as_of)

    def decide_as(self, result_type: type[DecisionT], facts: Facts, *, as_of: date) -> DecisionT:
        """The decision as `result_type`, a subclass of Decision adding fields with
        defaults (built once, instead of a Decision copied into it)."""
        country = facts.country
        programme = self.programme(country, as_of)
        if programme is None:
            return self._out_of_scope(country, as_of, result_type)
        if not programme.coverage_published:
            return self._contact_programme(programme, as_of, result_type)
        key = (country, programme.effective_from)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(programme)
        return self._evaluate(compiled, facts, as_of, result_type)

    def _evaluate(
        self, compiled: _Compiled, facts: Facts, as_of: date, result_type: type[DecisionT]
    ) -> DecisionT:
        programme = compiled.programme
        products = facts.products
        coverage = compiled.coverage.of(products, facts) if products else None
        group, group_lacks = (
            _product_group(compiled.groups, coverage) if compiled.groups else (None, ())
        )
        requested = (
            _requested_services(group, facts.wants_advisory)
            if programme.services_sold_separately
            else _ALL_SERVICES
        )
        reasons = [compiled.country_reason]
        missing: list[str] = []
        hard_failure = nomination_failed = False
        blocked: frozenset[ServiceName] = frozenset()  # services some gating rule did not pass
        for gated, is_nomination, check in compiled.checks:
            reason, lacking = check(facts, as_of)
            reasons.append(reason)
            outcome = reason.outcome
            if outcome == "passed" or outcome == "unverified":
                continue
            blocked |= gated
            if gated.isdisjoint(requested):
                continue  # e.g. advisory rules when only the assessment is asked for
            if outcome == "missing":
                missing.extend(f for f in lacking if f not in missing)
            elif is_nomination:
                nomination_failed = True
            else:
                hard_failure = True

        participation: Participation
        if compiled.participation is not None:
            level, explanation, lacking = compiled.participation(facts)
            if explanation is not None:
                reasons.append(explanation)
            if lacking:
                missing.extend(f for f in lacking if f not in missing)
            participation = assessment_level = advisory_level = level
        elif group is not None:
            participation = group.services
            assessment_level = group.services.get("assessment")
            advisory_level = group.services.get("advisory")
        else:
            # Cambodia: the group (mandatory or voluntary assessment) may hang on a fact.
            missing.extend(f for f in group_lacks if f not in missing)
            participation = assessment_level = advisory_level = None

        if hard_failure:
            status: DecisionStatus = "not_eligible"
        elif missing:
            status = "insufficient_data"
        elif nomination_failed:
            status = "needs_nomination"
        else:
            status = "eligible"

        if programme.services_sold_separately:
            # Each service is open when every rule gating it passed, whatever was asked for.
            assessment_open = "assessment" not in blocked
            advisory_open = "advisory" not in blocked
        else:
            assessment_open = advisory_open = status == "eligible"
        services = _SERVICES[assessment_open, assessment_level, advisory_open, advisory_level]

        priority, priority_reason = compiled.priority(facts)
        if priority_reason is not None:
            reasons.append(priority_reason)
        notes, waitlist = compiled.notes(as_of)
        if group is not None and group.note is not None and group.note.applies(as_of):
            notes = [*notes, DecisionNote(group.note.code, group.note.message)]
        if coverage is not None and coverage.assumptions:
            notes = [*notes, *(DecisionNote("product_assumption", a) for a in coverage.assumptions)]
        return result_type(
            programme.country,
            status,
            participation,
            services,
            priority,
            reasons,
            tuple(missing) if missing else (),
            notes,
            as_of,
            programme.effective_from,
            programme.name,
            waitlist if status in _WAITLISTED_STATUSES else None,
        )

    def _out_of_scope(self, country: str, as_of: date, result_type: type[DecisionT]) -> DecisionT:
        reason = Reason(
            "country_programme",
            False,
            "failed",
            f"Better Work has no programme in {country}.",
            f"Better Work programmes: {self._programme_list}.",
        )
        return result_type(country, "out_of_scope", None, {}, None, [reason], (), [], as_of)

    @staticmethod
    def _contact_programme(
        programme: Programme, as_of: date, result_type: type[DecisionT]
    ) -> DecisionT:
        message = programme.contact or f"Contact {programme.name}: its coverage is not published."
        reason = Reason(
            "country_programme", None, "info", message, "Programme coverage not published."
        )
        return result_type(
            programme.country,
            "contact_programme",
            None,
            {},
            None,
            [reason],
            (),
            [DecisionNote("contact_programme", message)],
            as_of,
            programme.effective_from,
            programme.name,
        )


def _product_group(
    groups: list[ProductGroup], coverage: Coverage | None
) -> tuple[ProductGroup | None, tuple[str, ...]]:
    """The first group (in rule order, mandatory first) holding a covered product of the
    factory; when a product that would decide it waits on a missing fact (Cambodia: is a
    garment factory exporting?), no group and that fact."""
    if coverage is None:
        return None, ()
    for group in groups:
        if any(p in group.products for p in coverage.products):
            return group, ()
        if any(p in group.products for p in coverage.pending):
            return None, coverage.missing_facts
    return None, ()


def _requested_services(
    group: ProductGroup | None, wants_advisory: bool | None
) -> frozenset[ServiceName]:
    """Where services are sold separately: the assessment, plus advisory when asked for or
    when the factory's products come as a package."""
    if wants_advisory or (group is not None and group.package):
        return _ALL_SERVICES
    return _ASSESSMENT_ONLY


def mark_enrolled(decision: DecisionT, *, factory_id: str) -> DecisionT:
    """The factory is already an enrolled Better Work factory: say so, keep the reasons."""
    reason = Reason(
        "registry_enrolment",
        True,
        "passed",
        f"Matches registry factory {factory_id}, already enrolled.",
        "A factory enrolled in the programme (registered and paid) is reported as enrolled.",
    )
    return replace(decision, status="enrolled", reasons=[*decision.reasons, reason], waitlist=None)


EnrolmentStatus = Literal["registered", "enrolled", "withdrawn"]


def enrolment_changes(current: str, wanted: EnrolmentStatus) -> bool:
    """Whether marking `wanted` changes anything: registered -> enrolled (registered and
    paid), enrolled -> withdrawn, withdrawn -> enrolled (back in). Marking the current status
    again changes nothing; withdrawing a factory that never enrolled is a conflict."""
    if current == wanted:
        return False
    if wanted == "withdrawn" and current != "enrolled":
        raise Conflict(f"Only an enrolled factory can be withdrawn; this one is {current}.")
    return True
