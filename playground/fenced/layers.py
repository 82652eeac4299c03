"""The channel layers (settings.CHANNEL_LAYERS).

Both hand a group's message to the consumers that take it at once
(`take_group_messages_directly`): this process's viewers of a run get its frame in one pass,
instead of one task per viewer that pulls its own copy (Channels' per-message dispatch was
about a sixth of a web process's time at 500 viewers, bench/load.py). A consumer with
messages still waiting for it gets the message queued as before, so its messages keep their
order.

`SweepingInMemoryChannelLayer`: a single Daphne (no REDIS_URL). Channels' in-memory layer
with its expiry sweep at most once a second: Channels sweeps every channel and every group
membership for expired messages on each receive, O(sockets) per message delivered. With 500
viewers at 15 frames a second that sweep took the whole CPU (bench/load.py: 1.6 frames a
second per viewer, 3 s behind). Messages expire after 60 s; sweeping a second late changes
nothing.

`CoreRedisLayer`: simulations in the web processes (REDIS_URL, no workers). channels_redis's
core layer, whose receive ends when it is cancelled. Python 3.11's asyncio.wait_for returns
its operation's result instead of raising when cancelled in the step that operation finished
(CPython #86296, fixed in 3.12), and redis-py writes every command through it: a receive
cancelled just as it wrote its blocking pop (a socket closing) went on popping, 5 s at a
time, until a message came for some consumer of the process. Redis-py's 5 s read timeout
used to end it (and every idle socket with it); with a longer one it could outlive its
socket indefinitely, and the event loop's shutdown waited for it. The pop now raises the
cancellation it swallowed; a message it took stays in channels_redis's backup queue and goes
back to the channel at the next receive.

`FanOutRedisLayer`: simulation workers (PLAYGROUND_RUNNER=workers). channels_redis's pub/sub
layer: a group_send is one Redis PUBLISH, and each web process that has viewers of the group
receives it once and hands it to them. channels_redis's core layer instead copies every
frame into Redis once per viewer and pulls each copy back with a round trip of its own: at
50 runs and 500 viewers, 7,500 round trips a second that no process kept up with
(bench/load.py: p95 3.1 s, viewers closed). Two additions:
- each channel's queue in this process is bounded (`capacity`): when a consumer falls that
  far behind, its oldest delta frame gives way (frames are latest-state anyway:
  playground/live/sendwindow.py), so the frames it hands over are at most about that many old;
- Redis going away is told to every channel of this process as a `layer.down` message,
  once per outage, as the core layer's receive raised: the play socket tells the browser to
  come back later (playground/live/consumers.py). Subscriptions are restored on reconnection.
- a PUBLISH (every group_send and send) goes on a connection of its own, written straight to
  its socket, and Redis is told not to answer (CLIENT REPLY OFF): the answer is the number
  of receivers, which nothing uses. A worker publishes every frame of every run (issue 20):
  redis-py's round trip cost ~110 us of CPU a message; its send alone ~90 us (a task per
  write for its socket timeout); this ~20 us (bench/publish_cost.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
import weakref

import redis
import redis.asyncio
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, create_pool

from .. import monitoring
from ..live.runstore import LAYER_DOWN

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 1.0
DOWN_RETRY_S = 0.5  # how often the receiver tries Redis again while it is away
CONTROL_FACTOR = 10
PUBLISH_BUFFER_BYTES = 1 << 20  # unsent to Redis past which a publish waits for it to read
PUBLISH_TIMEOUT_S = 5.0  # connecting, or Redis reading that backlog: else it counts as down


def _command(*parts: bytes) -> bytes:
    """A command in Redis's protocol (RESP): an array of bulk strings."""
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


async def _taken(takers: weakref.WeakValueDictionary, channel: str, waiting: bool,
                 message: dict) -> bool:
    """Whether the consumer of `channel` took `message` at once: never while messages wait
    in its queue. The message is shared by every taker: read it, do not change it."""
    taker = takers.get(channel)
    if taker is None or waiting:
        return False
    try:
        return await taker.take_now(message)
    except Exception:  # one viewer's failure is not the others'
        log.exception("channel layer: delivering to %s", channel)
        return True


class SweepingInMemoryChannelLayer(InMemoryChannelLayer):
    _swept_at = float("-inf")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.takers: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def take_group_messages_directly(self, channel: str, consumer) -> None:
        """Offer `consumer` each message to a group `channel` belongs to, as it arrives:
        `await consumer.take_now(message)` handles it and says True, or says False (it has
        earlier messages in hand) and the message is queued."""
        self.takers[channel] = consumer

    async def group_send(self, group: str, message: dict) -> None:
        # The base class's (a task and a deep copy per member), member after member: a
        # taker handles the message at once, the others get it queued.
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            queue = self.channels.get(channel)
            if not await _taken(self.takers, channel, bool(queue and queue.qsize()), message):
                with contextlib.suppress(ChannelFull):
                    await self.send(channel, message)

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_EVERY_S:
            self._swept_at = now
            super()._clean_expired()


class CoreRedisLayer(RedisChannelLayer):
    """channels_redis's core layer, whose receive ends when cancelled (module docstring)."""

    async def _brpop_with_clean(self, index, channel, timeout):
        # channels_redis's receive pops in a loop until a message comes: a cancellation
        # swallowed below would never end it.
        member = await super()._brpop_with_clean(index, channel, timeout)
        if asyncio.current_task().cancelling():
            raise asyncio.CancelledError
        return member


class FanOutRedisLayer(RedisPubSubChannelLayer):
    """Pub/sub fan-out with bounded queues and outage notices (module docstring)."""

    def _get_layer(self) -> RedisPubSubLoopLayer:
        # As the base class's, with our loop layer: one per event loop.
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return self._layers[loop]

    def take_group_messages_directly(self, channel: str, consumer) -> None:
        """As SweepingInMemoryChannelLayer's."""
        self._get_layer().takers[channel] = consumer


class _LatestQueue(asyncio.Queue):
    """A channel's messages in this process. Past `capacity` (the consumer is that far
    behind), the oldest delta frame gives way: its viewer gets the newest state instead
    (playground/live/sendwindow.py sees the gap). Other messages (a worker's joins and commands,
    snapshots, keyframes) are kept up to CONTROL_FACTOR x capacity, then the oldest goes."""

    def __init__(self, capacity: int, deserialize):
        super().__init__()
        self.capacity, self.deserialize = capacity, deserialize

    def put_nowait(self, item) -> None:
        if self.qsize() >= self.capacity and not self._drop_oldest_delta() and \
                self.qsize() >= CONTROL_FACTOR * self.capacity:
            self.get_nowait()
        super().put_nowait(item)

    def _drop_oldest_delta(self) -> bool:
        waiting = self._queue  # asyncio.Queue's deque, oldest first
        for i, data in enumerate(waiting):
            message = self.deserialize(data)
            if message.get("kind") == "frame" and not message.get("full"):
                del waiting[i]
                monitoring.FRAMES_SHED.labels(where="queue").inc()
                return True
        return False


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, capacity: int = 16, **kwargs):
        super().__init__(*args, **kwargs)
        self.capacity = capacity
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        self.takers: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = _LatestQueue(self.capacity, self.channel_layer.deserialize)
        await self._get_shard(channel).subscribe(channel)

    async def new_channel(self, prefix: str = "specific.") -> str:
        """A consumer's channel; with Redis away, it learns so from its first receive
        instead of failing to start (the browser is then told to come back later)."""
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        try:
            await self._subscribe_to_channel(channel)
        except LAYER_DOWN:
            self.tell_down([channel])
        return channel

    def tell_down(self, channels) -> None:
        down = self.channel_layer.serialize({"type": "layer.down"})
        for channel in channels:
            if channel in self.channels:
                self.channels[channel].put_nowait(down)


@contextlib.contextmanager
def _reconnecting():
    """Just after Redis is back, the receive loop below and a (un)subscribe may both
    reconnect redis-py's one pub/sub connection and read its handshake at once
    (RuntimeError: read() called while another coroutine is already waiting): for the
    consumer asking, Redis is still away for a moment, and its browser comes back."""
    try:
        yield
    except RuntimeError as exc:
        if "already waiting" not in str(exc):
            raise
        raise redis.exceptions.ConnectionError(str(exc)) from exc


def _tls(kwargs: dict) -> ssl.SSLContext:
    """The TLS a rediss:// address asks redis-py for: its CA file, or no check with
    ssl_cert_reqs=none."""
    context = ssl.create_default_context(cafile=kwargs.get("ssl_ca_certs"))
    if kwargs.get("ssl_cert_reqs") in ("none", ssl.CERT_NONE):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _Shard(RedisSingleShardConnection):
    _publisher: asyncio.StreamWriter | None = None
    _watcher: asyncio.Task | None = None  # reads the publisher's socket: EOF = lost

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._unsent: list[bytes] = []  # PUBLISHes of this turn of the event loop

    async def publish(self, channel: str, message: bytes) -> None:
        """PUBLISH without an answer (module docstring). One connection: what this process
        publishes reaches Redis in order (a run's frames, a snapshot sent between two of
        them). What is published during one turn of the event loop goes in one send, at the
        next turn: a worker's runs tick together (playground/live/runs.py), so their frames
        share it. Redis away raises here (the caller drops the message,
        playground/live/runs.py); a lost connection is found by its watcher or by the next
        write, and the publish after that connects again."""
        writer = self._publisher
        if writer is None:
            async with self._lock:
                writer = self._publisher or await self._connect_publisher()
        if writer.transport.is_closing():
            self._forget(writer)
            raise ConnectionError("channel layer: the publishing connection was lost")
        name = channel.encode()
        if not self._unsent:
            asyncio.get_running_loop().call_soon(self._send)
        self._unsent += (b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n" % (
            len(name), name, len(message)), message, b"\r\n")
        if writer.transport.get_write_buffer_size() > PUBLISH_BUFFER_BYTES:
            try:  # Redis reads slower than we publish: wait, but not forever
                await asyncio.wait_for(writer.drain(), PUBLISH_TIMEOUT_S)
            except Exception:
                self._forget(writer)
                raise

    def _send(self) -> None:
        unsent, self._unsent, writer = self._unsent, [], self._publisher
        if writer is not None and not writer.transport.is_closing():  # else lost with it
            writer.writelines(unsent)

    async def _connect_publisher(self) -> asyncio.StreamWriter:
        """A connection of our own to the shard's Redis (redis-py's settings: address,
        TLS, credentials), told not to answer."""
        pool = create_pool(self.host)
        kwargs = pool.connection_kwargs
        timeout = kwargs.get("socket_connect_timeout") or PUBLISH_TIMEOUT_S
        if "path" in kwargs:
            opening = asyncio.open_unix_connection(kwargs["path"])
        else:
            tls = issubclass(pool.connection_class, redis.asyncio.SSLConnection)
            opening = asyncio.open_connection(kwargs["host"], kwargs["port"],
                                              ssl=_tls(kwargs) if tls else None)
        reader, writer = await asyncio.wait_for(opening, timeout)
        try:
            if kwargs.get("password") is not None:
                credentials = [kwargs.get("username"), kwargs["password"]]
                writer.write(_command(b"AUTH", *[c for c in credentials if c is not None]))
                answer = await asyncio.wait_for(reader.readline(), timeout)
                if not answer.startswith(b"+"):
                    raise redis.exceptions.AuthenticationError(answer.decode().strip())
            writer.write(_command(b"CLIENT", b"REPLY", b"OFF"))  # no answer, by definition
        except BaseException:
            writer.close()
            raise
        self._publisher = writer
        self._watcher = asyncio.create_task(self._watch(reader, writer))
        return writer

    async def _watch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while await reader.read(4096):  # nothing comes but the end (or an error line)
                pass
        self._forget(writer)

    def _forget(self, writer: asyncio.StreamWriter) -> None:
        """Publish on a new connection from now on."""
        if self._publisher is writer:
            self._publisher = None
            if self._watcher is not None and self._watcher is not asyncio.current_task():
                self._watcher.cancel()
            self._watcher = None
        writer.close()

    async def flush(self) -> None:
        self._send()  # what this turn published still goes
        writer, watcher = self._publisher, self._watcher
        self._publisher = self._watcher = None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if writer is not None:
            writer.close()
        await super().flush()

    async def subscribe(self, channel: str) -> None:
        with _reconnecting():
            await super().subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        with _reconnecting():
            await super().unsubscribe(channel)

    async def _do_receiving(self) -> None:
        # The base class's loop, which logs a traceback a second while Redis is away;
        # here: one warning and one notice to this process's channels per outage.
        down = False
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1)
                    if down:
                        log.warning("channel layer: Redis is back")
                        down = False
                    await self._deliver(message)
                else:
                    await asyncio.sleep(0.1)
            except LAYER_DOWN as exc:
                if not down:
                    log.warning("channel layer: Redis unavailable (%s)", exc)
                    self.channel_layer.tell_down(list(self.channel_layer.channels))
                    down = True
                await asyncio.sleep(DOWN_RETRY_S)
            except Exception:  # as the base class: never let delivery stop
                log.exception("channel layer: unexpected error receiving")
                await asyncio.sleep(1.0)

    async def _deliver(self, message) -> None:
        """As the base class's _receive_message, with a group's message deserialized once
        and handed at once to the members that take it."""
        layer, members = self.channel_layer, None
        if message is not None and layer.takers:
            name = message["channel"]
            members = layer.groups.get(name.decode() if isinstance(name, bytes) else name)
        if not members:
            self._receive_message(message)
            return
        data = message["data"]
        event = layer.channel_layer.deserialize(data)
        for channel in list(members):
            queue = layer.channels.get(channel)
            if queue is not None and not await _taken(layer.takers, channel, bool(queue.qsize()),
                                                      event):
                queue.put_nowait(data)
