"""What the benchmarks share: servers (a live Daphne or scripts/cluster on a fresh database, of
this tree or of a git worktree of another revision), play-socket clients, percentiles and
tables."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

import psutil
import requests
import websockets

ROOT = Path(__file__).resolve().parent.parent

# Load benchmarks connect every simulated visitor from loopback, one client address: they
# raise the per-address quotas (playground/live/quotas.py, sized for a class) with these
# settings. bench/abuse.py does not: those quotas are what it measures.
ONE_ADDRESS_FOR_ALL = {f"PLAYGROUND_{name}": "100000" for name in (
    "RUNS_PER_ADDRESS", "ANON_RUNS_PER_ADDRESS", "SOCKETS_PER_ADDRESS",
    "ANON_SOCKETS_PER_ADDRESS")}


def free_port(count: int = 1) -> int:
    """A port free on loopback, with the `count` - 1 after it free too (scripts/cluster's
    web processes listen on consecutive ports)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if all(_free(port + i) for i in range(1, count)):
            return port
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextmanager
def live_server(root: Path = ROOT, **settings: str):
    """Daphne (of the checkout at `root`) in a subprocess on a free port, with a fresh
    migrated SQLite database; yields (url, env): env points at that database, for scripts
    that set data up. `settings` are extra environment variables of the server
    (PLAYGROUND_MAX_RUNS="100")."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        env = {**os.environ, **settings, "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=root,
                       env=env, check=True, capture_output=True)
        url = f"http://127.0.0.1:{free_port()}"
        with daphne(root, env, url, Path(tmp) / "daphne.log", 30):
            yield url, env


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def table(head: list[str], rows: list[tuple]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


# --------------------------------------------------------------------------- servers

@contextmanager
def worktree(rev: str):
    """A checkout of `rev` in a temporary directory, with this one's .venv and the compiled
    engine built from `rev`'s own sources (simulations/compiled.py uses no other): this
    checkout's build/ when they are the same, else one compiled for them once and kept in
    build/baselines/<digest> (a few minutes the first time)."""
    path = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT,
                   check=True, capture_output=True)
    try:
        (path / ".venv").symlink_to(ROOT / ".venv")
        engine = _baseline_engine(path)
        if engine is not None:
            (path / "build").mkdir(exist_ok=True)
            (path / "build" / "engine").symlink_to(engine)
        yield path
    finally:
        for link in (".venv", "build/engine"):  # the links, never what they point at
            (path / link).unlink(missing_ok=True)
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT,
                       check=False, capture_output=True)


def _baseline_engine(path: Path) -> Path | None:
    """The compiled engine for the sources at `path` (None: it runs as plain Python)."""
    spec = importlib.util.spec_from_file_location("_engine_stamp",
                                                  ROOT / "simulations" / "compiled.py")
    compiled = importlib.util.module_from_spec(spec)  # alone: not the engine's imports
    spec.loader.exec_module(compiled)
    want = {**compiled.stamp(), "sources": compiled.source_digest(path / "simulations")}
    digest = want["sources"]
    for engine in (ROOT / "build" / "engine", ROOT / "build" / "baselines" / digest):
        stamp = engine / "stamp.json"
        if stamp.exists() and json.loads(stamp.read_text()) == want:
            return engine
    if not (path / "scripts" / "build_engine.py").exists():
        return None
    print(f"compiling the engine of the baseline ({digest[:12]}) ...", flush=True)
    built = subprocess.run([sys.executable, "scripts/build_engine.py"], cwd=path,
                           capture_output=True, text=True)
    if built.returncode:
        print(f"the baseline's engine did not compile; it runs as plain Python:\n"
              f"{built.stdout[-2000:]}{built.stderr[-2000:]}")
        return None
    kept = ROOT / "build" / "baselines" / digest
    kept.parent.mkdir(parents=True, exist_ok=True)
    (path / "build" / "engine").rename(kept)
    return kept


def known_commit(rev: str) -> bool:
    return not subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                              cwd=ROOT, capture_output=True).returncode


def alternately(baseline: str | None, repeat: int, measure) -> dict[str, list[float]]:
    """`measure(tree)` of this checkout and, with `baseline`, of a worktree of it (first),
    `repeat` times each, the trees alternating: {tree's name: figures}."""
    if baseline is not None and not known_commit(baseline):
        raise SystemExit(f"unknown revision {baseline}")
    with worktree(baseline) if baseline else nullcontext() as base:
        trees = {"this tree": ROOT} if base is None else {baseline: base, "this tree": ROOT}
        figures: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(repeat):
            for name, tree in trees.items():
                figures[name].append(measure(tree))
    return figures


def print_medians(figures: dict[str, list[float]], unit: str) -> None:
    """Each tree's median, as a multiple of the first tree's, and every figure."""
    first = statistics.median(next(iter(figures.values())))
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"  {name:>12}: {median:6.1f} {unit}  x{median / first:.2f}  "
              f"({', '.join(f'{v:.1f}' for v in values)})")


@contextmanager
def single_server(root: Path = ROOT, **settings: str):
    """One Daphne running the simulations itself, as scripts/run serves; yields
    ([url], {"web1": process}, env): env points at its database, for scripts that set data
    up."""
    with live_server(root, **settings) as (url, env):
        port = url.rsplit(":", 1)[1]
        daphne = next(p for p in psutil.Process().children(recursive=True)
                      if "daphne" in " ".join(p.cmdline()) and port in p.cmdline())
        yield [url], {"web1": daphne}, env


@contextmanager
def cluster(web: int, workers: int, root: Path = ROOT, graders: int = 0,
            database_url: str | None = None, **settings: str):
    """scripts/cluster (of the checkout at `root`) with its own Redis and database (a fresh
    SQLite file, or `database_url`: an empty database, see postgres_database); yields
    (urls, {role: process}, env) as single_server does. `graders`: `manage.py grader`
    processes (PLAYGROUND_GRADER=worker; 0: the web processes grade). `settings`: extra
    environment of every process."""
    logs = tempfile.mkdtemp(prefix="bench-cluster-logs-")  # kept, to read after a failure
    print(f"cluster logs in {logs}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        web_port = free_port(web)
        redis_port = free_port()
        while web_port <= redis_port < web_port + web:
            redis_port = free_port()
        env = {**os.environ, **settings,
               "DATABASE_URL": database_url or f"sqlite:///{tmp}/db.sqlite3",
               "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "CLUSTER_LOGS": logs}
        script = subprocess.Popen(
            [str(root / "scripts" / "cluster"), "--web", str(web), "--workers", str(workers),
             "--port", str(web_port), *(["--graders", str(graders)] if graders else [])],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            urls = []
            deadline = time.monotonic() + 90
            for line in script.stdout:
                line = line.strip()
                if line == "cluster ready":
                    break
                if line.startswith("http"):
                    urls.append(line.rstrip("/"))
                if time.monotonic() > deadline:
                    raise RuntimeError("the cluster did not come up in 90 s")
            if script.poll() is not None or not urls:
                raise RuntimeError(f"scripts/cluster failed; logs in {logs}")
            procs = {}
            for p in psutil.Process(script.pid).children(recursive=True):
                cmd = " ".join(p.cmdline())
                role = ("web" if "daphne" in cmd else "worker" if "simworker" in cmd
                        else "grader" if "manage.py grader" in cmd
                        else "redis" if "redis-server" in cmd else None)
                if role:
                    procs[f"{role}{sum(k.startswith(role) for k in procs) + 1}"] = p
            yield urls, procs, env
        finally:
            try:
                children = psutil.Process(script.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            script.terminate()
            try:
                script.wait(timeout=20)
            except subprocess.TimeoutExpired:
                script.kill()
                script.wait()
            # what it could not stop in time (a worker deep in a long simulation step)
            _gone, alive = psutil.wait_procs(children, timeout=5)
            for p in alive:
                with suppress(psutil.NoSuchProcess):
                    p.kill()


POSTGRES = "postgres://postgres@127.0.0.1:5432"  # the local server, trust auth


@contextmanager
def postgres_database(name: str):
    """A new, empty PostgreSQL database `name` (createdb; an existing one is an error, never
    reused), dropped at the end; yields its DATABASE_URL."""
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True,
                   capture_output=True, text=True)
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name],
                       check=False, capture_output=True)


@contextmanager
def web_process(root: Path, env: dict[str, str], url: str, graders: bool = False):
    """One more Daphne of scripts/cluster's kind (relaying runs to the workers) at `url`, as
    a supervisor restarts one that died; yields its psutil.Process, stops it at the end."""
    port = url.rsplit(":", 1)[1]
    env = {**env, "PLAYGROUND_RUNNER": "workers", "PYTHONUNBUFFERED": "1",
           **({"PLAYGROUND_GRADER": "worker"} if graders else {})}
    logs = Path(env.get("CLUSTER_LOGS", tempfile.gettempdir()))
    with daphne(root, env, url, logs / f"web{port}-restarted.log", 60) as server:
        yield psutil.Process(server.pid)


@contextmanager
def daphne(root: Path, env: dict[str, str], url: str, log_path: Path, up_within_s: float):
    """Daphne of the checkout at `root` serving at `url` as scripts/run serves it (glibc's
    malloc: docs/deploy.md), once /healthz answers; stopped at the end."""
    port = url.rsplit(":", 1)[1]
    log = open(log_path, "ab")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", port,
         "playground.asgi:application"], cwd=root, env={"PYTHONMALLOC": "malloc", **env},
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + up_within_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Daphne at {url} did not come up:\n"
                                       + log_path.read_text(errors="replace")[-4000:]) from None
                time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def rss(procs: dict[str, psutil.Process], role: str = "") -> int:
    """Resident memory of the processes whose name starts with `role` (a gone one: 0)."""
    total = 0
    for name, p in procs.items():
        if name.startswith(role):
            with suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
    return total


def cpu_seconds(procs: dict[str, psutil.Process]) -> dict[str, float]:
    out = {}
    for name, p in procs.items():
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[name] = t.user + t.system
    return out


def cpu_seconds_tree(procs: dict[str, psutil.Process]) -> dict[str, float]:
    """cpu_seconds, each process with its children counted in (a grader simulates in a
    child process of its own)."""
    out = {}
    for name, p in procs.items():
        try:
            family = [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        total = 0.0
        for q in family:
            with suppress(psutil.NoSuchProcess):
                t = q.cpu_times()
                total += t.user + t.system
        out[name] = total
    return out


# --------------------------------------------------------------------------- clients

def xff(ip: str) -> dict[str, str]:
    """The header a client behind the proxy sends (the server trusts it: behind_proxy)."""
    return {"X-Forwarded-For": ip}


def behind_proxy(root: Path) -> dict[str, str]:
    """The setting that makes the served tree read X-Forwarded-For from 127.0.0.1: main's
    PLAYGROUND_PROXY_HOPS, or PLAYGROUND_TRUSTED_PROXIES, which replaced it (and refuses it)."""
    if "PLAYGROUND_TRUSTED_PROXIES" in (root / "playground" / "settings.py").read_text():
        return {"PLAYGROUND_TRUSTED_PROXIES": "127.0.0.1"}
    return {"PLAYGROUND_PROXY_HOPS": "1"}


def failure(exc: BaseException) -> str:
    """What refused or broke a connection, as a short code to count."""
    if isinstance(exc, websockets.exceptions.InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, websockets.exceptions.InvalidHandshake):
        return "handshake failed"
    if isinstance(exc, websockets.exceptions.ConnectionClosed):
        return f"closed {exc.rcvd.code}" if exc.rcvd else "closed"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | requests.Timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError | requests.ConnectionError):
        return "refused" if "refused" in str(exc).lower() else "reset"
    if isinstance(exc, ConnectionError | OSError):
        return "reset"
    return type(exc).__name__


# A classroom made through the ORM (run with the served tree's environment): an instructor
# ("teacher", CLASS_PASSWORD), a classroom and one assignment with `brief` and `goals`.
CLASS_PASSWORD = "bench-password-1"
CLASS_SETUP = """
import json, sys, django
django.setup()
from django.contrib.auth.models import User
from playground.classrooms.models import Assignment, Classroom
brief, goals = json.loads(sys.argv[1]), json.loads(sys.argv[2])
teacher = User.objects.create_user("teacher", password=sys.argv[3])
room = Classroom.objects.create(name="Bench")
room.instructors.add(teacher)
a = Assignment.objects.create(classroom=room, title="Bench", brief=brief, goals=goals)
print(json.dumps({"code": room.code, "join_id": room.join_id, "assignment": a.share_id}))
"""


def make_classroom(root: Path, env: dict[str, str], brief: dict, goals: dict) -> dict:
    """{"code", "join_id", "assignment"} of a new classroom (CLASS_SETUP)."""
    setup = subprocess.run(
        [sys.executable, "-c", CLASS_SETUP, json.dumps(brief), json.dumps(goals),
         CLASS_PASSWORD], cwd=root, check=True, text=True, capture_output=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "playground.settings"})
    return json.loads(setup.stdout.strip().splitlines()[-1])


def form_post(http: requests.Session, url: str, path: str, **data: str) -> requests.Response:
    """A form posted as a browser does (the CSRF token from the cookie), not followed."""
    data["csrfmiddlewaretoken"] = http.cookies.get("csrftoken", "")
    return http.post(url + path, data=data, timeout=30, allow_redirects=False)


def join_class(http: requests.Session, url: str, code: str, name: str) -> requests.Response:
    """/join with the code, then the display name: the 302 that seats the browser, or the
    answer that refused it."""
    page = http.get(f"{url}/join", params={"code": code}, timeout=30)
    if not page.ok or "/join/" not in page.url:
        return page
    return form_post(http, url, page.url.removeprefix(url), display_name=name)


def log_in(http: requests.Session, url: str, username: str, password: str) -> requests.Response:
    http.get(f"{url}/accounts/login", timeout=30)
    return form_post(http, url, "/accounts/login", username=username, password=password)


def cookie_header(http: requests.Session) -> dict[str, str]:
    """A session's cookies for a websocket handshake."""
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in http.cookies)}


# --------------------------------------------------------------------------- play sockets

ACK_S = 0.25  # viewers ack like player.js
SLOW_READ_S = 0.1  # a slow viewer takes one message off its socket this often: 10 a
# second while 15 are published, so it falls behind until the server holds frames back


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws/play/"


async def connect(url: str, headers: dict[str, str] | None = None, timeout: float = 30,
                  close_timeout: float = 10):
    """A play socket; `headers` are extra (X-Forwarded-For: a client behind a proxy)."""
    return await websockets.connect(ws_url(url),
                                    additional_headers={"Origin": url, **(headers or {})},
                                    max_size=2**22, open_timeout=timeout,
                                    close_timeout=close_timeout)


class Viewer:
    """Joins a run, receives its frames and acks them as player.js does. A slow viewer takes
    a message off its socket only every SLOW_READ_S: the server must hold frames back."""

    def __init__(self, url: str, run_id: str, slow: bool):
        self.url, self.run_id, self.slow = url, run_id, slow
        self.delays: list[float] = []  # ms, publish to receive
        self.frames = self.keyframes = self.gaps = self.missed = 0
        self.arrivals: list[float] = []
        self.last_seq: int | None = None
        self.seqs: list[int] = []  # first and last frame seq received while recording
        self.recording = False
        self.error: str | None = None

    async def watch(self, stop: asyncio.Event, ws=None) -> None:
        """Until `stop`; on `ws` if given (a run's owner: it has its snapshot), else on a
        socket of its own that joins the run."""
        try:
            if ws is None:
                ws = await connect(self.url)
                await ws.send(json.dumps({"type": "join", "run_id": self.run_id}))
            async with ws:
                acked_at, to_ack = 0.0, None
                while not stop.is_set():
                    # like player.js: the latest frame is acked within ACK_S, even when no
                    # other message follows it (the server stops sending to a socket that
                    # leaves frames unacked for 2 s)
                    wait = 0.5 if to_ack is None else max(0.0, acked_at + ACK_S - time.time())
                    try:
                        text = await asyncio.wait_for(ws.recv(), wait)
                    except TimeoutError:
                        text = None
                    now = time.time()
                    if text is not None and (seq := self.received(text, now)) is not None:
                        to_ack = seq
                    if to_ack is not None and now - acked_at >= ACK_S:
                        await ws.send(json.dumps({"type": "ack", "run_id": self.run_id,
                                                  "seq": to_ack}))
                        acked_at, to_ack = now, None
                    if self.slow:
                        await asyncio.sleep(SLOW_READ_S)
        except Exception as exc:  # noqa: BLE001 (reported, not raised: a measurement)
            self.error = f"{type(exc).__name__}: {exc}"

    def received(self, text: str, now: float) -> int | None:
        """Counts a frame (parsed cheaply: 500 viewers get ~7,500 a second); its seq."""
        if not text.startswith('{"type": "frame"'):
            msg = json.loads(text)
            if msg["type"] == "snapshot":
                self.last_seq = msg["seq"]
            elif msg["type"] == "error":
                self.error = msg.get("message")
            return None
        at = text.index('"seq": ') + 7
        seq = int(text[at:text.index(",", at)])
        at = text.rindex('"sent_at": ') + 11
        sent_at = float(text[at:text.index("}", at)].split(",")[0])
        if self.recording:
            self.seqs[1:] = [seq] if self.seqs else [seq, seq]
            self.frames += 1
            self.arrivals.append(now)
            self.delays.append((now - sent_at) * 1000)
            self.keyframes += '"full": true' in text[-40:]
            if self.last_seq is not None and seq != self.last_seq + 1:
                self.gaps += 1
                self.missed += seq - self.last_seq - 1
        self.last_seq = seq
        return seq
