"""The dashboard page in headless Chromium (Debian's `chromium` and `chromedriver`, driven
by Selenium): it loads with the network cut off but for the service, renders the charts
from the summary, and a filter changes the factory table (issue 11).

The service answers on a real port: uvicorn serves the test's integrations app on the
test's event loop, while the blocking WebDriver calls run in a thread."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from shared.stack import free_port
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.portfolio_world import World, rows

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("chromedriver") is None,
    reason="needs Debian's chromium and chromium-driver (make sysdeps)",
)
SCREENSHOT = os.environ.get("BW_DASHBOARD_SCREENSHOT")  # a path: save the page there


@pytest.fixture
async def served(api: Api) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        api.apps["integrations"], host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def browse(url: str) -> dict[str, object]:
    """Open the page, read what it shows, filter by KH, read again (blocking)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1200,1400",
        # Offline: every host name but the service's fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 20)
        wait.until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"
        )
        seen: dict[str, object] = {
            "coverage_bars": len(driver.find_elements(By.CSS_SELECTOR, "#chart-coverage svg rect")),
            "country_bars": len(driver.find_elements(By.CSS_SELECTOR, "#chart-countries svg rect")),
            "benchmark_bars": len(
                driver.find_elements(By.CSS_SELECTOR, "#chart-benchmarks svg rect")
            ),
            "rows": [
                r.get_attribute("data-factory-id")
                for r in driver.find_elements(By.CSS_SELECTOR, "#factories tbody tr")
            ],
            "resources": driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
            ),
            "headers": [
                th.text for th in driver.find_elements(By.CSS_SELECTOR, "#factories thead th")
            ],
            "cells": {
                len(r.find_elements(By.TAG_NAME, "td"))
                for r in driver.find_elements(By.CSS_SELECTOR, "#factories tbody tr")
            },
            "origin": driver.execute_script("return location.origin"),
            "token_in_address": "token=" in str(driver.current_url),
        }
        if SCREENSHOT:
            Path(SCREENSHOT).write_bytes(driver.get_screenshot_as_png())
        Select(driver.find_element(By.ID, "f-country")).select_by_value("KH")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#factories tbody tr")) == 1)
        wait.until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"
        )
        seen["filtered"] = [
            r.get_attribute("data-factory-id")
            for r in driver.find_elements(By.CSS_SELECTOR, "#factories tbody tr")
        ]
        seen["errors"] = driver.find_element(By.ID, "status").text
        return seen
    finally:
        driver.quit()


async def test_the_page_shows_the_portfolio_and_filters(api: Api, served: str) -> None:
    world = World(api)
    await world.become_partner("brand-1", 5)
    ids = {}
    for country in ("BD", "KH", "VN"):
        factory_id = await world.factory(country=country, name=f"{country} Knitwear")
        await world.open_cycle(factory_id)
        await world.released_assessment(factory_id)
        await world.grant_tpa("partner", "brand-1", factory_id)
        ok(await world.unlock("partner", "brand-1", factory_id), 201)
        ids[country] = factory_id
    assert len(await rows(api, "partner", "brand-1")) == 3  # taken in
    token = api.token("partner", "brand-1")

    seen = await asyncio.to_thread(browse, f"{served}/dashboard#token={token}")

    assert seen["coverage_bars"] == 1 and seen["country_bars"] == 3
    assert isinstance(seen["benchmark_bars"], int) and seen["benchmark_bars"] >= 2
    assert isinstance(seen["rows"], list) and sorted(seen["rows"]) == sorted(ids.values())
    assert seen["filtered"] == [ids["KH"]]
    headers = seen["headers"]
    assert isinstance(headers, list) and {"Eligibility", "Plan items overdue"} <= set(headers)
    assert seen["cells"] == {len(headers)}  # every row fills every column
    assert seen["errors"] == "" and not seen["token_in_address"]
    resources = seen["resources"]
    assert isinstance(resources, list) and resources
    assert all(str(name).startswith(str(seen["origin"])) for name in resources)


async def test_the_page_is_public_and_self_contained(api: Api) -> None:
    client = api.client("integrations")  # no token
    page = await client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http://www.w3.org", "")  # nothing external
    for asset, media in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        reply = await client.get(f"/dashboard/{asset}")
        assert reply.status_code == 200 and reply.headers["content-type"].startswith(media)
