"""The PDFs of a cycle's reports never reveal its planned (unannounced) assessment date to the
factory or its buyers: the text poppler reads, the PDF's metadata and the reply's headers,
in every usual spelling of the date (tests/cycles/test_unannounced.py)."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

from tests.cycles.test_unannounced import spellings
from tests.cycles.world import World, days_ago
from tests.helpers import ADVISOR_ORG, ok
from tests.inprocess import Api
from tests.pdf_tools import assert_pdf

BUYERS = {"brand-1": "partner", "buyer-1": "participant"}


def pdf_info(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(content)
        args = ["pdfinfo", "-isodates", str(path)]
        return subprocess.run(args, check=True, capture_output=True, timeout=30).stdout.decode()


async def test_no_pdf_reveals_the_planned_assessment(api: Api, gateway_api: Api) -> None:
    world = World(api)
    factory_id = await world.factory()
    start = days_ago(95)
    cycle = await world.open_cycle(factory_id, start)
    planned = start + timedelta(days=97)  # in two days, inside the assessment window
    for org, role in BUYERS.items():
        await world.approve_tpa(factory_id, buyer=org, role=role)
        await world.unlock(factory_id, 1, buyer=org, role=role)
    await world.visit(cycle["id"], "assessment", planned)
    advisor_visits = await world.advisor.get(f"/cycles/{cycle['id']}/visits")
    assert planned.isoformat() in str(ok(advisor_visits))  # planned: Better Work sees it
    for kind in ("assessment", "progress_report_1", "progress_report_2"):
        await world.release(factory_id, 1, kind)

    readers = {"factory": ("factory", factory_id)} | {
        f"{role} {org}": (role, org) for org, role in BUYERS.items()
    }
    reports = api.client("reports", role="advisor", org=ADVISOR_ORG)
    listed = ok(await reports.get(f"/factories/{factory_id}/cycles/1/reports"))["items"]
    assert len(listed) == 3
    for name, (role, org) in readers.items():
        client = gateway_api.client("gateway", role=role, org=org)
        for document in listed:
            for path, headers in (
                (f"/v1/reports/reports/{document['id']}/report.pdf", {}),
                (f"/v1/reports/reports/{document['id']}", {"Accept": "application/pdf"}),
            ):
                reply = await client.get(path, headers=headers)
                seen = "\n".join(
                    [
                        assert_pdf(reply),
                        pdf_info(reply.content),
                        *(f"{k}: {v}" for k, v in reply.headers.items() if k != "date"),
                    ]
                ).lower()
                for spelling in spellings(planned):
                    assert spelling.lower() not in seen, f"{name} {path} shows {spelling!r}"
