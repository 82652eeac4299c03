"""A design's co-editing room as a channel-layer group, and what the API tells it."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def room_group(share_id: str) -> str:
    return f"coedit.{share_id}"


def revoked(share_id: str) -> None:
    """The edit link changed or went: every socket that joined by link becomes a viewer at
    once. (With Redis away this cannot be said, but then every socket of the room is
    closed anyway, LayerAwareSocket, and a reconnect checks the link again.)"""
    async_to_sync(get_channel_layer().group_send)(room_group(share_id),
                                                 {"type": "coedit.revoked"})
