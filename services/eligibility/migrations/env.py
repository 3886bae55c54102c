"""Alembic environment of the eligibility service (see shared.migrations)."""

from services.eligibility.models import TABLES
from shared.migrations import run_env, service_metadata

run_env(service_metadata(*TABLES))
