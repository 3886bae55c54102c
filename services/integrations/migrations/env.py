"""Alembic environment of the integrations service (see shared.migrations)."""

from services.integrations.models import TABLES
from shared.migrations import run_env, service_metadata

run_env(service_metadata(*TABLES))
