"""Lecture mode (docs/classrooms.md, "Lecture mode"; docs/protocol.md, "Lectures"): an
instructor presents one of their designs to a classroom in the design's co-editing room.

/ws/coedit/l/<lecture id>/ is a co-editing socket whose role `permissions.lecture_role`
decides: the presenter edits and leads, the class's students watch (and follow the
presenter's viewport and selection), a student holding the pen edits. Besides the room's
group, a lecture's sockets are members of the lecture's group (`lecture.<classroom pk>`),
which carries what only they understand: the presenter's viewport, the pen changing hands,
the lecture ending. What the dashboard shows (who is in, who follows) goes to the
classroom's dashboard group as `class.lecture`.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from ..accounts import permissions
from ..classrooms.live import dashboard_group
from ..classrooms.models import Classroom, Lecture
from ..live.runstore import LAYER_DOWN
from ..models import Scenario
from .consumer import NOT_FOUND, CoeditConsumer

COORDINATE_MAX = 1e7  # model coordinates of the centre of the presenter's view
ZOOM_MIN, ZOOM_MAX = 0.1, 2.5  # the canvas's own bounds (static/playground/canvas.js)


def lecture_group(classroom_id: int) -> str:
    return f"lecture.{classroom_id}"


class LectureError(ValueError):
    pass


# -- starting, ending, the pen (from the pages and the dashboard's socket) ---------------------
def start(user, classroom: Classroom, share_id: str) -> Lecture:
    """Start presenting a design to the classroom; a lecture running there ends first."""
    scenario = Scenario.objects.filter(share_id=share_id).first()
    if not permissions.may_start_lecture(user, classroom, scenario):
        raise LectureError("scenario: present one of your own saved designs")
    end(classroom)
    return Lecture.objects.create(classroom=classroom, scenario=scenario, presenter=user)


def end(classroom: Classroom) -> None:
    """End the classroom's lecture: its sockets are told and closed."""
    if Lecture.objects.filter(classroom=classroom).delete()[0]:
        _tell(classroom.pk, {"type": "lecture.ended"})


def hand_pen(user, classroom: Classroom, student_id: Any, holds: bool) -> None:
    """Hand a student of the classroom the pen (edit rights in the lecture) or take it back;
    their sockets change role at once."""
    lecture = Lecture.objects.filter(classroom=classroom).first()
    if lecture is None or not permissions.may_hand_pen(user, lecture):
        raise LectureError("no lecture is running in this classroom")
    seat = classroom.students.filter(removed=False, pk=student_id).first() \
        if type(student_id) is int else None  # not a bool
    if seat is None:
        raise LectureError("student: not a student of this classroom")
    (lecture.pen.add if holds else lecture.pen.remove)(seat)
    _tell(classroom.pk, {"type": "lecture.pen", "student": seat.pk, "pen": holds})


def _tell(classroom_id: int, event: dict[str, Any]) -> None:
    async_to_sync(get_channel_layer().group_send)(lecture_group(classroom_id), event)


def viewport(data: dict[str, Any]) -> dict[str, float] | None:
    """A presenter's viewport as sent, checked: the model point at the centre of the view
    and the zoom, finite numbers within bounds; None if not."""
    view = {k: data.get(k) for k in ("x", "y", "zoom")}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               for v in view.values()):
        return None
    if abs(view["x"]) > COORDINATE_MAX or abs(view["y"]) > COORDINATE_MAX or \
            not ZOOM_MIN <= view["zoom"] <= ZOOM_MAX:
        return None
    return {k: float(v) for k, v in view.items()}


# -- the socket --------------------------------------------------------------------------------
class LectureConsumer(CoeditConsumer):
    REFUSED = "this lecture has ended, or you are not a student of its classroom"
    lecture: Lecture | None = None
    seat = None
    view: dict[str, float] | None = None  # a presenter's last viewport, for newcomers

    async def admit(self) -> Scenario | None:
        found = await database_sync_to_async(self._find)()
        if found is None:
            self.role = None
            return None
        self.lecture, self.role, self.seat = found
        return self.lecture.scenario

    def _find(self):
        lecture = Lecture.objects.select_related("classroom", "scenario").filter(
            lecture_id=self.scope["url_route"]["kwargs"]["lecture_id"]).first()
        if lecture is None:
            return None
        role, seat = permissions.lecture_role(
            self.scope.get("user"), permissions.seat_keys(self.scope.get("cookies", {})),
            lecture)
        return lecture, role, seat

    async def connect(self) -> None:
        await super().connect()
        if self.room is None:
            return
        self.peer = self.peer | {"presenter": permissions.may_present(self.role),
                                 "following": not permissions.may_present(self.role)}
        self.lgroup = lecture_group(self.lecture.classroom_id)
        await self.channel_layer.group_add(self.lgroup, self.channel_name)
        await self.channel_layer.group_send(self.lgroup, {"type": "lecture.hello",
                                                          "reply_to": self.channel_name})
        await self._roll()

    async def disconnect(self, code: int) -> None:
        joined = self.room is not None and self.lecture is not None
        await super().disconnect(code)
        if joined:
            with contextlib.suppress(*LAYER_DOWN):
                await self.channel_layer.group_discard(self.lgroup, self.channel_name)
                await self._roll(present=False)

    async def _roll(self, present: bool = True) -> None:
        """Tell the classroom's dashboards who this is and whether they follow."""
        if self.seat is None:
            return
        await self.channel_layer.group_send(dashboard_group(self.lecture.classroom_id), {
            "type": "class.lecture", "peer": self.peer["id"], "student": self.seat.pk,
            "name": self.seat.display_name, "role": self.role,
            "following": self.peer["following"], "present": present})

    # -- from the browser ------------------------------------------------------------------
    async def on_viewport(self, data: dict[str, Any]) -> None:
        if not permissions.may_present(self.role):
            await self.error("forbidden", "only the presenter leads the view",
                             ref="viewport")
            return
        view = viewport(data)
        if view is None:
            await self.error("bad_message", f"viewport: x and y within ±{COORDINATE_MAX:g}, "
                             f"zoom from {ZOOM_MIN} to {ZOOM_MAX}", ref="viewport")
            return
        self.view = view
        await self.channel_layer.group_send(self.lgroup, {
            "type": "lecture.viewport", "sender": self.channel_name, "peer": self.peer["id"],
            "view": view})

    async def on_follow(self, data: dict[str, Any]) -> None:
        following = data.get("following")
        if not isinstance(following, bool):
            await self.error("bad_message", "following: true or false", ref="follow")
            return
        if following != self.peer["following"]:
            self.peer = self.peer | {"following": following}
            await self._publish("coedit.presence", {"peer": self.peer})
            await self._roll()

    # -- from the lecture's group ----------------------------------------------------------
    async def lecture_hello(self, event: dict[str, Any]) -> None:
        if event["reply_to"] != self.channel_name and self.view is not None:
            await self.channel_layer.send(event["reply_to"], {
                "type": "lecture.viewport", "sender": self.channel_name,
                "peer": self.peer["id"], "view": self.view})

    async def lecture_viewport(self, event: dict[str, Any]) -> None:
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "viewport", "peer": event["peer"], **event["view"]})

    async def lecture_pen(self, event: dict[str, Any]) -> None:
        if self.seat is None or event["student"] != self.seat.pk:
            return
        self.role = permissions.pen_role(event["pen"])
        self.peer = self.peer | {"role": self.role}
        await self.send_json({"type": "role", "role": self.role, "reason":
                              "the instructor handed you the pen" if event["pen"]
                              else "the instructor took the pen back"})
        await self._publish("coedit.presence", {"peer": self.peer})
        await self._roll()

    async def coedit_revoked(self, event: dict[str, Any]) -> None:
        """The design's edit link went: a lecture's editors hold the pen, not the link."""

    async def lecture_roll_call(self, event: dict[str, Any]) -> None:
        await self._roll()

    async def lecture_ended(self, event: dict[str, Any]) -> None:
        await self.error("not_found", "the lecture has ended", ref="lecture")
        self.closing = True
        await self.close(code=NOT_FOUND)


async def roll_call(classroom_id: int) -> None:
    """A dashboard connected: every student in the classroom's lecture says who they are."""
    await get_channel_layer().group_send(lecture_group(classroom_id),
                                         {"type": "lecture.roll_call"})
