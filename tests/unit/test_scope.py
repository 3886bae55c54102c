"""The advisor country scope (shared.scope), the one rule every service applies: table-driven
over the claims an advisor token can carry and the other roles, which it never limits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.auth import Principal
from shared.errors import Forbidden
from shared.scope import country_clause, ensure_in_scope, in_scope, out_of_scope, scope_countries


def advisor(*countries: str) -> Principal:
    return Principal(user="u", org="bw", role="advisor", countries=countries)


# (caller, country → in scope?, countries for a query)
CASES = [
    (advisor("KH"), {"KH": True, "BD": False, "bd": False, None: False}, ("KH",)),
    (advisor("BD"), {"KH": False, "BD": True, "bd": True, None: False}, ("BD",)),
    (advisor("*"), {"KH": True, "BD": True, None: True}, None),
    (advisor("KH", "*"), {"KH": True, "BD": True, None: True}, None),
    (advisor("KH", "BD", "KH"), {"KH": True, "BD": True, "VN": False}, ("BD", "KH")),
    (advisor(), {"KH": False, "BD": False, None: False}, ()),
    *[
        (Principal(user="u", org="o", role=role), {"KH": True, "BD": True, None: True}, None)
        for role in ("factory", "partner", "participant")
    ],
]


@pytest.mark.parametrize(("principal", "verdicts", "countries"), CASES)
def test_the_rule(
    principal: Principal, verdicts: dict[str | None, bool], countries: tuple[str, ...] | None
) -> None:
    for country, expected in verdicts.items():
        assert in_scope(principal, country) is expected, country
        if expected:
            ensure_in_scope(principal, country)
        else:
            with pytest.raises(Forbidden):
                ensure_in_scope(principal, country)
    assert scope_countries(principal) == countries


def test_the_refusal_names_the_country_and_the_claim() -> None:
    assert out_of_scope(advisor("KH"), "BD") == (
        "BD is not among the programmes your advisor token covers (KH)."
    )
    assert "(none)" in out_of_scope(advisor(), "BD")
    assert "not on record" in out_of_scope(advisor("KH"), None)


def test_the_query_form() -> None:
    column: sa.ColumnClause[str] = sa.column("country")
    assert str(country_clause(column, None).compile()) == "true"
    assert "IN" in str(country_clause(column, ("BD", "KH")).compile())
