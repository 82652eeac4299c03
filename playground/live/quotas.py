"""Quotas per person and per client address on the play websocket: open sockets and live
runs (docs/protocol.md). Sized so that a class of 60 behind one address (a school's NAT),
each with a socket or two and a run or two, stays inside; one client cannot take every run
slot of the server.

Who is a person: an account, else a classroom seat (its key in the signed seats cookie),
else a browser workspace (a cookie it may drop or forge at will). Everything not an account
or a seat also shares the address's anonymous quota, a tighter one: dropping cookies gains
nothing beyond it.

What counts: a run from its start until it ends, also while it lingers after its socket
closed (PLAYGROUND_IDLE_RUN_S); a socket while it is open. A run is looked up where it lives
(the runner's own record of it), so ends of every kind (stopped, idle, error, a worker
lost) free its place without telling anyone. The counts live where the runs do: in this
process with the in-process runner, in Redis with PLAYGROUND_RUNNER=workers, where they hold
across web processes.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from ..accounts import permissions
from ..accounts.persons import person_of
from ..clientaddress import counted_as, scope_ip
from . import runstore

PENDING_S = 60  # a start not yet a run holds its place this long at most
SOCKET_TTL_S = 3600  # a socket of a web process that died stops counting after this


@dataclass(frozen=True)
class Requester:
    address: str
    person: str | None  # "user:<pk>", "seat:<key>", "browser:<workspace hash>", or None
    identified: bool  # an account or a seat: not free to make up


def requester(scope: dict[str, Any]) -> Requester:
    address = counted_as(scope_ip(scope))
    cookies = scope.get("cookies", {})
    person = person_of(scope.get("user"), cookies)
    if person is not None:
        return Requester(address, person, True)
    workspace = cookies.get(permissions.WORKSPACE_COOKIE, "")
    browser = f"browser:{hashlib.sha256(workspace.encode()).hexdigest()}" if workspace \
        else None
    return Requester(address, browser, False)


class OverQuota(Exception):
    """`limit` ("person", "address" or "anonymous") is reached: `message` says which and
    what to do, `retry_after_s` when a place may free itself (None: only the asker can)."""

    def __init__(self, limit: str, message: str, retry_after_s: int | None):
        super().__init__(message)
        self.limit, self.message, self.retry_after_s = limit, message, retry_after_s


WHOSE = {"person": "you have", "address": "your network has",
         "anonymous": "visitors without an account or classroom seat on your network have"}


def _over(kind: str, limit: str, most: int) -> OverQuota:
    if kind == "sockets":
        return OverQuota(limit, f"{WHOSE[limit]} {most} connections open, the most allowed; "
                         "close a tab (this one reconnects by itself)", None)
    linger = round(settings.PLAYGROUND_IDLE_RUN_S)
    return OverQuota(limit, f"{WHOSE[limit]} {most} designs running, the most allowed (a "
                     f"design whose tab closed runs on for {linger} s); stop one or try "
                     f"again in {linger} s", linger)


def limits(kind: str) -> dict[str, int]:
    return settings.PLAYGROUND_QUOTAS[kind]


def _buckets(kind: str, who: Requester) -> list[tuple[str, str]]:
    """(limit, key) of every count the requester's runs or sockets go into."""
    buckets = [("address", f"{kind}:address:{who.address}")]
    if who.person is not None:
        buckets.append(("person", f"{kind}:person:{who.person}"))
    if not who.identified:
        buckets.append(("anonymous", f"{kind}:anonymous:{who.address}"))
    return buckets


REFUSED_S = 1.0  # a refused start is remembered at most this long: the next is refused unread
_refused: dict[Requester, tuple[float, int, OverQuota]] = {}  # who -> (until, ended, refusal)


def _runs_ended() -> int:
    """How many runs of this process ended (with workers, runs end elsewhere: 0)."""
    from .runs import registry

    return registry.ended


def refused_start(who: Requester) -> OverQuota | None:
    """The runs quota refused `who` less than REFUSED_S ago and no run of this process ended
    since: that refusal, so that a start can be refused before its scenario is parsed (a
    hoarder's 43 kB starts, thousands a minute, were most of an attacked event loop's JSON
    work, bench/abuse.py). With workers a place freed meanwhile is seen REFUSED_S later."""
    refused = _refused.get(who)
    if refused is None or time.monotonic() >= refused[0] or _runs_ended() != refused[1]:
        return None
    return refused[2]


def _remember_refusal(who: Requester, exc: OverQuota) -> None:
    now = time.monotonic()
    if len(_refused) > 10_000:
        for other, (until, _, _) in list(_refused.items()):
            if until <= now:
                del _refused[other]
    _refused[who] = (now + REFUSED_S, _runs_ended(), exc)


async def take(kind: str, who: Requester, member: str | None = None) -> str:
    """Take a place in every count of the requester, or raise OverQuota (taking none).
    `member` names it (a socket's channel); else it is a pending run, to `settle`."""
    member = member or f"pending:{secrets.token_hex(8)}"
    store = get_store()
    taken: list[str] = []
    for limit, key in _buckets(kind, who):
        most = limits(kind)[limit]
        # Added, then counted with itself: two racing takes cannot both slip under.
        count = await store.add_and_count(kind, key, member)
        taken.append(key)
        if count > most:
            for key_taken in taken:
                await store.remove(key_taken, member)
            exc = _over(kind, limit, most)
            if kind == "runs":
                _remember_refusal(who, exc)
            raise exc
    return member


async def settle(who: Requester, pending: str, run_id: str | None) -> None:
    """The pending start became run `run_id` (counted until the run ends), or failed."""
    store = get_store()
    for _, key in _buckets("runs", who):
        if run_id is not None:
            await store.add(key, run_id)
        await store.remove(key, pending)


async def release(who: Requester, member: str) -> None:
    """A socket closed."""
    store = get_store()
    for _, key in _buckets("sockets", who):
        await store.remove(key, member)


def _fresh(member: str, added: float, now: float, kind: str) -> bool:
    if member.startswith("pending:"):
        return now - added < PENDING_S
    return kind != "sockets" or now - added < SOCKET_TTL_S


class MemoryStore:
    """This process's counts (the in-process runner: its runs live here)."""

    SWEEP_EVERY = 1000  # takes between sweeps of counts nobody came back to

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, float]] = {}  # key -> member -> when added
        self.takes = 0

    async def add_and_count(self, kind: str, key: str, member: str) -> int:
        self.takes += 1
        if self.takes % self.SWEEP_EVERY == 0:
            self._sweep()
        members = self.counts.setdefault(key, {})
        self._prune(kind, members)
        members[member] = time.time()
        return len(members)

    def _prune(self, kind: str, members: dict[str, float]) -> None:
        from .runs import registry

        now = time.time()
        for member, added in list(members.items()):
            ended = kind == "runs" and not member.startswith("pending:") and \
                registry.get(member) is None
            if ended or not _fresh(member, added, now, kind):
                del members[member]

    def _sweep(self) -> None:
        for key, members in list(self.counts.items()):
            self._prune(key.split(":", 1)[0], members)
            if not members:
                del self.counts[key]

    async def add(self, key: str, member: str) -> None:
        self.counts.setdefault(key, {})[member] = time.time()

    async def remove(self, key: str, member: str) -> None:
        members = self.counts.get(key, {})
        members.pop(member, None)
        if not members:
            self.counts.pop(key, None)


# Add a member, drop the members that no longer count, and count the rest, in one step (so
# racing takes in several web processes cannot both slip under a limit). Run members are
# live while their record (runstore's run:<id>) is; pending ones for PENDING_S, sockets for
# SOCKET_TTL_S. ARGV: member, now, kind, the records' key prefix, PENDING_S, SOCKET_TTL_S.
# It reads run records it does not declare as KEYS: fine on the one Redis of docs/deploy.md,
# not on a Redis Cluster.
_ADD_AND_COUNT = """
local now, kind = tonumber(ARGV[2]), ARGV[3]
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[6])
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local count = 0
for i = 1, #entries, 2 do
  local member, added = entries[i], tonumber(entries[i + 1])
  local gone
  if string.sub(member, 1, 8) == 'pending:' then
    gone = now - added >= tonumber(ARGV[5])
  elseif kind == 'runs' then
    gone = redis.call('EXISTS', ARGV[4] .. member) == 0
  else
    gone = now - added >= tonumber(ARGV[6])
  end
  if gone then redis.call('ZREM', KEYS[1], member) else count = count + 1 end
end
return count
"""


class RedisStore:
    """Counts in Redis (PLAYGROUND_RUNNER=workers): a sorted set per count under
    PLAYGROUND_REDIS_PREFIX, quota:<kind>:<limit>:<who>, of members scored by when they
    were added; a run's member goes when its record (runstore) does."""

    async def add_and_count(self, kind: str, key: str, member: str) -> int:
        return await runstore.client().eval(
            _ADD_AND_COUNT, 1, runstore.key("quota", key), member, time.time(), kind,
            runstore.key("run", ""), PENDING_S, SOCKET_TTL_S)

    async def add(self, key: str, member: str) -> None:
        r, name = runstore.client(), runstore.key("quota", key)
        async with r.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {member: time.time()})
            pipe.expire(name, SOCKET_TTL_S)
            await pipe.execute()

    async def remove(self, key: str, member: str) -> None:
        await runstore.client().zrem(runstore.key("quota", key), member)


_memory = MemoryStore()


def get_store() -> MemoryStore | RedisStore:
    return RedisStore() if settings.PLAYGROUND_RUNNER == "workers" else _memory
