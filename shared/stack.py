"""Start the gateway and the four services as one supervised group of uvicorn processes.

`make run` uses it with the default ports; the e2e tests and `make bench` use it on free
ports. Ctrl-C (or SIGTERM) stops every process; if one process dies, the rest are stopped
too, so a half-running stack never lingers.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.settings import DEFAULT_PORTS, SERVICES

__all__ = ["Stack", "free_port", "instances_of", "uvicorn_command"]

ROOT = Path(__file__).resolve().parent.parent
APPS = {
    **{service: f"services.{service}.app:create_app" for service in SERVICES},
    "gateway": "gateway.app:create_app",
}


def uvicorn_command(app: str, *, host: str, port: int) -> list[str]:
    """How every component is started, here and in deploy/ (Procfile, compose, Kubernetes,
    Dockerfile; tests/unit/test_deploy.py holds them to it)."""
    return [
        "uvicorn",
        "--factory",
        app,
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default (FORWARDED_ALLOW_IPS),
        # so anything on the host could choose its client address. The gateway believes it
        # only from BW_TRUSTED_PROXIES, applied in the app where the setting is validated.
        "--no-proxy-headers",
    ]


def instances_of(component: str, replicas: int) -> list[str]:
    return [component, *(f"{component}-{n}" for n in range(2, replicas + 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """The processes of the stack, by instance name: a component's first process has the
    component's name ("billing"), its further replicas a number ("billing-2"). Whoever
    calls a service is given every replica's URL (`shared.replicas` spreads the calls)."""

    ports: dict[str, int]
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    log_dir: Path | None = None
    # Where the others reach a service, when not at its own port (a fault proxy in tests).
    via: dict[str, str] = field(default_factory=dict)
    replicas: int = 1

    @classmethod
    def on_free_ports(
        cls, env: dict[str, str] | None = None, log_dir: Path | None = None, replicas: int = 1
    ) -> Stack:
        names = [instance for app in APPS for instance in instances_of(app, replicas)]
        return cls(
            {name: free_port() for name in names}, env or {}, log_dir=log_dir, replicas=replicas
        )

    def instances(self, name: str) -> list[str]:
        """The instances a name stands for: a component's every replica, or one instance."""
        return instances_of(name, self.replicas) if name in APPS else [name]

    def _expand(self, names: list[str]) -> list[str]:
        return list(dict.fromkeys(i for n in names for i in self.instances(n)))

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def urls(self, component: str) -> list[str]:
        return [self.url(instance) for instance in self.instances(component)]

    def environment(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        for service in SERVICES:
            via = self.via.get(service)
            env[f"{service.upper()}_URL"] = via or ",".join(self.urls(service))
        env["BW_GATEWAY_PORT"] = str(self.ports["gateway"])
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def command(self, name: str) -> list[str]:
        app = APPS[name.split("-", 1)[0]]
        command = uvicorn_command(app, host="127.0.0.1", port=self.ports[name])
        return [sys.executable, "-m", *command, "--timeout-graceful-shutdown", "5"]

    def start(self, names: list[str] | None = None) -> None:
        """Start the named components (every replica) or instances, unless running."""
        env = self.environment()
        for name in self._expand(names or list(APPS)):
            running = self.processes.get(name)
            if running is not None and running.poll() is None:
                continue
            command = self.command(name)
            output = None
            if self.log_dir is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                output = (self.log_dir / f"{name}.log").open("ab")
            self.processes[name] = subprocess.Popen(  # noqa: S603 - our own fixed command
                command, cwd=ROOT, env=env, stdout=output, stderr=output
            )

    def up(self, services: list[str] | None = None, timeout_s: float = 120.0) -> None:
        """Start the services (all, or those named), then (once they are healthy: it reads
        their OpenAPI) the gateway; each replica of each."""
        services = services or list(SERVICES)
        self.start(services)
        self.wait_healthy(services, timeout_s=timeout_s)
        self.start(["gateway"])
        self.wait_healthy(["gateway"], timeout_s=timeout_s)

    def wait_healthy(self, names: list[str] | None = None, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        chosen = self._expand(names or list(self.processes))
        for name in chosen:
            while True:
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with code {process.returncode} while starting"
                    )
                try:
                    if httpx.get(f"{self.url(name)}/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not become healthy in {timeout_s:.0f} s")
                time.sleep(0.1)

    def stop(self, names: list[str] | None = None) -> None:
        chosen = [i for i in self._expand(names or list(self.processes)) if i in self.processes]
        for name in chosen:
            if self.processes[name].poll() is None:
                self.processes[name].send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name in chosen:
            process = self.processes.pop(name)
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def kill(self, name: str) -> None:
        """kill -9: the process gets no chance to finish anything (fault tests)."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def supervise(self) -> int:
        """Block until Ctrl-C/SIGTERM or until one process dies; then stop them all."""
        stopping = False

        def request_stop(_signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        code = 0
        while not stopping:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    print(f"\n{name} exited with code {process.returncode}; stopping the stack.")
                    code, stopping = 1, True
                    break
            time.sleep(0.2)
        print("\nStopping gateway and services...")
        self.stop()
        print("Stopped.")
        return code


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the gateway and all services.")
    parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    ports = {**DEFAULT_PORTS, "gateway": int(os.environ.get("BW_GATEWAY_PORT", "8000"))}
    stack = Stack(ports)
    print("Starting (the first start migrates the SQLite databases under var/)...")
    try:
        stack.up()
    except (RuntimeError, TimeoutError) as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print(
        f"\nBetter Work API is up.\n"
        f"  gateway      {stack.url('gateway')}   (docs: {stack.url('gateway')}/docs, "
        f"OpenAPI: {stack.url('gateway')}/openapi.json)\n"
        + "".join(f"  {s:<12} {stack.url(s)}\n" for s in SERVICES)
        + "\nGet a development token:  make token ROLE=partner ORG=brand-1\n"
        'Then:  curl -H "Authorization: Bearer $TOKEN" '
        f"{stack.url('gateway')}/v1/eligibility/programmes\n"
        "Press Ctrl-C to stop everything."
    )
    return stack.supervise()


if __name__ == "__main__":
    raise SystemExit(main())
