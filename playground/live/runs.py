"""The run driver: owns live Simulations and paces them to wall time x speed.

Each run is an asyncio task on the server's event loop. The simulation itself advances on
the process's simulation thread (playground/live/simscheduler.py) in slices with a wall-clock
budget, runs taking turns, so the event loop never blocks and no run starves another: a run
that cannot get enough CPU falls `behind`. A `step` or `seek` is a goal the driver reaches
in such slices over as many frames as it takes, publishing frames on the way; a run nobody
watches does no simulation work at all (its goal is dropped). Frames are published to the
run's channel-layer group as ready-to-send JSON text (encoded once for all viewers).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import hashlib
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from simulations import Scenario, Simulation, validate
from simulations.replay import Replayer
from simulations.scenario import ScenarioError

from .. import monitoring
from ..accounts.permissions import new_owner_token, new_run_id, run_group
from ..classrooms.live import DIGEST_HZ, publish_digest
from .runstore import LAYER_DOWN
from .simscheduler import scheduler

log = logging.getLogger(__name__)

FRAME_HZ = 15
TICK_S = 1.0 / FRAME_HZ
KEYFRAME_S = 2.0  # a full frame this often, so a viewer that missed one heals
DOTS_PER_S = 150  # requests drawn as dots per simulated second at speed 1
MAX_STEP_S = 60.0
HISTORY_S = 62.0  # what a seek's keyframe carries back: the charts' 60 s window, and a little


class RunLimit(Exception):
    """The server runs as many simulations as it may."""


PREDICTIONS_KEPT = 64
_predicted: OrderedDict[bytes, dict[str, Any]] = OrderedDict()  # scenario digest -> predictions
_predicted_lock = threading.Lock()  # the simulation thread, and a worker's rebuild thread


def _predictions(scenario: Scenario) -> dict[str, Any]:
    """The scenario's predictions, shared and never changed: the last PREDICTIONS_KEPT are
    kept, as a class starts the same lesson sixty times (0.1-0.5 s each for a large design,
    on the simulation thread)."""
    key = hashlib.blake2b(scenario.model_dump_json().encode(), digest_size=16).digest()
    with _predicted_lock:
        if (kept := _predicted.get(key)) is not None:
            _predicted.move_to_end(key)
            return kept
    try:
        from simulations.predict import predict
    except ImportError:  # predictions are optional extras of the report
        return {}
    predictions = predict(scenario)
    with _predicted_lock:
        _predicted[key] = predictions
        if len(_predicted) > PREDICTIONS_KEPT:
            _predicted.popitem(last=False)
    return predictions


def _repredictions(document: dict[str, Any]) -> dict[str, Any] | None:
    """The predictions of a changed design, or None if it is no longer valid."""
    try:
        return _predictions(validate(document))
    except ScenarioError:
        return None


def _predictions_now(sim: Simulation, design: dict[str, Any]) -> dict[str, Any]:
    """Predictions for the parameters the run has now: the design's when no `set` changed
    them, else recomputed from the design with every `set` so far (scheduled or live),
    marked `recomputed` with those changes and the time of the last one."""
    if not sim.param_changes:
        return design
    predictions = _repredictions(sim.design_now())
    if predictions is None:  # the changes made the design invalid as a whole
        predictions = {"components": {}, "error": "not predicted: the design with the "
                       "run's parameter changes is not valid as a whole"}
    predictions = dict(predictions)  # the kept one is shared
    predictions["recomputed"] = {"at_s": round(sim.params_changed_at or 0.0, 4),
                                 "params": copy.deepcopy(sim.param_changes)}
    return predictions


def diff(old: dict[str, dict], new: dict[str, dict]) -> dict[str, dict]:
    """Per component, only the fields that changed."""
    out = {}
    for cid, state in new.items():
        before = old.get(cid, {})
        changed = {k: v for k, v in state.items() if before.get(k) != v}
        if changed:
            out[cid] = changed
    return out


class ReplayOnly(Exception):
    """What a live run cannot do (seek) or a replay must not (commands: it is fixed)."""


class Run:
    """A live run, or with `replay` (a run link: share id, command log, until_s) the
    replay of a recorded one: its commands apply at their times, it can seek, it ends at
    until_s, and it takes no commands."""

    def __init__(self, registry: RunRegistry, document: dict[str, Any], seed: int | None,
                 speed: float, paused: bool, replay: dict[str, Any] | None = None,
                 seat: tuple[int, int] | None = None, run_id: str | None = None,
                 scenario: Scenario | None = None):
        self.registry = registry
        self.replay = replay
        self.seat = seat  # (classroom, student) of a run on an assignment: it sends digests
        self.digest_at = 0.0
        self.replayer: Replayer | None = None
        self.id = run_id or new_run_id()  # a worker rebuilding a run keeps its id
        self.owner_token = new_owner_token()
        self.group = run_group(self.id)
        self.document = document
        self.scenario = validate(document) if scenario is None else scenario
        self.seed = self.scenario.seed if seed is None else seed
        self.speed = speed
        self.playing = not paused
        self.behind = False
        # A step's or seek's target time, reached in slices by the driver (None: none).
        self.goal: float | None = None
        self.seeking = False  # the goal is a seek: play resumes after it, dots are dropped
        self.dropping = False  # messages are being lost: Redis is away
        self.ended: str | None = None
        self.seq = 0
        self.viewers: set[str] = set()
        self.idle_since = time.monotonic()
        self.lock = asyncio.Lock()
        self.layer = get_channel_layer()
        self.design_predictions = _predictions(self.scenario)
        self._new_simulation()
        self.task: asyncio.Task | None = None

    def _new_simulation(self) -> None:
        self.goal, self.seeking = None, False
        if self.replay is None:
            self.sim = Simulation(self.scenario, seed=self.seed, dots_per_s=DOTS_PER_S)
        else:
            self.replayer = Replayer(self.scenario, self.seed, self.replay["commands"],
                                     self.replay["until_s"], dots_per_s=DOTS_PER_S)
            self.sim = self.replayer.sim
        self.state: dict[str, dict] = {}  # components as of the last frame published
        self.last_frame = self.sim.frame()
        self.state = self.last_frame["components"]
        self.predicted_for: dict[str, dict] | None = None  # the param_changes predicted
        self._follow_params()

    def _follow_params(self) -> bool:
        """Keep the predictions those of the parameters the simulation runs with now, however
        they changed (a live or scheduled `set`, a reset, a seek, a takeover); on the
        simulation thread. Returns whether they changed."""
        if self.sim.param_changes == self.predicted_for:
            return False
        self.predictions = _predictions_now(self.sim, self.design_predictions)
        self.predicted_for = copy.deepcopy(self.sim.param_changes)
        return True

    async def _publish_predictions(self) -> None:
        await self.publish({"type": "predictions", "run_id": self.id,
                            "predictions": self.predictions})

    # -- messages -------------------------------------------------------------------------
    @property
    def end_s(self) -> float:
        """Where play pauses: the scenario's duration, or a replay's until_s."""
        return self.sim.duration_s if self.replayer is None else self.replayer.until_s

    def status(self) -> dict[str, Any]:
        return {"playing": self.playing, "speed": self.speed, "t": round(self.sim.now, 4),
                "duration_s": self.sim.duration_s, "ended": self.ended is not None,
                "behind": self.behind}

    def snapshot(self, owner: bool | None = None) -> dict[str, Any]:
        frame = dict(self.last_frame, components=self.state)
        message = {"type": "snapshot", "run_id": self.id, "seq": self.seq,
                   "status": self.status(), "scenario": self.document, "seed": self.seed,
                   "predictions": self.predictions, "commands": self.sim.command_log,
                   "frame": frame}
        if owner is not None:
            message["owner"] = owner
        if self.replay is not None:
            message["replay"] = {"run_link": self.replay["run_link"],
                                 "title": self.replay["title"],
                                 "until_s": self.replayer.until_s,
                                 "commands": self.replayer.commands}
        return message

    async def publish(self, message: dict[str, Any], **extra: Any) -> None:
        try:
            await self.layer.group_send(self.group, {"type": "run.message",
                                                     "text": json.dumps(message), **extra})
            self.dropping = False
        except LAYER_DOWN:
            # Redis is away: this message is lost, the run goes on; the next keyframe heals
            # viewers once it is back (docs/deploy.md).
            if not self.dropping:
                log.warning("run %s: channel layer unavailable, dropping messages", self.id)
            self.dropping = True

    async def catch_up(self, commands: list[dict[str, Any]], t: float) -> None:
        """Re-simulate to simulated time `t` from the scenario, seed and command log: a run
        taken over by another worker. Frames at `t` do not depend on how time was sliced, so
        viewers see the run they were watching, not a restart. In slices on the simulation
        thread, like a step: the worker's other runs take their turns meanwhile."""
        if self.replayer is None:  # a Replayer applies the log's commands at their times
            until = max([t, *(c["at_s"] for c in commands)])
            replayer = await scheduler.run(
                functools.partial(Replayer, every_s=math.inf, dots_per_s=DOTS_PER_S),
                self.scenario, self.seed, commands, until, who=self)
        else:
            replayer = self.replayer
            until = await scheduler.run(replayer.rewind, t, who=self)
        while not await scheduler.run(replayer.advance, until,
                                      scheduler.budget(self, TICK_S), who=self):
            pass
        self.sim = replayer.sim
        self.sim.drop_dots()
        self.last_frame = self.sim.frame()
        self.state = self.last_frame["components"]
        await scheduler.run(self._follow_params, who=self)

    # -- the driver loop ------------------------------------------------------------------
    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._drive(), name=self.id)
        monitoring.track_run(self)

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        last = next_key = loop.time()
        try:
            while self.ended is None:
                # On the process's grid of ticks, not this run's own: the runs of a process
                # tick together, so their slices, wake-ups and frames' sends are shared
                # (simscheduler.py, fenced/layers.py).
                tick = (math.floor(last / TICK_S) + 1) * TICK_S
                await asyncio.sleep(max(0.0, tick - loop.time()))
                now = loop.time()
                elapsed, last = min(now - last, 4 * TICK_S), now
                if self._idle_too_long():
                    await self.end("idle")
                    break
                keyframe = now >= next_key
                if keyframe:
                    next_key = now + KEYFRAME_S
                if not self.viewers:  # nobody would see it: no work, no frames
                    continue
                async with self.lock:
                    if self.goal is not None:
                        await self._to_goal(keyframe)
                    elif self.playing:
                        await self._play(elapsed, keyframe)
                    elif keyframe:
                        await self._publish_frame(full=True)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("run %s failed", self.id)
            await self.end("error")
        finally:
            scheduler.forget(self)

    async def _play(self, elapsed: float, keyframe: bool) -> None:
        """One frame of play. A live run pauses once at the scenario's duration_s (its
        events are over) and plays on from there if asked; a replay pauses at its until_s
        and goes no further."""
        end = self.end_s
        target = self.sim.now + elapsed * self.speed
        stop_at_end = self.replayer is not None or self.sim.now < end <= target
        if stop_at_end:
            target = min(target, end)
        await self._slice(target)
        await self._publish_frame(keyframe)
        if stop_at_end and self.sim.now >= end:
            self.playing = False
            await self.publish({"type": "status", "run_id": self.id, "status": self.status()})

    async def _to_goal(self, keyframe: bool) -> None:
        """One slice toward a step's or seek's target, and its frame: `behind` until the
        target is reached, a keyframe there after a seek."""
        seeking = self.seeking
        reached = await self._slice(self.goal, drop_dots=seeking)
        if reached:
            self.goal, self.seeking = None, False
        await self._publish_frame(keyframe or seeking, history=seeking and reached)

    async def _slice(self, target: float, drop_dots: bool = False) -> bool:
        """Advance toward `target` for one slice on the simulation thread and take the
        frame there (called holding the lock). Returns whether `target` was reached."""
        budget = scheduler.budget(self, TICK_S)

        def work() -> tuple[bool, dict, bool]:
            reached = (self.replayer or self.sim).advance(target, budget)
            if drop_dots:
                self.sim.drop_dots()
            return reached, self.sim.frame(), self._follow_params()

        reached, self.last_frame, repredicted = await scheduler.run(work, who=self)
        self.behind = not reached
        if repredicted:  # a scheduled `set`, or a replay passing or seeking past one
            await self._publish_predictions()
        return reached

    async def _publish_frame(self, full: bool, history: bool = False) -> None:
        """With `history` (a seek got there) the keyframe also carries the run's summaries
        over the charts' window before it, so they show the run up to here."""
        frame = dict(self.last_frame)
        new_state = frame["components"]
        if not full:
            frame["components"] = diff(self.state, new_state)
        self.state = new_state
        self.seq += 1
        monitoring.FRAMES_PUBLISHED.inc()
        # sent_at: wall-clock publish time, for lag (sendwindow.py) and bench/load.py
        sent_at = round(time.time(), 3)
        message = {"type": "frame", "run_id": self.id, "seq": self.seq,
                   "status": self.status(), "frame": frame, "sent_at": sent_at}
        if full:
            message["full"] = True
        if history and self.replayer is not None:
            message["history"] = self.replayer.history(self.sim.now, HISTORY_S)
        # for each viewer's send window (playground/live/sendwindow.py)
        await self.publish(message, run_id=self.id, kind="frame", seq=self.seq, full=full,
                           sent_at=sent_at)
        await self._digest()

    async def _digest(self, force: bool = False) -> None:
        """A few numbers for the classroom's dashboard, at most DIGEST_HZ a second."""
        now = time.monotonic()
        if self.seat is None or (not force and now - self.digest_at < 1 / DIGEST_HZ):
            return
        self.digest_at = now
        summary = self.last_frame.get("summary") or {}
        with contextlib.suppress(*LAYER_DOWN):  # Redis is away: the next digest follows soon
            await publish_digest(*self.seat, {
                "run_id": self.id, "t": round(self.sim.now, 2), "playing": self.playing,
                "ended": self.ended is not None, "throughput_rps": summary.get("ok_rps"),
                "p99_ms": summary.get("p99"), "error_ratio": summary.get("error_ratio"),
                "cost_per_hour": summary.get("cost_per_hour"), "at": time.time()})

    def _idle_too_long(self) -> bool:
        return not self.viewers and \
            time.monotonic() - self.idle_since > settings.PLAYGROUND_IDLE_RUN_S

    # -- what viewers ask (each holds the lock: never while the simulation advances) -----
    async def control(self, action: str, speed: float | None, seconds: float | None,
                      t: float | None = None) -> None:
        """Raises ReplayOnly for a seek of a live run."""
        if action == "seek" and self.replayer is None:
            raise ReplayOnly("only a replay of a shared run can seek; a live run only goes "
                             "forward")
        async with self.lock:
            if self.ended is not None:
                return
            if action == "seek":
                await self._seek(t or 0.0)
                return
            if action == "play":
                self.playing = True
                if not self.seeking:  # play goes on from here, a seek's target first
                    self.goal = None
            elif action == "pause":
                self.playing = False
                self.goal, self.seeking = None, False
            elif action == "speed":
                self.speed = speed if speed is not None else self.speed
            elif action == "step":
                self._step(seconds)
                return
            elif action == "reset":
                await scheduler.run(self._new_simulation, who=self)
                self.seq += 1
                await self.publish(self.snapshot(), run_id=self.id, kind="snapshot")
                return
            elif action == "stop":
                await self._end_locked("stopped")
                return
            await self.publish({"type": "status", "run_id": self.id, "status": self.status()})

    def _step(self, seconds: float | None) -> None:
        """Pause, and aim `seconds` past the current goal (or now), at most MAX_STEP_S past
        now: the driver gets there in slices (holding the lock)."""
        step = min(seconds or self.speed / FRAME_HZ, MAX_STEP_S)
        self.playing = False
        start = self.sim.now if self.goal is None or self.seeking else self.goal
        self.goal, self.seeking = min(start + step, self.sim.now + MAX_STEP_S), False

    async def _seek(self, t: float) -> None:
        """Restore the nearest checkpoint at or before `t` and aim for `t`: the driver gets
        there in slices and publishes a keyframe (holding the lock)."""
        self.goal = await scheduler.run(self.replayer.rewind, t, who=self)
        self.seeking = True
        self.sim = self.replayer.sim

    async def command(self, command: dict[str, Any]) -> None:
        """Apply a live command at the current simulated time (raises ScenarioError, or
        ReplayOnly in a replay)."""
        if self.replayer is not None:
            raise ReplayOnly("a replay plays a recorded run and takes no commands; start "
                             "the design yourself to change it")
        async with self.lock:
            if self.ended is not None:
                return
            self.sim.apply(command)
            applied = self.sim.command_log[-1]
            await self.publish({"type": "command", "run_id": self.id, "command": applied})
            # predicted on the simulation thread: a big design takes tens of milliseconds
            if await scheduler.run(self._follow_params, who=self):
                await self._publish_predictions()

    def watch(self, channel: str) -> None:
        self.viewers.add(channel)

    def unwatch(self, channel: str) -> None:
        """The last viewer leaving drops the goal: nobody waits for it any more."""
        self.viewers.discard(channel)
        if not self.viewers:
            self.idle_since = time.monotonic()
            self.goal, self.seeking = None, False

    async def end(self, reason: str) -> None:
        async with self.lock:
            await self._end_locked(reason)

    async def _end_locked(self, reason: str) -> None:
        if self.ended is not None:
            return
        self.ended = reason
        self.playing = False
        self.registry.forget(self)
        await self.publish({"type": "ended", "run_id": self.id, "reason": reason,
                            "status": self.status()})
        await self._digest(force=True)


class RunRegistry:
    """The runs of this process (the embedded default: simulations run in the web process)."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.ended = 0  # runs that ended: a place in a quota may have freed (quotas.py)

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    async def create(self, document: dict[str, Any], seed: int | None, speed: float,
                     paused: bool, replay: dict[str, Any] | None = None,
                     seat: tuple[int, int] | None = None) -> Run:
        """Validate and start a run, or with `replay` the replay of a run link (raises
        ScenarioError or RunLimit). Building it (key tables, predictions) happens on the
        simulation thread: a big design must not stall other sockets."""
        if len(self.runs) >= settings.PLAYGROUND_MAX_RUNS:
            raise RunLimit()
        # Three jobs, not one, so that other runs' slices come between them: a large design
        # takes 0.1-0.5 s to validate, to predict and to build.
        scenario = await scheduler.run(validate, document)
        await scheduler.run(_predictions, scenario)  # kept for the Run's own call
        run = await scheduler.run(functools.partial(Run, scenario=scenario), self, document,
                                  seed, speed, paused, replay, seat)
        if len(self.runs) >= settings.PLAYGROUND_MAX_RUNS:
            raise RunLimit()
        self.runs[run.id] = run
        run.start()
        return run

    def forget(self, run: Run) -> None:
        if self.runs.pop(run.id, None) is not None:
            self.ended += 1

    async def stop_all(self) -> None:
        for run in list(self.runs.values()):
            await run.end("stopped")


registry = RunRegistry()
