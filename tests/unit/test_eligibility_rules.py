"""Rule data: every file is valid, versions by effective date, and bad files stop start-up."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.eligibility.domain.ruleset import (
    RULES_DIR,
    RuleBook,
    RuleBookError,
    default_rule_book,
    load_rule_book,
)

PROGRAMME_COUNTRIES = ["BD", "EG", "ET", "HT", "ID", "JO", "KH", "LK", "MG", "NI", "PK", "UZ", "VN"]


def bd_rules() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RULES_DIR / "BD_2024-01-01.json").read_text())
    return data


def write(folder: Path, data: dict[str, Any], name: str | None = None) -> None:
    name = name or f"{data['country']}_{data['effective_from']}.json"
    (folder / name).write_text(json.dumps(data))


def test_the_thirteen_programmes_are_loaded() -> None:
    book = default_rule_book()
    assert book.countries == PROGRAMME_COUNTRIES
    assert len(book.all_in_force(date(2025, 1, 1))) == 13


def test_training_participant_days_are_per_country_rule_data_within_the_guide_range() -> None:
    for programme in default_rule_book().all_in_force(date(2025, 1, 1)):
        assert 15 <= programme.training_participant_days <= 25


def test_thresholds_are_data() -> None:
    book = default_rule_book()
    bd = book.in_force("BD", date(2025, 1, 1))
    assert bd is not None
    minimums = {r.code: getattr(r, "minimum", None) for r in bd.requirements}
    assert minimums["min_workers"] == 251


def test_a_newer_file_takes_over_from_its_effective_date(tmp_path: Path) -> None:
    old = bd_rules()
    new = {**old, "effective_from": "2026-01-01"}
    new["requirements"] = [
        {**r, "minimum": 301} if r["kind"] == "min_workers" else r for r in old["requirements"]
    ]
    write(tmp_path, old)
    write(tmp_path, new)
    book = load_rule_book(tmp_path)
    first, second = book.in_force("BD", date(2025, 12, 31)), book.in_force("BD", date(2026, 1, 1))
    assert first is not None and second is not None
    assert first.effective_from == date(2024, 1, 1)
    assert second.effective_from == date(2026, 1, 1)
    assert book.effective_until(first) == date(2025, 12, 31)
    assert book.effective_until(second) is None
    assert book.in_force("BD", date(2023, 1, 1)) is None
    assert book.in_force("FR", date(2025, 1, 1)) is None


@pytest.mark.parametrize(
    "change",
    [
        {"training_participant_days": 30},
        {"products": ["garments", "spaceships"]},
        {"country": "ZZ", "effective_from": "2024-01-01"},
        {"requirements": [{"kind": "min_workers", "code": "w", "text": "x", "minimum": -1}]},
        {"requirements": [{"kind": "unknown_rule", "code": "w", "text": "x"}]},
        {"participation": None},
        {"surprise": True},
        # product synonyms: to a covered product, for a code not covered in its own right
        {"product_synonyms": [{"code": "textiles", "counts_as": "leather", "guide": "x"}]},
        {"product_synonyms": [{"code": "garments", "counts_as": "footwear", "guide": "x"}]},
        {"product_synonyms": [{"code": "spaceships", "counts_as": "garments", "guide": "x"}]},
        {
            "product_synonyms": [
                {"code": "textiles", "counts_as": "garments", "guide": "x"},
                {"code": "textiles", "counts_as": "footwear", "guide": "x"},
            ]
        },
        # product conditions: on covered products, one each
        {
            "product_conditions": [
                {"products": ["leather"], "fact": "has_export_license", "text": "x"}
            ]
        },
        {"product_conditions": [{"products": ["garments"], "fact": "worker_count", "text": "x"}]},
        # a waitlist needs the date it applies to
        {"notes": [{"code": "waitlist", "message": "x", "participation_status": "waitlisted"}]},
    ],
)
def test_invalid_rule_files_are_refused(tmp_path: Path, change: dict[str, Any]) -> None:
    data = {**bd_rules(), **change}
    write(tmp_path, data, name=f"{data['country']}_2024-01-01.json")
    with pytest.raises(RuleBookError):
        load_rule_book(tmp_path)


def test_the_file_name_must_match_its_contents(tmp_path: Path) -> None:
    write(tmp_path, bd_rules(), name="BD_2025-01-01.json")
    with pytest.raises(RuleBookError, match=r"must be named BD_2024-01-01\.json"):
        load_rule_book(tmp_path)


def test_no_rules_at_all_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleBookError):
        load_rule_book(tmp_path)
    with pytest.raises(RuleBookError):
        RuleBook([])


def test_the_rule_files_say_which_programmes_ask_for_a_nomination() -> None:
    book = default_rule_book()
    asking = [p.country for p in book.all_in_force(date(2025, 1, 1)) if p.asks_for_nomination]
    assert asking == ["BD", "KH", "PK", "VN"]


def test_the_guides_product_words_are_rule_data() -> None:
    book = default_rule_book()
    bd, et, kh = (book.in_force(c, date(2025, 1, 1)) for c in ("BD", "ET", "KH"))
    assert bd is not None and et is not None and kh is not None
    assert {(s.code, s.counts_as) for s in bd.product_synonyms} == {
        ("textiles", "supporting_processing")
    }
    assert {(s.code, s.counts_as) for s in et.product_synonyms} == {
        ("footwear", "leather"),
        ("bags", "leather"),
    }
    assert all(s.assumption for s in et.product_synonyms)
    (exporting,) = kh.product_conditions
    assert (exporting.products, exporting.fact) == (
        ["garments", "travel_goods", "bags"],
        "has_export_license",
    )
    (waitlist,) = [n for n in bd.notes if n.participation_status == "waitlisted"]
    assert waitlist.valid_until == date(2024, 12, 31)
