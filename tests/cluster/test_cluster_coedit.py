"""Co-editing across two web processes through Redis (issue 19): two Daphne processes on
REDIS_URL's server, database 15, keys under a prefix of this test's own (removed
afterwards). Editors on different processes converge; an edit the server acknowledged
survives its web process being killed before any save (the room's log in Redis). The web
processes run as in production (PLAYGROUND_RUNNER=workers: the pub/sub channel layer of
playground/fenced/layers.py); no simulation worker is needed to co-edit."""

import asyncio
import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from pycrdt import Doc
from websockets.asyncio.client import connect

from playground.coedit.ydoc import apply_document, to_document
from tests.conftest import ROOT, redis_url
from tests.e2e.test_editor import small_design

pytestmark = pytest.mark.redis

SETUP = """
import django, sys
django.setup()
from playground.models import Scenario
doc = __import__("json").loads(sys.argv[1])
row = Scenario.objects.create(document=doc, title=doc["name"], workspace="x" * 64,
                              edit_token=sys.argv[2])
print(row.share_id)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def two_web_processes(tmp):
    address = urlunsplit(urlsplit(redis_url())._replace(path="/15"))
    prefix = f"test-coedit-{secrets.token_hex(4)}:"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
           "REDIS_URL": address, "PLAYGROUND_REDIS_PREFIX": prefix,
           "PLAYGROUND_CACHE_PREFIX": prefix, "PLAYGROUND_RUNNER": "workers",
           "DJANGO_SETTINGS_MODULE": "playground.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    procs, urls = {}, []
    try:
        for _ in range(2):
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            log = (tmp / f"web{port}.log").open("wb")
            procs[url] = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                 "playground.asgi:application"], cwd=ROOT, env=env, stdout=log,
                stderr=subprocess.STDOUT)
            urls.append(url)
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"{url} did not come up")
                    time.sleep(0.1)
        yield {"urls": urls, "procs": procs, "env": env}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        with contextlib.suppress(redis.RedisError):
            r = redis.Redis.from_url(address)
            keys = list(r.scan_iter(match=f"{prefix}*"))
            if keys:
                r.delete(*keys)


async def join(url: str, token: str):
    ws = await connect(url.replace("http://", "ws://") + f"/ws/coedit/e/{token}/",
                       origin=url, max_size=2**22)
    welcome = await until(ws, "welcome")
    doc = Doc()
    doc.apply_update(base64.b64decode(welcome["state"]))
    return ws, doc


async def until(ws, kind: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if message["type"] == kind:
            return message


async def send_edit(ws, doc: Doc, change) -> None:
    before = doc.get_state()
    document = to_document(doc)
    change(document)
    apply_document(doc, document)
    await ws.send(json.dumps({"type": "update", "update": base64.b64encode(
        doc.get_update(before)).decode()}))
    await until(ws, "accepted")


def component(document, cid):
    return next(c for c in document["components"] if c["id"] == cid)


async def test_editors_on_two_processes_converge_and_a_killed_process_loses_nothing(tmp_path):
    design = small_design()
    token = secrets.token_urlsafe(24)
    with two_web_processes(tmp_path) as cluster:
        share_id = subprocess.run(
            [sys.executable, "-c", SETUP, json.dumps(design), token], cwd=ROOT,
            env=cluster["env"], check=True, capture_output=True, text=True).stdout.strip()
        url_a, url_b = cluster["urls"]
        ada, ada_doc = await join(url_a, token)
        bob, bob_doc = await join(url_b, token)

        # concurrent: one component's two fields, and another component
        await send_edit(ada, ada_doc, lambda d: component(d, "app1")["params"].update(
            workers=11))
        from_ada = await until(bob, "update")  # applied after Bob's own edit: concurrent
        await send_edit(bob, bob_doc, lambda d: (
            component(d, "app1").update(label="App one"),
            component(d, "db")["params"].update(read_ms=3)))
        bob_doc.apply_update(base64.b64decode(from_ada["update"]))
        ada_doc.apply_update(base64.b64decode((await until(ada, "update"))["update"]))
        merged = to_document(ada_doc)
        assert merged == to_document(bob_doc)
        assert component(merged, "app1")["params"]["workers"] == 11
        assert component(merged, "app1")["label"] == "App one"
        assert component(merged, "db")["params"]["read_ms"] == 3

        # Bob leaves (process B saves); Ada edits on A, acknowledged; A dies before saving.
        await bob.close()
        await send_edit(ada, ada_doc, lambda d: d.update(name="kept through a crash"))
        cluster["procs"][url_a].send_signal(signal.SIGKILL)
        cluster["procs"][url_a].wait()
        with contextlib.suppress(Exception):
            await ada.close()
        # Ada comes back through B, which opens the room from Redis: nothing is lost.
        again, doc = await join(url_b, token)
        assert to_document(doc) == to_document(ada_doc)
        assert to_document(doc)["name"] == "kept through a crash"
        await again.close()
        # ...and B, the last to leave, saved it.
        deadline = time.monotonic() + 10
        while True:
            with urllib.request.urlopen(f"{url_b}/api/scenarios/{share_id}") as answer:
                saved = json.loads(answer.read())
            if saved["document"]["name"] == "kept through a crash" \
                    or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert saved["document"] == to_document(doc)
