"""Reports as PDFs (`GET /reports/{id}/report.pdf`, or `GET /reports/{id}` with `Accept:
application/pdf`): answered exactly where the JSON is, with the JSON's status otherwise;
drawn so poppler reads the page and its text; any factory name, any script, never a 500."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import ADVISOR_ORG, ok
from tests.inprocess import Api
from tests.pdf_tools import assert_pdf, pdf_text
from tests.reports.world import FINDINGS, World

PDF = {"Accept": "application/pdf"}

# caller → (role, org, advisor countries); the orgs are set up by `scene` below.
CALLERS: dict[str, tuple[str, str, list[str] | None]] = {
    "partner, TPA + unlock": ("partner", "brand-1", None),
    "participant, TPA + unlock": ("participant", "buyer-1", None),
    "participant, unlocked then revoked": ("participant", "buyer-5", None),
    "participant, TPA, no unlock": ("participant", "buyer-2", None),
    "participant, no TPA": ("participant", "buyer-3", None),
    "participant, shared with, own TPA": ("participant", "buyer-4", None),
    "partner, no TPA": ("partner", "brand-9", None),
    "factory, own": ("factory", "{factory}", None),
    "factory, another": ("factory", "{other}", None),
    "advisor, BD": ("advisor", ADVISOR_ORG, ["BD"]),
    "advisor, all": ("advisor", ADVISOR_ORG, ["*"]),
    "advisor, KH only": ("advisor", ADVISOR_ORG, ["KH"]),
}
# The JSON's status for a released document and for a draft advisory log entry.
EXPECTED: dict[str, tuple[int, int]] = {
    "partner, TPA + unlock": (200, 404),
    "participant, TPA + unlock": (200, 404),
    "participant, unlocked then revoked": (200, 404),
    "participant, TPA, no unlock": (403, 403),
    "participant, no TPA": (404, 404),
    "participant, shared with, own TPA": (200, 404),
    "partner, no TPA": (404, 404),
    "factory, own": (200, 404),
    "factory, another": (404, 404),
    "advisor, BD": (200, 200),
    "advisor, all": (200, 200),
    "advisor, KH only": (403, 403),
}
NAME = "Công ty TNHH May Việt Tiến গাজীপুর পোশাক"


@dataclass(frozen=True)
class Scene:
    factory: str
    other: str
    released: dict[str, dict[str, Any]]  # kind → the released document's JSON
    draft: dict[str, Any]


async def unlock_with_credit(world: World, org: str, factory_id: str) -> None:
    await world.grant_tpa("participant", org, factory_id)
    await world.buy_credits(org, 1)
    ok(await world.unlock("participant", org, factory_id), 201)


async def build_scene(world: World) -> Scene:
    factory_id = await world.factory(name=NAME)
    other = await world.factory()
    await world.open_cycle(factory_id)
    released = {"assessment": await world.released_assessment(factory_id, body="Summary.")}
    pr1 = await world.draft(factory_id, kind="progress_report_1", body="Exit B now open.")
    ok(await world.reports("factory", factory_id).post(f"/reports/{pr1['id']}/submit"))
    released["progress_report_1"] = await world.release(pr1["id"])
    pr2 = await world.draft(factory_id, kind="progress_report_2", body="Verified.")
    released["progress_report_2"] = await world.release(pr2["id"])
    draft = await world.draft(factory_id, kind="advisory_log", body="Internal notes.")

    await world.become_partner("brand-1", 5)
    await world.grant_tpa("partner", "brand-1", factory_id)
    ok(await world.unlock("partner", "brand-1", factory_id), 201)
    await unlock_with_credit(world, "buyer-1", factory_id)
    await unlock_with_credit(world, "buyer-5", factory_id)
    access = ok(await world.reports("participant", "buyer-5").get("/access-requests"))
    (request,) = access["items"]
    await world.decide_tpa(factory_id, request["id"], "revoke")
    await world.grant_tpa("participant", "buyer-2", factory_id)
    await world.grant_tpa("participant", "buyer-4", factory_id)
    shared = await world.reports("partner", "brand-1").post(
        "/shares", json={"factory_id": factory_id, "cycle": 1, "with_org": "buyer-4"}
    )
    ok(shared, 201)
    return Scene(factory_id, other, released, draft)


def client(world: World, caller: str, scene: Scene) -> httpx.AsyncClient:
    role, org, countries = CALLERS[caller]
    org = org.format(factory=scene.factory, other=scene.other)
    return world.reports(role, org, countries=countries)


async def test_pdf_answers_exactly_where_json_does(world: World) -> None:
    scene = await build_scene(world)
    documents = [(kind, doc, 0) for kind, doc in scene.released.items()]
    documents.append(("draft advisory log", scene.draft, 1))
    for caller in CALLERS:
        reader = client(world, caller, scene)
        for kind, document, column in documents:
            what = f"{caller} reading the {kind}"
            as_json = await reader.get(f"/reports/{document['id']}")
            as_file = await reader.get(f"/reports/{document['id']}/report.pdf")
            negotiated = await reader.get(f"/reports/{document['id']}", headers=PDF)
            expected = EXPECTED[caller][column]
            assert as_json.status_code == expected, f"{what}: {as_json.text}"
            assert as_file.status_code == negotiated.status_code == expected, what
            if expected != 200:
                assert as_file.headers["content-type"] == "application/problem+json", what
                assert as_file.json()["detail"] == as_json.json()["detail"], what
                continue
            assert as_json.headers["content-type"] == "application/json"
            text = assert_pdf(as_file)
            assert negotiated.content == as_file.content, what  # the same document, same bytes
            assert document["title"] in text, what
            assert NAME in text, what


async def test_the_assessment_pdf_has_the_report_and_every_finding(world: World) -> None:
    factory_id, report = await world.readable_factory("participant", "buyer-1")
    reply = await world.reports("participant", "buyer-1").get(f"/reports/{report['id']}/report.pdf")
    text = " ".join(assert_pdf(reply).split())
    assert "Assessment report" in text
    assert report["title"] in text
    assert factory_id in text
    for finding in FINDINGS:
        assert finding["question"] in text
        assert finding.get("detail", "") in text
    assert "3 questions assessed, 2 non-compliant (1 of them publicly reported)" in text
    layout = pdf_text(reply.content, layout=True)
    assert re.search(rf"Released +{report['released_at'][:10]}\n", layout)
    assert re.search(rf"Factory id +{factory_id}\n", layout)
    disposition = reply.headers["content-disposition"]
    assert (
        disposition == f'attachment; filename="{factory_id}-cycle-1-assessment-{report["id"]}.pdf"'
    )


async def test_a_200_finding_report_runs_over_pages_with_every_row(world: World) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id)
    findings = [
        {"cluster": f"Cluster {n % 8}", "question": f"Question number {n} of the assessment?",
         "publicly_reported": n % 3 == 0, "compliant": n % 4 != 0,
         "detail": f"Detail {n}: " + "observed on the floor " * (n % 5)}
        for n in range(200)
    ]  # fmt: skip
    report = await world.released_assessment(factory_id, findings=findings)
    reply = await world.advisor.get(f"/reports/{report['id']}/report.pdf")
    text = assert_pdf(reply)
    for n in range(200):
        assert f"Question number {n} of the assessment?" in " ".join(text.split()), n
    assert text.count("Cluster\n") + text.count("Cluster ") > 1  # headings repeated per page


@pytest.mark.parametrize(
    ("name", "readable"),
    [
        ("Công ty Cổ phần Dệt may Hòa Thọ, Đà Nẵng", True),  # Vietnamese
        # The registry refuses a name without a Latin letter or digit (its matcher folds names
        # to ASCII), so these carry one.
        ("Gazipur Knit গাজীপুর নিটওয়্যার লিমিটেড", True),  # Bengali (Noto Sans Bengali)
        ("Phnom Penh 2 រោងចក្រកាត់ដេរ ភ្នំពេញ", True),  # Khmer (Noto Sans Khmer)
        ("Ткацкая фабрика «Заря» & Co. (Ltd)", True),  # Cyrillic, quotes, ampersand
        ("Irbid 1 مصنع الأردن للملابس", False),  # Arabic: no bundled font, drawn as boxes
        ("Fábrica 🧵 ሰላም 縫製工場", False),  # emoji, Ethiopic, CJK: boxes, never a 500
    ],
)
async def test_any_factory_name_is_drawn_never_a_500(
    world: World, name: str, readable: bool
) -> None:
    factory_id = await world.factory(name=name)
    await world.open_cycle(factory_id)
    long_word = "x" * 300  # wider than any column: cut, not an endless loop
    report = await world.released_assessment(
        factory_id,
        title=name,
        body=f"{name}\n\n\ttabbed line\r\nand {long_word}",
        findings=[{**FINDINGS[0], "question": name, "detail": long_word}],
    )
    text = assert_pdf(await world.reports("factory", factory_id).get(
        f"/reports/{report['id']}/report.pdf"
    ))  # fmt: skip
    if readable:
        assert name in text
    assert long_word not in text  # cut across lines
    assert long_word in text.replace("\n", "")


async def test_through_the_gateway_both_ways(world: World, gateway_api: Api) -> None:
    _, report = await world.readable_factory("participant", "buyer-1")
    buyer = gateway_api.client("gateway", role="participant", org="buyer-1")
    path = f"/v1/reports/reports/{report['id']}"
    as_file = await buyer.get(f"{path}/report.pdf")
    negotiated = await buyer.get(path, headers=PDF)
    assert_pdf(as_file)
    assert negotiated.content == as_file.content
    as_json = await buyer.get(path, headers={"Accept": "application/json, application/pdf;q=0.5"})
    assert as_json.json()["id"] == report["id"]
    outsider = gateway_api.client("gateway", role="participant", org="buyer-3")
    assert (await outsider.get(f"{path}/report.pdf")).status_code == 404
    anonymous = gateway_api.client("gateway")
    assert (await anonymous.get(f"{path}/report.pdf")).status_code == 401


@pytest.mark.parametrize(
    ("accept", "pdf"),
    [
        ("application/pdf", True),
        ("application/pdf, application/json;q=0.9", True),
        ("application/json;q=0.5, application/pdf", True),
        ("application/pdf, */*", True),
        ("application/json, application/pdf", False),  # named alike: JSON, the default
        ("application/json, application/pdf;q=0.5", False),
        ("application/pdf;q=0", False),
        ("*/*", False),
        ("application/*", False),
        ("", False),
        ("text/html", False),
    ],
)
async def test_content_negotiation(world: World, accept: str, pdf: bool) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id)
    report = await world.released_assessment(factory_id)
    reply = await world.advisor.get(f"/reports/{report['id']}", headers={"Accept": accept})
    assert reply.status_code == 200
    expected = "application/pdf" if pdf else "application/json"
    assert reply.headers["content-type"] == expected


async def test_the_pdf_text_is_the_json_and_nothing_else(world: World) -> None:
    """Every word of the PDF is the JSON's, a field label or the layout's: nothing read from
    elsewhere (a schedule) can appear. The release date is the only date."""
    _, report = await world.readable_factory("participant", "buyer-1")
    reply = await world.reports("participant", "buyer-1").get(f"/reports/{report['id']}/report.pdf")
    text = pdf_text(reply.content)
    assert set(re.findall(r"\d{4}-\d{2}-\d{2}", text)) == {report["released_at"][:10]}
