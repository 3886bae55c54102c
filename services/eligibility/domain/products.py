"""Which of a factory's products a programme covers, read from the rule data: the
programme's own product codes, the codes its product words include (`product_synonyms`:
Bangladesh's supporting processing includes textiles; Ethiopia's leathers include leather
footwear and leather goods) and the products it covers only on a condition
(`product_conditions`: Cambodia covers *exporting* garment, travel-goods and bag factories).

Pure; the products rule and the choice of a participation group (Cambodia) share one
answer per factory, so both always agree on what the factory makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from services.eligibility.domain.decision import Facts, Reason
from services.eligibility.domain.ruleset import ProductCondition, ProductSynonym, Programme

__all__ = ["Coverage", "ProductCoverage"]

_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Coverage:
    """One factory's products against one programme."""

    products: tuple[str, ...]  # covered programme products the factory makes (or counts as)
    pending: tuple[str, ...]  # covered products whose condition's fact is missing
    missing_facts: tuple[str, ...]  # those facts
    assumptions: tuple[str, ...]  # what counting a synonym assumed (shown as notes)
    reason: Reason


@dataclass(frozen=True, slots=True)
class _Verdict:
    code: str
    counted_as: str | None  # the covered product it counts as; None: not covered
    synonym: ProductSynonym | None
    condition: ProductCondition | None


class ProductCoverage:
    """The products rule of one programme, compiled once; answers are remembered by the
    products and the condition facts (lists repeat the same few combinations)."""

    def __init__(self, programme: Programme, *, code: str, rule: str) -> None:
        self._covered = frozenset(programme.products)
        self._synonyms: dict[str, ProductSynonym] = {s.code: s for s in programme.product_synonyms}
        self._conditions: dict[str, ProductCondition] = {
            p: c for c in programme.product_conditions for p in c.products
        }
        self._facts = tuple(sorted({c.fact for c in programme.product_conditions}))
        self._read_facts = attrgetter(*self._facts) if self._facts else None
        self._listing = ", ".join(programme.products)
        self.code, self.rule = code, rule  # the products rule's code and text
        self._memory: dict[tuple[Any, ...], Coverage] = {}

    def of(self, products: Sequence[str], facts: Facts) -> Coverage:
        values: tuple[Any, ...] = ()
        if self._read_facts is not None:
            read = self._read_facts(facts)
            values = read if len(self._facts) > 1 else (read,)
        key = (tuple(products), values)
        found = self._memory.get(key)
        if found is None:
            if len(self._memory) >= _CACHE_LIMIT:
                self._memory.clear()
            found = self._memory[key] = self._compute(
                key[0], dict(zip(self._facts, values, strict=True))
            )
        return found

    def _verdict(self, code: str) -> _Verdict:
        if code in self._covered:
            return _Verdict(code, code, None, self._conditions.get(code))
        synonym = self._synonyms.get(code)
        if synonym is None:
            return _Verdict(code, None, None, None)
        return _Verdict(code, synonym.counts_as, synonym, self._conditions.get(synonym.counts_as))

    def _compute(self, products: tuple[str, ...], fact_values: dict[str, Any]) -> Coverage:
        covered: list[str] = []
        shown: list[str] = []
        pending: list[str] = []
        missing: list[str] = []
        assumptions: list[str] = []
        outside: list[str] = []
        excluded: list[str] = []
        for verdict in map(self._verdict, dict.fromkeys(products)):
            target = verdict.counted_as
            if target is None:
                outside.append(verdict.code)
                continue
            condition = verdict.condition
            if condition is not None and fact_values.get(condition.fact) is not True:
                if fact_values.get(condition.fact) is None:
                    pending.append(target)
                    missing.extend(f for f in (condition.fact,) if f not in missing)
                else:
                    excluded.append(verdict.code)
                continue
            covered.append(target)
            if verdict.synonym is None:
                shown.append(verdict.code)
            else:
                synonym = verdict.synonym
                shown.append(f"{verdict.code} (as {target}: {synonym.guide})")
                if synonym.assumption and synonym.assumption not in assumptions:
                    assumptions.append(synonym.assumption)
        reason = self._reason(products, shown, outside, excluded, pending, missing)
        return Coverage(
            tuple(dict.fromkeys(covered)),
            tuple(dict.fromkeys(pending)),
            tuple(missing),
            tuple(assumptions),
            reason,
        )

    def _why(self, products: list[str]) -> str:
        """The conditions of these covered products, as the rule data words them."""
        texts = sorted({self._conditions[p].text.rstrip(".") for p in products})
        return "; ".join(texts)

    def _reason(
        self,
        products: tuple[str, ...],
        shown: list[str],
        outside: list[str],
        excluded: list[str],
        pending: list[str],
        missing: list[str],
    ) -> Reason:
        code, rule = self.code, self.rule
        parts = []
        if outside:
            parts.append(f"not covered: {', '.join(outside)} (covered: {self._listing})")
        if excluded:
            targets = [self._verdict(p).counted_as or p for p in excluded]
            facts = sorted({self._conditions[t].fact for t in targets})
            parts.append(
                f"not covered: {', '.join(excluded)}, as {' and '.join(facts)} is false "
                f"({self._why(targets)})"
            )
        if pending:
            parts.append(
                f"{' and '.join(missing)} is not given; it decides whether "
                f"{', '.join(pending)} is covered ({self._why(pending)})"
            )
        detail = "; ".join(parts)
        if shown:
            extra = f"; {detail}" if detail else ""
            return Reason(code, True, "passed", f"Covered: {', '.join(shown)}{extra}.", rule)
        if pending:
            return Reason(code, None, "missing", f"{detail}.", rule)
        return Reason(code, False, "failed", f"{', '.join(products)}: {detail}.", rule)
