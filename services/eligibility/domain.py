"""The eligibility decision: pure functions over the rule data (`ruleset`), no I/O.

`Engine(rule_book).decide(facts, as_of=...)` answers for one factory: a status, the
participation (per service where services are sold separately), the services open to it,
priority, notes, and one reason per rule so a person can see why. A rule whose input is
missing makes the decision `insufficient_data` and names the field: never a guess.

Each programme's rules are compiled once into small closures, so deciding costs a few
microseconds per factory (the bulk endpoints decide tens of thousands at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from operator import attrgetter
from typing import Any, Literal, Protocol, TypeVar

from services.eligibility.normalise import region_key
from services.eligibility.ruleset import (
    SERVICE_NAMES,
    ExportLicenseRequirement,
    ExportMarketParticipation,
    FactParticipation,
    FixedParticipation,
    MinFemaleShareRequirement,
    MinMonthsOperatingRequirement,
    MinWorkersRequirement,
    NominationRequirement,
    OutsideExportProcessingZoneRequirement,
    ParticipationLevel,
    ProductGroup,
    ProductGroupParticipation,
    ProductsRequirement,
    Programme,
    RegionRequirement,
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
    "ServiceOffer",
    "add_months",
    "enrolment_changes",
    "mark_enrolled",
]

DecisionStatus = Literal[
    "eligible",
    "needs_nomination",
    "not_eligible",
    "insufficient_data",
    "contact_programme",
    "out_of_scope",
    "enrolled",
]
DECISION_STATUSES: tuple[str, ...] = DecisionStatus.__args__  # type: ignore[attr-defined]
Outcome = Literal["passed", "failed", "missing", "unverified", "info"]
Participation = ParticipationLevel | dict[ServiceName, ParticipationLevel] | None


class Facts(Protocol):
    """What the engine reads about a factory (the API's FactoryFacts has these fields)."""

    @property
    def country(self) -> str: ...
    @property
    def products(self) -> Sequence[str] | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def in_export_processing_zone(self) -> bool | None: ...
    @property
    def worker_count(self) -> int | None: ...
    @property
    def female_worker_share(self) -> float | None: ...
    @property
    def operating_since(self) -> date | None: ...
    @property
    def has_export_license(self) -> bool | None: ...
    @property
    def nominated_by_partner(self) -> bool | None: ...
    @property
    def export_markets(self) -> Sequence[str] | None: ...
    @property
    def is_subcontractor(self) -> bool | None: ...
    @property
    def in_industrial_park(self) -> bool | None: ...
    @property
    def wants_advisory(self) -> bool | None: ...


@dataclass(slots=True)
class Reason:
    """One rule and how the factory fared: `passed` is null when the rule could not be
    evaluated (`outcome` missing or unverified) or only informs (`outcome` info)."""

    code: str
    passed: bool | None
    outcome: Outcome
    message: str
    rule: str


@dataclass(slots=True)
class ServiceOffer:
    available: bool
    participation: ParticipationLevel | None


@dataclass(slots=True)
class DecisionNote:
    code: str
    message: str


@dataclass(slots=True)
class Decision:
    """Whether a factory can join its country's Better Work programme, and why."""

    country: str
    status: DecisionStatus
    participation: Participation
    services: dict[ServiceName, ServiceOffer]
    priority: bool | None
    reasons: list[Reason]
    missing_fields: tuple[str, ...]
    notes: list[DecisionNote]
    as_of: date
    rules_effective_from: date | None = None
    programme: str | None = None


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


DecisionT = TypeVar("DecisionT", bound=Decision)


def add_months(start: date, months: int) -> date | None:
    """The same calendar day `months` later (clamped to the month's end); None past 9999."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    if year > date.max.year:
        return None
    month = month_index % 12 + 1
    day = min(start.day, _days_in_month(year, month))
    return date(year, month, day)


# A check reads the facts and returns its reason and the names of the facts it lacked.
CheckResult = tuple[Reason, tuple[str, ...]]
Check = Callable[["Facts", date], CheckResult]
_NO_MISSING: tuple[str, ...] = ()


def _passed(code: str, rule: str, message: str) -> CheckResult:
    return Reason(code, True, "passed", message, rule), _NO_MISSING


def _failed(code: str, rule: str, message: str) -> CheckResult:
    return Reason(code, False, "failed", message, rule), _NO_MISSING


def _missing(code: str, rule: str, fact: str) -> CheckResult:
    return Reason(
        code, None, "missing", f"{fact} is not given; it is needed for this rule.", rule
    ), (fact,)


# Results kept per check for inputs that repeat (lists hold the same few products, regions,
# worker counts): decisions share those Reason objects, which nothing mutates.
_CACHE_LIMIT = 4096


def _cached(compute: Callable[[Any], CheckResult]) -> Callable[[Any], CheckResult]:
    """Remember results by input, forgetting all when full (bounded memory)."""
    memory: dict[Any, CheckResult] = {}

    def lookup(key: Any) -> CheckResult:
        found = memory.get(key)
        if found is None:
            if len(memory) >= _CACHE_LIMIT:
                memory.clear()
            found = memory[key] = compute(key)
        return found

    return lookup


def _products_check(req: ProductsRequirement, programme: Programme) -> Check:
    covered = frozenset(programme.products)
    listing = ", ".join(programme.products)
    code, rule = req.code, req.text
    missing = _missing(code, rule, "products")

    def compute(products: tuple[str, ...]) -> CheckResult:
        inside = [p for p in products if p in covered]
        if not inside:
            return _failed(
                code, rule, f"{', '.join(products)}: not covered here (covered: {listing})."
            )
        outside = [p for p in products if p not in covered]
        extra = f"; not covered: {', '.join(outside)}" if outside else ""
        return _passed(code, rule, f"Covered: {', '.join(inside)}{extra}.")

    result_for = _cached(compute)

    def check(facts: Facts, as_of: date) -> CheckResult:
        products = facts.products
        return result_for(tuple(products)) if products else missing

    return check


def _region_check(req: RegionRequirement, programme: Programme) -> Check:
    code, rule = req.code, req.text
    if req.regions is None:

        def unverified(region: str | None) -> CheckResult:
            given = f"{region!r}: " if region else ""
            message = (
                f"{given}the programme's province list is not configured yet, so the "
                "geography is not verified (a warning, not a failure)."
            )
            return Reason(code, None, "unverified", message, rule), _NO_MISSING

        unverified_for = _cached(unverified)
        return lambda facts, as_of: unverified_for(facts.region)

    names = {region_key(n): r.name for r in req.regions for n in (r.name, *r.aliases)}
    listing = ", ".join(r.name for r in req.regions)
    missing = _missing(code, rule, "region")

    def compute(region: str) -> CheckResult:
        found = names.get(region_key(region))
        if found is None and "," in region:  # "Ashulia, Savar, Dhaka": any part will do
            found = next((names[k] for k in map(region_key, region.split(",")) if k in names), None)
        if found is None:
            return _failed(code, rule, f"{region!r} is not in the programme's regions ({listing}).")
        return _passed(code, rule, f"{region!r} is in {found}.")

    result_for = _cached(compute)

    def check(facts: Facts, as_of: date) -> CheckResult:
        region = facts.region
        if region is None or not region.strip():
            return missing
        return result_for(region)

    return check


def _yes_no_check(
    code: str, rule: str, fact: str, *, passes_when: bool, yes: str, no: str
) -> Check:
    """A rule on one yes/no fact: three possible answers, built once."""
    answers = {
        None: _missing(code, rule, fact),
        passes_when: _passed(code, rule, yes if passes_when else no),
        not passes_when: _failed(code, rule, no if passes_when else yes),
    }
    read = attrgetter(fact)
    return lambda facts, as_of: answers[read(facts)]


def _outside_epz_check(req: OutsideExportProcessingZoneRequirement, programme: Programme) -> Check:
    return _yes_no_check(
        req.code,
        req.text,
        "in_export_processing_zone",
        passes_when=False,
        yes="The factory is in an Export Processing Zone.",
        no="The factory is outside Export Processing Zones.",
    )


def _export_license_check(req: ExportLicenseRequirement, programme: Programme) -> Check:
    return _yes_no_check(
        req.code,
        req.text,
        "has_export_license",
        passes_when=True,
        yes="The factory holds an export licence.",
        no="The factory has no export licence.",
    )


def _nomination_check(req: NominationRequirement, programme: Programme) -> Check:
    return _yes_no_check(
        req.code,
        req.text,
        "nominated_by_partner",
        passes_when=True,
        yes="Nominated by a partner brand.",
        no="Not nominated by a partner brand yet.",
    )


def _min_workers_check(req: MinWorkersRequirement, programme: Programme) -> Check:
    code, rule, minimum = req.code, req.text, req.minimum
    missing = _missing(code, rule, "worker_count")

    def compute(workers: int) -> CheckResult:
        if workers >= minimum:
            return _passed(code, rule, f"{workers} workers (at least {minimum} needed).")
        return _failed(code, rule, f"{workers} workers; at least {minimum} are needed.")

    result_for = _cached(compute)

    def check(facts: Facts, as_of: date) -> CheckResult:
        workers = facts.worker_count
        return missing if workers is None else result_for(workers)

    return check


def _min_female_share_check(req: MinFemaleShareRequirement, programme: Programme) -> Check:
    code, rule, minimum = req.code, req.text, req.minimum
    shown = f"{minimum * 100:.4g}%"
    missing = _missing(code, rule, "female_worker_share")

    def compute(share: float) -> CheckResult:
        if share >= minimum:
            return _passed(code, rule, f"{share * 100:.4g}% female workers ({shown} needed).")
        return _failed(code, rule, f"{share * 100:.4g}% female workers; {shown} are needed.")

    result_for = _cached(compute)

    def check(facts: Facts, as_of: date) -> CheckResult:
        share = facts.female_worker_share
        return missing if share is None else result_for(share)

    return check


def _min_months_check(req: MinMonthsOperatingRequirement, programme: Programme) -> Check:
    code, rule, months = req.code, req.text, req.months
    missing = _missing(code, rule, "operating_since")

    def compute(key: tuple[date, date]) -> CheckResult:
        since, as_of = key
        reached = add_months(since, months)
        if reached is not None and reached <= as_of:
            return _passed(
                code, rule, f"In operation since {since} ({months} months on {reached})."
            )
        return _failed(
            code,
            rule,
            f"In operation since {since}: {months} months only on {reached or 'never'}.",
        )

    result_for = _cached(compute)

    def check(facts: Facts, as_of: date) -> CheckResult:
        since = facts.operating_since
        return missing if since is None else result_for((since, as_of))

    return check


_CHECK_BUILDERS: dict[type, Callable[..., Check]] = {
    ProductsRequirement: _products_check,
    RegionRequirement: _region_check,
    OutsideExportProcessingZoneRequirement: _outside_epz_check,
    MinWorkersRequirement: _min_workers_check,
    MinFemaleShareRequirement: _min_female_share_check,
    MinMonthsOperatingRequirement: _min_months_check,
    ExportLicenseRequirement: _export_license_check,
    NominationRequirement: _nomination_check,
}

# Participation: the level (or None when a fact is missing), an explaining reason, missing facts.
ParticipationResult = tuple[ParticipationLevel | None, Reason | None, tuple[str, ...]]
ParticipationRule = Callable[["Facts"], ParticipationResult]


def _participation_rule(programme: Programme) -> ParticipationRule | None:
    rule = programme.participation
    if rule is None or isinstance(rule, ProductGroupParticipation):
        return None  # per product group: resolved with the group
    if isinstance(rule, FixedParticipation):
        fixed: ParticipationResult = (rule.value, None, _NO_MISSING)
        return lambda facts: fixed
    if isinstance(rule, FactParticipation):
        text = rule.text

        def by_licence(facts: Facts) -> ParticipationResult:
            licensed = facts.has_export_license
            if licensed is None:
                reason = Reason(
                    "participation",
                    None,
                    "missing",
                    "has_export_license is not "
                    "given; it decides whether participation is mandatory.",
                    text,
                )
                return None, reason, ("has_export_license",)
            if licensed:
                message = "Holds an export licence: participation is mandatory."
                return "mandatory", Reason("participation", None, "info", message, text), ()
            message = "No export licence: participation is voluntary."
            return "voluntary", Reason("participation", None, "info", message, text), ()

        return by_licence
    return _export_market_rule(rule)


def _export_market_rule(rule: ExportMarketParticipation) -> ParticipationRule:
    members = {code: name for name, codes in rule.market_groups.items() for code in codes}
    markets = frozenset(rule.markets)
    listing = ", ".join(rule.markets)
    text = rule.text

    def by_markets(facts: Facts) -> ParticipationResult:
        exports = facts.export_markets
        if exports is None:
            reason = Reason(
                "participation",
                None,
                "missing",
                "export_markets is not given; it decides whether participation is mandatory.",
                text,
            )
            return None, reason, ("export_markets",)
        hit = sorted({members.get(m, m) for m in exports} & markets)
        if not hit:
            message = f"No exports to {listing}: participation is voluntary."
            return "voluntary", Reason("participation", None, "info", message, text), ()
        how = "indirect (subcontractor)" if facts.is_subcontractor else "direct"
        message = f"Exports to {', '.join(hit)} ({how} exporter): participation is mandatory."
        return "mandatory", Reason("participation", None, "info", message, text), ()

    return by_markets


@dataclass(slots=True)
class _Compiled:
    programme: Programme
    checks: list[tuple[frozenset[ServiceName], bool, Check]]  # (gated services, nomination?, check)
    participation: ParticipationRule | None
    groups: list[ProductGroup]
    country_reason: Reason
    priority: Callable[[Facts], tuple[bool | None, Reason | None]]
    notes_on: dict[date, list[DecisionNote]] = field(default_factory=dict)

    def notes(self, as_of: date) -> list[DecisionNote]:
        found = self.notes_on.get(as_of)
        if found is None:
            if len(self.notes_on) >= _CACHE_LIMIT:
                self.notes_on.clear()
            notes = self.programme.notes
            found = self.notes_on[as_of] = [
                DecisionNote(n.code, n.message) for n in notes if n.applies(as_of)
            ]
        return found


def _compile(programme: Programme) -> _Compiled:
    checks = []
    for req in programme.requirements:
        gated = frozenset(req.services or SERVICE_NAMES)
        build = _CHECK_BUILDERS[type(req)]
        checks.append((gated, isinstance(req, NominationRequirement), build(req, programme)))
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
        _participation_rule(programme),
        groups,
        country_reason,
        _priority_rule(programme),
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
        group = _product_group(compiled.groups, facts.products) if compiled.groups else None
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
        notes = compiled.notes(as_of)
        if group is not None and group.note is not None and group.note.applies(as_of):
            notes = [*notes, DecisionNote(group.note.code, group.note.message)]
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
    groups: list[ProductGroup], products: Sequence[str] | None
) -> ProductGroup | None:
    """The first group (in rule order, mandatory first) holding one of the products."""
    if not products:
        return None
    for group in groups:
        if any(p in group.products for p in products):
            return group
    return None


def _requested_services(
    group: ProductGroup | None, wants_advisory: bool | None
) -> frozenset[ServiceName]:
    """Where services are sold separately: the assessment, plus advisory when asked for or
    when the factory's products come as a package."""
    if wants_advisory or (group is not None and group.package):
        return _ALL_SERVICES
    return _ASSESSMENT_ONLY


def _priority_rule(programme: Programme) -> Callable[[Facts], tuple[bool | None, Reason | None]]:
    rule = programme.priority
    if rule is None:
        return lambda facts: (False, None)
    answers: dict[bool | None, tuple[bool | None, Reason | None]] = {
        None: (
            None,
            Reason(
                "priority",
                None,
                "info",
                "in_industrial_park is not given: priority unknown.",
                rule.text,
            ),
        ),
        True: (
            True,
            Reason("priority", None, "info", "In an industrial park: prioritised.", rule.text),
        ),
        False: (
            False,
            Reason(
                "priority", None, "info", "Not in an industrial park: not prioritised.", rule.text
            ),
        ),
    }
    return lambda facts: answers[facts.in_industrial_park]


def mark_enrolled(decision: DecisionT, *, factory_id: str) -> DecisionT:
    """The factory is already an enrolled Better Work factory: say so, keep the reasons."""
    reason = Reason(
        "registry_enrolment",
        True,
        "passed",
        f"Matches registry factory {factory_id}, already enrolled.",
        "A factory enrolled in the programme (registered and paid) is reported as enrolled.",
    )
    return replace(decision, status="enrolled", reasons=[*decision.reasons, reason])


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
