"""What every `make bench` scenario gets: the real stack (gateway + four services as
uvicorn processes) on fresh PostgreSQL databases, tokens, an HTTP client for setting up
data, the load generator, and a report that prints each figure beside its target.

A scenario is a module `bench/<name>.py` with `async def run(bench: Bench) -> None`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.load import LoadResult, load
from shared.settings import Settings
from shared.stack import Stack, free_port
from tests.helpers import TEST_SECRET, test_settings, token_for

__all__ = ["Bench", "Figure"]


@dataclass
class Figure:
    scenario: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None

    def line(self) -> str:
        verdict = "" if self.met is None else ("  ok" if self.met else "  MISSED")
        target = f"   (target {self.target})" if self.target else ""
        return f"  {self.name:<58} {self.value:>10.2f} {self.unit:<8}{target}{verdict}"


def _cpu_of(pid: int) -> float:
    """CPU time (user + system) of a process so far; 0 when it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


@dataclass
class Bench:
    stack: Stack
    settings: Settings
    http: httpx.AsyncClient
    figures: list[Figure] = field(default_factory=list)
    scenario: str = ""
    settings_urls: dict[str, str] = field(default_factory=dict)  # each service's database

    @classmethod
    def env_for(cls, database_env: dict[str, str]) -> dict[str, str]:
        return {
            "BW_ENV": "test",
            "BW_JWT_SECRET": TEST_SECRET,
            "BW_LOG_LEVEL": "WARNING",
            "BW_RATE_LIMIT_PER_MINUTE": "100000000",
            "BW_RATE_LIMIT_BURST": "100000000",
            # 50 unlocks in flight need more than the default 10 pooled connections.
            "BW_DB_POOL_SIZE": "35",
            "BW_DB_MAX_OVERFLOW": "0",
            **database_env,
        }

    @classmethod
    def settings_for(cls, urls: dict[str, str]) -> Settings:
        return test_settings(urls)

    def url(self, name: str = "gateway") -> str:
        return self.stack.url(name)

    def token(self, role: str, org: str, **kw: Any) -> str:
        return token_for(self.settings, role, org, **kw)

    def auth(self, role: str, org: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, org, **kw)}"}

    def section(self, title: str) -> None:
        print(f"\n== {self.scenario}: {title}", flush=True)

    def record(
        self, name: str, value: float, unit: str, *, target: str = "", met: bool | None = None
    ) -> Figure:
        figure = Figure(self.scenario, name, value, unit, target, met)
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    async def call(
        self, method: str, path: str, role: str, org: str, body: Any = None, **kw: Any
    ) -> Any:
        """One set-up call through the gateway; anything but 2xx stops the scenario."""
        headers = {**self.auth(role, org, **kw), "Idempotency-Key": str(uuid.uuid4())}
        reply = await self.http.request(method, self.url() + path, json=body, headers=headers)
        if reply.status_code >= 300:
            raise RuntimeError(f"{method} {path} as {role}: {reply.status_code} {reply.text}")
        return reply.json()

    async def load(self, name: str, url: str, **kw: Any) -> LoadResult:
        result = await load(name, url, **kw)
        print("  " + result.line(), flush=True)
        return result

    async def wait_http(self, url: str, timeout_s: float = 20.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                await self.http.get(url)
                return
            except httpx.TransportError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each process of the stack has used so far."""
        return {name: _cpu_of(process.pid) for name, process in self.stack.processes.items()}

    def postgres_cpu_seconds(self) -> dict[int, float]:
        """CPU time each PostgreSQL backend serving the stack's databases has used so far,
        by process id (PostgreSQL runs on this machine; other work's backends are left out).
        Found by their process titles (`postgres: … <database> …`), with no connection of
        our own: the server's connection slots are shared with other work."""
        urls = list(self.settings_urls.values())
        if not urls or not all(url.startswith("postgresql") for url in urls):
            return {}
        names = {urlsplit(url).path.lstrip("/") for url in urls}
        used = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().decode(errors="replace").split()
            except OSError:
                continue
            if title[:1] == ["postgres:"] and names.intersection(title):
                used[int(entry.name)] = _cpu_of(int(entry.name))
        return used

    def start_hello(self) -> tuple[subprocess.Popen[bytes], str]:
        """A bare uvicorn app on the same machine: the ceiling for any HTTP figure."""
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.hello:app",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
        )
        return process, f"http://127.0.0.1:{port}"
