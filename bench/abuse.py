"""Abuse benchmark (issue #13): does the server hold when one client misbehaves?

Run from the repository root:

    .venv/bin/python bench/abuse.py                      # all three scenarios, one Daphne
    .venv/bin/python bench/abuse.py --scenario attack --seconds 10 --heavy-services 20
    .venv/bin/python bench/abuse.py --cluster            # scripts/cluster --web 2 --workers 2
    .venv/bin/python bench/abuse.py --baseline REV --repeat 3   # REV first, then this tree

Scenarios, each on a fresh server (fresh SQLite database; with --cluster its own Redis):

- attack: a victim plays a small design and probes /healthz and /api/kinds while 6
  attackers, all from one address, for --seconds: step a paused heavy run by 60 s and seek a
  replay of it, play a heavy run at speed 100, reconnect and start 2 paused runs per socket,
  and POST /healthz with Content-Length 1 GiB (streaming at most --upload-mib).
- sockets: 2,000 play sockets opened (each answers a ping), then closed: server RSS.
- classroom: 60 students behind one address join a classroom with its code, sign up and log
  in, within 5 minutes.

Clients are told apart as behind a proxy: the server trusts X-Forwarded-For from 127.0.0.1
(PLAYGROUND_PROXY_HOPS=1, or PLAYGROUND_TRUSTED_PROXIES where that replaced it) and each
client sends its own (the attackers one address, the victim another, the class a third), as
nginx would (docs/deploy.md). Every connection is to 127.0.0.1, every loop is
bounded in count and time, and it stops by itself, servers and worktree removed. With
`--baseline REV` each scenario runs first on a git worktree of REV; `--repeat N` alternates N
times and shows the run with the median key figure. See bench/README.md. Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import resource
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ROOT,
    Viewer,
    behind_proxy,
    cluster,
    connect,
    cpu_seconds,
    failure,
    form_post,
    join_class,
    known_commit,
    log_in,
    make_classroom,
    percentile,
    rss,
    single_server,
    table,
    worktree,
    xff,
)

# Targets (issue #13)
TARGET_VICTIM_FPS = 10  # the victim's run, every 1 s window of the attack
TARGET_HEALTHZ_P95_MS = 250
TARGET_IDLE_AFTER_S = 10  # the CPU the attackers caused is gone this long after they leave
IDLE_MARGIN = 10  # percentage points of a core above the CPU before the attack = idle
TARGET_SOCKETS_MIB = 10
TARGET_CLASS_S = 300

ATTACKERS = 6
ATTACKER_IP = "203.0.113.66"  # all six: one anonymous client
VICTIM_IP = "198.51.100.10"
NEWCOMER_IP = "198.51.100.11"  # "the next person", trying to start a run during the attack
CLASS_IP = "198.51.100.20"  # a school's one address
PROBE_EVERY_S = 0.5
PROBE_TIMEOUT_S = 5.0  # a probe that times out counts as this long in the percentiles
WAIT_S = 10.0  # the longest any attacker waits for an answer before trying again
STEP_S = 60  # the most `control` `step` allows
GiB = 2**30
MiB = 2**20

VICTIM_DESIGN = {
    "format": "playground.scenario/v1", "name": "victim", "seed": 1, "duration_s": 3600,
    "components": [
        {"id": "users", "kind": "client", "params": {"rate_rps": 100}},
        {"id": "app", "kind": "service", "params": {"workers": 4, "service_ms": 10}},
    ],
    "links": [{"from": "users", "to": "app"}],
}


def heavy_design(services: int, rps: float) -> dict:
    """Heavy but legal: a client -> a balancer -> `services` services (64 workers, 1 ms)."""
    return {
        "format": "playground.scenario/v1", "name": "heavy", "seed": 1, "duration_s": 3600,
        "components": [
            {"id": "users", "kind": "client", "params": {"rate_rps": rps}},
            {"id": "lb", "kind": "load_balancer", "params": {}},
            *({"id": f"s{i}", "kind": "service", "params": {"workers": 64, "service_ms": 1}}
              for i in range(services)),
        ],
        "links": [{"from": "users", "to": "lb"},
                  *({"from": "lb", "to": f"s{i}"} for i in range(services))],
    }


# --------------------------------------------------------------------------- attackers

async def answer(ws, run_id: str | None, done, timeout: float) -> str:
    """Reads `ws` until a message about run_id satisfies done(message) ("ok") or an error
    comes ("its code"); "timeout" after `timeout`. Frames are acked, as a player does."""
    end = time.monotonic() + timeout
    while (left := end - time.monotonic()) > 0:
        try:
            msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if msg.get("type") == "frame":
            await ws.send(json.dumps({"type": "ack", "run_id": msg["run_id"],
                                      "seq": msg["seq"]}))
        if msg.get("type") == "error":
            return msg.get("code", "error")
        if (run_id is None or msg.get("run_id") == run_id) and done(msg):
            return "ok"
    return "timeout"


def is_snapshot(msg: dict) -> bool:
    return msg.get("type") == "snapshot"


def reached(t: float):
    """A message showing the run's clock at `t` (within a frame of it)."""
    def done(msg: dict) -> bool:
        status = msg.get("status") or {}
        return msg.get("type") in ("frame", "snapshot", "status") and \
            abs(status.get("t", -1e9) - t) < 1.0
    return done


async def start_run(ws, what: dict, timeout: float = WAIT_S) -> tuple[str, str | None]:
    """Starts a run (or a replay) on ws; ("ok" or the error's code, run id)."""
    await ws.send(json.dumps(what))
    got: dict = {}

    def done(msg: dict) -> bool:
        got.update(msg)
        return is_snapshot(msg)
    outcome = await answer(ws, None, done, timeout)
    return outcome, got.get("run_id") if outcome == "ok" else None


class Attacker:
    """One of the six, all from ATTACKER_IP; each of its loops runs until `stop_at`
    (monotonic) and counts what happened."""

    def __init__(self, url: str, heavy: dict, run_link: str | None, until_s: float,
                 upload_bytes: int, stop_at: float, guard: asyncio.Event):
        self.url, self.heavy, self.run_link, self.until_s = url, heavy, run_link, until_s
        self.upload_bytes, self.stop_at, self.guard = upload_bytes, stop_at, guard
        self.outcomes: dict[str, Counter] = {k: Counter() for k in
                                             ("step", "seek", "heavy", "hoard", "upload")}
        self.hoarded: list[float] = []  # when each hoarded run started (wall clock)
        self.uploaded: Counter = Counter()  # bytes of body sent, by outcome
        self.heavy_frames = 0

    def left(self) -> float:
        return self.stop_at - time.monotonic()

    def wait(self) -> float:
        """How long to wait for an answer: WAIT_S, or what is left of the attack."""
        return min(WAIT_S, max(0.1, self.left()))

    async def pause(self, seconds: float) -> None:
        """Between tries after a refusal: a tight loop would only take CPU from the server
        on a shared machine."""
        await asyncio.sleep(min(seconds, max(0.0, self.left())))

    async def all(self) -> None:
        await asyncio.gather(self.stepper(), self.seeker(), self.heavy_player(),
                             self.hoarder(), self.uploader())

    async def stepper(self) -> None:
        """Item 1: a paused heavy run stepped by 60 s as soon as the last step was answered
        (or WAIT_S passed)."""
        await self.steer("step", {"type": "start", "scenario": self.heavy, "paused": True},
                         lambda n: {"action": "step", "seconds": STEP_S}, lambda n: n * STEP_S)

    async def seeker(self) -> None:
        """Item 1: a paused replay of the heavy run sought to its end, back to 0, again."""
        if self.run_link is None:
            return
        await self.steer("seek", {"type": "replay", "run_link": self.run_link, "paused": True},
                         lambda n: {"action": "seek", "t": self.until_s * (n % 2)},
                         lambda n: self.until_s * (n % 2))

    async def steer(self, what: str, start: dict, control, clock) -> None:
        """Starts a run with `start`, then sends control(n) for n = 1, 2, ... waiting each
        time for the run's clock to reach clock(n); again on a new socket if one breaks."""
        while self.left() > 0:
            try:
                async with await connect(
                    self.url, xff(ATTACKER_IP), self.wait(), close_timeout=2) as ws:
                    outcome, run = await start_run(ws, start, self.wait())
                    self.outcomes[what]["start " + outcome] += 1
                    if run is None:
                        await self.pause(1.0)
                        continue
                    n = 0
                    while self.left() > 0:
                        n += 1
                        await ws.send(json.dumps({"type": "control", "run_id": run,
                                                  **control(n)}))
                        outcome = await answer(ws, run, reached(clock(n)), self.wait())
                        self.outcomes[what][outcome] += 1
                        if outcome not in ("ok", "timeout"):  # refused: try again soon
                            await self.pause(0.2)
            except Exception as exc:  # noqa: BLE001 (counted: the server may refuse us)
                self.outcomes[what]["socket " + failure(exc)] += 1
                await self.pause(0.5)

    async def heavy_player(self) -> None:
        """Item 3: a heavy run playing at speed 100, watched and acked like a browser."""
        while self.left() > 0:
            try:
                async with await connect(
                    self.url, xff(ATTACKER_IP), self.wait(), close_timeout=2) as ws:
                    outcome, run = await start_run(ws, {
                        "type": "start", "scenario": self.heavy, "speed": 100}, self.wait())
                    self.outcomes["heavy"]["start " + outcome] += 1
                    if run is None:
                        await self.pause(1.0)
                        continue
                    stop = asyncio.Event()
                    viewer = Viewer(self.url, run, slow=False)
                    viewer.recording = True
                    watching = asyncio.create_task(viewer.watch(stop, ws))
                    await asyncio.wait({watching}, timeout=max(0.0, self.left()))
                    stop.set()  # the end of the attack, or the server ended the socket
                    await asyncio.wait_for(watching, WAIT_S)
                    self.heavy_frames += viewer.frames
                    if viewer.error:
                        self.outcomes["heavy"][viewer.error[:40]] += 1
                        await self.pause(0.5)
            except Exception as exc:  # noqa: BLE001
                self.outcomes["heavy"]["socket " + failure(exc)] += 1
                await self.pause(0.5)

    async def hoarder(self) -> None:
        """Item 3: connect, start 2 paused heavy runs, hang up, again (runs outlive their
        socket for PLAYGROUND_IDLE_RUN_S)."""
        while self.left() > 0:
            try:
                async with await connect(
                    self.url, xff(ATTACKER_IP), self.wait(), close_timeout=2) as ws:
                    for _ in range(2):
                        outcome, _run = await start_run(ws, {
                            "type": "start", "scenario": self.heavy, "paused": True},
                            self.wait())
                        self.outcomes["hoard"][outcome] += 1
                        if outcome == "ok":
                            self.hoarded.append(time.time())
            except Exception as exc:  # noqa: BLE001
                self.outcomes["hoard"]["socket " + failure(exc)] += 1
            await self.pause(0.1)

    async def uploader(self) -> None:
        """Item 4: POST /healthz announcing 1 GiB, streamed until the server answers, closes
        or stops reading, up to upload_bytes a request; again until the end."""
        host, port = self.url.removeprefix("http://").split(":")
        while self.left() > 0 and not self.guard.is_set():
            outcome, sent = await self.upload(host, int(port))
            self.uploaded[outcome] += sent
            self.outcomes["upload"][outcome] += 1

    async def upload(self, host: str, port: int) -> tuple[str, int]:
        """One request: (what happened, bytes of body sent)."""
        chunk, sent, writer, reply = bytes(MiB), 0, None, None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    self.wait())
            writer.write(
                f"POST /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"X-Forwarded-For: {ATTACKER_IP}\r\nContent-Type: application/octet-stream"
                f"\r\nContent-Length: {GiB}\r\nConnection: close\r\n\r\n".encode())
            reply = asyncio.create_task(reader.read(64))  # the server may answer early
            while sent < self.upload_bytes and not reply.done():
                if self.left() <= 0 or self.guard.is_set():
                    reply.cancel()
                    return ("stopped by the RSS guard" if self.guard.is_set()
                            else "stopped at the end"), sent
                writer.write(chunk)
                try:
                    await asyncio.wait_for(writer.drain(), self.wait())
                except TimeoutError:
                    reply.cancel()
                    return ("server stopped reading" if self.left() > 0
                            else "stopped at the end"), sent
                sent += len(chunk)
            try:  # all of it sent (1 GiB): its answer; else whether it refused what came
                status = await asyncio.wait_for(reply, WAIT_S if sent == GiB else 1)
            except TimeoutError:
                return ("no answer" if sent == GiB else
                        f"not refused in {self.upload_bytes // MiB} MiB"), sent
            if not status:
                return "closed by server", sent
            code = status.split()[1].decode() if status.startswith(b"HTTP/") else "?"
            return f"answered {code}", sent
        except Exception as exc:  # noqa: BLE001 (counted)
            return f"{failure(exc)} by server", sent
        finally:
            if reply is not None:  # a read the server's reset ended: its error is counted
                reply.cancel()
                if reply.done() and not reply.cancelled():
                    reply.exception()
            if writer is not None:
                writer.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), 2)


def make_run_link(url: str, heavy: dict, until_s: float) -> tuple[str | None, str]:
    """A shared run of the heavy design (POST /api/runs, as the Share button does)."""
    try:
        with requests.Session() as http:
            http.headers.update(xff(ATTACKER_IP))
            http.get(url + "/", timeout=WAIT_S)
            answer = http.post(url + "/api/runs", timeout=WAIT_S, json={
                "document": heavy, "seed": 1, "commands": [], "until_s": until_s},
                headers={"X-CSRFToken": http.cookies.get("csrftoken", "")})
        if answer.status_code == 201:
            return answer.json()["id"], "ok"
        return None, f"HTTP {answer.status_code}"
    except requests.RequestException as exc:
        return None, failure(exc)


async def attack(opts: dict, urls: list[str], pids: list[int], out) -> dict:
    heavy = heavy_design(opts["heavy_services"], opts["heavy_rps"])
    link, link_outcome = await asyncio.to_thread(make_run_link, urls[0], heavy,
                                                 opts["until_s"])
    guard = asyncio.Event()
    procs = {str(pid): psutil.Process(pid) for pid in pids}
    guard_rss = rss(procs) + opts["rss_guard_mib"] * MiB
    started = time.time()
    out.put(started)  # the victim's side starts its newcomers now
    stop_at = time.monotonic() + opts["seconds"]
    attackers = [Attacker(urls[i % len(urls)], heavy, link, opts["until_s"],
                          opts["upload_mib"] * MiB, stop_at, guard) for i in range(ATTACKERS)]

    async def watch_rss() -> None:  # the old server grows by what it is sent: keep it sane
        while time.monotonic() < stop_at and not guard.is_set():
            if rss(procs) > guard_rss:
                guard.set()
            await asyncio.sleep(0.2)

    tasks = [asyncio.create_task(a.all()) for a in attackers]
    watcher = asyncio.create_task(watch_rss())
    _done, late = await asyncio.wait(tasks, timeout=opts["seconds"] + 3 * WAIT_S)
    for task in late:  # should not happen: every wait is bounded; never hang on it
        task.cancel()
    ended = time.time()
    watcher.cancel()
    outcomes: dict[str, Counter] = {k: Counter() for k in attackers[0].outcomes}
    for a in attackers:
        for k, counts in a.outcomes.items():
            outcomes[k].update(counts)
    return {"started": started, "ended": ended, "run_link": link_outcome,
            "outcomes": {k: dict(v) for k, v in outcomes.items()},
            "hoarded": sorted(t for a in attackers for t in a.hoarded),
            "uploaded": dict(sum((a.uploaded for a in attackers), Counter())),
            "guard_hit": guard.is_set(),
            "heavy_frames": sum(a.heavy_frames for a in attackers)}


def attack_process(opts: dict, urls: list[str], pids: list[int], out) -> None:
    """The attackers, in a process of their own: their CPU must not slow the victim's
    client, and the victim's measurement must not slow them."""
    try:
        out.put(asyncio.run(attack(opts, urls, pids, out)))
    except Exception as exc:  # noqa: BLE001 (told to the parent, which reports it)
        out.put({"error": f"the attackers failed: {type(exc).__name__}: {exc}"})


# --------------------------------------------------------------------------- the victim

class Sampler:
    """Server CPU time and RSS every 0.5 s."""

    def __init__(self, procs: dict):
        self.procs, self.samples = procs, []  # (wall time, CPU seconds, RSS bytes)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.samples.append((time.time(), sum(cpu_seconds(self.procs).values()),
                                 rss(self.procs)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    def cpu(self, start: float, end: float) -> float:
        """% of a core the server used between two wall times (nearest samples)."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return float("nan")
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]) * 100


async def probe(urls: list[str], stop: asyncio.Event, out: list) -> None:
    """GET /healthz and /api/kinds every PROBE_EVERY_S, whether or not the last ones were
    answered: (wall time, path, ms or None: failed)."""
    def get(url: str, path: str, t0: float) -> tuple[float, str, float | None]:
        try:
            r = requests.get(url + path, headers=xff(VICTIM_IP), timeout=PROBE_TIMEOUT_S)
            return t0, path, (time.time() - t0) * 1000 if r.ok else None
        except requests.RequestException:
            return t0, path, None

    loop = asyncio.get_running_loop()
    # enough threads for every probe that can be waiting (PROBE_TIMEOUT_S each)
    with ThreadPoolExecutor(int(4 * PROBE_TIMEOUT_S / PROBE_EVERY_S) + 2) as pool:
        pending, i = [], 0
        while not stop.is_set():
            url, t0 = urls[i % len(urls)], time.time()
            pending += [loop.run_in_executor(pool, get, url, path, t0)
                        for path in ("/healthz", "/api/kinds")]
            i += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_EVERY_S)
        out.extend(await asyncio.gather(*pending))


async def newcomers(url: str, until: float, out: Counter) -> None:
    """Every 5 s someone else starts a small run (then stops it): started, or refused how."""
    while time.monotonic() < until:
        t0 = time.monotonic()
        try:
            async with await connect(url, xff(NEWCOMER_IP), WAIT_S) as ws:
                outcome, run = await start_run(ws, {"type": "start", "scenario": VICTIM_DESIGN})
                out["started" if outcome == "ok" else outcome] += 1
                if run is not None:
                    await ws.send(json.dumps({"type": "control", "run_id": run,
                                              "action": "stop"}))
        except Exception as exc:  # noqa: BLE001
            out[failure(exc)] += 1
        await asyncio.sleep(max(0.0, min(5 - (time.monotonic() - t0), until - time.monotonic())))


async def run_attack(args, urls: list[str], procs: dict) -> dict:
    stop = asyncio.Event()
    sampler, probes = Sampler(procs), []
    background = [asyncio.create_task(sampler.run(stop)),
                  asyncio.create_task(probe(urls, stop, probes))]
    victim_ws = await connect(urls[0], xff(VICTIM_IP))
    outcome, run = await start_run(victim_ws, {"type": "start", "scenario": VICTIM_DESIGN}, 30)
    if run is None:
        raise RuntimeError(f"the victim's run did not start: {outcome}")
    victim = Viewer(urls[0], run, slow=False)
    victim.recording = True
    background.append(asyncio.create_task(victim.watch(stop, victim_ws)))
    await asyncio.sleep(args.warmup)

    opts = {k: getattr(args, k) for k in ("seconds", "heavy_services", "heavy_rps",
                                          "until_s", "upload_mib", "rss_guard_mib")}
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    process = ctx.Process(target=attack_process, daemon=True,
                          args=(opts, urls, [p.pid for p in procs.values()], out))
    process.start()
    newcomer_outcomes: Counter = Counter()
    comers = None
    try:
        result = await asyncio.to_thread(out.get, True, 120)  # the attack begins
        if not isinstance(result, dict):
            comers = asyncio.create_task(newcomers(urls[-1], time.monotonic() + args.seconds,
                                                   newcomer_outcomes))
            result = await asyncio.to_thread(out.get, True, args.seconds + 120)
    except queue.Empty:
        result = None
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if comers is not None:
        comers.cancel()
    if result is None:
        raise RuntimeError("the attackers did not report within their time")
    if "error" in result:
        raise RuntimeError(result["error"])
    await asyncio.sleep(args.cooldown)
    stop.set()
    await asyncio.wait(background, timeout=PROBE_TIMEOUT_S + WAIT_S)
    start, end = result["started"], result["ended"]
    return {**result, "victim": victim, "probes": probes,
            "sampler": sampler, "newcomers": dict(newcomer_outcomes), "warmup": args.warmup,
            "cooldown": args.cooldown, "window": (start, end)}


# --------------------------------------------------------------------------- sockets

async def run_sockets(args, urls: list[str], procs: dict) -> dict:
    """Opens args.sockets play sockets (100 at a time, from 100 addresses, each answering a
    ping), holds them all, closes them all; server RSS before, with them, and after."""
    await asyncio.sleep(1)
    start = rss(procs)
    outcomes: Counter = Counter()
    sockets = []

    async def one(i: int) -> None:
        try:
            ws = await connect(urls[i % len(urls)], xff(f"192.0.2.{i % 100 + 1}"), WAIT_S)
        except Exception as exc:  # noqa: BLE001
            outcomes[failure(exc)] += 1
            return
        sockets.append(ws)
        try:
            await ws.send(json.dumps({"type": "ping", "id": i}))
            outcomes["opened" if await answer(ws, None, lambda m: m.get("type") == "pong",
                                              WAIT_S) == "ok" else "no pong"] += 1
        except Exception as exc:  # noqa: BLE001
            outcomes[failure(exc)] += 1

    t0 = time.monotonic()
    for first in range(0, args.sockets, 100):
        await asyncio.gather(*(one(i) for i in range(first, min(first + 100, args.sockets))))
    peak = rss(procs)
    for first in range(0, len(sockets), 100):
        await asyncio.gather(*(asyncio.wait_for(ws.close(), 5)
                               for ws in sockets[first:first + 100]), return_exceptions=True)
    await asyncio.sleep(args.settle)
    return {"start": start, "peak": peak, "after": rss(procs), "outcomes": dict(outcomes),
            "seconds": time.monotonic() - t0}


# --------------------------------------------------------------------------- classroom

CLASS_BRIEF = {"format": "playground.scenario/v1", "name": "Brief", "duration_s": 60,
               "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 30}}]}


def student(url: str, code: str, i: int) -> tuple[str, float]:
    """Joins with the code, signs up, logs out and in again, as the forms do; ("ok" or the
    step that failed and how, seconds taken)."""
    t0 = time.monotonic()
    password = f"Bench-{i}-pw-7Qx!"
    step = "join"
    try:
        with requests.Session() as http:
            http.headers.update(xff(CLASS_IP))
            r = join_class(http, url, code, f"Student {i}")
            if r.status_code != 302:
                return f"join: HTTP {r.status_code}", time.monotonic() - t0
            step = "sign up"
            http.get(f"{url}/accounts/signup", timeout=30)
            r = form_post(http, url, "/accounts/signup", username=f"student{i}",
                          password1=password, password2=password)
            if r.status_code != 302:
                return f"sign up: HTTP {r.status_code}", time.monotonic() - t0
            step = "log in"
            r = form_post(http, url, "/accounts/logout")
            if r.status_code >= 400:
                return f"log out: HTTP {r.status_code}", time.monotonic() - t0
            r = log_in(http, url, f"student{i}", password)
            if r.status_code != 302:
                return f"log in: HTTP {r.status_code}", time.monotonic() - t0
    except requests.RequestException as exc:
        return f"{step}: {failure(exc)}", time.monotonic() - t0
    return "ok", time.monotonic() - t0


async def run_classroom(args, urls: list[str], env: dict, root: Path) -> dict:
    code = make_classroom(root, env, CLASS_BRIEF, {"p99_ms_max": 100})["code"]
    t0 = time.monotonic()

    def arrive(i: int) -> tuple[str, float, float]:
        time.sleep(i * args.class_spread / args.students)  # they come in over the spread
        outcome, took = student(urls[i % len(urls)], code, i)
        return outcome, took, time.monotonic() - t0

    with ThreadPoolExecutor(args.students) as pool:
        results = await asyncio.to_thread(lambda: list(pool.map(arrive, range(args.students))))
    return {"outcomes": dict(Counter(r[0] for r in results)),
            "ok_in_time": sum(r[0] == "ok" and r[2] <= TARGET_CLASS_S for r in results),
            "last": max(r[2] for r in results), "took": [r[1] for r in results]}


# --------------------------------------------------------------------------- report

def verdict(value: str, ok: bool | None) -> str:
    return value if ok is None else f"{value} ({'PASS' if ok else 'FAIL'})"


def counts(c: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])) or "-"


def ms_stats(probes: list, path: str, start: float, end: float) -> tuple[float, float, int]:
    """p50, p95 (timeouts and errors count as PROBE_TIMEOUT_S) and failures."""
    inside = [p for p in probes if p[1] == path and start <= p[0] < end]
    ms = [p[2] if p[2] is not None else PROBE_TIMEOUT_S * 1000 for p in inside]
    return percentile(ms, 0.5), percentile(ms, 0.95), sum(p[2] is None for p in inside)


def attack_rows(r: dict) -> list[tuple[str, str, str]]:
    """(measure, value with PASS/FAIL, target)."""
    start, end = r["window"]
    fps = [sum(start + k <= t < start + k + 1 for t in r["victim"].arrivals)
           for k in range(int(end - start))]
    fps_before = [sum(start - k - 1 <= t < start - k for t in r["victim"].arrivals)
                  for k in range(int(r["warmup"]) - 1)]
    s = r["sampler"]
    cpu_before = s.cpu(start - r["warmup"], start)
    cpu_after = s.cpu(end + TARGET_IDLE_AFTER_S, end + r["cooldown"])
    rss_start = next((x[2] for x in s.samples if x[0] >= start), float("nan"))
    hp50, hp95, hfail = ms_stats(r["probes"], "/healthz", start, end)
    kp50, kp95, kfail = ms_stats(r["probes"], "/api/kinds", start, end)
    kb50, _, _ = ms_stats(r["probes"], "/api/kinds", start - r["warmup"], start)
    held = max((sum(t - 60 < u <= t for u in r["hoarded"]) for t in r["hoarded"]), default=0)
    o = r["outcomes"]
    return [
        ("victim frames/s, 1 s windows: median / min (windows under target)",
         verdict(f"{statistics.median(fps) if fps else 0:.1f} / {min(fps, default=0)} "
                 f"({sum(f < TARGET_VICTIM_FPS for f in fps)} of {len(fps)}: "
                 f"{', '.join(str(k) + ' s' for k, f in enumerate(fps) if f < TARGET_VICTIM_FPS)})",
                 min(fps, default=0) >= TARGET_VICTIM_FPS),
         f"min >= {TARGET_VICTIM_FPS}"),
        ("victim frames/s before the attack (median)",
         f"{statistics.median(fps_before) if fps_before else 0:.1f}", "(15 published)"),
        ("victim socket", r["victim"].error or "open", ""),
        ("/healthz p50 / p95 (failed)", verdict(f"{hp50:.0f} / {hp95:.0f} ms ({hfail})",
                                                hp95 < TARGET_HEALTHZ_P95_MS),
         f"p95 < {TARGET_HEALTHZ_P95_MS} ms"),
        ("/api/kinds p50 / p95 (failed); p50 before",
         f"{kp50:.0f} / {kp95:.0f} ms ({kfail}); {kb50:.0f} ms", ""),
        ("server CPU % of a core: before / during / 0-10 s after",
         f"{cpu_before:.0f} / {s.cpu(start, end):.0f} / {s.cpu(end, end + 10):.0f}", ""),
        (f"server CPU {TARGET_IDLE_AFTER_S}-{r['cooldown']:g} s after the attack",
         verdict(f"{cpu_after:.0f}%", cpu_after <= cpu_before + IDLE_MARGIN),
         f"<= before + {IDLE_MARGIN}"),
        ("server RSS start / peak / after",
         f"{rss_start / MiB:.0f} / {max(x[2] for x in s.samples) / MiB:.0f} / "
         f"{s.samples[-1][2] / MiB:.0f} MiB", ""),
        ("newcomers starting a run (every 5 s)", counts(r["newcomers"]), "all started"),
        ("attackers: runs hoarded, most in 60 s", f"{len(r['hoarded'])}, {held}", ""),
        ("attackers: hoarding starts", counts(o["hoard"]), ""),
        ("attackers: step 60 s (answered = ok)", counts(o["step"]), ""),
        ("attackers: replay seek", counts(o["seek"]) + f"; run link {r['run_link']}", ""),
        ("attackers: heavy run at speed 100",
         counts(o["heavy"]) + f"; {r['heavy_frames']} frames", ""),
        ("attackers: POST /healthz announcing 1 GiB (mean MiB sent)",
         ", ".join(f"{k} {v} ({r['uploaded'].get(k, 0) / v / MiB:.0f})"
                   for k, v in sorted(o["upload"].items(), key=lambda kv: -kv[1])) or "-",
         ""),
    ]


def sockets_rows(r: dict) -> list[tuple[str, str, str]]:
    grew = (r["after"] - r["start"]) / MiB
    return [
        ("server RSS start / with them open / after",
         f"{r['start'] / MiB:.0f} / {r['peak'] / MiB:.0f} / {r['after'] / MiB:.0f} MiB", ""),
        ("server RSS after - start", verdict(f"{grew:+.1f} MiB", grew < TARGET_SOCKETS_MIB),
         f"< {TARGET_SOCKETS_MIB} MiB"),
        ("sockets", counts(r["outcomes"]), ""),
    ]


def classroom_rows(r: dict, students: int) -> list[tuple[str, str, str]]:
    return [
        (f"students done (join, sign up, log in) within {TARGET_CLASS_S} s",
         verdict(f"{r['ok_in_time']} of {students}", r["ok_in_time"] == students),
         "all"),
        ("outcomes", counts(r["outcomes"]), ""),
        ("seconds per student: median / max; last done at",
         f"{statistics.median(r['took']):.1f} / {max(r['took']):.1f}; {r['last']:.0f} s", ""),
    ]


KEY_NAMES = {"attack": "/healthz p95 (ms)", "sockets": "RSS growth (MiB)",
             "classroom": "students done"}
KEYS = {  # the figure by which --repeat picks its median run (lower is better)
    "attack": lambda r: ms_stats(r["probes"], "/healthz", *r["window"])[1],
    "sockets": lambda r: r["after"] - r["start"],
    "classroom": lambda r: -r["ok_in_time"],
}


def key(scenario: str, r: dict) -> float:
    return float("inf") if "error" in r else KEYS[scenario](r)


def rows(args, scenario: str, r: dict) -> list[tuple[str, str, str]]:
    if "error" in r:
        return [("measurement failed", r["error"], "")]
    if scenario == "attack":
        return attack_rows(r)
    if scenario == "sockets":
        return sockets_rows(r)
    return classroom_rows(r, args.students)


def report(args, scenario: str, ours: list[dict], theirs: list[dict]) -> None:
    mine = sorted(ours, key=lambda r: key(scenario, r))[(len(ours) - 1) // 2]
    print(f"\n== {scenario}")
    if len(ours) > 1:
        for name, results in (("baseline", theirs), ("this tree", ours)):
            if results:
                print(f"{name}, {KEY_NAMES[scenario]} of each run: " + ", ".join(
                    f"{abs(key(scenario, r)) / (MiB if scenario == 'sockets' else 1):.0f}"
                    for r in results))
    if not theirs:
        table(["measure", "this tree", "target"], rows(args, scenario, mine))
        return
    base = sorted(theirs, key=lambda r: key(scenario, r))[(len(theirs) - 1) // 2]
    before = {m: v for m, v, _t in rows(args, scenario, base)}
    table(["measure", f"baseline ({args.baseline})", "this tree", "target"],
          [(m, before.get(m, ""), v, t) for m, v, t in rows(args, scenario, mine)])


# --------------------------------------------------------------------------- main

def measure(args, scenario: str, root: Path) -> dict:
    settings = behind_proxy(root)
    servers = cluster(args.web, args.workers, root, **settings) if args.cluster else \
        single_server(root, **settings)
    print(f"  {scenario} on {'the baseline' if root != ROOT else 'this tree'} ...",
          file=sys.stderr, flush=True)
    try:
        with servers as (urls, procs, env):
            if scenario == "attack":
                return asyncio.run(run_attack(args, urls, procs))
            if scenario == "sockets":
                return asyncio.run(run_sockets(args, urls, procs))
            return asyncio.run(run_classroom(args, urls, env, root))
    except Exception as exc:  # noqa: BLE001 (one failed measurement: report it, go on)
        print(f"  {scenario} failed: {exc}", file=sys.stderr)
        return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("attack", "sockets", "classroom", "all"),
                        default="all")
    parser.add_argument("--cluster", action="store_true",
                        help="scripts/cluster (2 Daphne, 2 simworkers, Redis), not one Daphne")
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60, help="attack time")
    parser.add_argument("--warmup", type=float, default=5,
                        help="victim alone before the attack (its CPU is 'idle')")
    parser.add_argument("--cooldown", type=float, default=15, help="measured after it")
    parser.add_argument("--heavy-services", type=int, default=400)
    parser.add_argument("--heavy-rps", type=float, default=200_000)
    parser.add_argument("--until-s", type=float, default=600,
                        help="simulated length of the replay the attackers seek through")
    parser.add_argument("--upload-mib", type=int, default=1024,
                        help="most sent per POST /healthz (1 GiB is announced)")
    parser.add_argument("--rss-guard-mib", type=int, default=3072,
                        help="uploads stop once the server grew this much (a shared machine)")
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--settle", type=float, default=5,
                        help="seconds after closing the sockets before RSS is read")
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--class-spread", type=float, default=60,
                        help="the students arrive over this many seconds")
    parser.add_argument("--baseline", metavar="REV", help="measure this revision first")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not (0 < args.seconds <= 300 and 0 < args.warmup <= 60
            and TARGET_IDLE_AFTER_S + 2 <= args.cooldown <= 60
            and 1 <= args.heavy_services <= 500 and 0 < args.heavy_rps <= 1_000_000
            and 0 < args.until_s <= 3600 and 1 <= args.upload_mib <= 1024
            and 64 <= args.rss_guard_mib <= 8192 and 1 <= args.sockets <= 5000
            and 0 <= args.settle <= 60 and 1 <= args.students <= 200
            and 0 <= args.class_spread <= 240 and 1 <= args.repeat <= 5):
        parser.error("bounded: attack 1-300 s, cooldown 12-60 s, 1-500 heavy services, "
                     "until-s <= 3600, upload <= 1024 MiB, rss guard 64-8192 MiB, at most "
                     "5000 sockets, 200 students, class spread 240 s, 5 repeats")
    if args.baseline and not known_commit(args.baseline):
        parser.error(f"--baseline {args.baseline}: no such commit in this repository")
    # thousands of sockets, in this process and in the server it starts
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * args.sockets + 1024)),
                                                hard))
    scenarios = ("attack", "sockets", "classroom") if args.scenario == "all" \
        else (args.scenario,)
    load = os.getloadavg()
    where = f"scripts/cluster --web {args.web} --workers {args.workers}" if args.cluster \
        else "one Daphne (as scripts/run)"
    attack = f" (attack {args.seconds:g} s, heavy design {args.heavy_services} services at " \
        f"{args.heavy_rps:g} rps)" if "attack" in scenarios else ""
    print(f"{', '.join(scenarios)}{attack} on {where}; load average {load[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    ours: dict[str, list] = {s: [] for s in scenarios}
    theirs: dict[str, list] = {s: [] for s in scenarios}
    with worktree(args.baseline) if args.baseline else contextlib.nullcontext() as root:
        for _ in range(args.repeat):
            for scenario in scenarios:
                if root is not None:
                    theirs[scenario].append(measure(args, scenario, root))
                ours[scenario].append(measure(args, scenario, ROOT))
    for scenario in scenarios:
        report(args, scenario, ours[scenario], theirs[scenario])


if __name__ == "__main__":
    main()
