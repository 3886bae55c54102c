"""Name normalisation and registry matching: exact, case and punctuation, legal forms,
one typo, ambiguity, addresses, and never across countries."""

from __future__ import annotations

import pytest

from services.eligibility.domain.matching import CountryIndex, Match, RegistryEntry
from services.eligibility.domain.normalise import address_key, core_name, name_key, region_key
from services.eligibility.domain.scoping import match_rows
from services.eligibility.schemas import FactoryQuery

REGISTRY = [
    ("fac_1", "Golden Star Apparels Ltd", "Plot 12, Konabari, Gazipur", "BD2019ABC"),
    ("fac_2", "Golden Sun Apparels Ltd", "Road 3, Ashulia, Savar", None),
    ("fac_3", "Sunrise Garments (Pvt.) Ltd.", "Tongi Industrial Area", None),
    ("fac_4", "Twin A Garments Unit 1", "Narayanganj BSCIC", None),
    ("fac_5", "Twin A Garments Unit 2", "Chittagong EPZ road", None),
    ("fac_6", "Meridian Knit Composite Limited", "Mirpur, Dhaka", None),
    ("fac_7", "Meridian Knitwear Limited", "Kanchpur, Narayanganj", None),
]


def index() -> CountryIndex:
    return CountryIndex(
        RegistryEntry(fid, name, name_key(name), address, os_id, "registered")
        for fid, name, address, os_id in REGISTRY
    )


def match(name: str | None = None, **kw: str | None) -> Match:
    found = index().match(name=name, **kw)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Golden Star Apparels Ltd", "golden star apparels"),
        ("GOLDEN-STAR APPARELS LIMITED", "golden star apparels"),
        ("M/S. Golden Star Apparels (Pvt.) Ltd.", "golden star apparels"),
        ("Golden Star Apparels Co., Ltd.", "golden star apparels"),
        ("PT Sinar Abadi Tbk", "sinar abadi"),
        ("Công ty TNHH May Việt Tiến", "may viet tien"),
        ("Viet Tien Garment Joint Stock Company", "viet tien garment"),
        ("A & B Knit", "a and b knit"),
        ("Ltd", "ltd"),  # a legal form alone stays a name
    ],
)
def test_name_key(raw: str, key: str) -> None:
    assert name_key(raw) == key


def test_core_name_keeps_the_distinctive_words() -> None:
    assert core_name("golden star apparels") == "golden star"
    assert core_name("garments") == ""


def test_region_and_address_keys() -> None:
    assert region_key("Narayan-ganj District") == "narayanganj"
    assert region_key("Đồng Nai") == "dongnai"
    assert address_key("Plot #12, Konabari") == "plot 12 konabari"


@pytest.mark.parametrize(
    "name",
    [
        "Golden Star Apparels Ltd",  # exact
        "golden star apparels ltd",  # case
        "GOLDEN STAR APPARELS",
        "Golden-Star Apparels, Ltd.",  # punctuation
        "Golden Star Apparels Limited",  # legal form
        "Golden Star Apparels (Pvt) Ltd",
        "M/S Golden Star Apparels",
        "Golden Star Apparels Co., Ltd.",
    ],
)
def test_exact_case_punctuation_and_legal_form_variants(name: str) -> None:
    found = match(name)
    assert (found.status, found.factory_id, found.score) == ("matched", "fac_1", 100.0)


@pytest.mark.parametrize(
    ("name", "factory_id"),
    [
        ("Goldn Star Apparels Ltd", "fac_1"),  # deletion
        ("Golden Starr Apparels", "fac_1"),  # insertion
        ("Golden Stat Apparels", "fac_1"),  # substitution
        ("Golden Star Aparels", "fac_1"),  # typo in a generic word
        ("Sunrize Garments Ltd", "fac_3"),
        ("Sunrise Garment", "fac_3"),  # singular
        ("Golden Star", "fac_1"),  # generic words left out
    ],
)
def test_one_typo_variants(name: str, factory_id: str) -> None:
    found = match(name)
    assert (found.status, found.factory_id) == ("matched", factory_id)
    assert found.score is not None and 85 <= found.score < 100


@pytest.mark.parametrize("name", ["Golden Moon Apparels", "Silver Star Apparels", "Apparels Ltd"])
def test_different_factories_do_not_match(name: str) -> None:
    assert match(name).status == "none"


def test_ambiguous_names_return_candidates_not_a_guess() -> None:
    found = match("Twin A Garments Unit 3")
    assert found.status == "ambiguous"
    assert found.factory_id is None
    assert {c.factory_id for c in found.candidates} == {"fac_4", "fac_5"}


def test_the_address_settles_an_ambiguous_name() -> None:
    found = match("Twin A Garments Unit 3", address="BSCIC, Narayanganj")
    assert (found.status, found.factory_id, found.method) == (
        "matched",
        "fac_4",
        "name_and_address",
    )


def test_identifiers_win_over_names() -> None:
    assert match("Something Else", factory_id="fac_6").factory_id == "fac_6"
    assert match(None, os_id="bd2019abc").factory_id == "fac_1"
    assert match("Golden Star Apparels", os_id="UNKNOWN").factory_id == "fac_1"


def test_nothing_to_match_by() -> None:
    assert index().match(name=None) is None
    assert match(None, os_id="UNKNOWN").status == "none"
    assert match("Ltd.").status == "none"


def test_a_different_country_never_matches() -> None:
    rows = [
        FactoryQuery(country="KH", name="Golden Star Apparels Ltd"),
        FactoryQuery(country="BD", name="Golden Star Apparels Ltd"),
        FactoryQuery(country="KH"),
    ]
    found = match_rows(rows, {"BD": index()})
    assert found[0] is not None and found[0].status == "none"
    assert found[1] is not None and found[1].factory_id == "fac_1"
    assert found[2] is None


# Supplier quick-find (`CountryIndex.search`): what a typed name finds, best first.
SEARCHES: list[tuple[str, list[str]]] = [
    ("Golden Star Apparels Ltd", ["fac_1"]),  # exact
    ("golden star apparels", ["fac_1"]),  # case and legal form
    ("Goldan Star Apparels", ["fac_1"]),  # one typo
    ("Golden Star", ["fac_1"]),  # the distinctive words
    ("Twin A Garments", ["fac_4", "fac_5"]),  # a part of two names, by id
    ("Meridian", ["fac_6", "fac_7"]),
    ("Nowhere Mills", []),
    ("Ltd", []),  # a legal form alone is no name
]


@pytest.mark.parametrize(("typed", "found"), SEARCHES)
def test_search(typed: str, found: list[str]) -> None:
    hits = index().search(typed, limit=10)
    assert sorted(h.factory_id for h in hits) == sorted(found)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_stops_at_the_limit() -> None:
    assert len(index().search("Meridian", limit=1)) == 1
