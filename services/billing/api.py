"""Routes of the billing service: parse, authorise, call the domain, shape the reply."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
