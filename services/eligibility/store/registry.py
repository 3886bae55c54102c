"""The registry as matching sees it: one `CountryIndex` per country, built once and kept
in the process until the registry of that country changes (a cheap stamp query per use:
row count, latest update, latest id), so a list of 50,000 rows or a stream of single
checks does not reload and re-index the country each time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from services.eligibility.domain.matching import CountryIndex
from services.eligibility.store import RegistryStamp, load_registry_entries, registry_stamps

__all__ = ["RegistryCache"]


class RegistryCache:
    def __init__(self) -> None:
        self._indexes: dict[str, tuple[RegistryStamp, CountryIndex]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def indexes(
        self, *, session: AsyncSession, countries: Iterable[str]
    ) -> dict[str, CountryIndex]:
        """Current indexes of the countries that have registry factories."""
        stamps = await registry_stamps(session=session, countries=countries)
        found: dict[str, CountryIndex] = {}
        for country, stamp in stamps.items():
            cached = self._indexes.get(country)
            if cached is None or cached[0] != stamp:
                lock = self._locks.setdefault(country, asyncio.Lock())
                async with lock:
                    cached = self._indexes.get(country)
                    if cached is None or cached[0] != stamp:
                        entries = await load_registry_entries(session=session, country=country)
                        index = await asyncio.to_thread(CountryIndex, entries)
                        cached = self._indexes[country] = (stamp, index)
            found[country] = cached[1]
        return found
