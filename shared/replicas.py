"""A service's replicas as its callers (the gateway, another service) see them.

A service's address setting (`BILLING_URL`, …) may list several base URLs, comma-separated,
one per process: the two-replica test mode of the stack (`shared.stack`) runs that way, and
so can a deployment without a load balancer in front of each service. On Kubernetes it is
one URL, the Service's, and the cluster spreads the connections.

Requests go round the replicas in turn. Two things a caller learns take a replica out of
the turn for a while, as long as another one is left:
- it refused a connection (`down`): nothing was sent, so the caller tries the next replica;
- it said it is shutting down (`DRAINING_HEADER` on a reply, `shared.shutdown`): it still
  finishes what it has, but its listener closes in a moment, and a request sent just then
  could be lost on the wire. A request that breaks off without a reply from a replica that
  said so is one that was never taken in (it finishes everything it has accepted), so the
  caller can say "unavailable, try again" (503) instead of "broken reply" (502).

This state is only where to send the next request; it decides nothing about correctness, so
each process keeping its own is fine (issue 13: nothing in process memory may decide it).
"""

from __future__ import annotations

import itertools
import time

__all__ = ["DRAINING_HEADER", "Replicas", "replicas_of"]

DRAINING_HEADER = "x-service-draining"
# How long a replica that said it is draining is left out of the turn. Its drain window is
# seconds; after this it is tried again (a restarted process answers, a gone one refuses).
DRAINING_S = 10.0
# How long a replica that refused a connection is left out before it is tried again.
DOWN_S = 1.0


class Replicas:
    def __init__(self, urls: list[str]) -> None:
        if not urls:
            raise ValueError("a service needs at least one URL")
        self.urls = urls
        self._turn = itertools.cycle(range(len(urls)))
        self._out_until: dict[str, float] = {}
        self._draining_at: dict[str, float] = {}

    def order(self) -> list[str]:
        """Every replica, in the order to try them for one request: the next in turn first,
        those taken out of the turn last (still tried: they may be back)."""
        if len(self.urls) == 1:
            return self.urls
        start = next(self._turn)
        turn = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        return sorted(turn, key=lambda url: self._out_until.get(url, 0.0) > now)

    def down(self, url: str) -> None:
        self._out_until[url] = time.monotonic() + DOWN_S

    def draining(self, url: str) -> None:
        now = time.monotonic()
        self._draining_at[url] = now
        self._out_until[url] = now + DRAINING_S

    def was_draining(self, url: str) -> bool:
        """Whether `url` said lately that it is shutting down."""
        return time.monotonic() - self._draining_at.get(url, -1e9) < DRAINING_S


_BY_URLS: dict[tuple[str, ...], Replicas] = {}


def replicas_of(urls: list[str]) -> Replicas:
    """The process's one `Replicas` for a list of URLs (each caller of a service shares what
    is learnt about its replicas)."""
    key = tuple(urls)
    if key not in _BY_URLS:
        _BY_URLS[key] = Replicas(urls)
    return _BY_URLS[key]
