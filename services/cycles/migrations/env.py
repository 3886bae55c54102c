"""Alembic environment of the cycles service (see shared.migrations)."""

from services.cycles.models import TABLES
from shared.migrations import run_env, service_metadata

run_env(service_metadata(*TABLES))
