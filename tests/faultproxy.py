"""A controllable HTTP/1.1 fault proxy for tests on real processes.

It sits on a free port in front of one upstream (a service), in a thread of its own, and
serves each connection one request (replies carry `Connection: close`). In front of several
replicas of the service it sends each request to the next in turn, and on to the one after
when a replica refuses the connection, as a load balancer would. Faults are planned
per request path, one per request, in order:

- `refuse`: close the connection at once (nothing reaches the upstream);
- `drop_reply`: forward, let the upstream finish (and commit), then hang up;
- `reset_mid_body`: forward, send half the reply, then reset the connection;
- `delay:<seconds>`: forward, then hold the reply that long (past the caller's timeout);
- `hold_request`: hold the request until `release()`, then forward it (the caller may have
  died or given up by then: a late arrival);
- `hold_reply`: forward, then hold the reply until `release()` (kill the caller meanwhile).

`arrived(path)` waits until a planned fault's request has reached the proxy (and, for
`hold_reply`, the upstream has answered), so a test can act between two steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from shared.stack import free_port

__all__ = ["FaultProxy"]


@dataclass
class _Held:
    fault: str
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    def __init__(self, *upstream_ports: int) -> None:
        self.upstream_ports = list(upstream_ports)
        self._turn = itertools.cycle(range(len(self.upstream_ports)))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.paths: list[str] = []
        self._plan: dict[str, list[_Held]] = defaultdict(list)
        self._seen: dict[str, list[_Held]] = defaultdict(list)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    # --- the test's side ----------------------------------------------------------------

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            for held in (h for hs in self._seen.values() for h in hs):
                held.release.set()
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def plan(self, path: str, *faults: str) -> None:
        with self._lock:
            self._plan[path].extend(_Held(fault) for fault in faults)

    def clear(self) -> None:
        with self._lock:
            self._plan.clear()

    def arrived(self, path: str, timeout: float = 20.0) -> None:
        """Wait for the next planned fault on `path` to be reached."""
        deadline = threading.Event()
        for _ in range(int(timeout * 20)):
            with self._lock:
                pending = [h for h in self._seen[path] if not h.release.is_set()]
            if pending and pending[0].reached.wait(0.05):
                return
            deadline.wait(0.05)
        raise TimeoutError(f"no request for {path} reached the proxy in {timeout} s")

    def release(self) -> None:
        with self._lock:
            for held in (h for hs in self._seen.values() for h in hs):
                held.release.set()

    # --- the proxy's side ----------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Stop serving and end the connections still open, so nothing dangles at exit."""
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    def _next(self, path: str) -> _Held | None:
        with self._lock:
            self.paths.append(path)
            if not self._plan[path]:
                return None
            held = self._plan[path].pop(0)
            self._seen[path].append(held)
            return held

    async def _wait(self, event: threading.Event) -> None:
        # A threading.Event set by the test's thread; polled, since asyncio's is per loop.
        while not event.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1].split("?")[0]
        headers = [
            line for line in lines[1:] if line and not line.lower().startswith("connection:")
        ]
        sizes = [
            line.split(":", 1)[1] for line in headers if line.lower().startswith("content-length:")
        ]
        length = int(sizes[0]) if sizes else 0
        body = await reader.readexactly(length) if length else b""
        held = self._next(path)
        fault = held.fault if held else None
        try:
            if fault == "refuse":
                return
            if fault == "hold_request" and held is not None:
                held.reached.set()
                await self._wait(held.release)
            request = "\r\n".join([lines[0], *headers, "Connection: close", "", ""]).encode()
            reply = await self._forward(request + body)
            if reply is None:  # the upstream is down: the caller sees a reset
                writer.transport.abort()
                return
            if held is not None and fault != "hold_request":
                held.reached.set()
            if fault == "drop_reply":
                return
            if fault == "reset_mid_body":
                writer.write(reply[: len(reply) // 2])
                await writer.drain()
                writer.transport.abort()
                return
            if fault is not None and fault.startswith("delay:"):
                await asyncio.sleep(float(fault.split(":", 1)[1]))
            if fault == "hold_reply" and held is not None:
                await self._wait(held.release)
            writer.write(reply)
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _forward(self, request: bytes) -> bytes | None:
        start = next(self._turn)
        for port in self.upstream_ports[start:] + self.upstream_ports[:start]:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue  # refused: nothing was sent, the next replica may take it
            try:
                upstream_writer.write(request)
                await upstream_writer.drain()
                return await upstream_reader.read()  # to EOF: the request said Connection: close
            except OSError:
                return None
            finally:
                upstream_writer.close()
        return None
