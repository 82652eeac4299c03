"""The workers' channel layer (playground/layers.py: FanOutRedisLayer) on a real Redis:
one PUBLISH per group message whatever the number of viewers, bounded queues, and a notice
to every consumer when Redis goes away, with delivery restored once it is back."""

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from playground.layers import FanOutRedisLayer

pytestmark = pytest.mark.redis


async def _receive(layer, channel, timeout=5.0):
    return await asyncio.wait_for(layer.receive(channel), timeout)


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


async def test_a_consumer_that_falls_behind_keeps_only_the_newest_messages(redis_url):
    layer = FanOutRedisLayer(hosts=[redis_url], capacity=3)
    channel = await layer.new_channel()
    try:
        for seq in range(1, 8):
            await layer.send(channel, {"type": "run.message", "seq": seq})
        await layer.send(channel, {"type": "run.message", "seq": "last"})
        queue = layer._get_layer().channels[channel]
        for _ in range(100):  # until the last one arrived; only three are kept
            if queue.full() and layer.deserialize(queue._queue[-1])["seq"] == "last":
                break
            await asyncio.sleep(0.05)
        assert [(await _receive(layer, channel))["seq"] for _ in range(3)] == [6, 7, "last"]
        # Delta frames give way before anything else: control messages and keyframes stay.
        kept = [{"type": "run.message", "kind": "snapshot", "seq": 10},
                {"type": "run.message", "kind": "frame", "full": True, "seq": 11}]
        for message in [*kept, *({"type": "run.message", "kind": "frame", "full": False,
                                  "seq": seq} for seq in (12, 13, 14))]:
            await layer.send(channel, message)
        for _ in range(100):
            if queue.full() and layer.deserialize(queue._queue[-1])["seq"] == 14:
                break
            await asyncio.sleep(0.05)
        assert [await _receive(layer, channel) for _ in range(3)] == [
            *kept, {"type": "run.message", "kind": "frame", "full": False, "seq": 14}]
    finally:
        await layer.flush()


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
