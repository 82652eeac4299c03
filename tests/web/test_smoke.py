"""The skeleton works end to end: pages answer, settings follow the environment, and the real
services (Redis, PostgreSQL, a browser) are reachable and used as configured."""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
TITLE = "System Design Playground"


def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert f"<title>{TITLE}</title>" in response.content.decode()


def test_healthz_answers_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def settings_with(**env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these service variables set."""
    code = (
        "import json; from playground import settings as s; print(json.dumps("
        "{'db': s.DATABASES['default'], 'layer': s.CHANNEL_LAYERS['default']}, default=str))"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base | env, capture_output=True, text=True
    )


def configured_layer(redis_url: str):
    """The channel layer settings.py makes for REDIS_URL alone (simulations in the web
    processes)."""
    from django.utils.module_loading import import_string

    config = json.loads(settings_with(REDIS_URL=redis_url).stdout)["layer"]
    return import_string(config["BACKEND"])(**config["CONFIG"])


def test_settings_default_to_embedded_services():
    result = settings_with()
    config = json.loads(result.stdout)
    assert config["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert config["db"]["NAME"] == str(ROOT / "db.sqlite3")
    assert config["layer"]["BACKEND"] == "playground.fenced.layers.SweepingInMemoryChannelLayer"


def test_redis_url_switches_to_channels_redis():
    result = settings_with(REDIS_URL="redis://127.0.0.1:6390/3")
    layer = json.loads(result.stdout)["layer"]
    assert layer["BACKEND"] == "playground.fenced.layers.CoreRedisLayer"
    assert layer["CONFIG"]["hosts"][0]["address"] == "redis://127.0.0.1:6390/3"
    assert layer["CONFIG"]["capacity"] > 0 and layer["CONFIG"]["expiry"] > 0
    # With simulation workers every frame crosses processes: the pub/sub fan-out layer.
    workers = json.loads(settings_with(REDIS_URL="redis://127.0.0.1:6390/3",
                                       PLAYGROUND_RUNNER="workers").stdout)["layer"]
    assert workers["BACKEND"] == "playground.fenced.layers.FanOutRedisLayer"
    assert workers["CONFIG"]["hosts"][0]["address"] == "redis://127.0.0.1:6390/3"
    assert workers["CONFIG"]["capacity"] > 0


def test_database_url_switches_to_postgresql():
    result = settings_with(DATABASE_URL="postgres://app:secret@127.0.0.1:5433/playground")
    db = json.loads(result.stdout)["db"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["HOST"], db["PORT"]) == ("playground", "127.0.0.1", 5433)


def test_production_refuses_the_dev_secret_key():
    result = settings_with(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.redis
async def test_channels_redis_group_round_trip(redis_url):
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[redis_url])
    group, message = f"smoke-{uuid.uuid4().hex}", {"type": "run.frame", "t": 1.5}
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        await layer.group_send(group, message)
        assert await asyncio.wait_for(layer.receive(channel), timeout=5) == message
    finally:
        await layer.group_discard(group, channel)
        await layer.close_pools()


@pytest.mark.redis
async def test_the_core_layer_waits_quietly_on_an_idle_channel(redis_url):
    """channels_redis's core layer pops a channel's messages with a 5 s blocking BZPOPMIN;
    redis-py 8's default read timeout is 5 s too, so every idle receive raised TimeoutError,
    which a socket takes for Redis going away: every idle socket was told to come back
    later (close 4013) after about 5 s. Configured as settings.py does, it waits."""
    layer = configured_layer(redis_url)
    channel = await layer.new_channel()
    try:
        with pytest.raises(asyncio.TimeoutError):  # ours, not the layer's: it waited
            await asyncio.wait_for(layer.receive(channel), timeout=7)
    finally:
        await layer.close_pools()


@pytest.mark.postgres
@pytest.mark.django_db
def test_configured_database_is_postgresql():
    from django.contrib.auth.models import User
    from django.db import connection

    assert connection.vendor == "postgresql"
    User.objects.create_user("ada")
    assert User.objects.filter(username="ada").count() == 1


@pytest.mark.browser
def test_home_page_in_a_browser(browser, live_server_url):
    page = browser.new_page()
    responses = []
    # A lambda, as Playwright cannot register a builtin such as list.append as a handler.
    page.on("response", lambda response: responses.append(response))
    try:
        page.goto(f"{live_server_url}/")
        assert page.title() == TITLE
        assert [r.url for r in responses if not r.ok] == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "home.png", full_page=True)
    finally:
        page.close()


def test_pages_carry_a_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy
