"""The co-editing rooms' log in Redis (playground/coedit/rooms.py, RedisStore): REDIS_URL's
server, database 15, keys under a prefix of this test's own (removed afterwards)."""

import secrets
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from pycrdt import Doc

from playground.coedit import rooms
from playground.coedit.ydoc import apply_document, to_document
from tests.conftest import redis_url

pytestmark = pytest.mark.redis


@pytest.fixture
def in_redis(settings):
    address = urlunsplit(urlsplit(redis_url())._replace(path="/15"))
    settings.REDIS_URL = address
    settings.PLAYGROUND_REDIS_PREFIX = f"test-coedit-{secrets.token_hex(4)}:"
    yield rooms.get_store()
    r = redis.Redis.from_url(address)
    keys = list(r.scan_iter(match=f"{settings.PLAYGROUND_REDIS_PREFIX}*"))
    if keys:
        r.delete(*keys)


async def test_the_log_is_merged_into_one_entry_and_keeps_what_came_after(in_redis, design,
                                                                          monkeypatch):
    assert isinstance(in_redis, rooms.RedisStore)
    monkeypatch.setattr(rooms, "COMPACT_AFTER", 5)
    init = rooms.initial_update("abc", 1, design)
    await in_redis.reset("abc", 1, init)
    server = Doc()
    server.apply_update(init)
    room = rooms.Room("abc", server, announce=None)
    client = Doc()
    client.apply_update(init)
    for n in range(1, 9):
        before = client.get_state()
        document = to_document(client)
        document["components"][2]["params"]["workers"] = n
        apply_document(client, document)
        await room.accept(client.get_update(before))
    room.timer.cancel()
    entries = await in_redis.entries("abc")
    assert len(entries) < 5  # merged at the sixth, then appended to
    assert await in_redis.load("abc", 2) is None  # a log of another version is not used
    again = Doc()
    for update in await in_redis.load("abc", 1):
        again.apply_update(update)
    assert to_document(again) == to_document(client)
    assert to_document(again)["components"][2]["params"]["workers"] == 8
    # A merge made from a log another process merged meanwhile is dropped, losing nothing.
    stale = await in_redis.entries("abc")
    await in_redis.compact("abc", [b"not the head"] + stale[1:], b"would lose entries")
    assert await in_redis.entries("abc") == stale
