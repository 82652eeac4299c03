"""The channel layers (playground/fenced/layers.py). The workers' (FanOutRedisLayer) on a real
Redis: one PUBLISH per group message whatever the number of viewers, bounded queues, and a
notice to every consumer when Redis goes away, with delivery restored once it is back. Both
it and the single process's in-memory layer hand a group message at once to the viewers
that take it, without reordering anyone's messages."""

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from playground.fenced.layers import FanOutRedisLayer, SweepingInMemoryChannelLayer
from playground.live.consumers import PlayConsumer
from playground.live.runstore import LAYER_DOWN
from tests.web.test_smoke import configured_layer


async def _receive(layer, channel, timeout=5.0):
    return await asyncio.wait_for(layer.receive(channel), timeout)


@pytest.mark.redis
async def test_a_group_message_reaches_every_viewer_once_per_process(redis_url):
    # Two layers stand for two web processes, each with viewers of one run.
    first, second = FanOutRedisLayer(hosts=[redis_url]), FanOutRedisLayer(hosts=[redis_url])
    group = f"run.{uuid.uuid4().hex}"
    viewers = {first: [await first.new_channel() for _ in range(3)],
               second: [await second.new_channel() for _ in range(2)]}
    for layer, channels in viewers.items():
        for channel in channels:
            await layer.group_add(group, channel)
    client = aioredis.Redis.from_url(redis_url)
    try:
        # Redis holds one subscriber per process, not one per viewer.
        [(_, subscribers)] = await client.pubsub_numsub(f"asgi__group__{group}")
        assert subscribers == 2
        await first.group_send(group, {"type": "run.message", "seq": 1})
        for layer, channels in viewers.items():
            for channel in channels:
                assert await _receive(layer, channel) == {"type": "run.message", "seq": 1}
        for layer, channels in viewers.items():  # nothing more: each got it once
            for channel in channels:
                with pytest.raises(TimeoutError):
                    await _receive(layer, channel, timeout=0.3)
    finally:
        await client.aclose()
        await first.flush()
        await second.flush()


class Taker:
    """A consumer taking a group's messages as they arrive, while `free`."""

    def __init__(self):
        self.taken, self.free = [], True

    async def take_now(self, message):
        if self.free:
            self.taken.append(message)
        return self.free


async def _until(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "it did not happen"
        await asyncio.sleep(0.02)


@pytest.fixture(params=["in-memory", pytest.param("redis", marks=pytest.mark.redis)])
async def any_layer(request):
    if request.param == "redis":
        layer = FanOutRedisLayer(hosts=[request.getfixturevalue("redis_url")])
    else:
        layer = SweepingInMemoryChannelLayer()
    yield layer
    await layer.flush()


def _waiting(layer, channel) -> int:
    """Messages in the channel's queue in this process (the in-memory layer drops an empty
    queue)."""
    queues = layer._get_layer().channels if isinstance(layer, FanOutRedisLayer) \
        else layer.channels
    return queues[channel].qsize() if channel in queues else 0


async def test_a_group_message_is_taken_at_once_unless_earlier_ones_wait(any_layer):
    layer = any_layer
    group = f"run.{uuid.uuid4().hex}"
    taking, busy, plain = [await layer.new_channel() for _ in range(3)]
    takers = {taking: Taker(), busy: Taker()}
    takers[busy].free = False
    for channel, taker in takers.items():
        layer.take_group_messages_directly(channel, taker)
    for channel in (taking, busy, plain):
        await layer.group_add(group, channel)
    await layer.group_send(group, {"type": "run.message", "seq": 1})
    await _until(lambda: takers[taking].taken and _waiting(layer, busy)
                 and _waiting(layer, plain))
    assert takers[taking].taken == [{"type": "run.message", "seq": 1}]
    assert not _waiting(layer, taking)  # taken, not queued as well
    for channel in (busy, plain):  # a taker that says no, or none: queued
        assert await _receive(layer, channel) == {"type": "run.message", "seq": 1}
    # A message waiting in its queue (sent to the channel itself) keeps its place: the
    # group message after it is queued behind it, not taken ahead of it.
    await layer.send(taking, {"type": "run.message", "seq": 2})
    await _until(lambda: _waiting(layer, taking))
    await layer.group_send(group, {"type": "run.message", "seq": 3})
    await _until(lambda: _waiting(layer, taking) == 2)
    assert [await _receive(layer, taking) for _ in range(2)] == [
        {"type": "run.message", "seq": 2}, {"type": "run.message", "seq": 3}]
    assert len(takers[taking].taken) == 1


class Recording(PlayConsumer):
    async def run_message(self, event):
        self.handled.append(event["seq"])


async def test_a_socket_takes_no_message_ahead_of_one_it_holds_from_the_layer():
    socket = Recording()
    socket.handled, socket.channel_layer = [], None

    async def from_layer():
        return {"type": "run.message", "seq": 1}

    socket.channel_receive = from_layer  # as Channels sets it
    held = await socket.channel_receive()  # received, not yet dispatched
    assert not await socket.take_now({"type": "run.message", "seq": 2})
    await socket.dispatch(held)
    assert await socket.take_now({"type": "run.message", "seq": 2})
    assert not await socket.take_now({"type": "run.roll_call", "run_id": "r"})  # may wait
    assert socket.handled == [1, 2]


async def _sent(layer, channel, messages):
    """Send `messages` to `channel` and wait until the last has arrived in its queue."""
    for message in messages:
        await layer.send(channel, message)
    queue = layer._get_layer().channels[channel]
    for _ in range(100):
        if queue.qsize() and layer.deserialize(queue._queue[-1]) == messages[-1]:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the messages did not arrive")


def _delta(seq):
    return {"type": "run.message", "kind": "frame", "full": False, "seq": seq}


@pytest.mark.redis
async def test_a_consumer_that_falls_behind_sheds_its_oldest_delta_frames(redis_url):
    layer = FanOutRedisLayer(hosts=[redis_url], capacity=3)
    channel = await layer.new_channel()
    try:
        # Deltas give way first; a snapshot and a keyframe stay.
        kept = [{"type": "run.message", "kind": "snapshot", "seq": 10},
                {"type": "run.message", "kind": "frame", "full": True, "seq": 11}]
        await _sent(layer, channel, [*kept, _delta(12), _delta(13), _delta(14)])
        assert [await _receive(layer, channel) for _ in range(3)] == [*kept, _delta(14)]
        # Other messages (a worker's joins, say) are kept up to 10 x capacity.
        joins = [{"type": "run.join", "n": n} for n in range(35)]
        await _sent(layer, channel, joins)
        assert [await _receive(layer, channel) for _ in range(30)] == joins[5:]
    finally:
        await layer.flush()


@pytest.mark.redis
async def test_redis_going_away_is_told_and_delivery_resumes_when_it_is_back(private_redis):
    layer = FanOutRedisLayer(hosts=[private_redis.url])
    group = f"run.{uuid.uuid4().hex}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        private_redis.kill()
        assert await _receive(layer, channel) == {"type": "layer.down"}
        # A consumer starting meanwhile is told at once instead of failing to start.
        late = await layer.new_channel()
        assert await _receive(layer, late) == {"type": "layer.down"}
        private_redis.start()
        for _ in range(50):  # the subscriptions come back with the connection
            try:
                await layer.group_send(group, {"type": "run.message", "seq": 9})
                assert await _receive(layer, channel, timeout=0.5) == {
                    "type": "run.message", "seq": 9}
                break
            except (OSError, TimeoutError, ConnectionError):
                await asyncio.sleep(0.2)
        else:
            pytest.fail("no delivery after Redis came back")
    finally:
        await layer.flush()


@pytest.mark.redis
async def test_what_a_process_publishes_arrives_in_order_also_after_a_lost_connection(
        redis_url):
    # PUBLISH goes without waiting for Redis's answer (playground/fenced/layers.py): a worker's
    # frames to a group and a snapshot sent to one viewer between them keep their order.
    web, worker = FanOutRedisLayer(hosts=[redis_url]), FanOutRedisLayer(hosts=[redis_url])
    group = f"run.{uuid.uuid4().hex}"
    channel = await web.new_channel()
    await web.group_add(group, channel)
    client = aioredis.Redis.from_url(redis_url)
    try:
        for seq in range(60):
            message = {"type": "run.message", "seq": seq}
            await (worker.send(channel, message) if seq % 10 == 5
                   else worker.group_send(group, message))
        assert [(await _receive(web, channel))["seq"] for _ in range(60)] == list(range(60))
        # Redis drops the publishing connection: publishing connects again.
        shard = worker._get_layer()._shards[0]
        host, port = shard._publisher.get_extra_info("sockname")[:2]
        await client.client_kill(f"{host}:{port}")
        for seq in range(100, 150):
            try:
                await worker.group_send(group, {"type": "run.message", "seq": seq})
                if (await _receive(web, channel, timeout=0.5))["seq"] == seq:
                    break
            except (*LAYER_DOWN, TimeoutError):  # as Run.publish: that message is lost
                await asyncio.sleep(0.1)
        else:
            pytest.fail("nothing published arrived after the connection was lost")
        assert shard._publisher.get_extra_info("sockname")[1] != port
    finally:
        await client.aclose()
        await web.flush()
        await worker.flush()


@pytest.mark.redis
async def test_what_one_turn_of_the_loop_publishes_goes_in_one_send(redis_url):
    # A worker's runs tick together (playground/live/runs.py): their frames share a send,
    # in order, and the send goes at the next turn without being asked for.
    web, worker = FanOutRedisLayer(hosts=[redis_url]), FanOutRedisLayer(hosts=[redis_url])
    group = f"run.{uuid.uuid4().hex}"
    channel = await web.new_channel()
    await web.group_add(group, channel)
    try:
        await worker.group_send(group, {"type": "run.message", "seq": -1})  # connected
        assert (await _receive(web, channel))["seq"] == -1
        writer = worker._get_layer()._shards[0]._publisher
        sends = []
        write = writer.writelines
        writer.writelines = lambda data: sends.append(len(data)) or write(data)
        for seq in range(10):
            await worker.group_send(group, {"type": "run.message", "seq": seq})
        assert sends == []  # not yet: at the next turn
        assert [(await _receive(web, channel))["seq"] for _ in range(10)] == list(range(10))
        assert sends == [30]  # 10 PUBLISHes of 3 parts, one send
    finally:
        await web.flush()
        await worker.flush()


@pytest.mark.redis
async def test_a_receive_cancelled_as_its_blocking_pop_is_written_still_ends(redis_url,
                                                                              monkeypatch):
    """Python 3.11's asyncio.wait_for returns its operation's result instead of raising when
    it is cancelled in the step that operation finished (CPython #86296, fixed in 3.12), and
    redis-py writes every command through it. A consumer's layer receive cancelled just as its
    blocking pop (BZPOPMIN) was written went on popping, 5 s at a time, until a message came
    for some socket of the process: a closed socket's consumer lingered, and CI hung at an
    event loop's teardown. Here the cancel comes at that moment."""
    from redis.asyncio.connection import Connection

    layer = configured_layer(redis_url)
    layer.brpop_timeout = 1  # the server's wait per pop, 5 s in production: a quicker test
    channel = await layer.new_channel()
    write = Connection._send_packed_command
    receiving: list[asyncio.Task] = []

    async def write_then_cancel(connection, command, *args, **kwargs):
        await write(connection, command, *args, **kwargs)
        if b"BZPOPMIN" in b"".join(command) and receiving:
            asyncio.get_running_loop().call_soon(receiving.pop().cancel)

    monkeypatch.setattr(Connection, "_send_packed_command", write_then_cancel)
    receiving.append(task := asyncio.ensure_future(layer.receive(channel)))
    try:
        await asyncio.wait({task}, timeout=3 * layer.brpop_timeout)
        assert not receiving and task.cancelled(), "the cancelled receive is still popping"
        # and the channel's next receive gets its messages (the receive locks were freed)
        await layer.send(channel, {"type": "run.message", "seq": 1})
        assert await _receive(layer, channel) == {"type": "run.message", "seq": 1}
    finally:
        task.cancel()
        await asyncio.wait({task})
        await layer.close_pools()
