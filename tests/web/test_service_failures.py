"""Redis and PostgreSQL going away and coming back, for real: a redis-server of the test's
own (no persistence, as .ci/run starts it, so a restart loses its data) that is killed and
started again, and a TCP proxy between Django and PostgreSQL that is cut and restored.
What must hold (issue 13): JSON errors on the API (503 and Retry-After where retrying
helps), a friendly page on HTML pages, a notice on sockets, nothing saved lost, and writes
working again soon after the service is back."""

import asyncio
import contextlib
import secrets
import shutil
import time

import pytest

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
