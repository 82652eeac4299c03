"""One simulation thread per process: every run's simulation work, a slice at a time.

Why one thread: simulation is pure Python, so threads doing it take turns on the GIL with
the event loop and Django's request thread. Run on asyncio's default pool (six threads on
two CPUs), six heavy jobs (a `step` of 60 s of a big design) held every thread for minutes
and the event loop got a seventh of the GIL: other runs' frames stopped and `/healthz` took
most of a second. Here:

- **One job at a time, the lightest user first.** All simulation work goes to a single
  thread. Of the jobs waiting, the one whose run used the least simulation time lately (CPU
  seconds decaying with a half-life of USAGE_HALF_LIFE_S) goes first: a light run never
  waits behind heavy ones, heavy runs take turns among themselves. A run asks for its next
  slice only once the last one is done, so none can queue work ahead of the others. A job
  for no run yet (building one) counts as NEW_JOB_S used: after light runs, before heavy
  ones. Ahead of every run, ten heavy builds at once (bench/abuse.py's attackers arriving)
  stopped a light run's frames for their first four seconds.
- **Slices.** `budget()` splits SHARE of a frame's wall time (at 15 frames a second) among
  the runs that asked for work in the last ACTIVE_S, at least MIN_SLICE_S each (the engine
  looks at the clock every 256 events, simulations/kernel.py, so a heavy slice may run over
  it by a few milliseconds). With more work than the machine can do, each run simulates less per
  frame, i.e. falls `behind` at a lower simulated speed; none starves.
- **A share of wall time.** After a job of d seconds the thread rests d x (1 - share) /
  share before the next one, releasing the GIL: simulation takes at most that share of the
  wall time of this process, the event loop and HTTP requests keep the rest. A light run's
  slice (its last took under LIGHT_JOB_S) goes during a rest and adds its own to it, while
  less than MAX_REST_S is owed: waiting out heavy runs' rests cost a light run a frame each.
- **The event loop comes first.** The share is SHARE while the event loop keeps time, and
  shrinks (to MIN_SHARE at least) while it runs late: a timer that fires more than LATE_S
  after its time means the loop has more to do than its part of the process (a crowd of
  sockets and requests, bench/abuse.py), and simulation, which can fall behind, yields to
  what people are waiting for. It grows back once the loop is on time.
- **Outcomes together.** A job's outcome is held while light jobs follow it (at most
  HOLD_S), then handed to the event loop with theirs: one wake-up of the loop for the runs
  that ticked together, and their frames published in one turn of it.

Jobs that cannot be sliced (building a run, as three jobs: validation, predictions, the
simulation; a reset; a checkpoint restored for a seek) run here too, whole. The rest after
any job is at most MAX_REST_S: after a build of 0.4 s at a share of 15%, a rest in
proportion (2.3 s) stopped every run's frames, the light ones' too (bench/abuse.py). A job
whose caller was cancelled before it started is not run.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

SHARE = 0.6  # of wall time simulation may take in one process, while the event loop keeps up
MIN_SHARE = 0.15  # while it does not
PROBE_S = 0.02  # how often the event loop's lateness is looked at
LATE_S = 0.02  # a timer this late: the loop is overloaded, the share shrinks
ON_TIME_S = 0.005  # a timer this close to its time: the share grows back
SHRINK, GROW = 0.8, 0.02  # per late probe (x), per punctual probe (+)
MAX_REST_S = 1 / 15  # a frame: the longest the thread rests after one job
NEW_JOB_S = 0.1  # the usage a job for no run counts as: a run using ~3.5% of a core lately
MIN_SLICE_S = 0.005
LIGHT_JOB_S = 0.002  # a run whose last slice took less is light: it need not wait out a rest
HOLD_S = 0.01  # the longest a job's outcome waits for the light jobs after it (see _serve)
ACTIVE_S = 0.5  # a run that asked for a slice this recently counts as wanting CPU
USAGE_HALF_LIFE_S = 2.0

T = TypeVar("T")


class SimScheduler:
    def __init__(self, share: float = SHARE):
        self.share = self.full_share = share
        self._probed: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._asked: dict[object, float] = {}  # who asked for a slice -> when
        self._usage: dict[object, tuple[float, float]] = {}  # who -> (CPU s, as of when)
        self._last: dict[object, float] = {}  # who -> how long its last job took
        self._jobs: list[tuple] = []  # heap of (usage, order, who, job, args, loop, future)
        self._order = itertools.count()
        self._ready = threading.Condition()
        # outcomes of jobs done, per loop, not yet picked up by it
        self._settling: dict[asyncio.AbstractEventLoop, list[tuple]] = {}
        self._settling_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def budget(self, who: object, frame_s: float) -> float:
        """The wall-clock budget of `who`'s next slice: SHARE of a frame shared by the runs
        that want CPU now."""
        now = time.monotonic()
        self._asked[who] = now
        for other, at in list(self._asked.items()):
            if now - at > ACTIVE_S:
                del self._asked[other]
        return max(MIN_SLICE_S, frame_s * self.share / len(self._asked))

    def forget(self, who: object) -> None:
        """`who` wants no more CPU (it ended, or nobody watches it)."""
        self._asked.pop(who, None)
        with self._ready:
            self._usage.pop(who, None)
            self._last.pop(who, None)

    async def run(self, job: Callable[..., T], *args: Any, who: object = None) -> T:
        """`job(*args)` on the simulation thread, charged to `who` (a run; None: a job for
        no run yet, ordered as if it had used NEW_JOB_S)."""
        loop = asyncio.get_running_loop()
        if loop not in self._probed:
            self._probed.add(loop)
            loop.create_task(self._probe_lateness(loop))
        future = loop.create_future()
        with self._ready:
            heapq.heappush(self._jobs, (self._used(who), next(self._order), who, job, args,
                                        loop, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="simulation",
                                                daemon=True)
                self._thread.start()
            self._ready.notify()
        return await future

    async def _probe_lateness(self, loop: asyncio.AbstractEventLoop) -> None:
        """Every PROBE_S, how late the loop ran a timer: the share follows (see above)."""
        while True:
            due = loop.time() + PROBE_S
            await asyncio.sleep(PROBE_S)
            self.observe_lateness(loop.time() - due)

    def observe_lateness(self, late_s: float) -> None:
        if late_s > LATE_S:
            self.share = max(MIN_SHARE, self.share * SHRINK)
        elif late_s < ON_TIME_S:
            self.share = min(self.full_share, self.share + GROW)

    def _used(self, who: object) -> float:
        """`who`'s decayed CPU seconds now (called holding _ready)."""
        if who is None:
            return NEW_JOB_S
        used, at = self._usage.get(who, (0.0, 0.0))
        return used * 0.5 ** ((time.monotonic() - at) / USAGE_HALF_LIFE_S)

    def _serve(self) -> None:
        rest_until = 0.0
        held: list[tuple] = []  # outcomes done, not yet handed to their loops
        held_since = 0.0
        while True:
            if held and not self._jobs:  # nothing more to do now: the outcomes go
                self._hand_over(held)
            with self._ready:
                while not self._jobs:
                    self._ready.wait()
                _, _, who, job, args, loop, future = heapq.heappop(self._jobs)
            if future.cancelled():  # read across threads: at worst a job runs in vain
                continue
            now = time.perf_counter()
            # A light run's slice (its last one was short) does not wait out the rest a heavy
            # one earned: it would lose a frame to each. Its own rest is added on, so the share
            # still holds, up to MAX_REST_S of rest owed.
            light = self._last.get(who, 1.0) < LIGHT_JOB_S and rest_until - now < MAX_REST_S
            if not light or now - held_since > HOLD_S:  # held outcomes wait for light jobs only
                self._hand_over(held)
            if not light and (wait := rest_until - now) > 0:
                time.sleep(wait)  # the GIL is free meanwhile
            start = time.perf_counter()
            result = error = None
            try:
                result = job(*args)
            except BaseException as exc:  # handed to the caller
                error = exc
            end = time.perf_counter()
            rest = min(MAX_REST_S, (end - start) * (1 - self.share) / self.share)
            rest_until = (max(rest_until, end) if light else end) + rest
            if who is not None:
                with self._ready:
                    self._usage[who] = (self._used(who) + end - start, time.monotonic())
                    self._last[who] = end - start
            if not held:
                held_since = end
            held.append((loop, future, result, error))

    def _hand_over(self, held: list[tuple]) -> None:
        """Hand the outcomes held to their loops (and empty `held`): one wake-up of a loop
        (a write to its pipe) for all of them, and for those it has not picked up yet. The
        runs of a process tick together (playground/live/runs.py): their slices' outcomes
        reach the loop at once, so their frames are published in one turn of the loop and
        go to Redis in one write (playground/fenced/layers.py), not one wake-up and one
        write per run."""
        for loop in {outcome[0] for outcome in held}:
            with self._settling_lock:
                waiting = self._settling.setdefault(loop, [])
                wake = not waiting
                waiting += [outcome[1:] for outcome in held if outcome[0] is loop]
            if not wake:
                continue
            try:
                loop.call_soon_threadsafe(self._settle_all, loop)
            except RuntimeError:  # the caller's loop is closed: nobody will pick them up
                with self._settling_lock:
                    self._settling.pop(loop, None)
        held.clear()

    def _settle_all(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._settling_lock:
            waiting = self._settling.pop(loop, [])
        for outcome in waiting:
            _settle(*outcome)


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


scheduler = SimScheduler()
