"""The cost of a run's frames in a web process, in process and deterministic: the messages a
worker publishes for N frames of bench/load.py's design, as Redis hands them to the pub/sub
layer (playground/fenced/layers.py: `_deliver`), to V viewers' consumers, their send windows
and socket writers (playground/fenced/frames.py), written to real sockets (Twisted TCP
transports on socket pairs, read on the other side); each viewer acks every fourth frame
(`take_ack`, as Daphne hands an ack over; Autobahn's frame parsing is not included). For
instructions, count them with callgrind at two frame counts (bench/README.md, issue 20):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python bench/web_frame_cost.py 300 --viewers 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent


async def frame_messages(count: int) -> list[dict]:
    """What a worker's run publishes for `count` frames (a keyframe every 30)."""
    from load import DESIGN

    from playground.live import runs

    class Keep:
        def __init__(self) -> None:
            self.messages: list[dict] = []

        async def group_send(self, group: str, message: dict) -> None:
            self.messages.append(message)

    runs.scheduler.budget = lambda who, tick: None
    run = await runs.scheduler.run(runs.Run, runs.RunRegistry(), DESIGN, None, 1.0, False)
    run.layer = keep = Keep()
    for n in range(1, count + 1):
        await run._play(runs.TICK_S, keyframe=n % 30 == 0)
    return keep.messages


class Protocol(SimpleNamespace):
    """What SocketWriter reads of Daphne's (Autobahn's) protocol of an open socket."""

    __hash__ = object.__hash__


def viewer(layer, group: str, run_id: str, reactor):
    """A play consumer watching `run_id`, its socket's writer over a real TCP transport;
    returns it and the socket the browser would read."""
    from autobahn.websocket.protocol import WebSocketProtocol
    from django.conf import settings
    from twisted.internet import tcp

    from playground.fenced.frames import SocketWriter
    from playground.fenced.layers import _LatestQueue
    from playground.live.consumers import PlayConsumer, TokenBucket
    from playground.live.sendwindow import FrameWindow

    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    protocol = Protocol(state=WebSocketProtocol.STATE_OPEN, send_queue=deque(),
                        send_state=WebSocketProtocol.SEND_STATE_GROUND,
                        _perMessageCompress=None, autoFragmentSize=0,
                        maxMessagePayloadSize=settings.PLAYGROUND_WS_MAX_MESSAGE_BYTES,
                        client_addr="127.0.0.1")
    protocol.server = SimpleNamespace(connections={protocol: {}})
    protocol.transport = tcp.Server(ours, protocol, ("127.0.0.1", 1), None, 1, reactor)
    consumer = PlayConsumer()
    consumer.channel_name = f"{layer.prefix}specific.{id(consumer)}"
    consumer.writer = SocketWriter(protocol)
    consumer.bucket = TokenBucket(1000.0, 1000.0)
    consumer.windows = {run_id: FrameWindow(settings.PLAYGROUND_WS_FRAMES_IN_FLIGHT)}
    consumer.tokens = {}
    consumer._layer_down = False
    layer.channels[consumer.channel_name] = _LatestQueue(layer.capacity,
                                                         layer.channel_layer.deserialize)
    layer.groups.setdefault(group, set()).add(consumer.channel_name)
    layer.takers[consumer.channel_name] = consumer
    return consumer, theirs


async def deliver(frames: int, viewers: int) -> float:
    """Deliver `frames` frames to `viewers` viewers; the CPU seconds that took."""
    from twisted.internet import reactor

    from playground.fenced.layers import FanOutRedisLayer

    messages = await frame_messages(max(frames, 1))
    run_id = messages[0]["run_id"]
    channel_layer = FanOutRedisLayer(hosts=["redis://127.0.0.1:1/0"])  # never connected
    layer = channel_layer._get_layer()
    group = channel_layer._get_group_channel_name(f"run.{run_id}")
    shard = layer._shards[0]
    watching = [viewer(layer, group, run_id, reactor) for _ in range(viewers)]
    received = [channel_layer.serialize(m) for m in messages]
    cpu = time.process_time()
    for n, data in enumerate(received[:frames], start=1):
        await shard._deliver({"type": "message", "pattern": None, "channel": group.encode(),
                              "data": data})
        for consumer, theirs in watching:
            theirs.recv(1 << 16)
            if n % 4 == 0:
                ack = json.dumps({"type": "ack", "run_id": run_id, "seq": messages[n - 1]["seq"]})
                assert consumer.take_ack(ack.encode())
    return time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("frames", type=int, nargs="?", default=3000)
    parser.add_argument("--viewers", type=int, default=5)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")
    import django

    django.setup()
    from playground.live import sendwindow

    sendwindow.LAG_S = float("inf")  # frames made long ago, delivered now: never late here
    used = asyncio.run(deliver(args.frames, args.viewers))
    if args.frames:
        print(f"{args.frames} frames x {args.viewers} viewers: "
              f"{1e6 * used / (args.frames * args.viewers):.1f} us of CPU per frame delivered "
              "(making the frames not included)")


if __name__ == "__main__":
    main()
