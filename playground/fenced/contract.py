"""What the fence was written for: the exact releases (requirements.txt pins the same), and
every private or undocumented name of theirs that a fenced module reaches.

`problems()` says, in words that name the name and the release, what no longer holds: a
start-up check reports it (playground/checks.py) and tests/web/test_fenced_contract.py fails
on it. The finer assumptions (a method's arguments, a line Daphne must still contain) are
tested in tests/web/test_fenced_daphne.py and test_fenced_contract.py.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

WRITTEN_FOR = {
    "daphne": "4.2.3",
    "Twisted": "26.10.0",
    "autobahn": "26.11.1",
    "channels": "4.3.2",
    "channels-redis": "4.3.0",
}


@dataclass(frozen=True)
class Reach:
    """`owner.name` of `distribution`, used by playground/fenced/<by>.py. The owner is
    "module" or "module:Class"; an attribute a class sets in its methods counts as there."""

    distribution: str
    owner: str
    name: str
    by: str

    def __str__(self) -> str:
        return f"{self.owner.replace(':', '.')}.{self.name}"


def _reaches(distribution: str, by: str, owner: str, names: str) -> list[Reach]:
    return [Reach(distribution, owner, name, by) for name in names.split()]


REACHES: tuple[Reach, ...] = (
    # Daphne's request and socket classes, the methods wrapped (playground/fenced/*.py)
    *_reaches("daphne", "http_bodies", "daphne.http_protocol:WebRequest",
              "gotLength handleContentChunk requestReceived process"),
    *_reaches("daphne", "ws_limits", "daphne.ws_protocol:WebSocketProtocol",
              "onConnect onMessage serverSend application_queue client_addr muted "
              "last_ping"),
    *_reaches("daphne", "memory", "daphne.ws_protocol:WebSocketProtocol", "onClose"),
    *_reaches("daphne", "frames", "daphne.server:Server",
              "create_application handle_reply connections"),
    *_reaches("autobahn", "ws_limits", "autobahn.websocket.protocol:WebSocketProtocol",
              "_max_message_size_exceeded failedByMe CONFIG_ATTRS_COMMON"),
    # set on the factory, copied to each socket (CONFIG_ATTRS_COMMON)
    *_reaches("autobahn", "ws_limits", "autobahn.websocket.protocol:WebSocketServerFactory",
              "maxMessagePayloadSize maxFramePayloadSize"),
    *_reaches("autobahn", "frames", "autobahn.websocket.protocol:WebSocketProtocol",
              "_perMessageCompress _dataReceived state STATE_OPEN data current_frame "
              "inside_message failedByMe logOctets logFrames trackedTimings "
              "autoPingTimeoutCall trafficStats"),
    # set on the factory, copied to each socket (CONFIG_ATTRS_COMMON)
    *_reaches("autobahn", "frames", "autobahn.websocket.protocol:WebSocketServerFactory",
              "applyMask maxMessagePayloadSize maxFramePayloadSize utf8validateIncoming"),
    *_reaches("autobahn", "frames", "autobahn.util:ObservableMixin", "_listeners"),
    *_reaches("autobahn", "frames", "autobahn.twisted.websocket:WebSocketAdapterProtocol",
              "_onMessage"),
    *_reaches("autobahn", "frames", "autobahn.websocket.protocol:TrafficStats",
              "incomingOctetsWireLevel incomingOctetsWebSocketLevel incomingOctetsAppLevel "
              "incomingWebSocketFrames incomingWebSocketMessages"),
    *_reaches("autobahn", "frames", "autobahn.twisted.websocket:WebSocketAdapterProtocol",
              "dataReceived"),
    *_reaches("Twisted", "ws_limits", "twisted.internet.abstract:FileDescriptor",
              "dataBuffer offset _tempDataLen"),
    *_reaches("Twisted", "frames", "twisted.internet.abstract:FileDescriptor",
              "_writeDisconnecting _writeDisconnected"),
    *_reaches("Twisted", "frames", "twisted.internet.tcp:Connection", "writeSomeData"),
    # Channels: the consumer's layer receive, and the in-memory layer's sweep
    *_reaches("channels", "consumer", "channels.consumer", "get_handler_name"),
    *_reaches("channels", "consumer", "channels.consumer:AsyncConsumer",
              "channel_receive dispatch"),
    *_reaches("channels", "layers", "channels.layers:InMemoryChannelLayer",
              "_clean_expired channels groups require_valid_group_name"),
    # channels_redis's core layer: its receive's blocking pop (playground/fenced/layers.py)
    *_reaches("channels-redis", "layers", "channels_redis.core:RedisChannelLayer",
              "_brpop_with_clean"),
    # channels_redis's pub/sub layer, subclassed whole (playground/fenced/layers.py)
    *_reaches("channels-redis", "layers", "channels_redis.utils", "_wrap_close create_pool"),
    *_reaches("channels-redis", "layers", "channels_redis.pubsub:RedisPubSubChannelLayer",
              "_get_layer _layers _args _kwargs"),
    *_reaches("channels-redis", "layers", "channels_redis.pubsub:RedisPubSubLoopLayer",
              "_shards _subscribe_to_channel _get_shard channels groups prefix "
              "channel_layer"),
    *_reaches("channels-redis", "layers", "channels_redis.pubsub:RedisSingleShardConnection",
              "host _lock _pubsub _do_receiving _receive_message flush subscribe "
              "unsubscribe"),
)


def installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def present(reach: Reach) -> bool:
    """Whether the owner still has the name (as an attribute, or set as `self.<name>`)."""
    module_name, _, class_name = reach.owner.partition(":")
    try:
        owner = importlib.import_module(module_name)
        if class_name:
            owner = getattr(owner, class_name)
    except (ImportError, AttributeError):
        return False
    if hasattr(owner, reach.name):
        return True
    try:
        return f"self.{reach.name} =" in inspect.getsource(owner)
    except (OSError, TypeError):
        return False


def version_problems() -> list[str]:
    return [f"{dist} {installed(dist) or '(not installed)'} is installed; playground/fenced/ "
            f"was written for {dist} {pin} (see its contract tests before moving the pin)"
            for dist, pin in WRITTEN_FOR.items() if installed(dist) != pin]


def name_problems() -> list[str]:
    return [f"{reach} is gone from {reach.distribution} "
            f"{installed(reach.distribution) or '(not installed)'}: "
            f"playground/fenced/{reach.by}.py reaches it, written for "
            f"{reach.distribution} {WRITTEN_FOR[reach.distribution]}"
            for reach in REACHES if not present(reach)]


def problems() -> list[str]:
    return version_problems() + name_problems()
