"""Alembic environment of the billing service (see shared.migrations)."""

from services.billing.models import TABLES
from shared.migrations import run_env, service_metadata

run_env(service_metadata(*TABLES))
