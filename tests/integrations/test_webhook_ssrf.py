"""Where webhooks may go: in production only https URLs of public hosts, checked at
registration and before every delivery (DNS is monkeypatched: no traffic leaves)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.integrations.jobs import delivery, ssrf
from tests.inprocess import Api
from tests.integrations.world import deliver_all

PUBLIC = "93.184.215.14"
REFUSED = [
    "127.0.0.1",
    "127.1.2.3",
    "0.0.0.0",  # noqa: S104 - an address under test, not a bind
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Host name -> the addresses it resolves to, for `ssrf.resolve`."""
    table: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    return table


@pytest.fixture
def production(api: Api) -> Iterator[None]:
    app = api.apps["integrations"]
    settings, config = app.state.settings, app.state.webhooks
    app.state.settings = settings.model_copy(update={"environment": "production"})
    config.production = True
    yield
    app.state.settings, config.production = settings, False


class TestAddresses:
    @pytest.mark.parametrize("address", REFUSED)
    def test_not_public(self, address: str) -> None:
        assert not ssrf.is_public(address)

    @pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111"])
    def test_public(self, address: str) -> None:
        assert ssrf.is_public(address)


@pytest.mark.usefixtures("production")
class TestRegistrationInProduction:
    @pytest.mark.parametrize("address", REFUSED)
    async def test_a_host_resolving_to_a_non_public_address_is_refused(
        self, api: Api, dns: dict[str, list[str]], address: str
    ) -> None:
        dns["hooks.example.com"] = [PUBLIC, address]  # one bad address is enough
        client = api.client("integrations", role="partner", org="buyer-1")
        reply = await client.post("/webhook-endpoints", json={"url": "https://hooks.example.com/x"})
        assert reply.status_code == 422, reply.text
        assert "not a public address" in reply.json()["detail"]

    @pytest.mark.parametrize(
        ("url", "why"),
        [
            ("http://hooks.example.com/x", "https"),
            ("http://127.0.0.1:8080/x", "https"),
            ("https://user:pw@hooks.example.com/x", "credentials"),
            ("https://hooks.example.com/x#top", "fragment"),
            ("https://nowhere.example.com/x", "does not resolve"),
            ("https://127.0.0.1/x", "not a public address"),
            ("https://[::ffff:7f00:1]/x", "not a public address"),
            ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ],
    )
    async def test_bad_urls(self, api: Api, dns: dict[str, list[str]], url: str, why: str) -> None:
        dns.update({"hooks.example.com": [PUBLIC], "127.0.0.1": ["127.0.0.1"]})
        dns.update({"::ffff:7f00:1": ["::ffff:127.0.0.1"], "169.254.169.254": ["169.254.169.254"]})
        client = api.client("integrations", role="partner", org="buyer-1")
        reply = await client.post("/webhook-endpoints", json={"url": url})
        assert reply.status_code == 422, reply.text
        assert why in reply.json()["detail"]

    async def test_a_public_https_host_is_accepted(
        self, api: Api, dns: dict[str, list[str]]
    ) -> None:
        dns["hooks.example.com"] = [PUBLIC, "2606:4700:4700::1111"]
        client = api.client("integrations", role="partner", org="buyer-1")
        reply = await client.post("/webhook-endpoints", json={"url": "https://hooks.example.com/x"})
        assert reply.status_code == 201, reply.text
        patched = await client.patch(
            f"/webhook-endpoints/{reply.json()['id']}", json={"url": "http://hooks.example.com/"}
        )
        assert patched.status_code == 422


@pytest.mark.usefixtures("production")
class TestDeliveryInProduction:
    @pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "::ffff:10.0.0.1"])
    async def test_a_host_that_now_resolves_privately_is_a_failed_attempt(
        self, api: Api, dns: dict[str, list[str]], address: str
    ) -> None:
        dns["hooks.example.com"] = [PUBLIC]
        client = api.client("integrations", role="partner", org="buyer-1")
        made = (
            await client.post("/webhook-endpoints", json={"url": "https://hooks.example.com/x"})
        ).json()
        dns["hooks.example.com"] = [address]  # DNS rebinding after registration
        config: delivery.WebhookConfig = api.apps["integrations"].state.webhooks
        saved, config.schedule = config.schedule, (3600.0,)
        try:
            await client.post(f"/webhook-endpoints/{made['id']}/test")
            await deliver_all(api.apps["integrations"])
        finally:
            config.schedule = saved
        tries: list[dict[str, Any]] = (
            await client.get(f"/webhook-endpoints/{made['id']}/attempts")
        ).json()["items"]
        assert len(tries) == 1 and tries[0]["status_code"] is None
        assert "not a public address" in tries[0]["error"]
        assert tries[0]["next_retry_at"] is not None


class TestDevelopment:
    @pytest.mark.parametrize(
        "url", ["http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9/x"]
    )
    async def test_local_receivers_are_allowed(self, api: Api, url: str) -> None:
        client = api.client("integrations", role="partner", org="buyer-1")
        assert (await client.post("/webhook-endpoints", json={"url": url})).status_code == 201


@pytest.mark.parametrize(
    ("address", "connected"), [(PUBLIC, PUBLIC), ("2606:4700::1111", "2606:4700::1111")]
)
async def test_a_delivery_connects_to_the_address_it_checked(
    monkeypatch: pytest.MonkeyPatch, address: str, connected: str
) -> None:
    """DNS rebinding: the name answers a public address to the check and loopback after;
    the request still goes to the checked address (one lookup), with the name as Host
    and as the TLS server name, so the certificate is verified for the registered name."""
    answers = iter([[address], ["127.0.0.1"]])
    lookups: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    monkeypatch.setattr(ssrf, "resolve", resolve)
    seen: dict[str, object] = {}

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.update(
            host=request.url.host,
            header=request.headers["host"],
            sni=request.extensions.get("sni_hostname"),
        )
        return httpx.Response(204, stream=httpx.ByteStream(b""))

    config = delivery.WebhookConfig(production=True, schedule=(1.0,))
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        outcome = await delivery._post(client, "https://hooks.example.com:8443/x", "{}", {}, config)
    assert outcome.ok, outcome
    assert seen == {
        "host": connected,
        "header": "hooks.example.com:8443",
        "sni": "hooks.example.com",
    }
    assert lookups == ["hooks.example.com"]
