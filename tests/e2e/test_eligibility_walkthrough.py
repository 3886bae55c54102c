"""Eligibility over the real stack: a brand scopes a large factory list as a background
job in the service process, polls through the gateway, pages the result and downloads it
as CSV; big replies come gzipped; other services read the registry through /internal."""

from __future__ import annotations

import csv
import io
import time

import httpx
import pytest

from tests.e2e.world import RunningStack
from tests.helpers import ok

pytestmark = pytest.mark.e2e


def test_large_list_job_bulk_check_and_registry(stack: RunningStack) -> None:
    advisor = stack.client("advisor", "bw")
    factory = ok(
        advisor.post(
            "/v1/eligibility/factories",
            json={"name": "Walkthrough Knit Ltd", "country": "KH", "worker_count": 800},
        ),
        201,
    )
    ok(
        advisor.post(
            f"/v1/eligibility/factories/{factory['id']}/enrolment", json={"status": "enrolled"}
        )
    )

    brand = stack.client("partner", "brand-walk")
    lines = ["client_ref,name,country,products,worker_count"]
    lines += [f"r{i},Supplier {i},VN,garments,{200 + i}" for i in range(2_999)]
    lines.append("mine,walkthrough knit limited,KH,garments,")
    accepted = ok(
        brand.post(
            "/v1/eligibility/factory-lists",
            content="\n".join(lines).encode(),
            headers={"content-type": "text/csv"},
        ),
        202,
    )
    deadline = time.monotonic() + 60
    while True:
        status = ok(brand.get(f"/v1/eligibility/factory-lists/{accepted['id']}"))
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["status"] == "done", status
    assert status["summary"]["total"] == 3_000
    assert status["summary"]["by_status"]["enrolled"] == 1
    assert len(status["results"]) == 2_000
    rest = ok(
        brand.get(
            f"/v1/eligibility/factory-lists/{accepted['id']}",
            params={"cursor": status["next_cursor"]},
        )
    )
    assert rest["results"][-1]["match"]["factory_id"] == factory["id"]

    download = brand.get(f"/v1/eligibility/factory-lists/{accepted['id']}/results.csv")
    assert download.status_code == 200
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert len(table) == 3_000 and table[-1]["status"] == "enrolled"

    other = stack.client("partner", "brand-other")
    assert other.get(f"/v1/eligibility/factory-lists/{accepted['id']}").status_code == 404

    bulk = brand.post(
        "/v1/eligibility/checks/bulk",
        json={"factories": [{"country": "BD", "worker_count": i} for i in range(400)]},
        headers={"accept-encoding": "gzip"},
    )
    assert bulk.status_code == 200
    assert bulk.headers.get("content-encoding") == "gzip"
    assert len(bulk.json()["results"]) == 400

    service = httpx.Client(
        base_url=stack.url("eligibility"),
        headers={"Authorization": f"Bearer {stack.token('service', 'x')}"},
    )
    record = ok(service.get(f"/internal/factories/{factory['id']}"))
    assert record["enrolment_status"] == "enrolled"
    assert record["training_participant_days"] == 20
