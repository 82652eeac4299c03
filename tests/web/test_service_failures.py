"""Redis and PostgreSQL going away and coming back, for real: a redis-server of the test's
own (no persistence, as .ci/run starts it, so a restart loses its data) that is killed and
started again, and a TCP proxy between Django and PostgreSQL that is cut and restored.
What must hold (issue 13): JSON errors on the API (503 and Retry-After where retrying
helps), a friendly page on HTML pages, a notice on sockets, nothing saved lost, and writes
working again soon after the service is back."""

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest
import redis
import requests
from asgiref.sync import sync_to_async
from django.db import connections

from playground.classrooms import services
from playground.classrooms.models import Submission
from playground.live import runstore
from playground.models import new_share_id
from tests.conftest import ROOT, PrivateRedis
from tests.web.test_classroom_grading import assignment, design, grade_all  # noqa: F401
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
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "playground.fenced.layers.FanOutRedisLayer",
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
        # the first commands on a Redis just back take their time on a busy machine
        browser = await connect(timeout=max(1.0, deadline - time.monotonic()))
        await browser.send_json_to({"type": "join", "run_id": run_id})
        while (output := await browser.receive_output(deadline - time.monotonic())
               )["type"] == "websocket.send":
            answer = json.loads(output["text"])
            if answer["type"] in ("ended", "error", "snapshot"):
                return browser, answer
        assert time.monotonic() < deadline, f"could not join {run_id} within {within} s"
        await asyncio.sleep(0.2)  # closed: this process still finds Redis away


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
    back_at = time.monotonic()
    while post_scenario(client, design).status_code != 201 or \
            not r.keys("*ratelimit:api_write*"):
        assert time.monotonic() < back_at + BACK_WITHIN_S, "the counts stayed in memory"
        time.sleep(0.2)
    print(f"redis back: counted there again {time.monotonic() - back_at:.2f} s later")


class CuttableProxy:
    """A TCP proxy to `upstream` that can be cut (its connections closed, new ones
    refused) and restored on the same port: a database that went away and came back."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (Linux)
        self.listener.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns = []

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.upstream)
            self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def database_proxy() -> CuttableProxy:
    """A CuttableProxy to the test database's PostgreSQL, serving."""
    params = connections["default"].settings_dict
    proxy = CuttableProxy((params["HOST"] or "127.0.0.1", int(params["PORT"] or 5432)))
    proxy.restore()
    return proxy


@contextlib.contextmanager
def daphne(tmp_path, env: dict[str, str]):
    """The app served by a real Daphne (debug off, as in production) with `env`: its URL.
    Not the test client, which keeps a broken database connection across requests where
    Django's request cycle closes it."""
    port = CuttableProxy(("", 0)).port  # a free port
    log_path = tmp_path / "daphne.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")} | {
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "test-" + secrets.token_hex(16),
        "DJANGO_SSL_REDIRECT": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"} | env
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "playground.asgi:application"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"{url}/healthz", timeout=1)
                break
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def proxied_server(transactional_db, tmp_path):
    """A Daphne whose PostgreSQL (the test database) is behind a CuttableProxy."""
    params = connections["default"].settings_dict
    proxy = database_proxy()
    user = params["USER"] or "postgres"
    address = f"postgres://{user}@127.0.0.1:{proxy.port}/{params['NAME']}"
    with daphne(tmp_path, {"DATABASE_URL": address}) as url:
        yield url, proxy
    proxy.cut()


def api_session(url: str) -> requests.Session:
    """A browser's session: the CSRF cookie (Secure: sent by hand over plain HTTP)."""
    session = requests.Session()
    token = session.get(f"{url}/").cookies["csrftoken"]
    session.headers.update({"X-CSRFToken": token, "Cookie": f"csrftoken={token}"})
    return session


@pytest.mark.postgres
def test_with_the_database_away_the_api_says_503_and_pages_are_friendly(
        proxied_server, design):
    url, proxy = proxied_server
    browser = api_session(url)
    saved = browser.post(f"{url}/api/scenarios", json={"document": design})
    assert saved.status_code == 201, saved.text[:300]
    share_id = saved.json()["id"]
    proxy.cut()

    for answer in (browser.post(f"{url}/api/scenarios", json={"document": design}),
                   browser.get(f"{url}/api/scenarios/{share_id}"),
                   browser.get(f"{url}/api/lessons")):
        assert answer.status_code == 503, answer.text[:300]
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json()["errors"][0].startswith("(server): the database is unavailable")
        assert int(answer.headers["Retry-After"]) > 0
    page = browser.get(f"{url}/s/{share_id}")
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert "The database is unavailable for a moment" in page.text

    proxy.restore()
    back_at = time.monotonic()
    while (again := browser.post(f"{url}/api/scenarios",
                                 json={"document": design})).status_code != 201:
        assert time.monotonic() < back_at + BACK_WITHIN_S, again.text[:300]
        time.sleep(0.2)
    print(f"database back: a write worked {time.monotonic() - back_at:.2f} s later")
    assert browser.get(f"{url}/api/scenarios/{share_id}").json()["document"] == design


@pytest.fixture
def database_through_proxy(transactional_db):
    """This process's database connections (every thread's) through a CuttableProxy."""
    params = connections["default"].settings_dict
    proxy = database_proxy()
    saved = params["HOST"], params["PORT"]
    connections["default"].close()
    params["HOST"], params["PORT"] = "127.0.0.1", proxy.port
    yield proxy
    proxy.cut()
    params["HOST"], params["PORT"] = saved
    connections["default"].close()


@pytest.fixture
async def sockets_through_proxy(database_through_proxy, consumer_db):
    """database_through_proxy for consumers too: they reach the database in asgiref's
    shared thread, whose connection is opened again through the proxy, and closed after."""
    await sync_to_async(connections.close_all)()
    yield database_through_proxy
    await sync_to_async(connections.close_all)()


@pytest.mark.postgres
async def test_with_the_database_away_a_socket_hears_so_and_stays_open(
        sockets_through_proxy):
    database_through_proxy = sockets_through_proxy
    socket_ = await connect()
    database_through_proxy.cut()
    await socket_.send_json_to({"type": "replay", "run_link": new_share_id()})
    answer = await receive_until(socket_, lambda m: m["type"] == "error", 10)
    assert (answer["code"], answer["ref"]) == ("unavailable", "replay")
    assert "database" in answer["message"]
    await socket_.send_json_to({"type": "ping", "id": 1})
    assert (await receive_until(socket_, lambda m: True))["type"] == "pong"

    database_through_proxy.restore()
    await socket_.send_json_to({"type": "replay", "run_link": new_share_id()})
    answer = await receive_until(socket_, lambda m: m["type"] == "error", 10)
    assert answer["code"] == "unknown_run_link"
    await socket_.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_grade_is_kept_when_redis_is_away_to_tell_the_dashboard(settings, assignment):  # noqa: F811
    """The dashboard hears of grades through the channel layer (Redis): with Redis away it
    does not, and the grade is stored all the same (it was replaced by a failure)."""
    settings.PLAYGROUND_GRADER = "worker"
    nobody = f"redis://127.0.0.1:{CuttableProxy(('', 0)).port}/0"  # nothing listens there
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "playground.fenced.layers.FanOutRedisLayer",
                                           "CONFIG": {"hosts": [nobody]}}}
    submission = services.submit(assignment, services.join(assignment.classroom, "Ada"),
                                 design(2))
    assert grade_all() == 1
    submission.refresh_from_db()
    assert submission.state == Submission.DONE and submission.met


@pytest.mark.postgres
async def test_a_socket_that_needs_the_database_to_start_hears_to_come_back_later(
        sockets_through_proxy, client):
    """A logged-in browser's socket reads its session (and a classroom socket its
    classroom) before anything else: with the database away it is told to come back
    later, as when Redis is away, instead of failing."""
    from channels.testing import WebsocketCommunicator
    from django.contrib.auth.models import User

    from playground.asgi import application
    from tests.web.test_play_consumer import HOST, ORIGIN

    user = await sync_to_async(User.objects.create_user)("ada", password="pw-12345678")
    await sync_to_async(client.force_login)(user)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
    sockets_through_proxy.cut()
    for path in ("/ws/play/", "/ws/dashboard/ABCDEFGH/"):
        socket_ = WebsocketCommunicator(application, path, headers=[ORIGIN, HOST, cookie])
        connected, _ = await socket_.connect()
        assert connected, path
        notice = json.loads(await socket_.receive_from())
        assert notice["type"] == "notice" and "database" in notice["message"]
        assert (await socket_.receive_output())["code"] == 4013


@pytest.mark.django_db
def test_a_bug_answers_the_json_error_shape_on_the_api(client, monkeypatch):
    from playground.accounts import permissions

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(permissions, "owned_scenarios", broken)
    client.raise_request_exception = False
    answer = client.get("/api/scenarios")
    assert answer.status_code == 500 and answer["Content-Type"] == "application/json"
    assert answer.json()["errors"][0].startswith("(server): the server failed")
