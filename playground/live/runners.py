"""Where the play websocket's runs are simulated (PLAYGROUND_RUNNER, docs/deploy.md).

`InProcessRunner` (the embedded default) drives runs in this web process's registry.
`WorkerRunner` only relays: a run's record goes to Redis (playground/live/runstore.py), a
`manage.py simworker` process (playground/live/simworker.py) drives it and publishes its frames to
the run's group, and viewers' control goes to that worker's group `runctl.<id>`; the worker
answers snapshots and errors straight to the asking socket's channel. The consumer calls
either through the same methods and turns `RunFailure` into an `error` message.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings

from simulations import validate

from ..accounts import permissions
from . import runstore
from .runs import ReplayOnly, RunLimit, registry

__all__ = ["RunFailure", "RunLimit", "error_payload", "get_runner"]


class RunFailure(Exception):
    """What to answer the asking socket with (`error` with this code)."""

    def __init__(self, code: str, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.code, self.message, self.errors = code, message, errors or []


# How long a join of a run without a record waits for its worker to say Redis lost it:
# the worker's control loop answers within a few hundred ms, even just after an outage.
LOST_CHECK_S = 2.0
UNKNOWN_RUN = ("unknown_run", "no such run (it may have ended)")
FORBIDDEN = ("forbidden", "only the person who started this run can change it; you are "
             "watching")


def error_payload(code: str, message: str, errors: list[str] | None = None,
                  ref: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": "error", "code": code, "message": message,
                               "errors": errors or []}
    if ref:
        payload["ref"] = ref
    return payload


class InProcessRunner:
    """Runs live in this process (playground/live/runs.py's registry)."""

    async def alive(self, run_id: str) -> bool:
        return registry.get(run_id) is not None

    async def start(self, document: Any, seed: int | None, speed: float, paused: bool,
                    replay: dict[str, Any] | None, seat: tuple[int, int] | None
                    ) -> tuple[str, str]:
        """(run id, owner token); raises ScenarioError or RunLimit."""
        run = await registry.create(document, seed, speed, paused, replay, seat)
        return run.id, run.owner_token

    async def join(self, consumer, run_id: str, token: str | None) -> bool:
        run = registry.get(run_id)
        if not permissions.may_watch(run):
            return False
        if token and permissions.may_control(run, token):
            consumer.tokens[run_id] = token
        owner = permissions.may_control(run, consumer.tokens.get(run_id))
        async with run.lock:  # no frame is published between the snapshot and the group add
            await consumer.channel_layer.group_add(run.group, consumer.channel_name)
            run.watch(consumer.channel_name)
            consumer.watched(run_id)
            snapshot = run.snapshot(owner=owner)
            if owner:
                snapshot["token"] = run.owner_token
            await consumer.send_json(snapshot)
        return True

    async def steers(self, run_id: str, token: str) -> bool:
        """Is this the owner token of a live run?"""
        run = registry.get(run_id)
        return run is not None and permissions.may_control(run, token)

    async def leave(self, consumer, run_id: str) -> None:
        run = registry.get(run_id)
        if run is not None:
            run.unwatch(consumer.channel_name)
            await consumer.channel_layer.group_discard(run.group, consumer.channel_name)

    async def control(self, consumer, run_id: str, action: str, speed: float | None,
                      seconds: float | None, t: float | None) -> None:
        run = self._steerable(consumer, run_id)
        try:
            await run.control(action, speed, seconds, t)
        except ReplayOnly as exc:
            raise RunFailure("not_a_replay", str(exc)) from None

    async def command(self, consumer, run_id: str, command: dict[str, Any]) -> None:
        """Raises ScenarioError for an invalid command."""
        run = self._steerable(consumer, run_id)
        try:
            await run.command(command)
        except ReplayOnly as exc:
            raise RunFailure("replay_is_fixed", str(exc)) from None

    def _steerable(self, consumer, run_id: str):
        run = registry.get(run_id)
        if run is None:
            raise RunFailure(*UNKNOWN_RUN)
        if not permissions.may_control(run, consumer.tokens.get(run_id)):
            raise RunFailure(*FORBIDDEN)
        return run

    async def answer_roll_call(self, consumer, run_id: str) -> None:
        """Only workers take roll calls."""


class WorkerRunner:
    """Runs live in `manage.py simworker` processes; this process relays (Redis errors,
    LAYER_DOWN, reach the consumer, which tells the browser to come back later)."""

    async def alive(self, run_id: str) -> bool:
        return await runstore.exists(run_id)

    async def start(self, document: Any, seed: int | None, speed: float, paused: bool,
                    replay: dict[str, Any] | None, seat: tuple[int, int] | None
                    ) -> tuple[str, str]:
        scenario = await asyncio.to_thread(validate, document)  # raises ScenarioError
        loads = await runstore.loads()
        if not loads:
            raise RunFailure("no_workers", "no simulation worker is running; try again in "
                             "a minute")
        if all(n >= most for n, most in loads.values()):
            raise RunLimit()
        run_id, token = permissions.new_run_id(), permissions.new_owner_token()
        await runstore.create(run_id, document, scenario.seed if seed is None else seed,
                              speed, paused, replay, seat, permissions.owner_token_hash(token))
        return run_id, token

    async def join(self, consumer, run_id: str, token: str | None) -> bool:
        """Joins the run's group and asks its worker for a snapshot; a run no worker drives
        yet gets one when a worker claims it (it publishes a snapshot to the group)."""
        token_hash = await runstore.token_hash(run_id)
        if token_hash is None:
            if not await self._lost(consumer, run_id):
                return False
            await consumer.send_json({"type": "ended", "run_id": run_id, "reason": "lost"})
            return True
        if token and permissions.may_control_record(token_hash, token):
            consumer.tokens[run_id] = token
        await consumer.channel_layer.group_add(permissions.run_group(run_id),
                                               consumer.channel_name)
        consumer.watched(run_id)
        await self._to_worker(consumer, run_id, "run.join")
        return True

    async def _lost(self, consumer, run_id: str) -> bool:
        """Whether a run without a record is one whose record Redis lost. Just after Redis
        came back without its data, the worker driving the run may not have noticed yet
        (it checks every RENEW_S, and backs off while Redis is away): ask it, it checks at
        once, and wait a moment for its verdict."""
        if await runstore.was_lost(run_id):
            return True
        await self._to_worker(consumer, run_id, "run.check")
        return await runstore.lost_within(run_id, LOST_CHECK_S)

    async def steers(self, run_id: str, token: str) -> bool:
        return permissions.may_control_record(await runstore.token_hash(run_id), token)

    async def leave(self, consumer, run_id: str) -> None:
        await consumer.channel_layer.group_discard(permissions.run_group(run_id),
                                                   consumer.channel_name)
        await self._to_worker(consumer, run_id, "run.leave")

    async def control(self, consumer, run_id: str, action: str, speed: float | None,
                      seconds: float | None, t: float | None) -> None:
        await self._steerable(consumer, run_id)
        await self._to_worker(consumer, run_id, "run.control", action=action, speed=speed,
                              seconds=seconds, t=t)

    async def command(self, consumer, run_id: str, command: dict[str, Any]) -> None:
        await self._steerable(consumer, run_id)
        await self._to_worker(consumer, run_id, "run.command", command=command)

    async def answer_roll_call(self, consumer, run_id: str) -> None:
        """The worker asks who watches (after a takeover, and now and then to forget
        viewers of a web process that died)."""
        if run_id in consumer.watching:
            await self._to_worker(consumer, run_id, "run.watching")

    async def _steerable(self, consumer, run_id: str) -> None:
        token_hash = await runstore.token_hash(run_id)
        if token_hash is None:
            raise RunFailure(*UNKNOWN_RUN)
        if not permissions.may_control_record(token_hash, consumer.tokens.get(run_id)):
            raise RunFailure(*FORBIDDEN)

    async def _to_worker(self, consumer, run_id: str, kind: str, **fields: Any) -> None:
        await consumer.channel_layer.group_send(runstore.control_group(run_id), {
            "type": kind, "run_id": run_id, "reply_to": consumer.channel_name, **fields})


def get_runner() -> InProcessRunner | WorkerRunner:
    return WorkerRunner() if settings.PLAYGROUND_RUNNER == "workers" else InProcessRunner()
