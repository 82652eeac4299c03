"""A design's co-editing room in this web process: its shared Y document (pycrdt), the
check every incoming update passes, and the coalesced saves.

Every web process with someone in a room keeps a replica of its document; updates reach the
others through the room's channel-layer group, and Yjs updates are idempotent and commute,
so applying one twice or out of order is harmless. A process opening a room reads it from
the store: with REDIS_URL, every accepted update is appended to a log in Redis (with the
scenario version it started from), so a process joining later starts from everything that
was accepted; without Redis there is one process and the room itself is all there is. A
room the store does not have (or has for an older version: the design was saved meanwhile
by other means) starts from the saved document, written by a Y client id derived from the
design and its version: two processes starting it at once write identical updates, which
Yjs merges as one.

Saves: the first update accepted since the last save starts a timer of
PLAYGROUND_COEDIT_SAVE_EVERY_S, and one save then writes everything accepted meanwhile (each
process saves what it accepted); the last member of this process leaving saves at once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from pycrdt import Doc

from simulations import LIMITS

from ..live import runstore
from .ydoc import ROOTS, Reading, apply_document, to_document

log = logging.getLogger(__name__)
LOG_TTL_S = 24 * 3600  # a room nobody touched for a day is read from the database again
RECENT_UPDATES = 256


class BadUpdate(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _client_id(share_id: str, version: int) -> int:
    digest = hashlib.sha256(f"{share_id}:{version}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1  # Yjs client ids are 31-bit here


def initial_update(share_id: str, version: int, document: dict[str, Any]) -> bytes:
    doc = Doc(client_id=_client_id(share_id, version))
    apply_document(doc, document)
    return doc.get_update()


class MemoryStore:
    """One web process: the open room is the whole state."""

    async def load(self, share_id: str, version: int) -> list[bytes] | None:
        return None

    async def reset(self, share_id: str, version: int, update: bytes) -> None:
        pass

    async def append(self, share_id: str, update: bytes) -> int:
        return 0

    async def entries(self, share_id: str) -> list[bytes]:
        return []

    async def compact(self, share_id: str, entries: list[bytes], state: bytes) -> None:
        pass

    async def saved(self, share_id: str, version: int) -> None:
        pass


COMPACT_AFTER = 1000  # log entries: then the process that appended reads and merges them
# Appends only add at the tail and a merge only changes the head: a head other than the one
# read means another process merged meanwhile, and this merge is dropped (theirs holds it).
_COMPACT = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[3] then return 0 end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[1]), -1)
redis.call('LPUSH', KEYS[1], ARGV[2])
return 1
"""


class RedisStore:
    """coedit:<id>:log (a list of base64 updates) and coedit:<id>:version (the saved
    version the log starts from, moved on by each save) under PLAYGROUND_REDIS_PREFIX."""

    def _keys(self, share_id: str) -> tuple[str, str]:
        return runstore.key("coedit", share_id, "log"), runstore.key("coedit", share_id,
                                                                    "version")

    async def load(self, share_id: str, version: int) -> list[bytes] | None:
        log_key, version_key = self._keys(share_id)
        async with runstore.client().pipeline(transaction=True) as pipe:
            pipe.get(version_key)
            pipe.lrange(log_key, 0, -1)
            stored, entries = await pipe.execute()
        if stored != str(version) or not entries:
            return None
        return [base64.b64decode(entry) for entry in entries]

    async def reset(self, share_id: str, version: int, update: bytes) -> None:
        log_key, version_key = self._keys(share_id)
        async with runstore.client().pipeline(transaction=True) as pipe:
            pipe.delete(log_key)
            pipe.rpush(log_key, base64.b64encode(update).decode())
            pipe.set(version_key, str(version), ex=LOG_TTL_S)
            pipe.expire(log_key, LOG_TTL_S)
            await pipe.execute()

    async def append(self, share_id: str, update: bytes) -> int:
        """The log's length after it."""
        log_key, _ = self._keys(share_id)
        async with runstore.client().pipeline(transaction=True) as pipe:
            pipe.rpush(log_key, base64.b64encode(update).decode())
            pipe.expire(log_key, LOG_TTL_S)
            length, _ = await pipe.execute()
        return length

    async def entries(self, share_id: str) -> list[bytes]:
        log_key, _ = self._keys(share_id)
        return [base64.b64decode(e) for e in await runstore.client().lrange(log_key, 0, -1)]

    async def compact(self, share_id: str, entries: list[bytes], state: bytes) -> None:
        """The log's first entries, as read (all of them in `state`), become `state`;
        entries appended meanwhile, at the end, stay."""
        if entries:
            await runstore.client().eval(
                _COMPACT, 1, self._keys(share_id)[0], len(entries),
                base64.b64encode(state).decode(), base64.b64encode(entries[0]).decode())

    async def saved(self, share_id: str, version: int) -> None:
        await runstore.client().set(self._keys(share_id)[1], str(version), ex=LOG_TTL_S)


def get_store() -> MemoryStore | RedisStore:
    return RedisStore() if settings.REDIS_URL else MemoryStore()


class Room:
    def __init__(self, share_id: str, doc: Doc,
                 announce: Callable[[dict[str, Any]], Awaitable[None]]):
        self.share_id, self.announce = share_id, announce
        self.reading = Reading(doc)  # what the room's document reads as
        self.recent: dict[bytes, None] = {}  # digests of the last updates applied, in order
        self.members = 0  # sockets of this process in the room
        self.version = 0  # the saved version it started from, or this process last wrote
        self.changed = False  # accepted updates not saved yet
        self.timer: asyncio.TimerHandle | None = None
        self.saving: asyncio.Future | None = None

    @property
    def doc(self) -> Doc:
        return self.reading.doc

    def state(self) -> tuple[bytes, bytes]:
        return self.doc.get_update(), self.doc.get_state()

    def checked(self, update: bytes) -> Reading:
        """The room's document with `update` applied, on a copy (and its reading, in which
        only what the update touched was read again): a malformed, oversized or ill-shaped
        update never touches the room. BadUpdate says why."""
        if len(update) > settings.PLAYGROUND_COEDIT_MAX_UPDATE_BYTES:
            raise BadUpdate("too_large", "an update is limited to "
                            f"{settings.PLAYGROUND_COEDIT_MAX_UPDATE_BYTES} bytes")
        copy = Doc()
        copy.apply_update(self.doc.get_update())
        reading = Reading(copy, self.reading)
        try:
            reading.apply(update)
        except ValueError:
            raise BadUpdate("bad_update", "not a Yjs update") from None
        if set(copy.keys()) - set(ROOTS):
            raise BadUpdate("bad_update", f"the shared document has only {', '.join(ROOTS)}")
        if len(copy.get_update()) > settings.PLAYGROUND_COEDIT_MAX_STATE_BYTES:
            raise BadUpdate("too_large", "the design's shared state would be larger than "
                            f"{settings.PLAYGROUND_COEDIT_MAX_STATE_BYTES} bytes")
        try:
            document = reading.document()
        except Exception:  # noqa: BLE001 - whatever a crafted update makes the reader do
            raise BadUpdate("bad_update", "the update does not read as a design") from None
        if len(json.dumps(document, separators=(",", ":")).encode()) \
                > LIMITS["document_bytes"]:
            raise BadUpdate("too_large", "the design would be larger than "
                            f"{LIMITS['document_bytes']} bytes")
        return reading

    async def accept(self, update: bytes, checked: Reading | None = None) -> None:
        """An update from a member of this process: checked (unless `checked` is what
        checked() made of it just before), applied, logged; a save due."""
        self.reading = self.checked(update) if checked is None else checked
        self._applied(update)
        store = get_store()
        if await store.append(self.share_id, update) > COMPACT_AFTER:
            await self.compact(store)
        self.mark_changed()

    def mark_changed(self) -> None:
        self.changed = True
        if self.timer is None:  # the first change since the last save: one save for all
            self.timer = asyncio.get_running_loop().call_later(
                settings.PLAYGROUND_COEDIT_SAVE_EVERY_S, lambda: asyncio.ensure_future(
                    self.save()))

    async def compact(self, store: MemoryStore | RedisStore) -> None:
        """The log as one update: this replica first takes every entry in it, so the
        merged state holds them all."""
        entries = await store.entries(self.share_id)
        for update in entries:
            self.apply_remote(update)
        await store.compact(self.share_id, entries, self.doc.get_update())

    def apply_remote(self, update: bytes) -> None:
        """An update another process accepted (or this one: applying twice is a no-op).
        Each member of the room here hands it over: one applies it, the others find it
        among the recent ones."""
        if self._applied(update):
            with contextlib.suppress(ValueError):
                self.reading.apply(update)

    def _applied(self, update: bytes) -> bool:
        """Note `update` as applied; False if it was among the recent ones already."""
        digest = hashlib.blake2b(update, digest_size=16).digest()
        if digest in self.recent:
            return False
        self.recent[digest] = None
        if len(self.recent) > RECENT_UPDATES:
            del self.recent[next(iter(self.recent))]
        return True

    async def save(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.saving is not None:
            await self.saving
            return
        if not self.changed:
            return
        self.saving = asyncio.get_running_loop().create_future()
        try:
            await self._save()
        finally:
            self.saving.set_result(None)
            self.saving = None

    async def _save(self) -> None:
        from ..api.jsonapi import ApiError
        from ..api.scenarios import save_coedited

        self.changed = False
        try:
            version = await database_sync_to_async(save_coedited)(self.share_id,
                                                                 to_document(self.doc))
        except ApiError as exc:
            await self.announce({"type": "coedit.saved", "version": None,
                                 "errors": exc.errors})
            return
        except Exception:
            log.exception("co-edited design %s not saved", self.share_id)
            self.changed = True  # tried again with the next save
            return
        if version is not None:
            self.version = version
            await get_store().saved(self.share_id, version)
            await self.announce({"type": "coedit.saved", "version": version, "errors": []})


_rooms: dict[str, Room] = {}
_opening: dict[str, asyncio.Lock] = {}


async def join(share_id: str, announce: Callable[[dict[str, Any]], Awaitable[None]]) -> Room:
    """This process's room of the design (opened from the store or the saved document).
    The saved version is read here, under the lock: a save by a leaving member finishes
    first, so the store is never taken for stale against a version read before it."""
    lock = _opening.setdefault(share_id, asyncio.Lock())
    async with lock:
        room = _rooms.get(share_id)
        if room is None:
            version, document = await _saved(share_id)
            store = get_store()
            updates = await store.load(share_id, version)
            logged = updates is not None
            if not logged:
                updates = [initial_update(share_id, version, document)]
                await store.reset(share_id, version, updates[0])
            doc = Doc()
            for update in updates:
                doc.apply_update(update)
            room = _rooms[share_id] = Room(share_id, doc, announce)
            room.version = version
            if logged and to_document(doc) != document:
                room.mark_changed()  # accepted by a process that died before saving it
        else:
            # Open here already, but maybe with no member in the room's group for a moment
            # (the last one leaving as this one joins): what others accepted meanwhile is
            # in the log.
            for update in await get_store().entries(share_id):
                room.apply_remote(update)
        room.members += 1
        return room


@database_sync_to_async
def _saved(share_id: str) -> tuple[int, dict[str, Any]]:
    from ..models import Scenario

    return Scenario.objects.values_list("version", "document").get(share_id=share_id)


async def leave(room: Room) -> None:
    """A member went; the last one of this process saves and closes the room here."""
    async with _opening.setdefault(room.share_id, asyncio.Lock()):
        room.members -= 1
        if room.members > 0:
            return
        await room.save()  # before a new member could open the room from the store again
        if room.members == 0:
            _rooms.pop(room.share_id, None)
