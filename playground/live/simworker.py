"""A simulation worker (`manage.py simworker`, PLAYGROUND_RUNNER=workers, docs/deploy.md).

It claims new runs from Redis (playground/live/runstore.py) while it drives fewer than its maximum
and no live worker drives fewer, drives each with runs.Run (the same driver as the embedded
set-up: its runs take turns on the worker's simulation thread, playground/live/simscheduler.py,
and a control message never waits for a long step or seek, which the driver reaches in
slices), holds a lease per run that it renews every RENEW_S, and saves each run's progress
(simulated time, play state, command log) with it. A run whose lease expired (its worker
died) is taken over by another worker: rebuilt from document + seed + command log,
re-simulated to where it was (in slices, beside its other runs), announced with a
`notice`, a snapshot, and played on.

Takeover bound: a worker renews at most RENEW_S before it dies, so its leases expire within
LEASE_MS after the death; the scan runs every RENEW_S: a run moves within
LEASE_MS/1000 + RENEW_S (6.5 s) plus the time to re-simulate it.

Redis going away is survived: every loop backs off and retries (no crash loop); runs keep
their state in memory meanwhile, and once Redis is back their leases are renewed (re-taken
if Redis lost them). A run whose record Redis lost ends with reason `lost`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer

from simulations.scenario import ScenarioError

from . import runstore
from .runners import error_payload
from .runs import ReplayOnly, Run, RunRegistry

log = logging.getLogger(__name__)

CLAIM_POLL_S = 0.1  # how often an idle worker looks for new runs
ROLL_CALL_S = 10.0  # how often a worker asks who watches each run
VIEWER_GONE_S = 2.5 * ROLL_CALL_S  # a viewer that did not answer is gone (its web process)
MOVED = "The simulation moved to another worker"
SEQ_GAP = 1000  # more frames than a worker publishes between two saves (RENEW_S x FRAME_HZ)
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)
# A worker's snapshot, for the consumer to finish: it adds `owner` and the token (only web
# processes know tokens).
SNAPSHOT = {"kind": "snapshot", "needs_owner": True}


class SimWorker:
    def __init__(self, max_runs: int, name: str | None = None):
        # Unique even for a restarted container that has the same host name and pid.
        self.id = name or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"
        self.max_runs = max_runs
        self.registry = RunRegistry()  # what Run.end reports to; ownership is self.runs
        self.runs: dict[str, Run] = {}
        self.catching_up: dict[str, asyncio.Task] = {}  # runs taken over, re-simulating
        self.heard: dict[str, dict[str, float]] = {}  # run id -> viewer channel -> last seen
        self.roll_call_at = 0.0
        self.announced = False
        self.layer = get_channel_layer()
        self.channel = ""

    # -- the process --------------------------------------------------------------------
    async def serve(self) -> None:
        # The layer's default prefix: channels_redis receives for one prefix per process.
        self.channel = await self.layer.new_channel()
        try:
            await asyncio.gather(self._forever("claim", self._claim_new, CLAIM_POLL_S),
                                 self._forever("renew", self._renew, runstore.RENEW_S),
                                 self._forever("control", self._control, 0))
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        """Hand the runs over at once: save their progress and release their leases, so
        another worker takes them over at its next scan instead of after LEASE_MS."""
        for run in list(self.runs.values()):
            if run.task is not None:
                run.task.cancel()
            catching_up = self.catching_up.pop(run.id, None)
            if catching_up is not None:  # its record has the progress to start from
                catching_up.cancel()
            try:
                if catching_up is None:
                    await runstore.save(run.id, _progress(run))
                await runstore.release(run.id, self.id)
            except runstore.LAYER_DOWN:
                pass
        self.runs.clear()

    async def _forever(self, name: str, step: Callable[[], Awaitable[None]],
                       period: float) -> None:
        """Run `step` every `period` seconds; while Redis is away, back off and retry."""
        failures = 0
        while True:
            try:
                await step()
                failures = 0
            except runstore.LAYER_DOWN as exc:
                if failures == 0:
                    log.warning("simworker %s: Redis unavailable in %s (%s); retrying",
                                self.id, name, exc)
                failures += 1
                await asyncio.sleep(BACKOFF_S[min(failures, len(BACKOFF_S)) - 1])
                continue
            except Exception:  # a bug in one step must not stop the worker's other runs
                log.exception("simworker %s: %s failed", self.id, name)
                await asyncio.sleep(1.0)
            await asyncio.sleep(period)

    # -- claiming -----------------------------------------------------------------------
    async def _my_turn(self) -> bool:
        """Under its maximum, and no live worker drives fewer runs (ties: both may)."""
        if len(self.runs) >= self.max_runs:
            return False
        others = [n for w, (n, _) in (await runstore.loads()).items() if w != self.id]
        return len(self.runs) <= min(others, default=len(self.runs))

    async def _claim_new(self) -> None:
        while await runstore.pending_count() and await self._my_turn():
            run_id = await runstore.pop_pending()
            if run_id is None:
                return
            await self._claim(run_id)

    async def _take_over_orphans(self) -> None:
        for run_id in await runstore.orphans():
            if not await self._my_turn():
                return
            await self._claim(run_id)

    async def _claim(self, run_id: str) -> None:
        if not await runstore.acquire(run_id, self.id):
            return
        record = await runstore.load(run_id)
        if record is None:  # it ended, or expired while pending
            await runstore.release(run_id, self.id)
            return
        takeover = record["claimed"]  # else new (or its first worker died claiming it)
        try:
            run, t = await asyncio.to_thread(self._rebuild, record)
        except ScenarioError:  # cannot happen to a validated document; never loop on it
            log.exception("simworker %s: run %s cannot be rebuilt", self.id, run_id)
            await runstore.forget(run_id)
            await runstore.release(run_id, self.id)
            return
        self.runs[run_id] = run
        self.heard[run_id] = {}
        if t is None:
            await self._start_driving(run, takeover)
        else:  # apart: the claim and renewal loops must not wait for a re-simulation
            self.catching_up[run_id] = asyncio.create_task(
                self._catch_up(run, record["commands"], t), name=f"catch-up {run_id}")

    async def _catch_up(self, run: Run, commands: list[dict[str, Any]], t: float) -> None:
        """Re-simulate a run taken over to time `t` (in slices: playground/live/runs.py), then
        drive it. Meanwhile its lease is renewed but its record keeps the last worker's
        progress, and viewers' messages to it go unanswered (they join the snapshot that
        follows)."""
        try:
            await run.catch_up(commands, t)
        except Exception:
            log.exception("simworker %s: run %s cannot be re-simulated", self.id, run.id)
            self.runs.pop(run.id, None)  # its lease expires: another worker tries
            self.heard.pop(run.id, None)
            return
        finally:
            self.catching_up.pop(run.id, None)
        if self.runs.get(run.id) is run:  # not lost meanwhile
            await self._start_driving(run, takeover=True)

    async def _start_driving(self, run: Run, takeover: bool) -> None:
        """Announce a claimed run (a notice after a takeover, a snapshot) and drive it."""
        run_id = run.id
        try:
            await self.layer.group_add(runstore.control_group(run_id), self.channel)
            await runstore.save(run_id, {**_progress(run), "claimed": 1})
            await runstore.heartbeat(self.id, len(self.runs), self.max_runs)
            log.info("simworker %s %s run %s at t=%.1f", self.id,
                     "took over" if takeover else "claimed", run_id, run.sim.now)
            if takeover:
                await run.publish({"type": "notice", "run_id": run_id, "message": MOVED})
            # Who watches: those who joined before a worker drove the run, or its last one.
            await self._roll_call(run)
            async with run.lock:
                await run.publish(run.snapshot(), run_id=run_id, **SNAPSHOT)
        finally:  # driven even if Redis went away meanwhile: the renewals catch up
            run.start()

    def _rebuild(self, record: dict[str, Any]) -> tuple[Run, float | None]:
        """The run, and for one taken over the time to re-simulate it to: where it was when
        its worker died. The record is saved every RENEW_S, so a playing run goes on from
        its saved time plus what it played since (at most 2 x RENEW_S of it): never behind
        what viewers saw, and the time without a worker is a pause, not a jump ahead (nor
        a long re-simulation)."""
        seat = tuple(record["seat"]) if record["seat"] else None
        run = Run(self.registry, record["doc"], record["seed"], record["speed"],
                  paused=not record["playing"], replay=record["replay"], seat=seat,
                  run_id=record["id"])
        t = None
        if record["claimed"]:
            t = record["t"]
            if record["playing"]:
                since = min(max(0.0, time.time() - record["at"]), 2 * runstore.RENEW_S)
                target = t + since * record["speed"]
                if run.replayer is not None or t < run.end_s <= target:
                    target = min(target, run.end_s)
                    run.playing = target < run.end_s
                t = target
            # Frames go on counting past any the last worker sent after its last save:
            # viewers' send windows (playground/live/sendwindow.py) expect seqs to grow.
            run.seq = record["seq"] + SEQ_GAP
        return run, t

    # -- leases, progress, viewers --------------------------------------------------------
    async def _renew(self) -> None:
        await runstore.heartbeat(self.id, len(self.runs), self.max_runs)
        if not self.announced:  # scripts/cluster waits for this line
            self.announced = True
            log.info("simworker %s up: claims runs (at most %d)", self.id, self.max_runs)
        roll_call = time.monotonic() - self.roll_call_at >= ROLL_CALL_S
        if roll_call:
            self.roll_call_at = time.monotonic()
        # Leases renewed and progress saved in one round trip each, not two per run.
        runs = list(self.runs.items())
        held = await runstore.renew_all(
            [run_id for run_id, run in runs if run.ended is None or run_id in self.catching_up],
            self.id)
        saved = await runstore.save_all({
            run_id: _progress(run) for run_id, run in runs
            if held.get(run_id) and run_id not in self.catching_up})
        for run_id, run in runs:
            if self.runs.get(run_id) is not run:  # dropped meanwhile
                continue
            if run_id not in held:  # it ended
                await self._drop(run_id)
                await runstore.forget(run_id)
                await runstore.release(run_id, self.id)
            elif not held[run_id]:
                if run_id not in self.catching_up:
                    log.warning("simworker %s lost run %s to another worker", self.id, run_id)
                await self._drop(run_id)
            elif run_id not in saved:  # catching up: its record keeps the last worker's
                pass
            elif not saved[run_id]:
                await self._lost(run)
            else:
                # Joining again each time: a Redis restarted without data lost the group.
                await self.layer.group_add(runstore.control_group(run_id), self.channel)
                if roll_call:
                    await self._roll_call(run)
        await self._take_over_orphans()

    async def _lost(self, run: Run) -> None:
        """Redis lost the run's record (restarted without its data): the viewers are gone
        from the group too, and hear of it when they join again."""
        await runstore.mark_lost(run.id)
        await run.end("lost")

    async def _roll_call(self, run: Run) -> None:
        heard = self.heard.setdefault(run.id, {})
        now = time.monotonic()
        for channel, at in list(heard.items()):
            if now - at > VIEWER_GONE_S:
                del heard[channel]
                run.unwatch(channel)
        await self.layer.group_send(run.group, {"type": "run.roll_call", "run_id": run.id})

    async def _drop(self, run_id: str) -> None:
        """Stop driving a run (ended, or another worker holds its lease now)."""
        run = self.runs.pop(run_id)
        self.heard.pop(run_id, None)
        if (catching_up := self.catching_up.pop(run_id, None)) is not None:
            catching_up.cancel()
        if run.task is not None and run.ended is None:
            run.task.cancel()
        await self.layer.group_discard(runstore.control_group(run_id), self.channel)
        await runstore.heartbeat(self.id, len(self.runs), self.max_runs)

    def _viewer(self, run: Run, channel: str) -> None:
        self.heard.setdefault(run.id, {})[channel] = time.monotonic()
        run.watch(channel)

    # -- what viewers ask (relayed by web processes: playground/live/runners.py) ---------------
    async def _control(self) -> None:
        message = await self.layer.receive(self.channel)
        run = self.runs.get(message.get("run_id", ""))
        if run is None or run.ended is not None or run.id in self.catching_up:
            return  # ended, moved on (the next owner answers), or not driven yet
        reply_to = message["reply_to"]
        kind = message["type"]
        if kind in ("run.join", "run.watching"):
            self._viewer(run, reply_to)
            if kind == "run.join":
                await self._send_snapshot(run, reply_to)
        elif kind == "run.check":  # a web process found no record: did Redis lose it?
            if not await runstore.exists(run.id):
                await self._lost(run)
        elif kind == "run.leave":
            self.heard.get(run.id, {}).pop(reply_to, None)
            run.unwatch(reply_to)
        elif kind in ("run.control", "run.command"):
            error = await self._steer(run, message)
            if error is not None:
                await self.layer.send(reply_to, {"type": "run.message",
                                                 "text": json.dumps(error)})
            await runstore.save(run.id, _progress(run))

    async def _steer(self, run: Run, message: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a control or command; the error to answer, if any."""
        try:
            if message["type"] == "run.control":
                await run.control(message["action"], message.get("speed"),
                                  message.get("seconds"), message.get("t"))
            else:
                await run.command(message["command"])
        except ReplayOnly as exc:
            code, ref = ("not_a_replay", "control") if message["type"] == "run.control" \
                else ("replay_is_fixed", "command")
            return error_payload(code, str(exc), ref=ref)
        except ScenarioError as exc:
            return error_payload("invalid_command", "the command is not valid", exc.errors,
                                 "command")
        return None

    async def _send_snapshot(self, run: Run, channel: str) -> None:
        async with run.lock:  # between frames: the snapshot's seq is the latest
            await self.layer.send(channel, {"type": "run.message", "run_id": run.id,
                                            "text": json.dumps(run.snapshot()), **SNAPSHOT})


def _progress(run: Run) -> dict[str, Any]:
    """What a run's record keeps of it, for the worker that may take it over."""
    return {"t": run.sim.now, "at": time.time(), "playing": int(run.playing),
            "speed": run.speed, "seq": run.seq,
            "commands": json.dumps(run.sim.command_log if run.replayer is None else [])}
