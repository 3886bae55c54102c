"""Fixtures for the eligibility API tests (in process, on the suite's fresh databases); their
helpers are in `tests.eligibility.world`."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from services.eligibility.jobs import ScopingJobs


@pytest.fixture
def eligibility_jobs(apps: dict[str, FastAPI]) -> ScopingJobs:
    jobs: ScopingJobs = apps["eligibility"].state.jobs
    return jobs
