"""Redis restarting without its data under the local cluster (scripts/cluster, separate
processes): a browser that joins its run again as soon as it can hears that the run was
lost, never that it is unknown (issue 13)."""

import asyncio
import contextlib
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.cluster.test_cluster import DESIGN, open_socket, receive_until, running_cluster
from tests.web.test_service_failures import forgetful_redis  # noqa: F401

pytestmark = pytest.mark.redis


async def join_as_soon_as_possible(url: str, run_id: str, within: float):
    """The first answer to a join on a socket the server kept open."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, TimeoutError, ConnectionClosed):
            ws = await open_socket(url)
            await ws.send(json.dumps({"type": "join", "run_id": run_id}))
            answer = await receive_until(ws, lambda m: m["type"] in (
                "ended", "error", "snapshot"), 5)
            await ws.close()
            return answer
        await asyncio.sleep(0.1)
    pytest.fail(f"no answer to a join of {run_id} within {within} s")


async def test_a_run_redis_forgot_is_lost_for_a_browser_joining_at_once(
        forgetful_redis, tmp_path):  # noqa: F811
    with running_cluster(tmp_path, forgetful_redis.url, "--web", "1", "--workers", "1") as c:
        (url,) = c["urls"]
        owner = await open_socket(url)
        await owner.send(json.dumps({"type": "start", "scenario": DESIGN}))
        snap = await receive_until(owner, lambda m: m["type"] in ("snapshot", "error"), 20)
        assert snap["type"] == "snapshot", snap
        forgetful_redis.kill()
        await asyncio.sleep(4)  # the worker retries Redis further and further apart
        forgetful_redis.start()
        answer = await join_as_soon_as_possible(url, snap["run_id"], 20)
        assert (answer["type"], answer.get("reason")) == ("ended", "lost"), answer
