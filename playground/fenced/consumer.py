"""Channels' consumer, with the channel layer's receive in the consumer's hands.

AsyncConsumer.__call__ sets `self.channel_receive` to the layer's receive for the consumer's
channel and then waits on it together with the socket's receive; Channels offers no hook to
see a layer message before dispatch, nor to learn that the layer went away (channels_redis's
core layer raises from that receive, and the consumer dies with 1011). `LayerReceive` catches
the assignment, so the consumer can wrap it (playground/live/consumers.py: LayerAwareSocket).
`handler_name` is Channels' own message-type to method-name rule, undocumented.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name as handler_name

__all__ = ["LayerReceive", "handler_name"]

Receive = Callable[[], Awaitable[dict[str, Any]]]


class LayerReceive:
    """Mixin for a Channels consumer, which defines `layer_receive_set(receive)` (told the
    layer's receive as Channels sets it up) and `async receive_from_layer()` (what Channels
    awaits instead)."""

    @property
    def channel_receive(self) -> Receive:
        return self.receive_from_layer

    @channel_receive.setter
    def channel_receive(self, receive: Receive) -> None:
        self.layer_receive_set(receive)

