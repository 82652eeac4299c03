"""Redis and PostgreSQL going away and coming back, for real: a redis-server of the test's
own (no persistence, as .ci/run starts it, so a restart loses its data) that is killed and
started again, and a TCP proxy between Django and PostgreSQL that is cut and restored.
What must hold (issue 13): JSON errors on the API (503 and Retry-After where retrying
helps), a friendly page on HTML pages, a notice on sockets, nothing saved lost, and writes
working again soon after the service is back."""

import asyncio
import contextlib
import json
import secrets
import shutil
import time

import pytest
import redis

from playground import runstore
from tests.conftest import PrivateRedis
from tests.web.test_play_consumer import connect, receive_until
from tests.web.test_workers import Workers, start_run

BACK_WITHIN_S = 10  # writes work again this soon after the service is back (issue 13)


class ForgetfulRedis(PrivateRedis):
    """A private redis-server that keeps nothing across a restart."""

    def start(self) -> None:
        shutil.rmtree(self.tmp / "appendonlydir", ignore_errors=True)
        super().start()


@pytest.fixture
def forgetful_redis(private_redis):
    private_redis.kill()
    server = ForgetfulRedis(private_redis.tmp)
    server.port, server.url = private_redis.port, private_redis.url
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()


@pytest.fixture
async def workers_on(forgetful_redis, settings):
    """PLAYGROUND_RUNNER=workers against the forgetful Redis, workers in this event loop."""
    settings.PLAYGROUND_RUNNER = "workers"
    settings.REDIS_URL = forgetful_redis.url
    settings.PLAYGROUND_REDIS_PREFIX = f"test-failures-{secrets.token_hex(4)}:"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "playground.layers.FanOutRedisLayer",
                                           "CONFIG": {"hosts": [forgetful_redis.url]}}}
    running = Workers()
    yield running
    for name in list(running.tasks):
        await running.stop(name)
    await runstore.client().aclose()


async def join_again(run_id: str, within: float = 10):
    """As the browser after Redis was away: reconnect (soon again if the socket is closed,
    as it is while this process still finds Redis away) and join the run; the socket and
    the answer."""
    deadline = time.monotonic() + within
    while True:
        browser = await connect()
        await browser.send_json_to({"type": "join", "run_id": run_id})
        with contextlib.suppress(AssertionError):  # closed: Redis away, for this process
            answer = await receive_until(browser, lambda m: m["type"] in (
                "ended", "error", "snapshot"), deadline - time.monotonic())
            return browser, answer
        assert time.monotonic() < deadline, f"could not join {run_id} within {within} s"
        await asyncio.sleep(0.2)


@pytest.mark.redis
async def test_a_join_just_after_redis_came_back_without_its_data_says_lost(
        workers_on, forgetful_redis):
    await workers_on.start("w1")
    owner = await connect()
    run_id = (await start_run(owner))["run_id"]
    forgetful_redis.kill()
    notice = await receive_until(owner, lambda m: m["type"] == "notice", 10)
    assert "unavailable" in notice["message"]
    await asyncio.sleep(4)  # the worker has been retrying a while
    forgetful_redis.start()

    browser, answer = await join_again(run_id)
    assert (answer["type"], answer.get("reason")) == ("ended", "lost"), answer
    # A run that never existed is still unknown.
    await browser.send_json_to({"type": "join", "run_id": "x" * 22})
    gone = await receive_until(browser, lambda m: m["type"] == "error", 10)
    assert gone["code"] == "unknown_run"
    await browser.disconnect()
    with contextlib.suppress(Exception):
        await owner.disconnect()


def post_scenario(client, document):
    return client.post("/api/scenarios", json.dumps({"document": document}),
                       content_type="application/json")


@pytest.mark.redis
@pytest.mark.django_db
def test_with_redis_away_writes_and_pages_work_and_limits_hold_per_process(
        forgetful_redis, settings, client, design):
    """Redis holds the cache (rate-limit counts, previews): while it is away each process
    counts in its own memory, and once it is back, in Redis again."""
    settings.CACHES = {"default": {"BACKEND": "playground.outages.FallbackRedisCache",
                                   "LOCATION": forgetful_redis.url}}
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS, "api_write": "4/60"}
    client.raise_request_exception = False
    assert post_scenario(client, design).status_code == 201
    forgetful_redis.kill()

    made = post_scenario(client, design)
    assert made.status_code == 201, made.content[:300]
    assert client.get(f"/s/{made.json()['id']}/preview.svg").status_code == 200
    answers = [post_scenario(client, design) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert answers[-1].json()["errors"][0].startswith("(rate limit): ")
    assert int(answers[-1]["Retry-After"]) > 0

    forgetful_redis.start()
    r = redis.Redis.from_url(forgetful_redis.url)
    deadline = time.monotonic() + BACK_WITHIN_S
    while post_scenario(client, design).status_code != 201 or \
            not r.keys("*ratelimit:api_write*"):
        assert time.monotonic() < deadline, "the counts did not go back to Redis"
        time.sleep(0.2)
