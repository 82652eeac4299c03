"""A recorded run (scenario, seed, command log, end time) replayed with a seekable timeline.

`Replayer.advance(t)` plays forward, applying each logged command at its `at_s` exactly as
`Simulation.replay` does (advance to at_s, then apply), so the run is the recorded one frame
for frame. On the way it keeps checkpoints: pickled copies of the whole simulation every
`every_s` simulated seconds. `seek(t)` restores the latest checkpoint at or before `t` and
re-simulates from there, so rewinding costs at most one checkpoint interval of simulation
(a server does the two halves apart, `rewind(t)` then `advance(t, budget)` in slices).

Memory bound: at most `max_checkpoints` checkpoints of at most `max_bytes` in all (pickles,
so their size is known exactly). Past either limit every other checkpoint is dropped and the
interval doubles: the checkpoints keep covering the whole run evenly, each seek re-simulates
at most one (now longer) interval, and memory never grows past the bound, however long the
run. The checkpoint at 0 s is always kept (a single checkpoint larger than `max_bytes` is the
one case where the bound is that checkpoint's size).

On the way it also keeps the run's summary every `SERIES_S` simulated seconds (`history`):
after a seek, a viewer's charts show the run up to the new time, not from it. The run is
the same whichever way it got there, so a point is kept once; every point up to the
furthest time reached is there (about 16 KB per simulated minute).
"""

from __future__ import annotations

import math
import pickle
import time
from typing import Any

from .engine import Simulation
from .scenario import Scenario, ScenarioError

EVERY_S = 10.0
SERIES_S = 0.5  # a chart point every half simulated second
MAX_CHECKPOINTS = 48
MAX_BYTES = 16 * 1024 * 1024  # per replay: the server holds one Replayer per replay run


class Replayer:
    def __init__(self, scenario: Scenario | dict, seed: int, commands: list[dict[str, Any]],
                 until_s: float, every_s: float = EVERY_S,
                 max_checkpoints: int = MAX_CHECKPOINTS, max_bytes: int = MAX_BYTES,
                 dots_per_s: float = 0.0):
        if not (isinstance(until_s, int | float) and math.isfinite(until_s) and until_s >= 0):
            raise ScenarioError(["until_s: must be a finite number of seconds >= 0"])
        self.until_s = float(until_s)
        self.commands = _checked(commands, self.until_s)
        self.every_s = every_s
        self.max_checkpoints = max(max_checkpoints, 1)
        self.max_bytes = max_bytes
        self.sim = Simulation(scenario, seed=seed, dots_per_s=dots_per_s, live=True)
        self._next = 0  # index of the next command to apply
        self._checkpoints: list[tuple[float, int, bytes]] = []  # (t, next command, pickle)
        self._checkpoint()
        self._series: dict[int, dict[str, Any]] = {}  # k -> the summary at k * SERIES_S

    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def checkpoint_times(self) -> list[float]:
        return [t for t, _, _ in self._checkpoints]

    @property
    def checkpoint_bytes(self) -> int:
        return sum(len(data) for _, _, data in self._checkpoints)

    def advance(self, t: float, budget_s: float | None = None) -> bool:
        """Play forward to `t` (at most until_s), applying the commands due and taking
        checkpoints; with a wall-clock budget it may stop short. Returns whether `t` was
        reached."""
        t = min(t, self.until_s)
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        sim = self.sim
        while True:
            due = self.commands[self._next]["at_s"] if self._next < len(self.commands) \
                else math.inf
            mark = self._checkpoints[-1][0] + self.every_s
            point = math.floor(sim.now / SERIES_S + 1e-9) + 1  # the next chart point
            stop = min(t, due, mark, point * SERIES_S)
            left = None if deadline is None else max(deadline - time.perf_counter(), 0.0)
            reached = sim.advance(stop, left)
            # (the budget may run out just as `stop` is reached: the point is taken all the same)
            if sim.now >= point * SERIES_S - 1e-9 and point not in self._series:
                self._series[point] = sim.live_summary()
            if not reached:
                return False
            while self._next < len(self.commands) and \
                    self.commands[self._next]["at_s"] <= sim.now:
                cmd = self.commands[self._next]
                sim.apply({k: cmd[k] for k in ("action", "target", "params")})
                self._next += 1
            if sim.now >= mark:
                self._checkpoint()
            if sim.now >= t:
                return True

    def seek(self, t: float) -> None:
        """Go to simulated time `t` (clamped to 0..until_s), backwards or forwards."""
        self.advance(self.rewind(t))
        self.sim.drop_dots()

    def rewind(self, t: float) -> float:
        """The first half of a seek: restore the latest checkpoint at or before `t` if that
        is nearer than now (or `t` is behind now), and return `t` clamped to 0..until_s, for
        `advance` to reach (in budgeted slices if need be; `sim` may be a new object)."""
        t = min(max(t, 0.0), self.until_s)
        at, index, data = max((c for c in self._checkpoints if c[0] <= t),
                              key=lambda c: c[0])
        if t < self.sim.now or at > self.sim.now:
            self.sim = pickle.loads(data)
            self._next = index
        return t

    def frame(self) -> dict[str, Any]:
        return self.sim.frame()

    def history(self, t: float, span_s: float) -> list[list[Any]]:
        """The summaries kept from `t - span_s` to `t`, as [time, summary] in time order."""
        first = max(1, math.ceil((t - span_s) / SERIES_S - 1e-9))
        last = math.floor(t / SERIES_S + 1e-9)
        return [[round(k * SERIES_S, 4), self._series[k]] for k in range(first, last + 1)
                if k in self._series]

    def _checkpoint(self) -> None:
        """Keep a copy of the simulation now, unless one at or after now exists (a rewind
        plays over ground already covered)."""
        now = self.sim.now
        if self._checkpoints and self._checkpoints[-1][0] >= now:
            return
        data = pickle.dumps(self.sim, pickle.HIGHEST_PROTOCOL)
        self._checkpoints.append((now, self._next, data))
        while len(self._checkpoints) > 1 and (
                len(self._checkpoints) > self.max_checkpoints
                or self.checkpoint_bytes > self.max_bytes):
            self._thin()

    def _thin(self) -> None:
        """Double the interval and drop the checkpoints off the new grid (0 s stays)."""
        self.every_s *= 2
        kept = [c for c in self._checkpoints
                if math.isclose(c[0] / self.every_s, round(c[0] / self.every_s))]
        # Checkpoints are taken at multiples of the interval, so about half remain; drop
        # the oldest after 0 s if nothing did (a single huge checkpoint).
        self._checkpoints = kept if len(kept) < len(self._checkpoints) else \
            [self._checkpoints[0]] + self._checkpoints[2:]


def _checked(commands: Any, until_s: float) -> list[dict[str, Any]]:
    """The command log's entries in time order; the engine checks each command's content."""
    if not isinstance(commands, list):
        raise ScenarioError(["commands: must be a list"])
    errors, last = [], 0.0
    for i, cmd in enumerate(commands):
        at = cmd.get("at_s") if isinstance(cmd, dict) else None
        if not (isinstance(cmd, dict) and {"at_s", "action", "target"} <= set(cmd)
                and set(cmd) <= {"at_s", "action", "target", "params"}):
            errors.append(f"commands[{i}]: must be {{at_s, action, target, params}}")
        elif isinstance(at, bool) or not isinstance(at, int | float) \
                or not last <= at <= until_s:
            errors.append(f"commands[{i}].at_s: must be a time in order, from {last:g} s "
                          f"to until_s ({until_s:g} s)")
        else:
            last = at
    if errors:
        raise ScenarioError(errors)
    return [{"params": {}, **cmd} for cmd in commands]
