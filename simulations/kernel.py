"""The event kernel: a clock, a heap of timed callbacks and seeded random streams.

Components hand a request (or an answer) to one another at the same simulated time through
`Kernel.hand`, never by a nested call: a design's depth never becomes stack depth, so a
chain of 500 components runs as well as a chain of 5.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from itertools import count
from typing import Any, Final

# The heap's two operations, for the kernel and the components that schedule inline. Final:
# compiled, they are held in C variables instead of looked up by name at every event.
heappush: Final = heapq.heappush
heappop: Final = heapq.heappop
next_number: Final = next  # next_number(kernel.seq): `next` itself is looked up per call

# Events between two looks at the clock in a budgeted run: a big design's events cost up to
# a few hundred microseconds each (a balancer choosing among hundreds of pools), and a live
# server's runs take turns in slices of a few milliseconds (playground/live/simscheduler.py).
BUDGET_CHECK_EVERY = 256


class Kernel:
    """Runs callbacks in time order; ties run in the order they were scheduled."""

    __slots__ = ("now", "heap", "seq", "events", "handing", "handed")

    def __init__(self) -> None:
        self.now = 0.0
        self.heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self.seq = count()
        self.events = 0
        self.handing = False  # a hand-off is running
        self.handed: list[tuple[Callable[[Any], None], Any]] = []  # hand-offs waiting to run

    def __getstate__(self) -> tuple:
        # itertools.count stops pickling in Python 3.14: carry the next number instead.
        n = next(self.seq)
        self.seq = count(n)
        return self.now, self.heap, n, self.events

    def __setstate__(self, state: tuple) -> None:
        self.now, self.heap, n, self.events = state
        self.seq = count(n)
        self.handing = False  # a copy is taken between events, when no hand-off runs
        self.handed = []

    def hand(self, fn: Callable[[Any], None], arg: Any) -> None:
        """Run `fn(arg)` now: a request or an answer passing from one component to another.

        A hand-off made while another runs waits until that one's callback has returned, so
        the stack stays one hand-off deep however long the chain of components. Waiting
        hand-offs run depth-first in the order they were made, each with what it hands on
        before the next: the order of nested calls, except that a callback finishes before
        what it handed on starts. Where that could matter (a queue dispatches after
        answering its producer), the rest of the callback is handed off too.
        """
        if self.handing:
            self.handed.append((fn, arg))
            return
        self.handing = True
        handed = self.handed
        try:
            fn(arg)
            low = 0  # handed[low:] were made by the callback that just ran
            while handed:
                if len(handed) - low > 1:  # the first one made runs first
                    handed[low:] = handed[low:][::-1]
                fn, arg = handed.pop()
                low = len(handed)
                fn(arg)
        finally:
            self.handing = False
            handed.clear()  # after an error, nothing left over runs later

    def schedule(self, delay: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        heappush(self.heap, (self.now + delay, next_number(self.seq), fn, arg))

    def run_until(self, t_end: float, budget_s: float | None = None) -> bool:
        """Run every event due at or before `t_end`, then set the clock to `t_end`.

        With a wall-clock budget it may stop early (a live run that cannot keep up); it
        returns whether `t_end` was reached.
        """
        if budget_s is None:
            self._run_all(t_end)
        else:
            deadline = time.perf_counter() + budget_s
            while self._run(t_end, BUDGET_CHECK_EVERY) and self.heap and \
                    self.heap[0][0] <= t_end:
                if time.perf_counter() > deadline:
                    return False
        if t_end > self.now:
            self.now = float(t_end)  # a float, as when compiled (an int t_end showed as 60)
        return True

    def _run_all(self, t_end: float) -> None:
        """Run every event due by `t_end`: `_run` without a limit, the hot loop of a run."""
        heap = self.heap
        done = 0
        while heap:
            event = heappop(heap)
            if event[0] > t_end:  # popping first and putting back the one event not yet
                heappush(heap, event)  # due is cheaper than peeking at every event
                break
            self.now, _, fn, arg = event
            fn(arg)
            done += 1
        self.events += done

    def _run(self, t_end: float, limit: int) -> int:
        """Run up to `limit` events (all if negative) due by `t_end`; returns how many ran."""
        heap = self.heap
        done = 0
        while heap and heap[0][0] <= t_end and done != limit:
            t, _, fn, arg = heappop(heap)
            self.now = t
            fn(arg)
            done += 1
        self.events += done
        return done


def stream(seed: int, *names: str) -> random.Random:
    """An independent random stream per (seed, component, purpose).

    Seeding from a string hashes it with SHA-512, so streams do not depend on
    PYTHONHASHSEED and adding a component never shifts the draws of another.
    """
    return random.Random("/".join([str(seed), *names]))
