"""Text keys for comparing what people type: region names, factory names, addresses.

Comparisons ignore case, accents, spaces and punctuation; factory names also drop legal
forms (Ltd, Co., PT, JSC, Pvt, Công ty TNHH, ...) that one list writes and another omits.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

__all__ = [
    "GENERIC_NAME_WORDS",
    "address_key",
    "ascii_fold",
    "core_name",
    "name_key",
    "region_key",
]

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_PUNCTUATION = _NOT_ALNUM

# Legal forms, as token sequences after folding; stripped from either end of a name.
_LEGAL_SUFFIXES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "joint stock company",
        "joint stock co",
        "company limited",
        "private limited",
        "pvt ltd",
        "pte ltd",
        "pty ltd",
        "sdn bhd",
        "co ltd",
        "limited",
        "ltd",
        "company",
        "co",
        "corporation",
        "corp",
        "incorporated",
        "inc",
        "llc",
        "llp",
        "plc",
        "pvt",
        "pte",
        "private",
        "jsc",
        "tbk",
        "gmbh",
        "sarl",
        "srl",
        "sa",
        "sas",
        "spa",
        "bv",
        "nv",
        "ag",
        "plc",
        "plt",
        "cjsc",
        "ojsc",
        "pt",
        "cv",
    )
)
_LEGAL_PREFIXES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "cong ty co phan",
        "cong ty tnhh",
        "cong ty",
        "cty tnhh",
        "cty",
        "tnhh",
        "ms",
        "pt",
        "cv",
        "ud",
    )
)
# Words so common in factory names that two names sharing only them are not alike.
GENERIC_NAME_WORDS = frozenset(
    """accessories apparel apparels clothing clothings composite composites denim design designs
    dyeing embroidery enterprise enterprises export exporters exports factory fashion fashions
    footwear garment garments global group industrial industries industry international intl
    knit knits knitting knitwear knitwears leather manufacturing manufacturer manufacturers
    mill mills printing products shoes sweater sweaters textile textiles trading washing wear
    and the of may det""".split()  # noqa: SIM905 - reads better as text
)
# Administrative words around a region name ("Gazipur District", "Tinh Binh Duong").
_REGION_WORDS = frozenset(
    "district division province provinsi region city zila zilla upazila thana tinh".split()  # noqa: SIM905
)


def ascii_fold(text: str) -> str:
    """Lower case without accents: 'Công ty' -> 'cong ty', 'Đồng Nai' -> 'dong nai'."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def _by_length(
    phrases: tuple[tuple[str, ...], ...],
) -> list[tuple[int, frozenset[tuple[str, ...]]]]:
    lengths = sorted({len(p) for p in phrases}, reverse=True)  # longest phrase first
    return [(n, frozenset(p for p in phrases if len(p) == n)) for n in lengths]


_SUFFIXES_BY_LENGTH = _by_length(_LEGAL_SUFFIXES)
_PREFIXES_BY_LENGTH = _by_length(_LEGAL_PREFIXES)


def _strip_phrases(tokens: list[str]) -> list[str]:
    """Drop legal forms from both ends, as long as a name remains."""
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for n, phrases in _SUFFIXES_BY_LENGTH:
            if len(tokens) > n and tuple(tokens[-n:]) in phrases:
                tokens = tokens[:-n]
                changed = True
                break
        for n, phrases in _PREFIXES_BY_LENGTH:
            if len(tokens) > n and tuple(tokens[:n]) in phrases:
                tokens = tokens[n:]
                changed = True
                break
    return tokens


def name_key(name: str) -> str:
    """'M/S. Golden-Star Apparels (Pvt.) Ltd.' -> 'golden star apparels'."""
    folded = ascii_fold(name).replace("m/s", "ms ").replace("&", " and ")
    tokens = _PUNCTUATION.sub(" ", folded).split()
    return " ".join(_strip_phrases(tokens))


_GENERIC_LIST = sorted(GENERIC_NAME_WORDS)


@lru_cache(maxsize=65536)
def _is_generic(token: str) -> bool:
    """A generic word, or one typo away from one ('aparels' is still 'apparels')."""
    if token in GENERIC_NAME_WORDS:
        return True
    if len(token) < 5:
        return False
    return (
        process.extractOne(token, _GENERIC_LIST, scorer=Levenshtein.distance, score_cutoff=1)
        is not None
    )


def core_name(key: str) -> str:
    """The distinctive words of a name key: 'golden star apparels' -> 'golden star'."""
    return " ".join(token for token in key.split() if not _is_generic(token))


def address_key(address: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", ascii_fold(address)).split())


@lru_cache(maxsize=4096)
def region_key(region: str) -> str:
    """'Narayan-ganj District' -> 'narayanganj'; compares without case, spaces, punctuation."""
    tokens = _NOT_ALNUM.sub(" ", ascii_fold(region)).split()
    kept = [token for token in tokens if token not in _REGION_WORDS] or tokens
    return "".join(kept)
