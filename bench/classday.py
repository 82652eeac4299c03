"""Class-day benchmark (issue #14): a class of students behind one address working on one
assignment for --minutes, with the instructor's dashboard open, on scripts/cluster with its
simulation workers and grading processes; a chaos drill and a web process killed (SIGKILL)
and restarted halfway.

Run from the repository root:

    .venv/bin/python bench/classday.py                   # 60 students (3 in Chromium), 10 min
    .venv/bin/python bench/classday.py --minutes 1 --students 8 --browsers 1   # a quick try
    .venv/bin/python bench/classday.py --baseline REV    # REV first, then this tree

Every student joins with the class code (all from one address, X-Forwarded-For behind a
trusted proxy, as nginx would send it), opens the assignment and builds a design step by step
(a component, then its links: some steps leave it incomplete), autosaving 1.5 s after each
edit as static/playground/assignment.js does; runs it on the play socket with `assignment`
(acking frames like player.js), tweaks it live, stops it, builds on; submits near the end and
polls for the grade; keeps editing until the end of the class. Clients reconnect with
player.js's backoff and resend unsaved edits. The first --browsers students are real
Chromium pages of the editor (Debian's /usr/bin/chromium, Playwright), the rest protocol
clients. The report: edits lost (each student's last edit against what the server holds at
the end), submissions graded and submit-to-grade time, dashboard update delays, frames per
student per second, the drill, the kill, errors by status or code, CPU per process. See
bench/README.md. Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ACK_S,
    CLASS_PASSWORD,
    ROOT,
    Viewer,
    behind_proxy,
    cluster,
    connect,
    cookie_header,
    cpu_seconds_tree,
    failure,
    join_class,
    known_commit,
    log_in,
    make_classroom,
    percentile,
    postgres_database,
    table,
    web_process,
    worktree,
    xff,
)

sys.path.insert(0, str(ROOT))
from simulations import ScenarioError, validate  # noqa: E402

CLASS_IP = "198.51.100.20"  # the school's one address
CHROMIUM = "/usr/bin/chromium"
BACKOFF_S = (0.5, 1, 2, 4, 8, 15)  # player.js's reconnect backoff (plus up to 30% jitter)
SAVE_AFTER_S = 1.5  # assignment.js: a save 1.5 s after the last edit
POLL_S = 1.5  # assignment.js: submissions polled while one is being graded
PING_S = 20  # the seat socket's presence ping
WAIT_S = 10.0  # the longest a client waits for one answer
GRADE_GRACE_S = 90  # after the class, how long grading may still finish
SAVE_GRACE_S = 30  # after the class, how long an unsaved edit is still sent again (the tab
# stays open)
RESTART_AFTER_S = 5  # a supervisor restarts the killed web process after this long
DRILL_TARGET = "app1"  # every student's design has it once it runs (Plan)
MiB = 2**20

BRIEF = {"format": "playground.scenario/v1", "name": "Class day", "duration_s": 900,
         "components": [{"id": "users", "kind": "client", "position": {"x": 0, "y": 200},
                         "params": {"rate_rps": 100}}],
         "links": []}
GOALS = {"p99_ms_max": 250, "success_ratio_min": 0.99}


def canon(doc) -> str:
    return json.dumps(doc, sort_keys=True)


def is_valid(doc: dict) -> bool:
    try:
        validate(json.loads(json.dumps(doc)))
    except ScenarioError:
        return False
    return True


def backoff(attempt: int, rng: random.Random) -> float:
    return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)] * (1 + rng.random() * 0.3)


# --------------------------------------------------------------------------- the design

class Plan:
    """How a student builds: a balancer, app1 and a database, then more services; each
    component is added first (the design is then incomplete: it is not reachable) and linked
    by the next steps. Parameter tweaks in between, and while the design runs."""

    def __init__(self, rng: random.Random):
        self.rng, self.apps = rng, 0
        self.todo = [("lb", "load_balancer", {}), ("link", "users", "lb"),
                     ("app1", "service", {"workers": 4, "service_ms": 20}),
                     ("link", "lb", "app1"),
                     ("db", "database", {"workers": 8, "read_ms": 2, "write_ms": 5}),
                     ("link", "app1", "db")]
        self.apps = 1

    def next(self, doc: dict) -> dict:
        """The design after the next edit."""
        doc = json.loads(json.dumps(doc))
        if not self.todo:
            if self.rng.random() < 0.3 and self.apps > 0:
                return self.tweak(doc)[0]
            self.apps += 1
            app = f"app{self.apps}"
            self.todo = [(app, "service", {"workers": 4, "service_ms": 20}),
                         ("link", "lb", app), ("link", app, "db")]
        what, a, b = self.todo.pop(0)
        if what == "link":
            doc["links"].append({"from": a, "to": b})
        else:
            n = len(doc["components"])
            doc["components"].append({"id": what, "kind": a, "params": b,
                                      "position": {"x": 200 * (n % 4), "y": 120 * (n // 4)}})
        return doc

    def unfinished(self, doc: dict) -> list[dict]:
        """For a third of the students, the last edits before the end of the class: up to
        the next component added and not linked yet (an incomplete design)."""
        steps = []
        if self.rng.random() < 1 / 3:
            while not steps or is_valid(steps[-1]):
                steps.append(self.next(steps[-1] if steps else doc))
        return steps

    def tweak(self, doc: dict) -> tuple[dict, str, dict]:
        """A service's workers changed: (the design, its id, the new params)."""
        doc = json.loads(json.dumps(doc))
        apps = [c for c in doc["components"] if c["kind"] == "service"]
        if not apps:
            return self.next(doc), "", {}
        c = self.rng.choice(apps)
        c["params"] = {**c["params"], "workers": self.rng.randint(2, 8)}
        return doc, c["id"], {"workers": c["params"]["workers"]}


# --------------------------------------------------------------------------- the class

class Class:
    """What every client counts, and the times the dashboard delays are measured from."""

    def __init__(self, args, urls: list[str], room: dict, t0: float):
        self.args, self.urls, self.room, self.t0 = args, urls, room, t0
        self.pool = ThreadPoolExecutor(2 * args.students + 8)  # blocking HTTP calls
        self.counts: dict[str, Counter] = defaultdict(Counter)  # what -> outcome -> n
        self.saves: dict[tuple[str, str], float] = {}  # (name, updated_at) -> sent at
        self.run_starts: dict[str, float] = {}  # run id -> start sent at
        self.submits: dict[int, tuple[str, float]] = {}  # submission -> (name, sent at)
        self.drill_sent: float | None = None
        self.kill_at: float | None = None
        self.back_at: float | None = None
        self.killed_url = urls[0]

    def count(self, what: str, outcome) -> None:
        self.counts[what][str(outcome)] += 1

    async def call(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def at(self, fraction: float) -> float:
        """The wall time `fraction` of the class in."""
        return self.t0 + fraction * self.args.minutes * 60


async def sleep_until(t: float, stop: asyncio.Event | None = None) -> None:
    left = t - time.time()
    if left <= 0:
        return
    if stop is None:
        await asyncio.sleep(left)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), left)


class Student:
    """A protocol client behaving as the assignment editor does (assignment.js, player.js)."""

    def __init__(self, i: int, cls: Class, stop: asyncio.Event):
        self.cls, self.stop = cls, stop
        self.name = f"Student {i + 1}"
        self.url = cls.urls[i % len(cls.urls)]
        self.rng = random.Random(cls.args.seed * 1000 + i)
        self.plan = Plan(self.rng)
        self.http = requests.Session()
        self.http.headers.update(xff(CLASS_IP))
        self.share = cls.room["assignment"]
        self.seated_at: float | None = None
        self.doc: dict | None = None
        self.edits = 0
        self.last_edit = 0.0
        self.changed = asyncio.Event()
        self.saved: str | None = None  # the design as the server last took it
        self.refused: str | None = None  # as the server last refused it (400): a draft
        self.editing = True
        self.last_save = "none"  # how the last autosave went
        # the play socket
        self.ws = None
        self.run_id: str | None = None
        self.token: str | None = None
        self.live_since: float | None = None
        self.live_s = 0.0
        self.viewers: list[Viewer] = []
        self.starting: asyncio.Future | None = None
        self.frame_after_kill: float | None = None  # on a socket opened after the kill
        self.connected_at = 0.0
        self.live_at_drill = False
        self.drills: list[tuple[str, float]] = []  # (action, received at)
        self.applied: dict[str, float] = {}  # drill action -> its command came back at
        # submissions
        self.sub_id: int | None = None
        self.graded_seen: float | None = None

    # -- HTTP -----------------------------------------------------------------------------
    def _api(self, method: str, path: str, body: dict | None):
        url = f"{self.url}/api/assignments/{self.share}/{path}"
        try:
            r = self.http.request(method, url, json=body, timeout=WAIT_S, headers={
                "X-CSRFToken": self.http.cookies.get("csrftoken", "")})
        except requests.RequestException as exc:
            return failure(exc), None, None
        try:
            data = r.json()
        except ValueError:
            data = None
        return r.status_code, data, r.headers.get("Retry-After")

    async def api(self, what: str, method: str, path: str, body: dict | None = None):
        status, data, retry = await self.cls.call(self._api, method, path, body)
        self.cls.count(what, status if isinstance(status, str) else f"HTTP {status}")
        return status, data, retry

    async def open(self, until: float) -> bool:
        """Joins with the code (again after a refusal, as a person would), opens the
        editor and its design. False if never seated."""
        attempt = 0
        while time.time() < until and not self.stop.is_set():
            try:
                r = await self.cls.call(join_class, self.http, self.url, self.cls.room["code"],
                                        self.name)
                outcome = r.status_code
            except requests.RequestException as exc:
                r, outcome = None, failure(exc)
            self.cls.count("join", outcome if isinstance(outcome, str) else f"HTTP {outcome}")
            if outcome == 302:
                break
            wait = backoff(attempt, self.rng)
            if r is not None and r.headers.get("Retry-After", "").isdigit():
                wait = int(r.headers["Retry-After"]) + self.rng.random()
            attempt += 1
            await sleep_until(min(until, time.time() + wait), self.stop)
        else:
            return False
        self.seated_at = time.time()
        with contextlib.suppress(requests.RequestException):
            await self.cls.call(lambda: self.http.get(f"{self.url}/a/{self.share}",
                                                      timeout=WAIT_S))
        while time.time() < until and not self.stop.is_set():
            status, data, _ = await self.api("open the design", "GET", "work")
            if status == 200:
                self.doc = data["document"]
                self.saved = canon(self.doc)
                return True
            await asyncio.sleep(backoff(attempt, self.rng))
            attempt += 1
        return False

    # -- editing and autosave ----------------------------------------------------------------
    def edit(self, doc: dict) -> None:
        self.doc = doc
        self.edits += 1
        self.last_edit = time.monotonic()
        self.changed.set()

    async def autosave(self, until: float) -> None:
        """assignment.js: the design is PUT 1.5 s after the last edit. A save that failed
        (no answer, 5xx, 429) is sent again with backoff until it is taken; one refused
        (400: not valid yet) is kept in the browser as a draft, as the editor does."""
        attempt = 0
        while time.time() < until:
            if not self.changed.is_set():
                if not self.editing:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 1.0)
                continue
            while (left := self.last_edit + SAVE_AFTER_S - time.monotonic()) > 0:
                await asyncio.sleep(left)
            self.changed.clear()
            doc = self.doc
            text = canon(doc)
            if text in (self.saved, self.refused):
                continue
            sent = time.time()
            status, data, retry = await self.api("autosave", "PUT", "work", {"document": doc})
            self.last_save = status if isinstance(status, str) else f"HTTP {status}"
            if status == 200:
                self.saved, attempt = text, 0
                self.cls.saves[(self.name, data["updated_at"])] = sent
                continue
            if status == 400:
                self.refused = text
                continue
            if status in (403, 404):  # the seat is gone: nothing will save
                return
            wait = backoff(attempt, self.rng)
            if status == 429 and (retry or "").isdigit():
                wait = int(retry) + self.rng.random()
            attempt += 1
            self.changed.set()  # unsaved: send again (the newest design by then)
            await asyncio.sleep(max(0.0, min(wait, until - time.time())))

    # -- the play socket ---------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        return {**xff(CLASS_IP), **cookie_header(self.http)}

    async def play(self) -> None:
        """player.js: connects, reconnects with backoff, joins its run again with the token."""
        attempt = 0
        while not self.stop.is_set():
            try:
                ws = await connect(self.url, self.headers(), WAIT_S, close_timeout=2)
            except Exception as exc:  # noqa: BLE001 (counted; the editor tries again)
                self.cls.count("play socket", "connect " + failure(exc))
                await sleep_until(time.time() + backoff(attempt, self.rng), self.stop)
                attempt += 1
                continue
            attempt = 0
            self.connected_at = time.time()
            self.cls.count("play socket", "connected")
            try:
                self.ws = ws
                if self.run_id is not None and self.live_since is not None:
                    await ws.send(json.dumps({"type": "join", "run_id": self.run_id,
                                              "token": self.token}))
                await self.read(ws)
            except websockets.exceptions.ConnectionClosed as exc:
                self.cls.count("play socket", failure(exc))
            finally:
                self.ws = None
                if self.starting is not None and not self.starting.done():
                    self.starting.set_result("socket closed")
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2)
            if not self.stop.is_set():
                await sleep_until(time.time() + backoff(attempt, self.rng), self.stop)
                attempt += 1

    async def read(self, ws) -> None:
        acked_at, to_ack = 0.0, None
        while not self.stop.is_set():
            wait = 0.5 if to_ack is None else max(0.0, acked_at + ACK_S - time.time())
            try:
                text = await asyncio.wait_for(ws.recv(), wait)
            except TimeoutError:
                text = None
            now = time.time()
            if text is not None:
                if text.startswith('{"type": "frame"'):
                    if self.viewers and self.live_since is not None:
                        to_ack = self.viewers[-1].received(text, now)
                        if self.cls.kill_at and self.frame_after_kill is None \
                                and self.live_since < self.cls.kill_at < self.connected_at:
                            self.frame_after_kill = now
                else:
                    self.message(json.loads(text), now)
            if to_ack is not None and now - acked_at >= ACK_S and self.run_id:
                await ws.send(json.dumps({"type": "ack", "run_id": self.run_id,
                                          "seq": to_ack}))
                acked_at, to_ack = now, None

    def message(self, msg: dict, now: float) -> None:
        kind = msg.get("type")
        if kind == "snapshot":
            if msg.get("token"):
                self.run_id, self.token = msg["run_id"], msg["token"]
            if self.viewers and msg.get("run_id") == self.run_id:
                self.viewers[-1].last_seq = msg.get("seq")
            if self.starting is not None and not self.starting.done():
                self.starting.set_result("ok")
        elif kind == "command":
            action = (msg.get("command") or {}).get("action")
            if any(a == action for a, _ in self.drills) and action not in self.applied:
                self.applied[action] = now
        elif kind == "ended" and msg.get("run_id") == self.run_id:
            self.cls.count("runs ended", msg.get("reason"))
            self.run_over(now)
        elif kind == "error":
            self.cls.count("play errors", msg.get("code"))
            if self.starting is not None and not self.starting.done() and \
                    msg.get("ref") == "start":
                self.starting.set_result(msg.get("code"))
            if msg.get("code") == "unknown_run" and msg.get("ref") == "join":
                self.run_over(now)

    def run_over(self, now: float) -> None:
        if self.live_since is not None:
            self.live_s += now - self.live_since
            self.live_since = None

    async def send(self, msg: dict) -> bool:
        ws = self.ws
        if ws is None:
            return False
        try:
            await ws.send(json.dumps(msg))
        except websockets.exceptions.ConnectionClosed:
            return False
        return True

    async def start_run(self) -> None:
        loop = asyncio.get_running_loop()
        self.starting = loop.create_future()
        sent = time.time()
        if not await self.send({"type": "start", "scenario": self.doc,
                                "assignment": self.share}):
            self.cls.count("run start", "offline")
            return
        try:
            outcome = await asyncio.wait_for(asyncio.shield(self.starting), WAIT_S)
        except TimeoutError:
            outcome = "timeout"
        self.cls.count("run start", outcome)
        if outcome == "ok":
            self.cls.run_starts[self.run_id] = sent
            viewer = Viewer(self.url, self.run_id, slow=False)
            viewer.recording = True
            self.viewers.append(viewer)
            self.live_since = time.time()

    async def stop_run(self) -> None:
        if self.run_id:
            await self.send({"type": "control", "run_id": self.run_id, "action": "stop"})
        self.run_over(time.time())

    # -- the seat socket (presence, the chaos drill) ---------------------------------------
    async def seat(self) -> None:
        retry = 0
        url = self.url.replace("http://", "ws://") + f"/ws/seat/{self.share}/"
        while not self.stop.is_set():
            try:
                async with websockets.connect(
                        url, additional_headers={"Origin": self.url, **self.headers()},
                        open_timeout=WAIT_S, close_timeout=2) as ws:
                    retry = 0
                    await ws.send(json.dumps({"type": "watching", "run_id": self.run_id
                                              if self.live_since else None}))
                    pinged = time.time()
                    while not self.stop.is_set():
                        try:
                            msg = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                        except TimeoutError:
                            msg = None
                        if msg and msg.get("type") == "drill":
                            await self.drill(msg["command"])
                        if time.time() - pinged > PING_S:
                            await ws.send(json.dumps({"type": "ping"}))
                            pinged = time.time()
            except Exception as exc:  # noqa: BLE001 (counted; assignment.js tries again)
                self.cls.count("seat socket", failure(exc))
                if isinstance(exc, websockets.exceptions.ConnectionClosed) and exc.rcvd \
                        and exc.rcvd.code == 4003:
                    return
            retry += 1
            await sleep_until(time.time() + min(2 ** retry, 15), self.stop)

    async def drill(self, command: dict) -> None:
        """assignment.js: applied to this tab's own run if it is running."""
        self.drills.append((command.get("action"), time.time()))
        if command.get("action") == "fail":
            self.live_at_drill = self.live_since is not None
        if self.live_since is not None and self.run_id:
            await self.send({"type": "command", "run_id": self.run_id, "command": command})

    # -- a class day ---------------------------------------------------------------------------
    async def submit(self, until: float) -> None:
        """Submits the design as it is (completed first if it is not valid), polls for the
        grade like assignment.js; a refusal other than 400 is tried again."""
        while not is_valid(self.doc):
            self.edit(self.plan.next(self.doc))
            await asyncio.sleep(self.rng.uniform(2, 5))
        attempt = 0
        while time.time() < until:
            sent, doc = time.time(), self.doc
            status, data, retry = await self.api("submit", "POST", "submissions",
                                                 {"document": doc})
            if status == 202:
                self.sub_id = data["id"]
                # the submission is now the saved work: the design as submitted (edits made
                # meanwhile, even if autosaved, were overwritten: save them again)
                self.saved = canon(doc)
                self.changed.set()
                self.cls.submits[self.sub_id] = (self.name, sent)
                break
            if isinstance(status, int) and status < 500 and status != 429:
                return
            wait = int(retry) if status == 429 and (retry or "").isdigit() else \
                backoff(attempt, self.rng)
            attempt += 1
            await asyncio.sleep(wait)
        else:
            return
        while time.time() < until + GRADE_GRACE_S:
            await asyncio.sleep(POLL_S)
            status, data, _ = await self.api("poll submissions", "GET", "submissions")
            if status == 200:
                mine = next((s for s in data["results"] if s["id"] == self.sub_id), None)
                if mine and mine["state"] in ("done", "failed"):
                    self.graded_seen = time.time()
                    self.cls.count("graded", mine["state"])
                    return

    async def day(self, arrive: float, submit_at: float, stop_editing: float,
                  end: float) -> None:
        await sleep_until(arrive, self.stop)
        last_edit_by = (stop_editing + end) / 2  # the last autosave has time to land
        if not await self.open(stop_editing):
            return
        background = [asyncio.create_task(self.autosave(end + SAVE_GRACE_S)),
                      asyncio.create_task(self.play()), asyncio.create_task(self.seat())]
        grading = None
        run_until = 0.0
        try:
            while time.time() < stop_editing and not self.stop.is_set():
                now = time.time()
                if grading is None and now >= submit_at:
                    grading = asyncio.create_task(self.submit(end))
                elif self.live_since is not None and now >= run_until:
                    await self.stop_run()
                elif self.live_since is not None:  # the topology is locked: parameters only
                    doc, target, params = self.plan.tweak(self.doc)
                    self.edit(doc)
                    if target:
                        await self.send({"type": "command", "run_id": self.run_id, "command": {
                            "action": "set", "target": target, "params": params}})
                else:
                    self.edit(self.plan.next(self.doc))
                    if is_valid(self.doc) and self.rng.random() < 0.5:
                        await self.start_run()
                        run_until = time.time() + self.rng.uniform(30, 90)
                await sleep_until(time.time() + self.rng.uniform(4, 12), self.stop)
            if self.live_since is None:  # a third run out of time mid-step
                for doc in self.plan.unfinished(self.doc):
                    if time.time() > last_edit_by:
                        break
                    self.edit(doc)
                    await sleep_until(time.time() + self.rng.uniform(2, 4), self.stop)
            self.editing = False
            if grading is None and not self.stop.is_set():  # a late arrival submits now
                grading = asyncio.create_task(self.submit(end))
            await sleep_until(end, self.stop)
            self.run_over(time.time())
            await asyncio.wait([background[0]],
                               timeout=max(0.0, end + SAVE_GRACE_S - time.time()) + 1)
            if grading is not None:
                await grading
        finally:
            for task in background:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

    async def server_copy(self) -> str | None:
        """The design the server holds for this student at the end."""
        for url in self.cls.urls:
            self.url = url
            status, data, _ = await self.api("final read", "GET", "work")
            if status == 200:
                return canon(data["document"])
        return None

    def frames(self) -> int:
        return sum(v.frames for v in self.viewers)


# --------------------------------------------------------------------------- browsers

JOIN_FIELD = "input[name=display_name]"


class BrowserStudent:
    """The assignment editor itself in Chromium: edits arrive as Design -> Import JSON (a
    whole design at a time, through the same store, autosave and player as any edit)."""

    def __init__(self, i: int, cls: Class, stop: asyncio.Event, browser):
        self.cls, self.stop, self.browser = cls, stop, browser
        self.name = f"Student {i + 1}"
        self.url = cls.urls[i % len(cls.urls)]
        self.rng = random.Random(cls.args.seed * 1000 + i)
        self.plan = Plan(self.rng)
        self.doc = json.loads(json.dumps(BRIEF))
        self.edits = 0
        self.errors: list[str] = []
        self.final: tuple[str | None, str | None] = (None, None)  # (editor, server)
        self.frames = 0
        self.live_s = 0.0
        self.seated_at: float | None = None
        self.submitted = False

    async def day(self, arrive: float, submit_at: float, stop_editing: float,
                  end: float) -> None:
        await sleep_until(arrive, self.stop)
        context = await self.browser.new_context(viewport={"width": 1280, "height": 800},
                                                 extra_http_headers=xff(CLASS_IP))
        context.set_default_timeout(WAIT_S * 2000)
        page = await context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)[:100]))
        try:
            await self.join(page, stop_editing)
            if self.seated_at is None:
                return
            await page.goto(f"{self.url}/a/{self.cls.room['assignment']}")
            await page.wait_for_function("() => document.body.classList.contains('ready')")
            running_since = None
            run_until, f0 = 0.0, 0
            while time.time() < stop_editing and not self.stop.is_set():
                now = time.time()
                if running_since is not None and now >= run_until:
                    await page.get_by_test_id("stop").click()
                    await self.ran(page, running_since, f0)
                    running_since = None
                elif not self.submitted and now >= submit_at and is_valid(self.doc):
                    await page.get_by_test_id("submit-assignment").click()
                    self.submitted = True
                elif running_since is None:
                    self.doc = self.plan.next(self.doc)
                    await self.load(page, self.doc)
                    if is_valid(self.doc) and self.rng.random() < 0.5:
                        f0 = await page.evaluate(
                            "() => window.playground.player.stats.framesApplied")
                        await page.get_by_test_id("play").click()
                        running_since, run_until = time.time(), time.time() + \
                            self.rng.uniform(30, 90)
                await sleep_until(time.time() + self.rng.uniform(4, 12), self.stop)
            if running_since is not None:
                await page.get_by_test_id("stop").click()
                await self.ran(page, running_since, f0)
            for doc in self.plan.unfinished(self.doc):
                if time.time() > (stop_editing + end) / 2:  # the last autosave has time
                    break
                self.doc = doc
                await self.load(page, doc)
                await sleep_until(time.time() + self.rng.uniform(2, 4), self.stop)
            await sleep_until(end, self.stop)
            self.final = tuple(await page.evaluate("""async (share) => {
              const mine = JSON.stringify(window.playground.store.doc);
              const r = await fetch(`/api/assignments/${share}/work`);
              return [mine, r.ok ? JSON.stringify((await r.json()).document) : null];
            }""", self.cls.room["assignment"]))
            self.final = tuple(canon(json.loads(x)) if x else None for x in self.final)
        except Exception as exc:  # noqa: BLE001 (a measurement: counted, the class goes on)
            self.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        finally:
            await context.close()

    async def ran(self, page, since: float, frames_before: int) -> None:
        self.live_s += time.time() - since
        self.frames += await page.evaluate(
            "() => window.playground.player.stats.framesApplied") - frames_before

    async def join(self, page, until: float) -> None:
        attempt = 0
        while time.time() < until and not self.stop.is_set():
            await page.goto(f"{self.url}/join?code={self.cls.room['code']}")
            if await page.locator(JOIN_FIELD).count():
                await page.fill(JOIN_FIELD, self.name)
                async with page.expect_navigation():
                    await page.locator(f"form:has({JOIN_FIELD}) button[type=submit]").click()
                if "/c/" in page.url:
                    self.seated_at = time.time()
                    self.cls.count("join (browser)", "ok")
                    return
            self.cls.count("join (browser)", "refused")
            await asyncio.sleep(backoff(attempt, self.rng) * 4)
            attempt += 1

    async def load(self, page, doc: dict) -> None:
        async with page.expect_file_chooser() as chooser:
            await page.get_by_test_id("file-menu").click()
            await page.get_by_test_id("menu-import").click()
        await (await chooser.value).set_files(files=[{
            "name": "step.json", "mimeType": "application/json",
            "buffer": json.dumps(doc).encode()}])
        self.edits += 1


# --------------------------------------------------------------------------- the instructor

class Dashboard:
    """The instructor's dashboard socket: what it hears, and when."""

    def __init__(self, cls: Class, url: str, stop: asyncio.Event):
        self.cls, self.url, self.stop = cls, url, stop
        self.http = requests.Session()
        self.http.headers.update(xff(CLASS_IP))
        self.ws = None
        self.work: dict[tuple[str, str], float] = {}  # (name, updated_at) -> heard at
        self.last_work: dict[str, str] = {}  # name -> updated_at of the newest heard
        self.first_digest: dict[str, float] = {}  # run id -> heard at
        self.digest_age: list[float] = []  # s, publish to heard
        self.graded: dict[int, float] = {}
        self.drill_acked: float | None = None

    async def run(self) -> None:
        r = await self.cls.call(log_in, self.http, self.url, "teacher", CLASS_PASSWORD)
        self.cls.count("instructor log in", f"HTTP {r.status_code}")
        url = self.url.replace("http://", "ws://") + \
            f"/ws/dashboard/{self.cls.room['join_id']}/"
        retry = 0
        while not self.stop.is_set():
            try:
                async with websockets.connect(url, additional_headers={
                        "Origin": self.url, **xff(CLASS_IP), **cookie_header(self.http)},
                        open_timeout=WAIT_S, close_timeout=2, max_size=2**22) as ws:
                    self.ws, retry = ws, 0
                    self.cls.count("dashboard socket", "connected")
                    while not self.stop.is_set():
                        try:
                            text = await asyncio.wait_for(ws.recv(), 1.0)
                        except TimeoutError:
                            continue
                        self.heard(json.loads(text), time.time())
            except Exception as exc:  # noqa: BLE001 (counted; dashboard.js tries again)
                self.cls.count("dashboard socket", failure(exc))
            finally:
                self.ws = None
            await sleep_until(time.time() + min(2 ** retry, 15), self.stop)
            retry += 1

    def heard(self, msg: dict, now: float) -> None:
        kind = msg.get("type")
        if kind == "work":
            key = (msg["name"], msg["design"]["updated_at"])
            self.work.setdefault(key, now)
            self.last_work[msg["name"]] = max(self.last_work.get(msg["name"], ""), key[1])
        elif kind == "digests":
            for d in msg["digests"]:
                self.first_digest.setdefault(d.get("run_id"), now)
                if d.get("at"):
                    self.digest_age.append(now - d["at"])
        elif kind == "graded":
            self.graded.setdefault(msg["submission"], now)
        elif kind == "drill_sent":
            self.drill_acked = now
        elif kind == "error":
            self.cls.count("dashboard errors", msg.get("code"))

    async def drill(self, command: dict) -> bool:
        ws = self.ws
        if ws is None:
            self.cls.count("drill", "dashboard offline")
            return False
        await ws.send(json.dumps({"type": "drill", "command": command}))
        self.cls.count("drill", "sent")
        return True


# --------------------------------------------------------------------------- a measurement

class Sampler:
    """CPU seconds (with children) and RSS of every server process, this client and the
    browsers, every 2 s; a process that dies keeps its last reading."""

    def __init__(self, procs: dict):
        self.procs = procs
        self.first: dict[str, tuple[float, float]] = {}
        self.last: dict[str, tuple[float, float]] = {}
        self.rss: dict[str, int] = {}

    def others(self) -> dict[str, psutil.Process]:
        me = psutil.Process()
        out = {"bench client": me}
        for i, p in enumerate(c for c in me.children() if "chrom" in " ".join(c.cmdline())
                              or "playwright" in " ".join(c.cmdline())):
            out[f"browsers{'' if i == 0 else i + 1}"] = p
        return out

    def sample(self) -> None:
        now = time.time()
        everything = {**self.procs, **self.others()}
        cpu = cpu_seconds_tree(everything)
        cpu["bench client"] = sum(psutil.Process().cpu_times()[:2])
        for name, seconds in cpu.items():
            self.first.setdefault(name, (now, seconds))
            self.last[name] = (now, seconds)
            with contextlib.suppress(psutil.NoSuchProcess):
                self.rss[name] = everything[name].memory_info().rss

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.sample()
            await sleep_until(time.time() + 2, stop)

    def rows(self) -> list[tuple[str, str, str]]:
        out = []
        for name, (t1, c1) in self.last.items():
            t0, c0 = self.first[name]
            if t1 - t0 >= 1:
                out.append((name, f"{(c1 - c0) / (t1 - t0) * 100:.0f}%",
                            f"{self.rss.get(name, 0) / MiB:.0f} MiB"))
        return out


async def kill_and_restart(cls: Class, procs: dict, root: Path, env: dict, graders: int,
                           stack: contextlib.ExitStack, stop: asyncio.Event) -> None:
    """SIGKILL the first web process halfway (just after the drill), start it again
    RESTART_AFTER_S later on the same port, as a supervisor would."""
    await sleep_until(cls.at(0.5) + 5, stop)
    if stop.is_set():
        return
    port = cls.killed_url.rsplit(":", 1)[1]
    name = next(n for n, p in procs.items() if n.startswith("web") and port in p.cmdline())
    victim = procs.pop(name)
    cls.kill_at = time.time()
    victim.kill()
    await asyncio.sleep(RESTART_AFTER_S)
    try:
        procs["web1 restarted"] = await asyncio.to_thread(
            stack.enter_context, web_process(root, env, cls.killed_url, graders > 0))
        cls.back_at = time.time()
    except Exception as exc:  # noqa: BLE001 (reported)
        cls.count("restart", f"failed: {exc}")


async def chaos_drill(cls: Class, dashboard: Dashboard, stop: asyncio.Event) -> None:
    await sleep_until(cls.at(0.5), stop)
    if stop.is_set():
        return
    cls.drill_sent = time.time()
    await dashboard.drill({"action": "fail", "target": DRILL_TARGET})
    await sleep_until(cls.at(0.5) + min(20, cls.args.minutes * 6), stop)
    await dashboard.drill({"action": "recover", "target": DRILL_TARGET})


async def class_day(args, urls: list[str], procs: dict, env: dict, root: Path,
                    graders: int) -> dict:
    room = await asyncio.to_thread(make_classroom, root, env, BRIEF, GOALS)
    t0 = time.time() + 2
    cls = Class(args, urls, room, t0)
    length = args.minutes * 60
    end = t0 + length
    stop = asyncio.Event()
    sampler = Sampler(procs)
    dashboard = Dashboard(cls, urls[-1], stop)
    rng = random.Random(args.seed)
    arrive_over = min(60, length / 5)
    stop_editing = end - min(30, length / 6)
    students: list = []
    with contextlib.ExitStack() as stack:
        browser = pw = None
        if args.browsers:
            from playwright.async_api import async_playwright

            pw = await async_playwright().start()
            browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                               args=["--no-sandbox", "--disable-gpu"])
        try:
            for i in range(args.students):
                students.append(BrowserStudent(i, cls, stop, browser) if i < args.browsers
                                else Student(i, cls, stop))
            background = [asyncio.create_task(sampler.run(stop)),
                          asyncio.create_task(dashboard.run())]
            events = [asyncio.create_task(chaos_drill(cls, dashboard, stop)),
                      asyncio.create_task(kill_and_restart(cls, procs, root, env, graders,
                                                           stack, stop))]
            days = [asyncio.create_task(s.day(
                t0 + arrive_over * i / args.students,
                t0 + length * rng.uniform(0.7, 0.85), stop_editing, end)) for i, s in
                enumerate(students)]
            print(f"  class of {args.students} for {args.minutes:g} min from "
                  f"{time.strftime('%H:%M:%S')} ...", file=sys.stderr, flush=True)
            _done, late = await asyncio.wait(days, timeout=length + GRADE_GRACE_S + 60)
            for task in late:  # every wait is bounded: should not happen
                task.cancel()
            await asyncio.gather(*events, return_exceptions=True)
            finals = {}
            for s in students:
                if isinstance(s, Student) and s.seated_at is not None:
                    finals[s.name] = await s.server_copy()
            stop.set()
            await asyncio.wait(background, timeout=20)
        finally:
            stop.set()
            if browser is not None:
                await browser.close()
                await pw.stop()
            cls.pool.shutdown(wait=False, cancel_futures=True)
    return {"cls": cls, "students": students, "finals": finals, "dashboard": dashboard,
            "cpu": sampler.rows(), "graders": graders}


# --------------------------------------------------------------------------- report

def ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 0.5) * 1000:.0f} / {percentile(values, 0.95) * 1000:.0f} ms " \
        f"(n={len(values)})"


def counts(c: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])) or "-"


def rows(r: dict) -> list[tuple[str, str]]:
    if "error" in r:
        return [("measurement failed", r["error"])]
    cls, dash = r["cls"], r["dashboard"]
    protocol = [s for s in r["students"] if isinstance(s, Student)]
    browsers = [s for s in r["students"] if isinstance(s, BrowserStudent)]
    seated = [s for s in r["students"] if s.seated_at is not None]
    # edits lost: the last edit of each seated student against the server's copy at the end
    lost, drafts, lost_drafts, unread = [], 0, 0, 0
    shown = saving = 0  # students with a save taken: the dashboard shows the newest
    for s in protocol:
        if s.seated_at is None or s.doc is None:
            continue
        mine, theirs = canon(s.doc), r["finals"].get(s.name)
        draft = not is_valid(s.doc)
        drafts += draft
        if theirs is None:
            unread += 1
        elif mine != theirs:
            lost.append(f"{s.name} (last save {s.last_save})")
            lost_drafts += draft
        newest = max((k[1] for k in cls.saves if k[0] == s.name), default=None)
        if newest is not None:
            saving += 1
            shown += dash.last_work.get(s.name) == newest
    for b in browsers:
        if b.seated_at is None:
            continue
        mine, theirs = b.final
        draft = mine is not None and not is_valid(json.loads(mine))
        drafts += draft
        if mine is None or theirs is None:
            unread += 1
        elif mine != theirs:
            lost.append(f"{b.name} (Chromium)")
            lost_drafts += draft
    checked = sum(s.seated_at is not None for s in r["students"]) - unread
    # grading
    graded = {sub: t for sub, t in dash.graded.items() if sub in cls.submits}
    to_dash = [t - cls.submits[sub][1] for sub, t in graded.items()]
    by_name = {s.name: s for s in protocol}
    to_student = [by_name[n].graded_seen - sent for n, sent in cls.submits.values()
                  if by_name[n].graded_seen]
    # dashboard delays
    save_delay = [dash.work[k] - sent for k, sent in cls.saves.items() if k in dash.work]
    run_delay = [dash.first_digest[rid] - sent for rid, sent in cls.run_starts.items()
                 if rid in dash.first_digest]
    # frames
    fps = sorted(s.frames() / s.live_s for s in protocol if s.live_s >= 5)
    bfps = [b.frames / b.live_s for b in browsers if b.live_s >= 5]
    # the drill
    running = [s for s in protocol if any(a == "fail" for a, _ in s.drills)]
    got = [t - cls.drill_sent for s in protocol for a, t in s.drills[:1]
           if cls.drill_sent and a == "fail"]
    applied = [s.applied["fail"] - cls.drill_sent for s in protocol
               if "fail" in s.applied and cls.drill_sent]
    # the kill
    resumed = [s.frame_after_kill - cls.kill_at for s in protocol
               if s.frame_after_kill and cls.kill_at and s.url == cls.killed_url]
    errors = []
    for what in sorted(cls.counts):
        errors.append((what, counts(cls.counts[what])))
    out = [
        ("students seated (joined with the code); the last at",
         f"{len(seated)} of {len(r['students'])} ({len(browsers)} in Chromium); "
         f"{max((s.seated_at for s in seated), default=cls.t0) - cls.t0:.0f} s"),
        ("EDITS LOST (last edit not on the server at the end; target 0)",
         f"{len(lost)} of {checked} checked" + (f": {', '.join(lost[:8])}" if lost else "")
         + (f"; {unread} could not be read" if unread else "")),
        ("  of which the last edit was an incomplete draft",
         f"{lost_drafts} (drafts among the last edits: {drafts} of {checked})"),
        ("edits made (everyone) / autosaves taken (protocol clients)",
         f"{sum(s.edits for s in r['students'])} / {len(cls.saves)}"),
        ("dashboard shows each student's newest save", f"{shown} of {saving} with one"),
        ("submissions: sent / graded on the dashboard",
         f"{len(cls.submits)} / {len(graded)}"),
        ("submit -> grade shown to the student (polls 1.5 s) p50 / p95", ms(to_student)),
        ("submit -> dashboard hears the grade p50 / p95", ms(to_dash)),
        ("dashboard delay: autosave sent -> thumbnail update p50 / p95", ms(save_delay)),
        ("dashboard delay: run started -> first digest p50 / p95", ms(run_delay)),
        ("dashboard delay: digest published -> heard p50 / p95", ms(dash.digest_age)),
        ("frames per student per second while running, min / median / mean",
         f"{fps[0]:.1f} / {statistics.median(fps):.1f} / {statistics.mean(fps):.1f} "
         f"(n={len(fps)})" if fps else "-"),
        ("frames per second applied in the browsers",
         ", ".join(f"{x:.1f}" for x in bfps) or "-"),
        ("chaos drill: seat sockets that got it / running then / applied in the run",
         f"{len(running)} / {sum(s.live_at_drill for s in protocol)} / {len(applied)} "
         f"(of {len(protocol)})"),
        ("chaos drill: sent -> student p50 / p95; -> applied in the run", f"{ms(got)}; "
         f"{ms(applied)}"),
        ("web process killed (SIGKILL) at / answering again after",
         f"{cls.kill_at - cls.t0:.0f} s into the class / {cls.back_at - cls.kill_at:.1f} s"
         if cls.kill_at and cls.back_at else
         "not killed" if not cls.kill_at else "not restarted"),
        ("  its students running then: frames again after p50 / p95", ms(resumed)),
        ("browser errors", "; ".join(e for b in browsers for e in b.errors[:2]) or "none"),
    ]
    return out + [(f"outcomes: {w}", c) for w, c in errors]


def report(args, ours: dict, theirs: dict | None) -> None:
    print(f"\n== class day: {args.students} students ({args.browsers} in Chromium), "
          f"{args.minutes:g} min, scripts/cluster --web {args.web} --workers {args.workers} "
          f"--graders {args.graders}")
    if theirs is not None and theirs.get("graders", args.graders) != args.graders:
        print("(the baseline's scripts/cluster has no --graders: its web processes grade)")
    if theirs is None:
        table(["measure", "this tree"], rows(ours))
    else:
        before = dict(rows(theirs))
        table(["measure", f"baseline ({args.baseline})", "this tree"],
              [(m, before.get(m, ""), v) for m, v in rows(ours)])
    for name, r in (("baseline", theirs), ("this tree", ours)):
        if r and "cpu" in r:
            print(f"\nCPU per process ({name}): CPU seconds per wall second over the class "
                  "(% of one core), RSS at the end")
            table(["process", "CPU", "RSS"], r["cpu"])


def measure(args, root: Path) -> dict:
    graders = args.graders if "--graders" in (root / "scripts" / "cluster").read_text() else 0
    print(f"  on {'the baseline' if root != ROOT else 'this tree'} ...", file=sys.stderr,
          flush=True)
    try:
        with contextlib.ExitStack() as stack:
            database = stack.enter_context(postgres_database(args.postgres)) \
                if args.postgres else None
            for attempt in (1, 2):  # a port taken meanwhile by another program: again
                try:
                    urls, procs, env = stack.enter_context(cluster(
                        args.web, args.workers, root, graders=graders, database_url=database,
                        **behind_proxy(root)))
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
            return asyncio.run(class_day(args, urls, procs, env, root, graders))
    except Exception as exc:  # noqa: BLE001 (one failed measurement: report it)
        print(f"  failed: {exc}", file=sys.stderr)
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--browsers", type=int, default=3,
                        help="of the students, how many are Chromium pages of the editor")
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--graders", type=int, default=2)
    parser.add_argument("--postgres", metavar="DBNAME",
                        help="a new PostgreSQL database of this name on 127.0.0.1:5432 "
                        "(created, then dropped), as production runs; default: SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", metavar="REV", help="measure this revision first")
    args = parser.parse_args()
    if not (0.5 <= args.minutes <= 60 and 1 <= args.students <= 200
            and 0 <= args.browsers <= min(args.students, 10) and 1 <= args.web <= 8
            and 1 <= args.workers <= 8 and 0 <= args.graders <= 8):
        parser.error("bounded: 0.5-60 minutes, 1-200 students, at most 10 browsers (and no "
                     "more than students), 1-8 web processes and workers, 0-8 graders")
    if args.postgres and not args.postgres.replace("_", "").isalnum():
        parser.error("--postgres: a database name of letters, digits and _")
    if args.baseline and not known_commit(args.baseline):
        parser.error(f"--baseline {args.baseline}: no such commit in this repository")
    if args.browsers and not os.access(CHROMIUM, os.X_OK):
        print(f"{CHROMIUM} is missing: no browsers, protocol clients only", file=sys.stderr)
        args.browsers = 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    load = os.getloadavg()
    print(f"class day; load average {load[0]:.1f} on {os.cpu_count()} CPUs")
    theirs = None
    with worktree(args.baseline) if args.baseline else contextlib.nullcontext() as root:
        if root is not None:
            theirs = measure(args, root)
        ours = measure(args, ROOT)
    report(args, ours, theirs)


if __name__ == "__main__":
    main()
