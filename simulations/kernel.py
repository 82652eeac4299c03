"""The event kernel: a clock, a heap of timed callbacks and seeded random streams."""

from __future__ import annotations

import random
from collections.abc import Callable
from heapq import heappop, heappush
from itertools import count
from typing import Any


class Kernel:
    """Runs callbacks in time order; ties run in the order they were scheduled."""

    __slots__ = ("now", "heap", "seq", "events")

    def __init__(self) -> None:
        self.now = 0.0
        self.heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self.seq = count()
        self.events = 0

    def schedule(self, delay: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        heappush(self.heap, (self.now + delay, next(self.seq), fn, arg))

    def run_until(self, t_end: float) -> None:
        """Run every event due at or before `t_end`, then set the clock to `t_end`."""
        heap = self.heap
        done = 0
        while heap and heap[0][0] <= t_end:
            t, _, fn, arg = heappop(heap)
            self.now = t
            fn(arg)
            done += 1
        self.events += done
        if t_end > self.now:
            self.now = t_end


def stream(seed: int, *names: str) -> random.Random:
    """An independent random stream per (seed, component, purpose).

    Seeding from a string hashes it with SHA-512, so streams do not depend on
    PYTHONHASHSEED and adding a component never shifts the draws of another.
    """
    return random.Random("/".join([str(seed), *names]))
