"""The play websocket (docs/protocol.md). Thin: it checks limits and messages, and hands
runs to the runner (playground/live/runners.py: in this process, or relayed to simworkers)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from simulations.scenario import ScenarioError

from .. import monitoring
from ..accounts import permissions
from ..fenced import frames
from ..fenced.consumer import LayerReceive, handler_name
from ..models import RunLink
from ..outages import RETRY_AFTER_S, TRY_AGAIN_LATER
from ..unavailable import DATABASE_DOWN
from . import protocol, quotas
from .runners import RunFailure, RunLimit, error_payload, get_runner
from .runstore import LAYER_DOWN
from .sendwindow import FrameWindow

TOO_MANY = 4029  # over a socket quota (429 in the app range); the browser retries with backoff
UNAVAILABLE = "the live-run service is unavailable for a moment; reconnecting"
DATABASE_UNAVAILABLE = f"the database is unavailable for a moment; try again in {RETRY_AFTER_S} s"
ACK_COST = 0.25  # of a message, in the rate limit: a browser acks up to ~4 times a second
# A start, told without parsing it: an unescaped "type": "start" pair (in a label, quotes
# are escaped). Only used to refuse a start unread while its sender is over the runs quota.
START = re.compile(r'(?<!\\)"type"\s*:\s*"start"')
ACK_MAX_BYTES = 120  # an ack is short; only a message this short can be charged as one


class TokenBucket:
    """`rate` messages a second on average, `burst` at once."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()

    def take(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def spend(self, cost: float) -> None:
        """Take a cost known only once paid: the bucket may go below zero, and take()
        refuses until it has filled up again."""
        self.take(0.0)
        self.tokens -= cost


class LayerAwareSocket(LayerReceive, AsyncWebsocketConsumer):
    """A socket that, when Redis goes away, tells the browser (a notice, then close 4013: it
    reconnects with backoff) instead of crashing with 1011. The layer says so by raising
    from receive (channels_redis's core layer) or with a `layer.down` message
    (playground/fenced/layers.py).

    The layer's messages of the types in TAKEN_AT_ONCE are handled as they arrive when the
    layer offers them (playground/fenced/layers.py: take_group_messages_directly) and no earlier
    message from the layer is still waiting for this socket, so they keep their order. Their
    handlers run in the layer's delivery, one socket after another: they must await nothing
    but this socket's send (which Daphne does without yielding)."""

    closing = False  # we closed it: what Daphne still had queued is ignored
    accepted = False
    TAKEN_AT_ONCE: tuple[str, ...] = ()
    _from_layer: dict[str, Any] | None = None  # received from the layer, not yet handled

    def layer_receive_set(self, receive) -> None:
        self._layer_receive = receive
        self._layer_down = False
        take = getattr(self.channel_layer, "take_group_messages_directly", None)
        if take is not None and self.TAKEN_AT_ONCE:
            take(self.channel_name, self)

    async def receive_from_layer(self) -> dict[str, Any]:
        if self._layer_down:
            await asyncio.Event().wait()  # closing: the disconnect that follows ends us
        try:
            message = await self._layer_receive()
        except LAYER_DOWN:
            message = {"type": "layer.down"}
        self._layer_down = message["type"] == "layer.down"
        self._from_layer = message
        return message

    async def take_now(self, message: dict[str, Any]) -> bool:
        """Handle a message the layer offers as it arrives; False: queue it instead."""
        if message["type"] not in self.TAKEN_AT_ONCE or self._from_layer is not None \
                or self._layer_down or self.closing:
            return False
        await getattr(self, handler_name(message))(message)
        return True

    async def dispatch(self, message: dict[str, Any]) -> None:
        try:
            await self.handle(message)
        finally:
            if message is self._from_layer:
                self._from_layer = None

    async def handle(self, message: dict[str, Any]) -> None:
        await super().dispatch(message)

    async def accept(self, subprotocol=None, headers=None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True
        if self._layer_down:  # Redis went away before this socket was accepted
            await self.unavailable()

    async def layer_down(self, event: dict[str, Any]) -> None:
        if self.accepted:  # else accept() tells, if it comes
            await self.unavailable()

    async def unavailable(self) -> None:
        """The browser reconnects with backoff (and the player joins its run again)."""
        if self.closing:
            return
        self.closing = True
        await self.send(text_data=json.dumps({"type": "notice", "message": UNAVAILABLE}))
        await self.close(code=TRY_AGAIN_LATER)


class WithoutConnectionCheck:
    """Channels closes stale database connections before every message, in its sync thread:
    a thread hop per message, most of a CPU at 500 viewers of runs (bench/load.py), and on a
    busy event loop each hop waits for the GIL (co-editing: one per editor of the room for
    every edit, bench/coedit.py). For consumers that reach the database only through
    database_sync_to_async, which does the same check in its own thread."""

    async def handle(self, message: dict[str, Any]) -> None:
        handler = getattr(self, handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)


class PlayConsumer(WithoutConnectionCheck, LayerAwareSocket):
    TAKEN_AT_ONCE = ("run.message",)  # a run's frames, one pass over a process's viewers
    counted = False  # in the socket quotas (playground/live/quotas.py), until it closes
    writer = None  # the socket's writer when Daphne serves it (playground/fenced/frames.py)

    async def connect(self) -> None:
        self.writer = frames.writer(self.scope)
        self.bucket = TokenBucket(settings.PLAYGROUND_WS_RATE, settings.PLAYGROUND_WS_BURST)
        self.flooding_since: float | None = None
        self.last_refused = self.warned_at = 0.0
        self.windows: dict[str, FrameWindow] = {}  # run id -> frames in flight to this viewer
        self.watching: set[str] = set()
        self.tokens: dict[str, str] = {}  # run id -> owner token, for runs this socket steers
        self.runner = get_runner()
        self.requester = quotas.requester(self.scope)
        try:
            await quotas.take("sockets", self.requester, self.channel_name)
        except LAYER_DOWN:
            await self.accept()
            await self.unavailable()
            return
        except quotas.OverQuota as exc:
            monitoring.QUOTA_REFUSALS.labels(limit=f"sockets_{exc.limit}").inc()
            await self.accept()  # to say why; the browser reconnects with backoff
            await self.error("too_many_sockets", exc.message, ref="connect",
                             limit=exc.limit)
            self.closing = True
            await self.close(code=TOO_MANY)
            return
        self.counted = True
        monitoring.SOCKETS.inc()
        await self.accept()
        if self.writer is not None:
            self.writer.take = self.take_ack

    async def disconnect(self, code: int) -> None:
        if self.counted:
            monitoring.SOCKETS.dec()
            with contextlib.suppress(*LAYER_DOWN):  # an entry of a lost Redis expires
                await quotas.release(self.requester, self.channel_name)
        try:
            for run_id in list(self.watching):
                await self._leave(run_id)
        except LAYER_DOWN:
            pass  # a worker forgets viewers that stop answering its roll calls

    # -- incoming -------------------------------------------------------------------------
    async def websocket_receive(self, message: dict[str, Any]) -> None:
        try:
            await super().websocket_receive(message)
        finally:
            if self.writer is not None:  # one more of the messages Daphne queued is done
                self.writer.handled += 1

    def take_ack(self, payload: bytes) -> bool:
        """An ack, handled as Daphne reads it when nothing from this socket is waiting or in
        hand (playground/fenced/frames.py): what receive() would do with it, without a
        task and a dispatch per message. False: anything else, or an ack receive() would
        refuse or answer otherwise; it is queued for receive()."""
        if self.closing or len(payload) > ACK_MAX_BYTES or b'"ack"' not in payload \
                or not self.writer.plainly_open():
            return False
        try:
            ack = protocol.plain_ack(json.loads(payload))
        except (ValueError, RecursionError):
            return False
        if ack is None or not self.bucket.take(ACK_COST):
            return False
        window = self.windows.get(ack[0])
        if window is not None and (text := window.ack(ack[1])) is not None \
                and not self.writer.send_text(text):
            asyncio.ensure_future(self.send(text_data=text))  # too big: Autobahn says so
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if self.closing:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.PLAYGROUND_WS_MAX_MESSAGE_BYTES:
            await self.error("too_large", f"messages are limited to "
                             f"{settings.PLAYGROUND_WS_MAX_MESSAGE_BYTES} bytes")
            await self._close_for_policy()
            return
        ack = text_data is not None and size <= ACK_MAX_BYTES and '"ack"' in text_data
        if not await self._within_rate(ACK_COST if ack else 1.0):
            return
        if text_data is None:
            await self.error("bad_message", "messages are JSON text, not binary")
            return
        if (refused := quotas.refused_start(self.requester)) is not None \
                and START.search(text_data):
            await self._refuse_runs(refused, "start")
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
        try:
            await getattr(self, f"on_{message.type}")(message)
        except RunFailure as exc:
            await self.error(exc.code, exc.message, exc.errors, message.type)
        except LAYER_DOWN:
            await self.unavailable()
        except DATABASE_DOWN:  # the socket stays: only what needs the database failed
            await self.error("unavailable", DATABASE_UNAVAILABLE, ref=message.type)

    async def _refuse_runs(self, exc: quotas.OverQuota, ref: str) -> None:
        monitoring.QUOTA_REFUSALS.labels(limit=f"runs_{exc.limit}").inc()
        await self.error("too_many_runs", exc.message, ref=ref, limit=exc.limit,
                         retry_after_s=exc.retry_after_s)

    async def _within_rate(self, cost: float) -> bool:
        """Over the rate, a message is refused (with an error at most once a second: a
        flooder need not read, and answers would pile up in Daphne's send buffer);
        refusals that keep coming (at least one a second) for PLAYGROUND_WS_FLOOD_CLOSE_S
        close the socket."""
        if self.bucket.take(cost):
            return True
        monitoring.QUOTA_REFUSALS.labels(limit="ws_rate").inc()
        now = time.monotonic()
        if self.flooding_since is None or now - self.last_refused > 1.0:
            self.flooding_since = now
        self.last_refused = now
        if now - self.flooding_since > settings.PLAYGROUND_WS_FLOOD_CLOSE_S:
            await self.error("rate_limited", "too many messages; closing")
            await self._close_for_policy()
        elif now - self.warned_at >= 1.0:
            self.warned_at = now
            await self.error("rate_limited", f"at most {settings.PLAYGROUND_WS_RATE:g} "
                             "messages a second")
        return False

    async def _close_for_policy(self) -> None:
        self.closing = True
        await self.close(code=protocol.POLICY_VIOLATION)

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
        link = await _run_link(message.run_link)
        if link is None:
            await self.error("unknown_run_link", "no shared run has this link (it may have "
                             "been deleted)", ref="replay")
            return
        await self._start("replay", link["document"], link["seed"], message.speed,
                          message.paused, replay={
                              "run_link": message.run_link, "title": link["title"],
                              "commands": link["commands"], "until_s": link["until_s"]})

    async def _start(self, ref: str, document: Any, seed: int | None, speed: float,
                     paused: bool, replay: dict[str, Any] | None = None,
                     seat: tuple[int, int] | None = None) -> None:
        mine = [rid for rid in self.tokens if await self.runner.alive(rid)]
        if len(mine) >= settings.PLAYGROUND_RUNS_PER_CONNECTION:
            monitoring.QUOTA_REFUSALS.labels(limit="runs_per_connection").inc()
            await self.error("too_many_runs", f"one tab may run at most "
                             f"{settings.PLAYGROUND_RUNS_PER_CONNECTION} designs at once; "
                             "stop one first", ref=ref, limit="connection")
            return
        try:
            pending = await quotas.take("runs", self.requester)
        except quotas.OverQuota as exc:
            await self._refuse_runs(exc, ref)
            return
        run_id = None
        try:
            run_id, token = await self.runner.start(document, seed, speed, paused, replay,
                                                    seat)
        except ScenarioError as exc:
            what = "the scenario" if replay is None else "the shared run"
            await self.error("invalid_scenario", f"{what} is not valid", exc.errors, ref)
            return
        except RunLimit:
            monitoring.QUOTA_REFUSALS.labels(limit="max_runs").inc()
            await self.error("server_busy", "the server is running as many designs as it "
                             "can; try again in a minute", ref=ref)
            return
        finally:
            await quotas.settle(self.requester, pending, run_id)
        self.tokens[run_id] = token
        await self.runner.join(self, run_id, token)

    async def on_join(self, message: protocol.Join) -> None:
        if not await self.runner.join(self, message.run_id, message.token):
            await self.error("unknown_run", "no such run (it may have ended)", ref="join")

    def watched(self, run_id: str) -> None:
        """The runner added this socket to the run's group (before its snapshot)."""
        self.watching.add(run_id)
        self.windows[run_id] = FrameWindow(settings.PLAYGROUND_WS_FRAMES_IN_FLIGHT)

    async def on_leave(self, message: protocol.Leave) -> None:
        await self._leave(message.run_id)

    async def _leave(self, run_id: str) -> None:
        self.watching.discard(run_id)
        self.windows.pop(run_id, None)
        await self.runner.leave(self, run_id)

    async def on_ack(self, message: protocol.Ack) -> None:
        window = self.windows.get(message.run_id)
        if window is not None and (text := window.ack(message.seq)) is not None:
            await self.send_text(text)

    async def on_control(self, message: protocol.Control) -> None:
        """Steering errors (unknown_run, forbidden, not_a_replay) arrive as RunFailure, or
        from the worker driving the run."""
        if message.action == "seek" and message.t is None:
            await self.error("bad_message", "the message is not valid",
                             ["t: seek needs the time to go to, in seconds"], "control")
            return
        await self.runner.control(self, message.run_id, message.action, message.speed,
                                  message.seconds, message.t)

    async def on_command(self, message: protocol.Command) -> None:
        try:
            await self.runner.command(self, message.run_id, message.command)
        except ScenarioError as exc:
            await self.error("invalid_command", "the command is not valid", exc.errors,
                             "command")

    # -- outgoing -------------------------------------------------------------------------
    async def run_message(self, event: dict[str, Any]) -> None:
        """A message the run driver published to the group, already JSON; a frame only if
        this viewer keeps up (playground/live/sendwindow.py). A worker's snapshot learns here
        whether this socket owns the run: only the web process knows the token."""
        if event.get("needs_owner"):
            snapshot = json.loads(event["text"])
            token = self.tokens.get(snapshot["run_id"])
            snapshot["owner"] = token is not None
            if token is not None:
                snapshot["token"] = token
            event = dict(event, text=json.dumps(snapshot))
        window = self.windows.get(event.get("run_id", ""))
        text = event["text"] if window is None else window.offer(event)
        if text is not None:
            await self.send_text(text)

    async def send_text(self, text: str) -> None:
        """A run's message: straight to the socket when Daphne serves it, framed once for
        all viewers (playground/fenced/frames.py), else through Channels."""
        if self.writer is None or not self.writer.send_text(text):
            await self.send(text_data=text)

    async def run_roll_call(self, event: dict[str, Any]) -> None:
        """A worker asks who watches its run (playground/live/simworker.py)."""
        with contextlib.suppress(*LAYER_DOWN):  # the next roll call comes in a few seconds
            await self.runner.answer_roll_call(self, event["run_id"])

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def error(self, code: str, message: str, errors: list[str] | None = None,
                    ref: str | None = None, **extra: Any) -> None:
        await self.send_json(error_payload(code, message, errors, ref) | extra)


@database_sync_to_async
def _run_link(share_id: str) -> dict[str, Any] | None:
    return RunLink.objects.filter(share_id=share_id).values(
        "title", "document", "seed", "commands", "until_s").first()



@database_sync_to_async
def _seat(scope: dict[str, Any], assignment_id: str) -> tuple[int, int] | None:
    """(classroom, student) of this socket's seat in the assignment's classroom, or None."""
    from ..classrooms.models import Assignment

    assignment = Assignment.objects.select_related("classroom").filter(
        share_id=assignment_id).first()
    if assignment is None:
        return None
    seat = permissions.find_seat(scope.get("user"), permissions.seat_keys(
        scope.get("cookies", {})), assignment.classroom)
    return None if seat is None else (assignment.classroom_id, seat.pk)
