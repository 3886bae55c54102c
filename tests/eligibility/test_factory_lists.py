"""POST /factory-lists and the scoping result: JSON, CSV and file uploads, per-row errors,
jobs for large lists, CSV download, ownership, and matching quality."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.eligibility.jobs import ScopingJobs
from services.eligibility.store.lists import create_list
from tests.eligibility.world import create_factory, enrol, problem
from tests.inprocess import Api

CSV = (
    "client_ref,name,country,region,products,worker_count,in_export_processing_zone,nominated\n"
    "S-1,Golden Star Apparels Ltd,BD,Gazipur,garments,1200,no,yes\n"
    "S-2,Unknown Mill,BD,Sylhet,garments,-5,no,yes\n"
    'S-3,"Broken, ""quoted""",ZZ,,,,,\n'
    "S-4,Angkor Bags,KH,,bags,,,\n"
)


def buyer(api: Api, org: str = "brand-1", role: str = "partner") -> httpx.AsyncClient:
    return api.client("eligibility", role=role, org=org)


async def upload_csv(client: httpx.AsyncClient, text: str, **params: str) -> httpx.Response:
    return await client.post(
        "/factory-lists", content=text.encode(), headers={"content-type": "text/csv"}, params=params
    )


class TestUpload:
    async def test_csv_rows_in_input_order_with_per_row_errors(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        await enrol(admin, factory["id"])
        reply = await upload_csv(buyer(api), CSV, as_of="2025-02-01", name="AW25")
        assert reply.status_code == 201, reply.text
        result = reply.json()
        assert (result["status"], result["row_count"], result["name"]) == ("done", 4, "AW25")
        rows = result["results"]
        assert [r["client_ref"] for r in rows] == ["S-1", "S-2", "S-3", "S-4"]
        assert [r["row"] for r in rows] == [1, 2, 3, 4]
        assert rows[0]["status"] == "enrolled"
        assert rows[0]["match"]["factory_id"] == factory["id"]
        assert rows[0]["match"]["os_id"] == factory["os_id"]
        assert rows[0]["match"]["score"] == 100.0
        assert rows[1]["status"] == "invalid" and "worker_count" in rows[1]["error"]["message"]
        assert rows[2]["status"] == "invalid" and "country" in rows[2]["error"]["message"]
        # Cambodia covers bags of exporting factories: the export licence is the one fact missing
        assert rows[3]["status"] == "insufficient_data"
        assert rows[3]["missing_fields"] == ["has_export_license"]
        assert rows[3]["match"]["status"] == "none"
        summary = result["summary"]
        assert summary["total"] == 4 and summary["invalid"] == 2
        assert summary["by_status"] == {"enrolled": 1, "insufficient_data": 1, "invalid": 2}
        assert summary["by_country"] == {"BD": 1, "KH": 1}

    async def test_json_body(self, api: Api) -> None:
        body = {
            "factories": [
                {"client_ref": "1", "country": "VN", "products": ["garments"], "worker_count": 249},
                {"client_ref": "2", "country": "ET", "worker_count": -3},
                {"client_ref": "3", "country": "MG"},
            ],
            "as_of": "2025-01-01",
        }
        reply = await buyer(api, role="participant").post("/factory-lists", json=body)
        assert reply.status_code == 201, reply.text
        statuses = [r["status"] for r in reply.json()["results"]]
        assert statuses == ["not_eligible", "invalid", "contact_programme"]
        assert reply.json()["as_of"] == "2025-01-01"

    @pytest.mark.parametrize(
        ("filename", "content_type", "content"),
        [
            ("suppliers.csv", "text/csv", b"country,name\nBD,Some Mill\n"),
            ("suppliers.json", "application/json", b'{"factories": [{"country": "BD"}]}'),
        ],
    )
    async def test_multipart_file(
        self, api: Api, filename: str, content_type: str, content: bytes
    ) -> None:
        reply = await buyer(api).post(
            "/factory-lists",
            files={"file": (filename, content, content_type)},
            data={"as_of": "2025-05-05", "name": "From Excel"},
        )
        assert reply.status_code == 201, reply.text
        assert reply.json()["as_of"] == "2025-05-05"
        assert reply.json()["name"] == "From Excel"
        assert reply.json()["results"][0]["country"] == "BD"

    @pytest.mark.parametrize(
        ("kwargs", "status"),
        [
            ({"content": b"{nope", "headers": {"content-type": "application/json"}}, 422),
            ({"json": {"factories": []}}, 422),
            ({"json": {"factories": [{"country": "BD", "worker_count": "many"}]}}, 422),
            ({"json": {"factories": [1, 2]}}, 422),
            ({"content": b"name\nX\n", "headers": {"content-type": "text/csv"}}, 422),
            ({"content": b"", "headers": {"content-type": "text/csv"}}, 422),
            ({"content": b"<xml/>", "headers": {"content-type": "application/xml"}}, 415),
            ({"files": {"other": ("a.csv", b"country\nBD\n", "text/csv")}}, 422),
            ({"json": {"factories": [{"country": "BD"}], "as_of": "2023-01-01"}}, 422),
        ],
    )
    async def test_unreadable_uploads(self, api: Api, kwargs: dict[str, Any], status: int) -> None:
        problem(await buyer(api).post("/factory-lists", **kwargs), status)

    async def test_more_than_50000_rows_is_422(self, api: Api) -> None:
        text = "country\n" + "BD\n" * 50_001
        problem(await upload_csv(buyer(api), text), 422)

    async def test_as_of_given_twice(self, api: Api) -> None:
        reply = await buyer(api).post(
            "/factory-lists",
            json={"factories": [{"country": "BD"}], "as_of": "2025-01-01"},
            params={"as_of": "2025-01-02"},
        )
        problem(reply, 422)

    @pytest.mark.parametrize("role", ["factory", "advisor"])
    async def test_only_buyers_upload(self, api: Api, role: str) -> None:
        problem(await upload_csv(buyer(api, role=role), CSV), 403)


class TestLargeListJob:
    async def test_large_list_runs_as_a_job_then_pages_and_csv(
        self, api: Api, eligibility_jobs: ScopingJobs
    ) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        factory = await create_factory(admin)
        lines = ["client_ref,name,country,worker_count"]
        lines += [f"r{i},Mill {i},BD,{300 + i}" for i in range(2_499)]
        lines.append("last,golden star apparels,BD,")
        client = buyer(api)
        reply = await upload_csv(client, "\n".join(lines))
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert accepted["status"] in ("queued", "running", "done")
        assert accepted["results"] == []
        await eligibility_jobs.drain()

        first = (await client.get(f"/factory-lists/{accepted['id']}")).json()
        assert first["status"] == "done"
        assert first["summary"]["total"] == 2_500
        assert len(first["results"]) == 2_000 and first["next_cursor"]
        rest = (
            await client.get(
                f"/factory-lists/{accepted['id']}", params={"cursor": first["next_cursor"]}
            )
        ).json()
        assert len(rest["results"]) == 500 and rest["next_cursor"] is None
        assert rest["results"][-1]["client_ref"] == "last"
        assert rest["results"][-1]["match"]["factory_id"] == factory["id"]
        rows = [r["row"] for r in first["results"] + rest["results"]]
        assert rows == list(range(1, 2_501))

        small = await client.get(f"/factory-lists/{accepted['id']}", params={"limit": 3})
        assert [r["row"] for r in small.json()["results"]] == [1, 2, 3]

        download = await client.get(f"/factory-lists/{accepted['id']}/results.csv")
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(download.text)))
        assert len(table) == 2_500
        assert table[-1]["client_ref"] == "last"
        assert table[-1]["factory_id"] == factory["id"]
        assert table[0]["status"] == "insufficient_data"

        lookups = (await admin.get(f"/factories/{factory['id']}/lookups")).json()["items"]
        assert [(x["source"], x["reference"]) for x in lookups] == [
            ("factory_list", accepted["id"])
        ]

    async def test_csv_of_an_unfinished_list_is_409(
        self, api: Api, apps: dict[str, FastAPI]
    ) -> None:
        async with apps["eligibility"].state.sessionmaker() as session:
            queued = await create_list(
                session=session,
                owner_org="brand-1",
                created_by="u",
                name=None,
                status="queued",
                source_format="csv",
                row_count=5000,
                as_of=date(2025, 1, 1),
                countries=["BD"],
                warnings=[],
            )
            await session.commit()
        client = buyer(api)
        status = (await client.get(f"/factory-lists/{queued.id}")).json()
        assert (status["status"], status["results"], status["summary"]) == ("queued", [], None)
        problem(await client.get(f"/factory-lists/{queued.id}/results.csv"), 409)


class TestOwnership:
    async def test_owner_and_advisors_see_a_list_others_get_404(self, api: Api) -> None:
        list_id = (await upload_csv(buyer(api), CSV)).json()["id"]
        assert (await buyer(api).get(f"/factory-lists/{list_id}")).status_code == 200
        same_org = api.client("eligibility", role="participant", org="brand-1", sub="colleague")
        assert (await same_org.get(f"/factory-lists/{list_id}")).status_code == 200
        problem(await buyer(api, org="brand-2").get(f"/factory-lists/{list_id}"), 404)
        problem(await buyer(api, org="brand-2").get(f"/factory-lists/{list_id}/results.csv"), 404)
        bd_advisor = api.client("eligibility", role="advisor", org="bw", countries=["BD"])
        assert (await bd_advisor.get(f"/factory-lists/{list_id}")).status_code == 200
        uz_advisor = api.client("eligibility", role="advisor", org="bw", countries=["UZ"])
        problem(await uz_advisor.get(f"/factory-lists/{list_id}"), 404)
        factory = api.client("eligibility", role="factory", org="fac_x")
        problem(await factory.get(f"/factory-lists/{list_id}"), 403)

    async def test_listing_shows_own_lists(self, api: Api) -> None:
        mine = (await upload_csv(buyer(api), CSV)).json()["id"]
        await upload_csv(buyer(api, org="brand-2"), CSV)
        items = (await buyer(api).get("/factory-lists")).json()["items"]
        assert [i["id"] for i in items] == [mine]
        everything = (await api.client("eligibility", role="advisor").get("/factory-lists")).json()
        assert len(everything["items"]) == 2

    async def test_unknown_list(self, api: Api) -> None:
        problem(await buyer(api).get("/factory-lists/fls_nope"), 404)
        # The query is checked before the list is looked up, as `limit` always was.
        problem(await buyer(api).get("/factory-lists/x", params={"cursor": "!!"}), 400)


REGISTRY = [
    ("Golden Star Apparels Ltd", "BD"),
    ("Sunrise Knit Composite Limited", "BD"),
    ("Twin A Garments Unit 1", "BD"),
    ("Twin A Garments Unit 2", "BD"),
    ("PT Sinar Abadi Garmindo", "ID"),
    ("Công ty TNHH May Việt Tiến", "VN"),
]
QUERIES = [
    # (name as the brand writes it, country, expected factory name or status)
    ("Golden Star Apparels Ltd", "BD", "Golden Star Apparels Ltd"),  # exact
    ("GOLDEN STAR APPARELS LTD.", "BD", "Golden Star Apparels Ltd"),  # case, punctuation
    ("golden-star apparels", "BD", "Golden Star Apparels Ltd"),
    ("Golden Star Apparels Limited", "BD", "Golden Star Apparels Ltd"),  # legal form
    ("Sunrise Knit Composite (Pvt.) Ltd", "BD", "Sunrise Knit Composite Limited"),
    ("Sinar Abadi Garmindo", "ID", "PT Sinar Abadi Garmindo"),
    ("Viet Tien Garment Co., Ltd", "VN", "Công ty TNHH May Việt Tiến"),
    ("Goldn Star Apparels", "BD", "Golden Star Apparels Ltd"),  # one typo
    ("Sunrise Knitt Composite", "BD", "Sunrise Knit Composite Limited"),
    ("PT Sinar Abadi Garmnido", "ID", "PT Sinar Abadi Garmindo"),
    ("Golden Star Apparels Ltd", "KH", "none"),  # another country
    ("Sinar Abadi Garmindo", "BD", "none"),
    ("Silver Moon Apparels", "BD", "none"),
    ("Twin A Garments Unit 3", "BD", "ambiguous"),
]


class TestMatchingQuality:
    async def test_matching_through_a_list(self, api: Api) -> None:
        admin = api.client("eligibility", role="advisor", org="bw")
        ids = {}
        for name, country in REGISTRY:
            ids[name] = (await create_factory(admin, name=name, country=country, os_id=None))["id"]
        rows = [
            {"client_ref": str(i), "name": n, "country": c} for i, (n, c, _) in enumerate(QUERIES)
        ]
        reply = await buyer(api).post("/factory-lists", json={"factories": rows})
        results = reply.json()["results"]
        for (name, country, expected), result in zip(QUERIES, results, strict=True):
            match = result["match"]
            if expected in ("none", "ambiguous"):
                assert match["status"] == expected, (name, country, match)
                assert match["factory_id"] is None
            else:
                assert (match["status"], match["factory_id"]) == ("matched", ids[expected]), (
                    name,
                    match,
                )
        ambiguous = results[-1]["match"]
        assert {c["factory_id"] for c in ambiguous["candidates"]} == {
            ids["Twin A Garments Unit 1"],
            ids["Twin A Garments Unit 2"],
        }
        summary = reply.json()["summary"]
        assert (summary["matched"], summary["ambiguous"], summary["unmatched"]) == (10, 1, 3)


class TestManyLookups:
    async def test_a_list_matching_over_a_thousand_factories_logs_each(
        self, api: Api, apps: dict[str, FastAPI]
    ) -> None:
        from datetime import UTC, datetime

        import sqlalchemy as sa

        from services.eligibility.models import Factory

        now = datetime.now(UTC)
        ids = [f"fac_bulk_{i:05d}" for i in range(1_200)]
        async with apps["eligibility"].state.sessionmaker() as session:
            await session.execute(
                sa.insert(Factory),
                [
                    {
                        "id": fid,
                        "name": f"Mill {i}",
                        "match_name": f"mill {i}",
                        "country": "BD",
                        "enrolment_status": "registered",
                        "created_by": "test",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, fid in enumerate(ids)
                ],
            )
            await session.commit()
        rows = [{"country": "BD", "factory_id": fid} for fid in ids]
        reply = await buyer(api, org="brand-9").post("/factory-lists", json={"factories": rows})
        assert reply.json()["summary"]["matched"] == 1_200
        admin = api.client("eligibility", role="advisor", org="bw")
        for fid in (ids[0], ids[-1]):
            lookups = (await admin.get(f"/factories/{fid}/lookups")).json()["items"]
            assert [(x["org"], x["source"]) for x in lookups] == [("brand-9", "factory_list")]
