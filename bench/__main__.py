"""`make bench`: start the real stack on fresh databases and run every scenario
(`bench/<name>.py` with `async def run(bench)`), or those named: `make bench BENCH_ARGS=gateway`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import tempfile
import time
from pathlib import Path

import httpx

from bench.harness import Bench
from shared.stack import Stack
from tests.databases import TestDatabases, postgres_reachable

# `replicas` restarts the main stack (it measures stacks of its own): last.
SCENARIOS = [
    "gateway",
    "eligibility",
    "billing",
    "reports",
    "cycles",
    "events",
    "pdf",
    "portfolio",
    "replicas",
]


def available(names: list[str]) -> list[str]:
    here = Path(__file__).parent
    return [name for name in names if (here / f"{name}.py").exists()]


async def main(names: list[str], *, postgres: bool) -> int:
    if not postgres:
        print("PostgreSQL is not reachable: benchmarking on SQLite (figures are not comparable).")
    databases = TestDatabases(postgres=postgres, label="bench")
    await databases.create()
    log_dir = Path(tempfile.mkdtemp(prefix="bw-bench-"))
    stack = Stack.on_free_ports(Bench.env_for(databases.env()), log_dir=log_dir)
    try:
        stack.up()
        async with httpx.AsyncClient(timeout=120.0) as http:
            bench = Bench(
                stack, Bench.settings_for(databases.urls), http, settings_urls=databases.urls
            )
            for name in names:
                bench.scenario = name
                started = time.perf_counter()
                module = importlib.import_module(f"bench.{name}")
                await module.run(bench)
                print(f"  ({name}: {time.perf_counter() - started:.1f} s)")
        print("\n== summary")
        for figure in bench.figures:
            print(f"[{figure.scenario}]{figure.line()}")
        missed = [f for f in bench.figures if f.met is False]
        print(f"\n{len(bench.figures)} figures, {len(missed)} targets missed. Logs: {log_dir}")
        return 0
    finally:
        stack.stop()
        await databases.drop()


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    names = available(args.scenarios or SCENARIOS)
    return asyncio.run(main(names, postgres=postgres_reachable()))


if __name__ == "__main__":
    raise SystemExit(cli())
