"""Classroom websockets (docs/protocol.md, "Classrooms"). Thin: permissions decide who
connects; presence and the latest digest per student live in the cache so any process can
answer a dashboard that connects.

- /ws/seat/<assignment id>/: a student's editor on an assignment. Marks them online, says
  which run they watch, and receives the instructor's chaos drill (the browser applies it to
  its own run with its owner token, like any live command).
- /ws/dashboard/<classroom join id>/: an instructor's live roster. Gets the roster once, then
  presence, digests of students' runs (coalesced: one message per DIGEST_FLUSH_S), grades,
  and who is in the classroom's lecture (playground/coedit/lecture.py); hands out its pen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from channels.db import database_sync_to_async
from pydantic import ValidationError

from playground.accounts import permissions
from playground.coedit import lecture
from playground.live.consumers import LayerAwareSocket, TokenBucket
from playground.live.protocol import POLICY_VIOLATION
from playground.live.runstore import LAYER_DOWN

from . import presence, roster
from .live import dashboard_group, seats_group
from .models import Assignment, Classroom

FORBIDDEN = 4003
PRESENCE_TTL_S = 60  # a seat socket pings every 20 s; three missed pings and it is offline
DIGEST_FLUSH_S = 0.25  # each digest reaches the screen within 0.25 s of arriving


class _JsonSocket(LayerAwareSocket):
    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message))

    async def refuse(self, message: str) -> None:
        await self.accept()
        await self.send_json({"type": "error", "code": "forbidden", "message": message})
        await self.close(code=FORBIDDEN)

    async def read(self, text_data: str | None, limit: int = 4096) -> dict | None:
        if text_data is None or len(text_data) > limit or not self.bucket.take():
            await self.close(code=POLICY_VIOLATION)
            return None
        try:
            data = json.loads(text_data)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await self.send_json({"type": "error", "code": "bad_message",
                                  "message": "messages are JSON objects"})
            return None
        return data


class SeatConsumer(_JsonSocket):
    async def connect(self) -> None:
        self.bucket = TokenBucket(2, 10)
        found = await database_sync_to_async(self._find)()
        if found is None:
            await self.refuse("join the classroom first")
            return
        self.classroom_id, self.student_id, self.name = found
        await self.channel_layer.group_add(seats_group(self.classroom_id), self.channel_name)
        await self.accept()
        await self._presence(online=True, run_id=None)

    def _find(self) -> tuple[int, int, str] | None:
        assignment = Assignment.objects.select_related("classroom").filter(
            share_id=self.scope["url_route"]["kwargs"]["share_id"]).first()
        if assignment is None:
            return None
        seat = permissions.find_seat(self.scope.get("user"),
                                     permissions.seat_keys(self.scope.get("cookies", {})),
                                     assignment.classroom)
        return (assignment.classroom_id, seat.pk, seat.display_name) if seat else None

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "student_id"):
            with contextlib.suppress(*LAYER_DOWN):  # presence times out by itself
                await self.channel_layer.group_discard(seats_group(self.classroom_id),
                                                       self.channel_name)
                await self._presence(online=False, run_id=None)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        data = await self.read(text_data)
        if data is None:
            return
        if data.get("type") == "ping":
            await self._presence(online=True, run_id=self.run_id)
        elif data.get("type") == "watching":
            run_id = data.get("run_id")
            ok = run_id is None or (isinstance(run_id, str) and len(run_id) <= 64)
            await self._presence(online=True, run_id=run_id if ok else None)

    async def _presence(self, online: bool, run_id: str | None) -> None:
        self.run_id = run_id
        state = await presence.set_presence(self.classroom_id, self.student_id, online, run_id,
                                    PRESENCE_TTL_S)
        await self.channel_layer.group_send(dashboard_group(self.classroom_id), {
            "type": "class.presence", "student": self.student_id, "name": self.name,
            **state})

    async def class_drill(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "drill", "command": event["command"],
                              "from": event["from"]})


class DashboardConsumer(_JsonSocket):
    async def connect(self) -> None:
        self.bucket = TokenBucket(2, 10)
        join_id = self.scope["url_route"]["kwargs"]["join_id"]
        self.classroom = await database_sync_to_async(self._teaching)(join_id)
        if self.classroom is None:
            await self.refuse("only the classroom's instructors see its dashboard")
            return
        self.group = dashboard_group(self.classroom.pk)
        self.pending: dict[int, dict[str, Any]] = {}
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        snapshot = await database_sync_to_async(roster.snapshot)(self.classroom)
        await self.send_json({"type": "roster", **snapshot})
        self.flusher = asyncio.get_running_loop().create_task(self._flush())
        await lecture.roll_call(self.classroom.pk)  # who is in the lecture, if one runs

    def _teaching(self, join_id: str) -> Classroom | None:
        classroom = Classroom.objects.filter(join_id=join_id).first()
        ok = classroom is not None and permissions.may_teach(self.scope.get("user"), classroom)
        return classroom if ok else None

    async def disconnect(self, code: int) -> None:
        if getattr(self, "classroom", None) is not None:
            self.flusher.cancel()
            with contextlib.suppress(*LAYER_DOWN):
                await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        data = await self.read(text_data)
        if data is not None and data.get("type") == "pen":
            await self._pen(data)
        if data is None or data.get("type") != "drill":
            return
        try:
            command = roster.drill_command(data.get("command"))
        except (ValueError, ValidationError) as exc:
            await self.send_json({"type": "error", "code": "bad_drill", "message": str(exc)})
            return
        await self.channel_layer.group_send(seats_group(self.classroom.pk), {
            "type": "class.drill", "command": command,
            "from": self.scope["user"].get_username()})
        await self.send_json({"type": "drill_sent", "command": command, "at": time.time()})

    async def _pen(self, data: dict[str, Any]) -> None:
        """Hand a student the pen in the classroom's lecture, or take it back."""
        try:
            await database_sync_to_async(lecture.hand_pen)(
                self.scope["user"], self.classroom, data.get("student"), data.get("pen") is True)
        except lecture.LectureError as exc:
            await self.send_json({"type": "error", "code": "bad_pen", "message": str(exc)})

    async def _flush(self) -> None:
        """Digests arrive up to 2 a second per student; the dashboard gets them batched."""
        while True:
            await asyncio.sleep(DIGEST_FLUSH_S)
            if self.pending:
                batch, self.pending = list(self.pending.values()), {}
                await self.send_json({"type": "digests", "digests": batch})

    async def class_digest(self, event: dict[str, Any]) -> None:
        self.pending[event["student"]] = {k: v for k, v in event.items() if k != "type"}

    async def class_presence(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "presence", **{k: v for k, v in event.items()
                                                     if k != "type"}})

    async def class_work(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "work", **{k: v for k, v in event.items()
                                                 if k != "type"}})

    async def class_lecture(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "lecture", **{k: v for k, v in event.items()
                                                    if k != "type"}})

    async def class_graded(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "graded", **{k: v for k, v in event.items()
                                                   if k != "type"}})
