"""Runs in Redis, for PLAYGROUND_RUNNER=workers (docs/deploy.md): each run's record, the queue
of runs waiting for a worker, the lease a worker holds on each run it drives, and the workers'
loads. Web processes write records and read them; `manage.py simworker` processes drive them.

Keys (under PLAYGROUND_REDIS_PREFIX):
  run:<id>     hash: doc, seed, speed, playing, replay, seat, commands, t, seq, at, token (the
               owner token's SHA-256), claimed; expires RECORD_TTL_S after its worker last
               renewed it
  lease:<id>   the id of the worker driving the run; expires LEASE_MS after the last renewal
  runs         set of the ids of every run with a record (the takeover scan)
  pending      list of the ids of new runs waiting for a worker
  worker:<id>  "<runs>/<max runs>" of that worker; expires with its heartbeat
  lost:<id>    a run whose record Redis lost (a restart without data), for LOST_TTL_S: a
               browser joining it again hears why it ended
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions
from django.conf import settings

LEASE_MS = 5000  # a dead worker's runs are orphans this long after its last renewal
RENEW_S = 1.5  # how often a worker renews its leases and saves its runs' progress
RECORD_TTL_S = 60  # a record outlives its lease: the next worker finds it
PENDING_TTL_S = 30  # a new run no worker claimed in this time is forgotten
CLAIM_GRACE_S = 5  # a run taken off `pending` and not claimed in this time: its worker died
LOST_TTL_S = 600
LOST_POLL_S = 0.1

# What a channel layer or Redis call raises while Redis is away.
LAYER_DOWN = (OSError, asyncio.TimeoutError, redis.exceptions.ConnectionError,
              redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)

# Renew the lease if it is ours; take it back if Redis lost it (a restart without data):
# 1 = held, 0 = another worker holds it.
_RENEW = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
MAX_CONNECTIONS = 100  # per process and event loop


def client() -> aioredis.Redis:
    """This event loop's Redis client (a client is bound to the loop it first ran on)."""
    loop = asyncio.get_running_loop()
    if loop not in _clients:
        # A command waits up to 5 s for one of the pool's connections: redis-py's own pool
        # refuses every command past its 100th connection at once (MaxConnectionsError, read
        # as Redis going away), which a class's joins arriving together reached.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=MAX_CONNECTIONS, timeout=5,
            decode_responses=True, socket_timeout=5, socket_connect_timeout=2,
            health_check_interval=10)
        _clients[loop] = aioredis.Redis.from_pool(pool)  # closing the client closes it
    return _clients[loop]


def key(*parts: str) -> str:
    return settings.PLAYGROUND_REDIS_PREFIX + ":".join(parts)


def control_group(run_id: str) -> str:
    """The channel-layer group of the worker driving a run: viewers' control goes there."""
    return f"runctl.{run_id}"


async def create(run_id: str, document: dict[str, Any], seed: int, speed: float,
                 paused: bool, replay: dict[str, Any] | None, seat: tuple[int, int] | None,
                 token_hash: str) -> None:
    """Store a new run and queue it for a worker."""
    r = client()
    async with r.pipeline(transaction=True) as pipe:
        pipe.hset(key("run", run_id), mapping={
            "doc": json.dumps(document), "seed": seed, "speed": speed,
            "playing": int(not paused), "replay": json.dumps(replay),
            "seat": json.dumps(seat), "commands": "[]", "t": 0.0, "seq": 0, "at": time.time(),
            "token": token_hash, "claimed": 0})
        pipe.expire(key("run", run_id), PENDING_TTL_S)
        pipe.sadd(key("runs"), run_id)
        pipe.lpush(key("pending"), run_id)
        await pipe.execute()


async def load(run_id: str) -> dict[str, Any] | None:
    raw = await client().hgetall(key("run", run_id))
    if not raw or "doc" not in raw:
        return None
    return {"id": run_id, "doc": json.loads(raw["doc"]), "seed": int(raw["seed"]),
            "speed": float(raw["speed"]), "playing": raw["playing"] == "1",
            "replay": json.loads(raw["replay"]), "seat": json.loads(raw["seat"]),
            "commands": json.loads(raw["commands"]), "t": float(raw["t"]), "seq": int(raw["seq"]),
            "at": float(raw["at"]), "token": raw["token"], "claimed": raw["claimed"] == "1"}


async def token_hash(run_id: str) -> str | None:
    """The owner token's hash of a run with a record, or None: no such run."""
    return await client().hget(key("run", run_id), "token")


async def exists(run_id: str) -> bool:
    return bool(await client().exists(key("run", run_id)))


async def save(run_id: str, fields: dict[str, Any]) -> bool:
    """Write a run's progress and keep its record alive; False if the record is gone."""
    return (await save_all({run_id: fields}))[run_id]


async def save_all(progress: dict[str, dict[str, Any]]) -> dict[str, bool]:
    """save() for many runs in one round trip (a worker saves all its runs every RENEW_S)."""
    r = client()
    async with r.pipeline(transaction=True) as pipe:
        for run_id, fields in progress.items():
            pipe.exists(key("run", run_id))
            pipe.hset(key("run", run_id), mapping=fields)
            pipe.expire(key("run", run_id), RECORD_TTL_S)
        existed = dict(zip(progress, (await pipe.execute())[::3], strict=True))
    for run_id, found in existed.items():
        if not found:  # the hset made a stub of a record Redis had lost: remove it
            await r.delete(key("run", run_id))
    return {run_id: bool(found) for run_id, found in existed.items()}


async def mark_lost(run_id: str) -> None:
    await client().set(key("lost", run_id), 1, ex=LOST_TTL_S)


async def was_lost(run_id: str) -> bool:
    return bool(await client().exists(key("lost", run_id)))


async def lost_within(run_id: str, seconds: float) -> bool:
    """Whether the run is marked lost within `seconds` (its worker is checking)."""
    deadline = time.monotonic() + seconds
    while not await was_lost(run_id):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(LOST_POLL_S)
    return True


async def forget(run_id: str) -> None:
    await client().delete(key("run", run_id))
    await client().srem(key("runs"), run_id)


async def acquire(run_id: str, worker: str) -> bool:
    return bool(await client().set(key("lease", run_id), worker, nx=True, px=LEASE_MS))


async def renew_all(run_ids: list[str], worker: str) -> dict[str, bool]:
    """Renew `worker`'s leases of many runs in one round trip: whether it holds each."""
    async with client().pipeline(transaction=False) as pipe:
        for run_id in run_ids:
            pipe.eval(_RENEW, 1, key("lease", run_id), worker, LEASE_MS)
        return {run_id: bool(held)
                for run_id, held in zip(run_ids, await pipe.execute(), strict=True)}


async def release(run_id: str, worker: str) -> None:
    await client().eval(_RELEASE, 1, key("lease", run_id), worker)


async def pending_count() -> int:
    return await client().llen(key("pending"))


async def pop_pending() -> str | None:
    return await client().rpop(key("pending"))


async def orphans() -> list[str]:
    """Runs without a lease that a worker drove (claimed), or took off `pending` and died
    before claiming: takeover candidates. Ids of expired records leave the set on the way."""
    r = client()
    found = []
    run_ids = list(await r.smembers(key("runs")))
    async with r.pipeline(transaction=False) as pipe:  # every worker scans every RENEW_S
        for run_id in run_ids:
            pipe.hmget(key("run", run_id), "claimed", "at")
            pipe.exists(key("lease", run_id))
        answers = await pipe.execute()
    for run_id, (claimed, at), leased in zip(run_ids, answers[::2], answers[1::2],
                                             strict=True):
        if claimed is None:
            await r.srem(key("runs"), run_id)
        elif leased:
            continue
        elif claimed == "1" or (time.time() - float(at) > CLAIM_GRACE_S
                                and await r.lpos(key("pending"), run_id) is None):
            found.append(run_id)
    return found


async def heartbeat(worker: str, load: int, most: int) -> None:
    await client().set(key("worker", worker), f"{load}/{most}", px=LEASE_MS)


async def loads() -> dict[str, tuple[int, int]]:
    """(runs, max runs) of every live worker."""
    r = client()
    names = [name async for name in r.scan_iter(match=key("worker", "*"), count=100)]
    values = await r.mget(names) if names else []
    prefix = len(key("worker", ""))
    return {name[prefix:]: tuple(int(n) for n in v.split("/"))
            for name, v in zip(names, values, strict=True) if v is not None}
