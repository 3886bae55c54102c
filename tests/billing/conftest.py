"""Fixtures for the billing API tests; their helpers are in `tests.billing.world`."""

from __future__ import annotations

import httpx
import pytest

from tests.inprocess import Api


@pytest.fixture
def service(api: Api) -> httpx.AsyncClient:
    """The reports service's view of billing: a service token for /internal."""
    return api.client("billing", role="service")
