"""The co-editing websocket (docs/protocol.md, "Co-editing"): /ws/coedit/s/<share id>/ for
the design's owner (anyone else holding the share id watches) and /ws/coedit/e/<edit
token>/ for the holders of its edit link. JSON messages; Yjs updates and state vectors in
base64. Who may do what is permissions.coedit_role's to say, once, as the socket joins; a
revoked edit link turns its sockets into viewers (groups.revoked)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import secrets
import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from ..accounts import permissions
from ..live import quotas
from ..live.consumers import TOO_MANY, LayerAwareSocket, TokenBucket, WithoutConnectionCheck
from ..live.protocol import POLICY_VIOLATION
from ..live.runners import error_payload
from ..live.runstore import LAYER_DOWN
from ..models import Scenario
from . import presence, rooms
from .groups import room_group
from .sharedrun import SharedRun

log = logging.getLogger(__name__)
NOT_FOUND = 4004  # no such design, or the edit link is not (or no longer) valid
COLOURS = ("#d9480f", "#1971c2", "#2f9e44", "#ae3ec9", "#e67700", "#0c8599", "#c2255c",
           "#5f3dc4")
NAME_CHARS = 40
MAX_SELECTION = 50


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class CoeditConsumer(SharedRun, WithoutConnectionCheck, LayerAwareSocket):
    # An edit reaches this process's editors of the room in one pass (no task, no queue each)
    TAKEN_AT_ONCE = ("coedit.update",)
    room: rooms.Room | None = None
    role: str | None = None
    counted = False  # in the socket quotas until it closes

    REFUSED = "no design has this link (an edit link may have been revoked)"

    async def admit(self) -> Scenario | None:
        """The design this socket joins, setting its role in the room (None: refused)."""
        kwargs = self.scope["url_route"]["kwargs"]
        token = kwargs.get("token")
        scenario = await _scenario(kwargs.get("share_id"), token)
        self.role = permissions.coedit_role(self.scope, scenario, token)
        return scenario

    async def connect(self) -> None:
        scenario = await self.admit()
        await self.accept()
        # Counted with the play sockets: the same quotas per person and address.
        self.requester = quotas.requester(self.scope)
        try:
            await quotas.take("sockets", self.requester, self.channel_name)
        except LAYER_DOWN:
            await self.unavailable()
            return
        except quotas.OverQuota as exc:
            await self.error("too_many_sockets", exc.message, ref="connect")
            self.closing = True
            await self.close(code=TOO_MANY)
            return
        self.counted = True
        if self.role is None:
            await self.error("not_found", self.REFUSED, ref="connect")
            self.closing = True
            await self.close(code=NOT_FOUND)
            return
        self.bucket = TokenBucket(settings.PLAYGROUND_WS_RATE, settings.PLAYGROUND_WS_BURST)
        # CPU seconds of update checks (settings.PLAYGROUND_COEDIT_CHECK_SHARE)
        self.checks = TokenBucket(settings.PLAYGROUND_COEDIT_CHECK_SHARE,
                                  settings.PLAYGROUND_COEDIT_CHECK_BURST_S)
        self.warned_at = 0.0
        self.group = room_group(scenario.share_id)
        user = self.scope.get("user")
        peer_id = secrets.token_hex(4)
        self.peer = {"id": peer_id,
                     "name": user.get_username() if user and user.is_authenticated
                     else presence.guest_name(peer_id), "colour": secrets.choice(COLOURS),
                     "role": self.role, "selection": [], "editing": None}
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
            self.room = await rooms.join(scenario.share_id, self._announce)
        except LAYER_DOWN:
            log.warning("co-editing room %s: Redis unavailable", scenario.share_id,
                        exc_info=True)
            await self.unavailable()
            return
        update, vector = self.room.state()
        await self.send_json({"type": "welcome", "role": self.role, "you": self.peer,
                              "state": _b64(update), "vector": _b64(vector),
                              "version": self.room.version})
        await self._publish("coedit.hello", {"peer": self.peer, "reply_to": self.channel_name})
        await self.welcome_shared_run()

    async def take_now(self, message: dict[str, Any]) -> bool:
        # Not before the socket has its room (joining: another process's update may not be
        # in the log it read); it then waits its turn in the queue, after the welcome.
        return self.room is not None and await super().take_now(message)

    async def _announce(self, event: dict[str, Any]) -> None:
        await self.channel_layer.group_send(self.group, event)

    async def _publish(self, kind: str, event: dict[str, Any]) -> None:
        await self.channel_layer.group_send(self.group, {"type": kind,
                                                         "sender": self.channel_name, **event})

    async def disconnect(self, code: int) -> None:
        if self.counted:
            with contextlib.suppress(*LAYER_DOWN):  # an entry of a lost Redis expires
                await quotas.release(self.requester, self.channel_name)
        if self.room is None:
            return
        room, self.room = self.room, None
        try:
            await self._publish("coedit.left", {"peer": self.peer["id"]})
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except LAYER_DOWN:
            pass
        await rooms.leave(room)

    # -- from the browser ------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if self.closing or self.room is None:
            return
        if not self.bucket.take():
            now = time.monotonic()
            if now - self.warned_at >= 1.0:  # a flooder need not read: one answer a second
                self.warned_at = now
                await self.error("rate_limited", f"at most {settings.PLAYGROUND_WS_RATE:g} "
                                 "messages a second; send your changes again (sync)")
            return
        try:
            data = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):
            data = None
        handler = getattr(self, f"on_{data.get('type')}", None) \
            if isinstance(data, dict) and isinstance(data.get("type"), str) else None
        if handler is None:
            await self.error("bad_message", "a JSON object whose type is update, sync, "
                             "presence, pointer, run, run_control or run_command")
            return
        try:
            await handler(data)
        except LAYER_DOWN:
            log.warning("co-editing: Redis unavailable", exc_info=True)
            await self.unavailable()

    async def on_update(self, data: dict[str, Any]) -> None:
        if not permissions.may_change_in_room(self.role):
            await self.error("read_only", "you may watch this design, not change it",
                             ref="update")
            return
        update = _unb64(data.get("update"))
        if update is None:
            await self.error("bad_update", "update: base64 of a Yjs update", ref="update")
            return
        if not self.checks.take(0.0):
            await self.error("rate_limited", "this design is large: your changes are checked "
                             "a few times a second, and these are sent again in a moment",
                             ref="update")
            return
        started = time.thread_time()
        try:
            checked = self.room.checked(update)
        except rooms.BadUpdate as exc:
            await self.error(exc.code, exc.message, ref="update")
            if exc.code == "too_large" and len(update) > \
                    settings.PLAYGROUND_COEDIT_MAX_UPDATE_BYTES:
                self.closing = True
                await self.close(code=POLICY_VIOLATION)
            return
        finally:  # the check's CPU (nothing else runs during it: it awaits nothing)
            self.checks.spend(time.thread_time() - started)
        await self.room.accept(update, checked)
        await self._publish("coedit.update", {"update": data["update"],
                                              "peer": self.peer["id"]})

    async def on_sync(self, data: dict[str, Any]) -> None:
        """What the server has that the sender's state vector lacks, and the server's own
        vector (the sender then sends what it has that the server lacks: offline edits)."""
        vector = _unb64(data.get("vector"))
        if vector is None:
            await self.error("bad_message", "vector: base64 of a Yjs state vector",
                             ref="sync")
            return
        try:
            update = self.room.doc.get_update(vector)
        except ValueError:
            await self.error("bad_message", "vector: not a Yjs state vector", ref="sync")
            return
        await self.send_json({"type": "sync", "update": _b64(update),
                              "vector": _b64(self.room.doc.get_state())})

    async def on_presence(self, data: dict[str, Any]) -> None:
        name, selection = data.get("name", self.peer["name"]), data.get("selection", [])
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_CHARS:
            await self.error("bad_message", f"name: 1 to {NAME_CHARS} characters",
                             ref="presence")
            return
        if not isinstance(selection, list) or len(selection) > MAX_SELECTION or \
                not all(isinstance(s, str) and len(s) <= 200 for s in selection):
            await self.error("bad_message", f"selection: at most {MAX_SELECTION} ids",
                             ref="presence")
            return
        try:
            editing = presence.editing(data.get("editing"))
        except presence.Invalid as exc:
            await self.error("bad_message", str(exc), ref="presence")
            return
        if not permissions.may_change_in_room(self.role):
            editing = None  # a viewer edits nothing
        self.peer = self.peer | {"name": name.strip(), "selection": selection,
                                 "editing": editing}
        await self._publish("coedit.presence", {"peer": self.peer})

    async def on_pointer(self, data: dict[str, Any]) -> None:
        try:
            at = presence.pointer(data)
        except presence.Invalid as exc:
            await self.error("bad_message", str(exc), ref="pointer")
            return
        await self._publish("coedit.pointer", {"pointer": {"peer": self.peer["id"], **(at or {})}})

    # -- from the room ---------------------------------------------------------------------
    async def coedit_update(self, event: dict[str, Any]) -> None:
        if self.room is None:
            return
        if event["sender"] != self.channel_name:
            update = _unb64(event["update"])
            if update is not None:
                self.room.apply_remote(update)
            await self.send_json({"type": "update", "update": event["update"],
                                  "peer": event["peer"]})
        else:
            await self.send_json({"type": "accepted"})

    async def coedit_hello(self, event: dict[str, Any]) -> None:
        if event["sender"] == self.channel_name:
            return
        await self.send_json({"type": "presence", "peer": event["peer"]})
        await self.channel_layer.send(event["reply_to"], {
            "type": "coedit.presence", "sender": self.channel_name, "peer": self.peer})

    async def coedit_presence(self, event: dict[str, Any]) -> None:
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "presence", "peer": event["peer"]})

    async def coedit_pointer(self, event: dict[str, Any]) -> None:
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "pointer", **event["pointer"]})

    async def coedit_left(self, event: dict[str, Any]) -> None:
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "left", "peer": event["peer"]})

    async def coedit_revoked(self, event: dict[str, Any]) -> None:
        if self.role != permissions.EDITOR:
            return
        self.role = permissions.VIEWER
        self.peer = self.peer | {"role": self.role, "editing": None}
        await self.send_json({"type": "role", "role": self.role,
                              "reason": "the edit link was revoked"})
        await self._publish("coedit.presence", {"peer": self.peer})
        await self.tell_shared_run()

    async def coedit_saved(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "saved", "version": event["version"],
                              "errors": event["errors"]})

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def error(self, code: str, message: str, ref: str | None = None) -> None:
        await self.send_json(error_payload(code, message, None, ref))


@database_sync_to_async
def _scenario(share_id: str | None, token: str | None) -> Scenario | None:
    rows = Scenario.objects.only("share_id", "owner_id", "workspace", "edit_token",
                                 "lesson_slug")
    if token is not None:
        return rows.filter(edit_token=token).first() if token else None
    return rows.filter(share_id=share_id).first()
