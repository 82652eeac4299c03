"""A co-edited design's shared run (docs/protocol.md, "Co-editing: the shared run").

An editor who starts a run on the play socket shares it with the room (`run`, with the
run's owner token as proof). The room remembers it and tells everyone (`run`: the run id,
who started it, and whether this socket may steer it); each browser's player then watches
it through its own play socket, read-only. Steering goes through the co-editing socket
(`run_control`, `run_command`): the server checks the sender's role at every message
(permissions.may_steer_shared_run) and steers with the token it keeps, so the token never
reaches another browser and an editor whose link is revoked steers no more. What was done
is told to the room with the sender's name (`run_action`) for the timeline.

Where the room's run is kept: in Redis with REDIS_URL (`coedit:<id>:run`, the token with
it, as the channel layer's messages carry it), else in this process.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from typing import Any

from django.conf import settings

from simulations.scenario import ScenarioError

from ..accounts import permissions
from ..live import protocol, runstore
from ..live.runners import RunFailure, get_runner
from ..live.runstore import LAYER_DOWN
from .rooms import LOG_TTL_S

MEMORY_ROOMS = 10_000  # rooms whose run this process remembers without Redis (oldest go)
SAID = 100  # the last commands' senders a newcomer is told of
# share id -> (the room's run, the senders of its last commands)
_memory: OrderedDict[str, tuple[dict[str, str], deque[dict[str, Any]]]] = OrderedDict()
TARGET_CHARS = 200  # a command's target, as told to the room


def _keys(share_id: str) -> tuple[str, str]:
    return runstore.key("coedit", share_id, "run"), runstore.key("coedit", share_id, "said")


async def _remember(share_id: str, record: dict[str, str]) -> None:
    """The room's run from now on (who did what to the one before is forgotten)."""
    if settings.REDIS_URL:
        run_key, said_key = _keys(share_id)
        async with runstore.client().pipeline(transaction=True) as pipe:
            pipe.set(run_key, json.dumps(record), ex=LOG_TTL_S)
            pipe.delete(said_key)
            await pipe.execute()
        return
    _memory[share_id] = (record, deque(maxlen=SAID))
    _memory.move_to_end(share_id)
    while len(_memory) > MEMORY_ROOMS:
        _memory.popitem(last=False)


async def _remember_said(share_id: str, action: dict[str, Any]) -> None:
    """A command's sender, for those who come later (the timeline names it)."""
    if settings.REDIS_URL:
        said_key = _keys(share_id)[1]
        async with runstore.client().pipeline(transaction=True) as pipe:
            pipe.rpush(said_key, json.dumps(action))
            pipe.ltrim(said_key, -SAID, -1)
            pipe.expire(said_key, LOG_TTL_S)
            await pipe.execute()
    elif share_id in _memory:
        _memory[share_id][1].append(action)


async def _recall(share_id: str) -> tuple[dict[str, str] | None, list[dict[str, Any]]]:
    """The room's run and the senders of its last commands (those of its run only: one
    told as another run was shared may be in the list)."""
    if settings.REDIS_URL:
        run_key, said_key = _keys(share_id)
        async with runstore.client().pipeline(transaction=False) as pipe:
            pipe.get(run_key)
            pipe.lrange(said_key, 0, -1)
            text, said = await pipe.execute()
        record, said = (json.loads(text) if text else None), [json.loads(a) for a in said]
    else:
        record, said = _memory.get(share_id, (None, ()))
    if record is None:
        return None, []
    return record, [a for a in said if a["run_id"] == record["run_id"]]


def _target(target: Any) -> str | list[str] | None:
    """A command's target as the room hears it: a component id, or a link's two ends."""
    if isinstance(target, str) and len(target) <= TARGET_CHARS:
        return target
    if isinstance(target, list) and len(target) == 2 and \
            all(isinstance(t, str) and len(t) <= TARGET_CHARS for t in target):
        return target
    return None


class SharedRun:
    """The co-editing consumer's part (mixed into CoeditConsumer): its `role`, `room`,
    `peer`, `_publish`, `send_json` and `error`."""

    shared: dict[str, str] | None = None  # the room's run: run_id, token, by
    tokens: dict[str, str]  # what the runner steers with (the run's owner token)

    async def welcome_shared_run(self) -> None:
        """A newcomer attaches to the room's run if it still goes on, and hears who sent
        its last commands."""
        try:
            record, said = await _recall(self.room.share_id)
            if record is None or not await get_runner().alive(record["run_id"]):
                return
        except LAYER_DOWN:
            await self.unavailable()
            return
        self.shared = record
        await self.tell_shared_run()
        for action in said:
            await self.send_json({"type": "run_action", **action})

    async def tell_shared_run(self) -> None:
        """The browser's view of the room's run (again after a change of role)."""
        if self.shared is not None:
            await self.send_json({"type": "run", "run_id": self.shared["run_id"],
                                  "by": self.shared["by"],
                                  "control": permissions.may_steer_shared_run(self.role)})

    # -- from the browser ------------------------------------------------------------------
    async def on_run(self, data: dict[str, Any]) -> None:
        """Share a run the sender started: it replaces the room's run for everyone."""
        if not permissions.may_steer_shared_run(self.role):
            await self.error("read_only", "you may watch this design's runs, not start "
                             "them for the room", ref="run")
            return
        try:
            join = protocol.parse({"type": "join", "run_id": data.get("run_id"),
                                   "token": data.get("token")})
        except protocol.BadMessage:
            await self.error("bad_message", "run: run_id and token of a run you started",
                             ref="run")
            return
        if not join.token or not await get_runner().steers(join.run_id, join.token):
            await self.error("forbidden", "only a live run you started can be shared",
                             ref="run")
            return
        record = {"run_id": join.run_id, "token": join.token, "by": self.peer["name"]}
        await _remember(self.room.share_id, record)
        await self._publish("coedit.run", record)

    async def on_run_control(self, data: dict[str, Any]) -> None:
        run_id = await self._steering("run_control")
        if run_id is None:
            return
        try:
            message = protocol.parse({**data, "type": "control", "run_id": run_id})
        except protocol.BadMessage as exc:
            await self.error("bad_message", f"the message is not valid: "
                             f"{'; '.join(exc.errors[:3])}", ref="run_control")
            return
        if message.action == "seek":  # a live run only goes forward
            await self.error("not_a_replay", "a live run only goes forward",
                             ref="run_control")
            return
        try:
            await get_runner().control(self, run_id, message.action, message.speed,
                                       message.seconds, None)
        except RunFailure as exc:
            await self.error(exc.code, exc.message, ref="run_control")
            return
        await self._tell(run_id, "control", {"action": message.action,
                                             "speed": message.speed,
                                             "seconds": message.seconds})

    async def on_run_command(self, data: dict[str, Any]) -> None:
        run_id = await self._steering("run_command")
        if run_id is None:
            return
        command = data.get("command")
        if not isinstance(command, dict):
            await self.error("bad_message", "command: an object", ref="run_command")
            return
        try:
            await get_runner().command(self, run_id, command)
        except RunFailure as exc:
            await self.error(exc.code, exc.message, ref="run_command")
            return
        except ScenarioError as exc:
            await self.error("invalid_command", f"the command is not valid: "
                             f"{'; '.join(exc.errors[:3])}", ref="run_command")
            return
        action = command.get("action")
        await self._tell(run_id, "command", {
            "action": action if isinstance(action, str) and len(action) <= 20 else None,
            "target": _target(command.get("target"))})

    async def _steering(self, ref: str) -> str | None:
        """The room's run id if this socket may steer it now (else it was told why)."""
        if not permissions.may_steer_shared_run(self.role):
            await self.error("read_only", "you may watch this run, not change it", ref=ref)
            return None
        if self.shared is None:
            await self.error("unknown_run", "this design has no shared run", ref=ref)
            return None
        self.tokens = {self.shared["run_id"]: self.shared["token"]}
        return self.shared["run_id"]

    async def _tell(self, run_id: str, kind: str, fields: dict[str, Any]) -> None:
        """What this socket did to the run, to the room with its name."""
        action = {"run_id": run_id, "by": self.peer["name"], "kind": kind, **fields}
        await self._publish("coedit.run_action", {"action": action})
        if kind == "command":
            await _remember_said(self.room.share_id, action)

    # -- from the room ---------------------------------------------------------------------
    async def coedit_run(self, event: dict[str, Any]) -> None:
        self.shared = {k: event[k] for k in ("run_id", "token", "by")}
        await self.tell_shared_run()

    async def coedit_run_action(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "run_action", **event["action"]})

    async def run_message(self, event: dict[str, Any]) -> None:
        """A simulation worker's answer to a steer it refused (PLAYGROUND_RUNNER=workers)."""
        answer = json.loads(event["text"])
        if answer.get("type") == "error":
            answer["ref"] = f"run_{answer.get('ref', 'control')}"
            await self.send_json(answer)
