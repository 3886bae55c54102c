"""GET /programmes and /programmes/{country}: the rules in force, for every role."""

from __future__ import annotations

import pytest

from tests.eligibility.world import problem
from tests.inprocess import Api

ROLES = ["partner", "participant", "factory", "advisor"]


class TestListProgrammes:
    @pytest.mark.parametrize("role", ROLES)
    async def test_every_role_reads_the_thirteen_programmes(self, api: Api, role: str) -> None:
        reply = await api.client("eligibility", role=role).get("/programmes")
        assert reply.status_code == 200, reply.text
        items = reply.json()["items"]
        assert [p["country"] for p in items] == [
            "BD", "EG", "ET", "HT", "ID", "JO", "KH", "LK", "MG", "NI", "PK", "UZ", "VN"
        ]  # fmt: skip
        assert all(15 <= p["training_participant_days"] <= 25 for p in items)

    async def test_rules_in_force_on_a_date(self, api: Api) -> None:
        client = api.client("eligibility", role="partner")
        reply = await client.get("/programmes", params={"as_of": "2024-06-30"})
        assert reply.json()["as_of"] == "2024-06-30"
        bd = next(p for p in reply.json()["items"] if p["country"] == "BD")
        assert bd["effective_from"] == "2024-01-01"
        assert bd["notes"][0]["code"] == "waitlist"

    @pytest.mark.parametrize(
        "params", [{"as_of": "2023-12-31"}, {"as_of": "yesterday"}, {"as_of": "0"}, {"asof": "x"}]
    )
    async def test_bad_dates_and_unknown_parameters_are_422(
        self, api: Api, params: dict[str, str]
    ) -> None:
        reply = await api.client("eligibility", role="partner").get("/programmes", params=params)
        problem(reply, 422)

    async def test_a_token_is_needed(self, api: Api) -> None:
        problem(await api.client("eligibility").get("/programmes"), 401)

    async def test_other_services_read_it_with_a_service_token(self, api: Api) -> None:
        reply = await api.client("eligibility", role="service").get("/programmes/KH")
        assert reply.status_code == 200, reply.text


class TestGetProgramme:
    async def test_one_programme_with_its_thresholds(self, api: Api) -> None:
        reply = await api.client("eligibility", role="factory").get("/programmes/vn")
        assert reply.status_code == 200
        vn = reply.json()
        minimums = {r["code"]: r.get("minimum") for r in vn["requirements"]}
        assert minimums["min_workers"] == 250
        region = next(r for r in vn["requirements"] if r["code"] == "region")
        assert region["regions"] is None  # not configured: unverified
        assert vn["effective_until"] is None

    async def test_cambodia_sells_services_separately(self, api: Api) -> None:
        kh = (await api.client("eligibility", role="partner").get("/programmes/KH")).json()
        assert kh["services_sold_separately"] is True
        assert kh["participation"]["kind"] == "by_product_group"

    async def test_unpublished_coverage(self, api: Api) -> None:
        mg = (await api.client("eligibility", role="partner").get("/programmes/MG")).json()
        assert mg["coverage_published"] is False

    @pytest.mark.parametrize(("country", "status"), [("FR", 404), ("ZZ", 404), ("BDX", 422)])
    async def test_no_programme(self, api: Api, country: str, status: int) -> None:
        client = api.client("eligibility", role="partner")
        problem(await client.get(f"/programmes/{country}"), status)


class TestInternalProgramme:
    async def test_for_services_only(self, api: Api) -> None:
        reply = await api.client("eligibility", role="service").get("/internal/programmes/BD")
        assert reply.status_code == 200
        assert reply.json()["training_participant_days"] == 20
        user = api.client("eligibility", role="advisor")
        assert (await user.get("/internal/programmes/BD")).status_code in (401, 403)
        service = api.client("eligibility", role="service")
        problem(await service.get("/internal/programmes/FR"), 404)
