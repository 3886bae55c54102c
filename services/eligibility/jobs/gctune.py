"""Fewer garbage collections while a batch is scoped.

Scoping a list allocates hundreds of thousands of small objects (rows, matches, decisions)
that all live until the reply is written. With CPython's default young-generation threshold
(700 allocations) the collector runs thousands of times over that growing heap, which made
validation and decisions two to three times slower. While at least one batch is running,
the threshold is raised; the last batch to finish puts it back.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["BATCH_GEN0_THRESHOLD", "batch_allocations"]

BATCH_GEN0_THRESHOLD = 50_000
_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def batch_allocations() -> Iterator[None]:
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(BATCH_GEN0_THRESHOLD, _saved[1], _saved[2])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
