"""The play websocket (docs/protocol.md). Thin: it checks limits and messages, asks the
permissions module, and hands everything else to the run driver (playground/runs.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from simulations.scenario import ScenarioError

from . import permissions, protocol
from .models import RunRecord
from .runs import ReplayOnly, RunLimit, registry

POLICY_VIOLATION = 4008


class TokenBucket:
    """`rate` messages a second on average, `burst` at once."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class PlayConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.bucket = TokenBucket(settings.PLAYGROUND_WS_RATE, settings.PLAYGROUND_WS_BURST)
        self.flooding_since: float | None = None
        self.last_refused = 0.0
        self.watching: set[str] = set()
        self.tokens: dict[str, str] = {}  # run id -> owner token, for runs this socket steers
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for run_id in list(self.watching):
            await self._leave(run_id)

    # -- incoming -------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.PLAYGROUND_WS_MAX_MESSAGE_BYTES:
            await self.error("too_large", f"messages are limited to "
                             f"{settings.PLAYGROUND_WS_MAX_MESSAGE_BYTES} bytes")
            await self.close(code=POLICY_VIOLATION)
            return
        if not await self._within_rate():
            return
        if text_data is None:
            await self.error("bad_message", "messages are JSON text, not binary")
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.error("bad_message", "not valid JSON")
            return
        try:
            message = protocol.parse(data)
        except protocol.BadMessage as exc:
            await self.error("bad_message", "the message is not valid", exc.errors, exc.ref)
            return
        await getattr(self, f"on_{message.type}")(message)

    async def _within_rate(self) -> bool:
        """Over the rate, a message is refused; refusals that keep coming (at least one a
        second) for PLAYGROUND_WS_FLOOD_CLOSE_S close the socket."""
        if self.bucket.take():
            return True
        now = time.monotonic()
        if self.flooding_since is None or now - self.last_refused > 1.0:
            self.flooding_since = now
        self.last_refused = now
        if now - self.flooding_since > settings.PLAYGROUND_WS_FLOOD_CLOSE_S:
            await self.error("rate_limited", "too many messages; closing")
            await self.close(code=POLICY_VIOLATION)
        else:
            await self.error("rate_limited", f"at most {settings.PLAYGROUND_WS_RATE:g} "
                             "messages a second")
        return False

    async def on_ping(self, message: protocol.Ping) -> None:
        await self.send_json({"type": "pong", "id": message.id})

    async def on_start(self, message: protocol.Start) -> None:
        seat = None
        if message.assignment is not None:
            seat = await _seat(self.scope, message.assignment)
            if seat is None:
                await self.error("not_in_class", "join the assignment's classroom first",
                                 ref="start")
                return
        await self._start("start", message.scenario, message.seed, message.speed,
                          message.paused, seat=seat)

    async def on_replay(self, message: protocol.Replay) -> None:
        record = await _run_link(message.run_link)
        if record is None:
            await self.error("unknown_run_link", "no shared run has this link (it may have "
                             "been deleted)", ref="replay")
            return
        await self._start("replay", record["document"], record["seed"], message.speed,
                          message.paused, replay={
                              "run_link": message.run_link, "title": record["title"],
                              "commands": record["commands"], "until_s": record["until_s"]})

    async def _start(self, ref: str, document: Any, seed: int | None, speed: float,
                     paused: bool, replay: dict[str, Any] | None = None,
                     seat: tuple[int, int] | None = None) -> None:
        mine = [rid for rid in self.tokens if registry.get(rid) is not None]
        if len(mine) >= settings.PLAYGROUND_RUNS_PER_CONNECTION:
            await self.error("too_many_runs", f"one tab may run at most "
                             f"{settings.PLAYGROUND_RUNS_PER_CONNECTION} designs at once; "
                             "stop one first", ref=ref)
            return
        try:
            run = await registry.create(document, seed, speed, paused, replay, seat)
        except ScenarioError as exc:
            what = "the scenario" if replay is None else "the shared run"
            await self.error("invalid_scenario", f"{what} is not valid", exc.errors, ref)
            return
        except RunLimit:
            await self.error("server_busy", "the server is running as many designs as it "
                             "can; try again in a minute", ref=ref)
            return
        self.tokens[run.id] = run.owner_token
        await self._join(run, owner=True)

    async def on_join(self, message: protocol.Join) -> None:
        run = registry.get(message.run_id)
        if not permissions.may_watch(run):
            await self.error("unknown_run", "no such run (it may have ended)", ref="join")
            return
        if message.token and permissions.may_control(run, message.token):
            self.tokens[run.id] = message.token
        await self._join(run, owner=permissions.may_control(run, self.tokens.get(run.id)))

    async def _join(self, run, owner: bool) -> None:
        async with run.lock:  # no frame is published between the snapshot and the group add
            await self.channel_layer.group_add(run.group, self.channel_name)
            run.watch(self.channel_name)
            self.watching.add(run.id)
            snapshot = run.snapshot(owner=owner)
            if owner:
                snapshot["token"] = run.owner_token
            await self.send_json(snapshot)

    async def on_leave(self, message: protocol.Leave) -> None:
        await self._leave(message.run_id)

    async def _leave(self, run_id: str) -> None:
        self.watching.discard(run_id)
        run = registry.get(run_id)
        if run is not None:
            run.unwatch(self.channel_name)
            await self.channel_layer.group_discard(run.group, self.channel_name)

    async def on_control(self, message: protocol.Control) -> None:
        run = await self._steerable(message.run_id, "control")
        if run is None:
            return
        if message.action == "seek" and message.t is None:
            await self.error("bad_message", "the message is not valid",
                             ["t: seek needs the time to go to, in seconds"], "control")
            return
        try:
            await run.control(message.action, message.speed, message.seconds, message.t)
        except ReplayOnly as exc:
            await self.error("not_a_replay", str(exc), ref="control")

    async def on_command(self, message: protocol.Command) -> None:
        run = await self._steerable(message.run_id, "command")
        if run is None:
            return
        try:
            await run.command(message.command)
        except ScenarioError as exc:
            await self.error("invalid_command", "the command is not valid", exc.errors,
                             "command")
        except ReplayOnly as exc:
            await self.error("replay_is_fixed", str(exc), ref="command")

    async def _steerable(self, run_id: str, ref: str):
        run = registry.get(run_id)
        if run is None:
            await self.error("unknown_run", "no such run (it may have ended)", ref=ref)
            return None
        if not permissions.may_control(run, self.tokens.get(run_id)):
            await self.error("forbidden", "only the person who started this run can "
                             "change it; you are watching", ref=ref)
            return None
        return run

    # -- outgoing -------------------------------------------------------------------------
    async def run_message(self, event: dict[str, Any]) -> None:
        """A message the run driver published to the group, already JSON."""
        await self.send(text_data=event["text"])

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def error(self, code: str, message: str, errors: list[str] | None = None,
                    ref: str | None = None) -> None:
        payload: dict[str, Any] = {"type": "error", "code": code, "message": message,
                                   "errors": errors or []}
        if ref:
            payload["ref"] = ref
        await self.send_json(payload)


@database_sync_to_async
def _run_link(share_id: str) -> dict[str, Any] | None:
    return RunRecord.objects.filter(share_id=share_id).values(
        "title", "document", "seed", "commands", "until_s").first()



@database_sync_to_async
def _seat(scope: dict[str, Any], assignment_id: str) -> tuple[int, int] | None:
    """(classroom, student) of this socket's seat in the assignment's classroom, or None."""
    from .classrooms.models import Assignment

    assignment = Assignment.objects.select_related("classroom").filter(
        share_id=assignment_id).first()
    if assignment is None:
        return None
    seat = permissions.find_seat(scope.get("user"), permissions.seat_keys(
        scope.get("cookies", {})), assignment.classroom)
    return None if seat is None else (assignment.classroom_id, seat.pk)
