"""The README's webhook receiver ("Events and webhooks"), run as written with only its secret
and port filled in: it verifies and prints what the service delivers, and refuses a body
that is not signed with the endpoint's secret."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import httpx

from shared.stack import free_port
from tests.billing.world import buy_credits
from tests.inprocess import Api
from tests.integrations.world import deliver_all, take_in

README = Path(__file__).resolve().parents[2] / "README.md"


def receiver_code() -> str:
    text = README.read_text()
    start = text.index("A receiver that verifies signatures")
    found = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL)
    assert found is not None, "the README's receiver example is gone"
    return found.group(1)


async def test_the_readme_receiver_verifies_what_is_delivered(api: Api) -> None:
    port = free_port()
    client = api.client("integrations", role="participant", org="buyer-1")
    made = await client.post("/webhook-endpoints", json={"url": f"http://127.0.0.1:{port}/hook"})
    assert made.status_code == 201, made.text
    code = receiver_code()
    assert '"whsec_…"' in code and "port=9000" in code
    code = code.replace('"whsec_…"', repr(made.json()["secret"])).replace(
        "port=9000", f"port={port}"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(200):  # until it listens
                try:
                    forged = await http.post(
                        f"http://127.0.0.1:{port}/hook",
                        content=b'{"id":"evt_forged"}',
                        headers={"webhook-id": "evt_forged", "webhook-timestamp": "1"},
                    )
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            assert forged.status_code == 401
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        assert await deliver_all(api.apps["integrations"]) >= 1
        page = (await client.get("/events")).json()["items"]
        attempts = await client.get(f"/webhook-endpoints/{made.json()['id']}/attempts")
        assert {a["status_code"] for a in attempts.json()["items"]} == {204}
    finally:
        process.terminate()
        printed, _ = await asyncio.wait_for(process.communicate(), 10)
    for event in page:  # each delivered event, verified and printed by the receiver
        assert f"{event['id']} {event['type']}".encode() in printed, printed
    assert b"evt_forged" not in printed
