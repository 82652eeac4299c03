"""Shared fixtures, and the rule for tests marked `redis`, `postgres`, `browser` or
`compiled`: they are skipped when their service (or the compiled engine) is missing, but fail
under --require-services (CI), so a broken service can never pass as a row of skips."""

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVICES = ("redis", "postgres", "browser", "compiled")


def pytest_addoption(parser):
    parser.addoption(
        "--require-services",
        action="store_true",
        help="fail, instead of skipping, tests whose service (redis, postgres, browser, the "
        "compiled engine) is missing",
    )


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@cache
def missing_service(name: str) -> str | None:
    """Why the service a marker names is unavailable, or None; checked once per session."""
    if name == "redis":
        url = urlsplit(redis_url())
        host, port = url.hostname or "127.0.0.1", url.port or 6379
        return None if _answers(host, port) else f"Redis does not answer at {host}:{port}"
    if name == "postgres":
        from django.conf import settings

        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.postgresql":
            return "DATABASE_URL does not point at PostgreSQL"
        host, port = db["HOST"] or "localhost", int(db["PORT"] or 5432)
        return None if _answers(host, port) else f"PostgreSQL does not answer at {host}:{port}"
    if name == "compiled":
        import simulations

        return None if simulations.COMPILED else "the compiled engine is not built " \
            "(scripts/build-engine)"
    if name == "browser":
        if not os.access(CHROMIUM, os.X_OK):
            return f"{CHROMIUM} is missing"
        if importlib.util.find_spec("playwright") is None:
            return "Playwright for Python is not installed"
        return None
    raise ValueError(name)


def pytest_collection_modifyitems(config, items):
    """Browser tests last: while Playwright's session-wide sync API lives, it keeps an event
    loop running in the main thread, and asyncio tests after it could not start theirs."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_runtest_setup(item):
    for name in SERVICES:
        if item.get_closest_marker(name) and (reason := missing_service(name)):
            if item.config.getoption("--require-services"):
                pytest.fail(f"{reason} (--require-services)", pytrace=False)
            pytest.skip(reason)


@pytest.fixture(scope="session", name="redis_url")
def redis_url_fixture() -> str:
    return redis_url()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server_url(tmp_path_factory):
    """The app served by a real Daphne in a subprocess, as ./scripts/run serves it.

    It uses DATABASE_URL when set (CI's PostgreSQL), else a fresh SQLite file, never the
    developer's db.sqlite3, and is migrated first so pages that touch the database work.
    """
    tmp = tmp_path_factory.mktemp("live_server")
    env = {"DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", **os.environ,
           # a Redis cache of its own: rate-limit counts of earlier runs must not carry over
           "PLAYGROUND_CACHE_PREFIX": f"test-{uuid.uuid4().hex}",
           # Every test's browser is one client address, and runs outlive their page by a
           # minute: the per-address quotas (tests/web/test_quotas.py) are sized for a class.
           "PLAYGROUND_ANON_RUNS_PER_ADDRESS": "1000", "PLAYGROUND_RUNS_PER_ADDRESS": "1000",
           "PLAYGROUND_ANON_SOCKETS_PER_ADDRESS": "1000",
           "PLAYGROUND_SOCKETS_PER_ADDRESS": "1000"}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if migrate.returncode:
        pytest.fail(f"migrate failed for the live server:\n{migrate.stderr}")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "daphne.log"
    daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*daphne, "playground.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Daphne did not come up:\n{log_path.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium shared by the session; always Debian's, as Playwright cannot
    download its own browsers here."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as migrate leaves it, less the built-in lessons migrate loads
    (playground/lessons.py): a test makes the rows it needs (tests/web/conftest.py's
    `lesson`), and tests/web/test_lessons_loaded.py loads the real ones itself."""
    from playground.models import Scenario

    with django_db_blocker.unblock():
        Scenario.objects.filter(lesson_slug__isnull=False).delete()
class PrivateRedis:
    """A redis-server of the test's own, to stop and start again: append-only file synced
    on every write, as a production Redis that keeps its data across a restart."""

    def __init__(self, tmp):
        self.tmp = tmp
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        log = (self.tmp / "redis.log").open("a")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.tmp)],
            stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        for _ in range(100):
            with contextlib.suppress(redis.RedisError):
                client.ping()
                return
            time.sleep(0.1)
        pytest.fail(f"redis-server did not start:\n{(self.tmp / 'redis.log').read_text()}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def private_redis(tmp_path, request):
    if shutil.which("redis-server") is None:
        if request.config.getoption("--require-services"):
            pytest.fail("redis-server is not on PATH (--require-services)")
        pytest.skip("redis-server is not on PATH")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()
