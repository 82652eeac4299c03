"""Quotas per person and per client address on the play websocket (playground/live/quotas.py):
one client cannot take every run slot, and a class behind one address fits."""

import secrets
from urllib.parse import urlsplit, urlunsplit

import pytest
from channels.testing import WebsocketCommunicator
from django.core import signing
from django.test import override_settings

from playground.accounts import permissions
from playground.asgi import application
from playground.live import quotas, runstore
from playground.live.runs import registry
from tests.web.test_play_consumer import DESIGN, HOST, ORIGIN, receive_until


def seat_cookie(key: str) -> tuple[bytes, bytes]:
    """A classroom seat's signed cookie, as joining sets it."""
    value = signing.Signer(salt=permissions.SEATS_SALT).sign(key)
    return (b"cookie", f"{permissions.SEATS_COOKIE}={value}".encode())


async def connect(address="203.0.113.5", *headers):
    comm = WebsocketCommunicator(application, "/ws/play/", headers=[ORIGIN, HOST, *headers])
    comm.scope["client"] = [address, 40000]  # as Daphne puts the peer
    connected, _ = await comm.connect()
    assert connected
    return comm


async def start(comm):
    await comm.send_json_to({"type": "start", "scenario": DESIGN, "paused": True})
    return await receive_until(comm, lambda m: m["type"] in ("snapshot", "error"), 10)


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()
    quotas._refused.clear()  # a refusal is remembered for a second, per process


def quota(**limits):
    runs = {"person": 4, "address": 150, "anonymous": 10}
    sockets = {"person": 12, "address": 300, "anonymous": 40}
    for name, value in limits.items():
        kind, limit = name.split("_", 1)
        {"runs": runs, "sockets": sockets}[kind][limit] = value
    return override_settings(PLAYGROUND_QUOTAS={"runs": runs, "sockets": sockets})


async def test_one_client_reconnecting_cannot_take_every_run_slot():
    """Issue 13: reconnecting and starting 2 paused runs a socket held every slot (runs
    live on after their socket closes); the next person got server_busy."""
    with quota(runs_anonymous=5), override_settings(PLAYGROUND_MAX_RUNS=20):
        answers = []
        for _ in range(5):
            comm = await connect()
            answers += [(await start(comm)).get("code", "started") for _ in range(2)]
            await comm.disconnect()
        assert answers[:5] == ["started"] * 5 and set(answers[5:]) == {"too_many_runs"}
        comm = await connect()
        refused = await start(comm)
        assert refused["limit"] == "anonymous" and refused["retry_after_s"] == 60
        assert "5 designs running" in refused["message"]
        assert "runs on for 60 s" in refused["message"]
        # Someone else still starts.
        other = await connect("198.51.100.20")
        assert (await start(other))["type"] == "snapshot"


async def test_a_persons_runs_count_until_they_end_across_their_sockets():
    with quota(runs_person=3):
        seat = seat_cookie("seat-key-of-ada")
        first = await connect("203.0.113.5", seat)
        started = [await start(first) for _ in range(2)]
        await first.disconnect()  # its runs linger, and still count
        second = await connect("203.0.113.5", seat)
        assert (await start(second))["type"] == "snapshot"
        refused = await start(second)
        assert refused["code"] == "too_many_runs" and refused["limit"] == "person"
        # A run that ends frees its place.
        await registry.get(started[0]["run_id"]).end("stopped")
        assert (await start(second))["type"] == "snapshot"
        # A classmate on the same address is another person.
        classmate = await connect("203.0.113.5", seat_cookie("seat-key-of-bob"))
        assert (await start(classmate))["type"] == "snapshot"


async def test_a_class_of_60_behind_one_address_each_runs_two_designs():
    with override_settings(PLAYGROUND_MAX_RUNS=200):
        sockets = []
        for n in range(60):
            comm = await connect("203.0.113.5", seat_cookie(f"seat-{n}"))
            sockets.append(comm)
            for _ in range(2):
                assert (await start(comm))["type"] == "snapshot", n
        # A second tab each.
        for n in range(60):
            sockets.append(await connect("203.0.113.5", seat_cookie(f"seat-{n}")))
        for comm in sockets:
            await comm.disconnect()


async def test_sockets_are_limited_per_address_for_anonymous_visitors():
    with quota(sockets_anonymous=3):
        open_ = [await connect() for _ in range(3)]
        comm = WebsocketCommunicator(application, "/ws/play/", headers=[ORIGIN, HOST])
        comm.scope["client"] = ["203.0.113.5", 40001]
        connected, _ = await comm.connect()
        assert connected  # accepted only to say why
        refused = await comm.receive_json_from()
        assert refused["code"] == "too_many_sockets" and refused["limit"] == "anonymous"
        assert "3 connections open" in refused["message"]
        assert (await comm.receive_output())["code"] == 4029
        await open_[0].disconnect()  # a place frees when a socket closes
        open_[0] = await connect()
        assert (await start(open_[0]))["type"] == "snapshot"
        for comm in open_:
            await comm.disconnect()


async def test_a_forged_forwarded_for_does_not_escape_the_address_quota():
    with quota(runs_anonymous=2), override_settings(PLAYGROUND_TRUSTED_PROXIES=["10.0.0.0/8"]):
        answers = []
        for n in range(3):
            comm = await connect("203.0.113.5", (b"x-forwarded-for", f"192.0.2.{n}".encode()))
            answers.append((await start(comm)).get("code", "started"))
        assert answers == ["started", "started", "too_many_runs"]
        # Through a trusted proxy, the address it saw counts.
        proxied = await connect("10.0.0.1", (b"x-forwarded-for", b"192.0.2.200"))
        assert (await start(proxied))["type"] == "snapshot"


@pytest.mark.redis
async def test_with_workers_the_counts_live_in_redis_and_free_when_a_run_ends(redis_url,
                                                                             settings):
    """PLAYGROUND_RUNNER=workers: every web process counts in Redis, and a run's place
    frees when its record goes (stopped, idle, lost), whoever ended it."""
    settings.PLAYGROUND_RUNNER = "workers"
    settings.REDIS_URL = urlunsplit(urlsplit(redis_url)._replace(path="/11"))
    settings.PLAYGROUND_REDIS_PREFIX = prefix = f"test-quotas-{secrets.token_hex(4)}:"
    settings.PLAYGROUND_QUOTAS = {"runs": {"person": 2, "address": 10, "anonymous": 10},
                                  "sockets": {"person": 1, "address": 10, "anonymous": 10}}
    ada = quotas.Requester("203.0.113.5", "user:1", True)
    try:
        runs = []
        for n in range(2):
            pending = await quotas.take("runs", ada)
            await runstore.create(f"run-{n}", DESIGN, 1, 1.0, True, None, None, "hash")
            await quotas.settle(ada, pending, f"run-{n}")
            runs.append(f"run-{n}")
        with pytest.raises(quotas.OverQuota) as over:
            await quotas.take("runs", ada)
        assert over.value.limit == "person"
        await runstore.forget("run-0")  # as a worker does when the run ends
        await quotas.settle(ada, await quotas.take("runs", ada), None)
        # Sockets: one web process's socket counts in another's.
        await quotas.take("sockets", ada, "channel-1")
        with pytest.raises(quotas.OverQuota):
            await quotas.take("sockets", ada, "channel-2")
        await quotas.release(ada, "channel-1")
        await quotas.take("sockets", ada, "channel-2")
    finally:
        r = runstore.client()
        keys = [k async for k in r.scan_iter(match=f"{prefix}*")]
        if keys:
            await r.delete(*keys)
        await r.aclose()


async def test_counts_of_persons_who_never_come_back_are_swept(monkeypatch):
    store = quotas.MemoryStore()
    monkeypatch.setattr(quotas, "_memory", store)
    monkeypatch.setattr(store, "SWEEP_EVERY", 10)
    for n in range(9):  # runs that ended long ago (no such run in the registry)
        await store.add_and_count("runs", f"runs:person:user:{n}", f"run-{n}")
    assert len(store.counts) == 9
    await store.add_and_count("runs", "runs:person:user:last", "pending:x")
    assert list(store.counts) == ["runs:person:user:last"]


async def test_a_start_over_the_quota_is_refused_unread_and_a_freed_place_is_seen():
    """A hoarder's starts (a 43 kB design each, thousands a minute) were parsed before the
    quota refused them: most of an attacked event loop's JSON work (bench/abuse.py). After
    one refusal, its sender's starts are refused unread for REFUSED_S, or until a run ends."""
    with quota(runs_anonymous=1):
        comm = await connect()
        assert (await start(comm))["type"] == "snapshot"
        assert (await start(comm))["code"] == "too_many_runs"
        # Not JSON past its first bytes: refused for the quota, never parsed.
        await comm.send_to(text_data='{"type": "start", "scenario": {' + "x" * 1000)
        unread = await receive_until(comm, lambda m: m["type"] == "error", 10)
        assert unread["code"] == "too_many_runs" and unread["ref"] == "start"
        # Other messages (a label may say "type": "start") are read as ever.
        await comm.send_to(text_data='{"type": "ping", "id": "\\"type\\": \\"start\\""}')
        assert (await receive_until(comm, lambda m: m["type"] == "pong", 10))["type"] == "pong"
        # Another address is not refused.
        other = await connect("198.51.100.21")
        assert (await start(other))["type"] == "snapshot"
        # The place frees (the run ends): the next start is read again.
        await registry.stop_all()
        await comm.send_to(text_data='{"type": "start", "scenario": {' + "x" * 1000)
        read = await receive_until(comm, lambda m: m["type"] == "error", 10)
        assert read["code"] == "bad_message"
        assert (await start(comm))["type"] == "snapshot"
