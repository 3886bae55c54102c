"""Alembic environment of the reports service (see shared.migrations)."""

from services.reports.models import TABLES
from shared.migrations import run_env, service_metadata

run_env(service_metadata(*TABLES))
