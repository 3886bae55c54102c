"""GET /price-books/{year}, POST /quotes/partner, POST /quotes/participant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.inprocess import Api


class TestGetPriceBook:
    @pytest.mark.parametrize("role", ["partner", "participant", "factory", "advisor"])
    async def test_any_role_reads_the_book(self, api: Api, role: str) -> None:
        reply = await api.client("billing", role=role).get("/price-books/2024")
        assert reply.status_code == 200, reply.text
        book = reply.json()
        assert (book["year"], book["price_book_year"], book["currency"]) == (2024, 2024, "USD")
        revenue = book["partner"]["revenue_tiers"]
        assert [t["tier"] for t in revenue] == ["A", "B", "C", "D", "E"]
        assert revenue[3] == {
            "tier": "D",
            "label": "10 bn up to and incl. 15 bn",
            "min_usd": "10000000000.00",
            "min_inclusive": True,
            "max_usd": "15000000000.00",
            "max_inclusive": True,
            "charge": "69960.00",
        }
        footprint = book["partner"]["footprint_tiers"]
        assert [t["charge"] for t in footprint] == [
            "8360.00",
            "13860.00",
            "24310.00",
            "41580.00",
            "76230.00",
            "90090.00",
        ]
        assert [p["unit_price"] for p in book["participant"]["unit_prices"]] == [
            "1650.00",
            "1540.00",
            "1430.00",
            "1320.00",
            "1210.00",
        ]

    async def test_a_later_year_gets_the_latest_earlier_book(self, api: Api) -> None:
        reply = await api.client("billing", role="partner").get("/price-books/2027")
        assert reply.status_code == 200
        assert (reply.json()["year"], reply.json()["price_book_year"]) == (2027, 2024)

    async def test_a_year_before_the_first_book_is_422(self, api: Api) -> None:
        reply = await api.client("billing", role="partner").get("/price-books/2023")
        assert reply.status_code == 422
        assert reply.headers["content-type"] == "application/problem+json"
        assert "first published book is for 2024" in reply.json()["detail"]

    async def test_needs_a_token(self, api: Api) -> None:
        assert (await api.client("billing").get("/price-books/2024")).status_code == 401


class TestCreatePartnerQuote:
    @pytest.mark.parametrize("role", ["partner", "advisor"])
    async def test_quote(self, api: Api, role: str) -> None:
        reply = await api.client("billing", role=role).post(
            "/quotes/partner",
            json={"year": 2025, "apparel_revenue_usd": "15000000000", "factory_count": 251},
        )
        assert reply.status_code == 200, reply.text
        assert reply.json() == {
            "year": 2025,
            "price_book_year": 2024,
            "apparel_revenue_usd": "15000000000.00",
            "factory_count": 251,
            "revenue_tier": "D",
            "revenue_charge": "69960.00",
            "footprint_tier": 6,
            "footprint_charge": "90090.00",
            "total": "160050.00",
            "currency": "USD",
        }

    async def test_revenue_as_a_json_number(self, api: Api) -> None:
        reply = await api.client("billing", role="partner").post(
            "/quotes/partner",
            json={"year": 2024, "apparel_revenue_usd": 999999999.99, "factory_count": 25},
        )
        assert reply.status_code == 200, reply.text
        assert (reply.json()["revenue_tier"], reply.json()["footprint_tier"]) == ("A", 1)

    @pytest.mark.parametrize("role", ["participant", "factory"])
    async def test_other_roles_are_403(self, api: Api, role: str) -> None:
        reply = await api.client("billing", role=role).post(
            "/quotes/partner",
            json={"year": 2025, "apparel_revenue_usd": "1", "factory_count": 1},
        )
        assert reply.status_code == 403

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"apparel_revenue_usd": "1", "factory_count": 0}, "factory_count"),
            ({"apparel_revenue_usd": "1", "factory_count": -3}, "factory_count"),
            ({"apparel_revenue_usd": "-1", "factory_count": 3}, "apparel_revenue_usd"),
            ({"apparel_revenue_usd": -1, "factory_count": 3}, "apparel_revenue_usd"),
            ({"apparel_revenue_usd": "1.001", "factory_count": 3}, "apparel_revenue_usd"),
            ({"apparel_revenue_usd": "1", "factory_count": "3"}, "factory_count"),
            ({"apparel_revenue_usd": "1", "factory_count": 3, "extra": 1}, "extra"),
        ],
    )
    async def test_invalid_input_is_422(self, api: Api, body: dict[str, Any], field: str) -> None:
        reply = await api.client("billing", role="partner").post(
            "/quotes/partner", json={"year": 2025, **body}
        )
        assert reply.status_code == 422, reply.text
        assert field in reply.json()["detail"]

    async def test_a_year_before_the_first_book_is_422(self, api: Api) -> None:
        reply = await api.client("billing", role="partner").post(
            "/quotes/partner", json={"year": 2023, "apparel_revenue_usd": "1", "factory_count": 1}
        )
        assert reply.status_code == 422
        assert "no price book for 2023" in reply.json()["detail"]


class TestCreateParticipantQuote:
    @pytest.mark.parametrize(
        ("report_cycles", "unit_price", "total"),
        [(9, "1650.00", "14850.00"), (10, "1540.00", "15400.00"), (61, "1210.00", "73810.00")],
    )
    async def test_quote(self, api: Api, report_cycles: int, unit_price: str, total: str) -> None:
        reply = await api.client("billing", role="participant").post(
            "/quotes/participant", json={"year": 2026, "report_cycles": report_cycles}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json() == {
            "year": 2026,
            "price_book_year": 2024,
            "report_cycles": report_cycles,
            "unit_price": unit_price,
            "total": total,
            "currency": "USD",
        }

    async def test_advisor_may_quote(self, api: Api) -> None:
        reply = await api.client("billing", role="advisor").post(
            "/quotes/participant", json={"year": 2024, "report_cycles": 1}
        )
        assert reply.status_code == 200

    @pytest.mark.parametrize("role", ["partner", "factory"])
    async def test_other_roles_are_403(self, api: Api, role: str) -> None:
        reply = await api.client("billing", role=role).post(
            "/quotes/participant", json={"year": 2024, "report_cycles": 1}
        )
        assert reply.status_code == 403

    @pytest.mark.parametrize("report_cycles", [0, -1, 1.5])
    async def test_invalid_count_is_422(self, api: Api, report_cycles: float) -> None:
        reply = await api.client("billing", role="participant").post(
            "/quotes/participant", json={"year": 2024, "report_cycles": report_cycles}
        )
        assert reply.status_code == 422
