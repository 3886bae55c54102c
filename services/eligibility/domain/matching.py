"""Matching a buyer's factory to the registry: same country only, by Better Work id, OS ID,
or name (fuzzy, with the address as a tie-breaker).

Names are compared as `name_key`s (case, accents, punctuation and legal forms removed) with
rapidfuzz, on their distinctive words (`core_name`: 'golden star' of 'golden star
apparels'), so 'Golden Sun Apparels' does not match 'Golden Star Apparels' on the strength
of 'apparels', and 'Golden Star' still finds 'Golden Star Apparels Ltd'. When two registry factories
are about as close as each other and the address does not settle it, the answer is
`ambiguous` with the candidates: a person chooses, the service does not guess.

Scale: a country's registry is indexed once (`CountryIndex`), each name under three keys
made of two of the thirds of its distinctive words. A single typo falls in one third, so a
query is scored only against the few registry names sharing a key with it (plus word-order
variants): microseconds per query, not a scan of the country.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, NamedTuple

from rapidfuzz import fuzz, process

from services.eligibility.domain.normalise import (
    GENERIC_NAME_WORDS,
    address_key,
    core_name,
    name_key,
)

__all__ = [
    "ADDRESS_AGREES",
    "MARGIN",
    "MATCH_THRESHOLD",
    "Candidate",
    "CountryIndex",
    "Match",
    "MatchMethod",
    "MatchStatus",
    "RegistryEntry",
]

MATCH_THRESHOLD = 85.0  # a name scoring at least this matches (0..100)
MARGIN = 4.0  # the best must beat the runner-up by this much, or it is ambiguous
ADDRESS_ASSISTED = 75.0  # a name this close matches when the address agrees
ADDRESS_AGREES = 85.0  # address similarity that counts as the same place
# Taken off when the generic words differ other than by omission ('Sunrise Knit' / 'Sunrise
# Denim' may be sister factories; 'Golden Star' / 'Golden Star Apparels' is one factory).
GENERIC_WORDS_DIFFER = 10.0
NOT_IDENTICAL = 99.0  # the best score of names that are alike but not the same
MAX_CANDIDATES = 5

_GENERIC_LIST = sorted(GENERIC_NAME_WORDS)

MatchStatus = Literal["matched", "ambiguous", "none"]
MatchMethod = Literal["factory_id", "os_id", "exact_name", "fuzzy_name", "name_and_address"]


class RegistryEntry(NamedTuple):
    """What matching needs to know of a registry factory."""

    id: str
    name: str
    match_name: str
    address: str | None
    os_id: str | None
    enrolment_status: str


@dataclass(slots=True)
class Candidate:
    factory_id: str
    name: str
    os_id: str | None
    address: str | None
    enrolment_status: str
    score: float


@dataclass(slots=True)
class Match:
    """The registry factory a row matched (`matched`), the close candidates when a person
    must choose (`ambiguous`), or nothing (`none`). Scores are 0..100."""

    status: MatchStatus
    method: MatchMethod | None = None
    factory_id: str | None = None
    os_id: str | None = None
    name: str | None = None
    score: float | None = None
    enrolment_status: str | None = None
    candidates: list[Candidate] = field(default_factory=list)


_NO_MATCH = Match("none")


def _core(key: str) -> str:
    return core_name(key) or key


def _thirds(length: int) -> tuple[int, int]:
    return length // 3, 2 * length // 3


def _block_keys(core: str) -> tuple[str, str, str]:
    """A registry name's block keys: cut into thirds, the name without its last third,
    without its first, and without its middle. One typo (a changed, missing or extra
    letter) falls in one third and leaves the key without that third intact."""
    first, second = _thirds(len(core))
    return "p" + core[:second], "s" + core[first:], "e" + core[:first] + "|" + core[second:]


def _probes(core: str) -> set[str]:
    """The keys a registry name one typo away from `core` can have: its length is one
    less, the same or one more, and the typo is in one of its thirds."""
    probes = set()
    size = len(core)
    for length in (size - 1, size, size + 1):
        first, second = _thirds(length)
        if first == 0 or length - first > size or length - second > size:
            continue
        probes.add("p" + core[:second])
        probes.add("s" + core[size - (length - first) :])
        probes.add("e" + core[:first] + "|" + core[size - (length - second) :])
    return probes


@lru_cache(maxsize=65536)
def _generic_words(key: str, core: str) -> frozenset[str]:
    """The generic words of a name, singular ('apparels' and 'apparel' are one word)."""
    distinctive = set(core.split())
    return frozenset(_canonical_generic(w) for w in key.split() if w not in distinctive)


@lru_cache(maxsize=65536)
def _canonical_generic(word: str) -> str:
    """'apparels', 'apparel', 'aparels' -> 'apparel'."""
    found = process.extractOne(word, _GENERIC_LIST, scorer=fuzz.ratio, score_cutoff=80)
    return str(found[0] if found is not None else word).removesuffix("s")


def _sorted_words(core: str) -> str:
    return " ".join(sorted(core.split()))


def _frozen(index: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
    return {key: tuple(positions) for key, positions in index.items()}


class CountryIndex:
    """One country's registry, indexed for matching. Built once, read by many queries."""

    def __init__(self, entries: Iterable[RegistryEntry]) -> None:
        # Column lists rather than an object per factory: a few containers in all for the
        # garbage collector to walk, however large the registry.
        listed = list(entries)
        self.ids: list[str] = [e.id for e in listed]
        self.names: list[str] = [e.name for e in listed]
        self.addresses: list[str | None] = [e.address for e in listed]
        self.os_ids: list[str | None] = [e.os_id for e in listed]
        self.statuses: list[str] = [e.enrolment_status for e in listed]
        self.keys: list[str] = [e.match_name for e in listed]
        self.cores: list[str] = [_core(k) for k in self.keys]
        self.by_id: dict[str, int] = {}
        self.by_os_id: dict[str, int] = {}
        exact: dict[str, list[int]] = {}
        reordered: dict[str, list[int]] = {}
        blocks: dict[str, list[int]] = {}
        for i, (entry, key, core) in enumerate(zip(listed, self.keys, self.cores, strict=True)):
            self.by_id[entry.id] = i
            if entry.os_id:
                self.by_os_id[entry.os_id.upper()] = i
            exact.setdefault(key.replace(" ", ""), []).append(i)
            reordered.setdefault(_sorted_words(core), []).append(i)
            for block in _block_keys(core):
                blocks.setdefault(block, []).append(i)
        # Tuples of ints, not lists: hundreds of thousands of containers the garbage
        # collector would otherwise walk on every full collection while the index lives.
        self.exact: dict[str, tuple[int, ...]] = _frozen(exact)
        self.reordered: dict[str, tuple[int, ...]] = _frozen(reordered)
        self.blocks: dict[str, tuple[int, ...]] = _frozen(blocks)
        self._addresses: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def match(
        self,
        *,
        name: str | None,
        address: str | None = None,
        os_id: str | None = None,
        factory_id: str | None = None,
    ) -> Match | None:
        """The best registry match for one factory; None when nothing identifies it."""
        if factory_id is not None and factory_id in self.by_id:
            return self._certain(self.by_id[factory_id], "factory_id")
        if os_id is not None and os_id.upper() in self.by_os_id:
            return self._certain(self.by_os_id[os_id.upper()], "os_id")
        if not name:
            return None if factory_id is None and os_id is None else _NO_MATCH
        key = name_key(name)
        if not key:
            return _NO_MATCH
        wanted_address = address_key(address) if address else ""
        exact = self.exact.get(key.replace(" ", ""))
        if exact is not None and len(exact) == 1:
            return self._certain(exact[0], "exact_name")
        if exact is not None:
            scored = [(100.0, i) for i in exact]
        else:
            scored = self._fuzzy(key, wanted_address)
        return self._decide(scored, wanted_address)

    def search(self, name: str, *, limit: int) -> list[Candidate]:
        """Registry names like `name`, best first (the supplier quick-find): the names
        matching would take (same keys and scores, so one typo is forgiven), then names
        holding the typed words whole ('golden star' finds 'Golden Star Apparels Ltd')."""
        key = name_key(name)
        if not key:
            return []
        scored: dict[int, float] = dict.fromkeys(self.exact.get(key.replace(" ", ""), ()), 100.0)
        for score, position in self._fuzzy(key, ""):
            scored.setdefault(position, score)
        if len(scored) < limit:
            # A scan of the country's keys (a C-level substring test each): partial names.
            words = f" {key} "
            for position, other in enumerate(self.keys):
                if position not in scored and words in f" {other} ":
                    scored[position] = round(float(fuzz.ratio(key, other)), 1)
        ranked = sorted(scored.items(), key=lambda pair: (-pair[1], self.ids[pair[0]]))
        return [self._candidate(position, score) for position, score in ranked[:limit]]

    def _certain(self, position: int, method: MatchMethod) -> Match:
        return self._matched(position, 100.0, method)

    def _fuzzy(self, key: str, wanted_address: str) -> list[tuple[float, int]]:
        core = _core(key)
        reordered = self.reordered.get(_sorted_words(core), ())
        shortlist: set[int] = set()
        for probe in _probes(core):
            shortlist.update(self.blocks.get(probe, ()))
        # A quick look (one C call each) before the full score: most of a block is unlike.
        cores, ratio = self.cores, fuzz.ratio
        close = [i for i in shortlist if ratio(core, cores[i], score_cutoff=ADDRESS_ASSISTED)]
        if not close and not reordered:
            return []
        generic = _generic_words(key, core)
        scored = []
        for i in {*close, *reordered}:
            score = self._score(core, generic, i)
            if score >= MATCH_THRESHOLD or (
                score >= ADDRESS_ASSISTED
                and wanted_address
                and self._address_score(wanted_address, i) >= ADDRESS_AGREES
            ):
                scored.append((score, i))
        return scored

    def _score(self, core: str, generic: frozenset[str], position: int) -> float:
        """Similarity of the distinctive words, less a little when the generic words
        differ (other than one name leaving some out)."""
        other_core = self.cores[position]
        score = float(max(fuzz.ratio(core, other_core), fuzz.token_sort_ratio(core, other_core)))
        other_generic = _generic_words(self.keys[position], other_core)
        if not (generic <= other_generic or other_generic <= generic):
            score -= GENERIC_WORDS_DIFFER
        return round(min(score, NOT_IDENTICAL), 1)

    def _address_score(self, wanted: str, position: int) -> float:
        known = self._addresses.get(position)
        if known is None:
            raw = self.addresses[position]
            known = self._addresses[position] = address_key(raw) if raw else ""
        if not wanted or not known:
            return 0.0
        return float(fuzz.token_set_ratio(wanted, known))

    def _decide(self, scored: list[tuple[float, int]], wanted_address: str) -> Match:
        if not scored:
            return _NO_MATCH
        scored.sort(key=lambda pair: (-pair[0], self.ids[pair[1]]))
        best_score, best = scored[0]
        close = [(s, i) for s, i in scored if best_score - s < MARGIN]
        if len(close) == 1:
            return self._matched(best, best_score, "fuzzy_name")
        if wanted_address:
            by_address = sorted(
                ((self._address_score(wanted_address, i), s, i) for s, i in close), reverse=True
            )
            top, runner_up = by_address[0], by_address[1]
            if top[0] >= ADDRESS_AGREES and top[0] - runner_up[0] >= 10:
                return self._matched(top[2], top[1], "name_and_address")
        candidates = [self._candidate(i, s) for s, i in scored[:MAX_CANDIDATES]]
        return Match("ambiguous", candidates=candidates, score=best_score)

    def _matched(self, position: int, score: float, method: MatchMethod) -> Match:
        return Match(
            "matched",
            method,
            self.ids[position],
            self.os_ids[position],
            self.names[position],
            score,
            self.statuses[position],
        )

    def _candidate(self, position: int, score: float) -> Candidate:
        return Candidate(
            self.ids[position],
            self.names[position],
            self.os_ids[position],
            self.addresses[position],
            self.statuses[position],
            score,
        )
