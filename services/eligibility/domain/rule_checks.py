"""Each kind of rule in the rule data, compiled into a small closure that reads a factory's
facts and returns its reason (and the facts it lacked). Pure; the engine strings them
together per programme."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from operator import attrgetter
from typing import Any

from services.eligibility.domain.decision import Facts, Reason
from services.eligibility.domain.normalise import region_key
from services.eligibility.domain.products import ProductCoverage
from services.eligibility.domain.ruleset import (
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
    ProductGroupParticipation,
    ProductsRequirement,
    Programme,
    RegionRequirement,
    Requirement,
)
from shared.dates import add_months

__all__ = [
    "CACHE_LIMIT",
    "Check",
    "CheckResult",
    "ParticipationRule",
    "PriorityRule",
    "build_check",
    "participation_rule",
    "priority_rule",
    "products_check",
]


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
CACHE_LIMIT = 4096


def _cached(compute: Callable[[Any], CheckResult]) -> Callable[[Any], CheckResult]:
    """Remember results by input, forgetting all when full (bounded memory)."""
    memory: dict[Any, CheckResult] = {}

    def lookup(key: Any) -> CheckResult:
        found = memory.get(key)
        if found is None:
            if len(memory) >= CACHE_LIMIT:
                memory.clear()
            found = memory[key] = compute(key)
        return found

    return lookup


def products_check(coverage: ProductCoverage) -> Check:
    """The products rule: what `coverage` makes of the factory's products."""
    missing = _missing(coverage.code, coverage.rule, "products")

    def check(facts: Facts, as_of: date) -> CheckResult:
        products = facts.products
        if not products:
            return missing
        found = coverage.of(products, facts)
        return found.reason, found.missing_facts

    return check


def _products_check(req: ProductsRequirement, programme: Programme) -> Check:
    return products_check(ProductCoverage(programme, code=req.code, rule=req.text))


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
    """The caller's `nominated_by_partner` is a what-if and the reason says so; without it,
    the nominations recorded for the matched registry factory decide (scoping looks them up)
    and the reason names the one that counted."""
    code, rule = req.code, req.text
    assumed = "assumed by the caller (nominated_by_partner was sent)"
    answers: dict[bool | None, CheckResult] = {
        None: (
            Reason(
                code,
                None,
                "missing",
                "nominated_by_partner is not given and the factory does not match a registry "
                "factory, so no recorded nomination can count; identify it (factory_id, os_id "
                "or name) or send nominated_by_partner as an assumption.",
                rule,
            ),
            ("nominated_by_partner",),
        ),
        True: _passed(code, rule, f"Nominated by a partner brand: {assumed}."),
        False: _failed(code, rule, f"Not nominated by a partner brand: {assumed}."),
    }

    def check(facts: Facts, as_of: date) -> CheckResult:
        record = facts.recorded_nomination
        if record is None:
            return answers[facts.nominated_by_partner]
        if record.nomination_id is None:
            return _failed(
                code,
                rule,
                f"No partner brand has recorded a nomination of registry factory "
                f"{record.factory_id} (a partner records one with POST /nominations).",
            )
        by = f" by {record.nominated_by}" if record.nominated_by else ""
        return _passed(
            code,
            rule,
            f"Nominated: nomination {record.nomination_id}{by}, recorded {record.recorded_on}, "
            f"of registry factory {record.factory_id}.",
        )

    return check


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
        try:
            reached: date | None = add_months(since, months)
        except OverflowError:  # past year 9999: never
            reached = None
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
PriorityRule = Callable[["Facts"], tuple[bool | None, Reason | None]]


def participation_rule(programme: Programme) -> ParticipationRule | None:
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


def priority_rule(programme: Programme) -> PriorityRule:
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


def build_check(requirement: Requirement, programme: Programme) -> Check:
    return _CHECK_BUILDERS[type(requirement)](requirement, programme)
