"""Co-editing benchmark (issue #19): many editors on one design, and several rooms on one
web process.

Run from the repository root:

    .venv/bin/python bench/coedit.py                       # both scenarios, 60 s each
    .venv/bin/python bench/coedit.py --scenario one        # 30 editors on one design
    .venv/bin/python bench/coedit.py --scenario ten        # 10 designs, 5 editors each
    .venv/bin/python bench/coedit.py --repeat 3 --seconds 30 --redis
    .venv/bin/python bench/coedit.py --baseline HEAD~1 --repeat 3   # alternately

Starts one Daphne (a fresh SQLite database; with `--redis` as scripts/cluster's web
processes run, PLAYGROUND_RUNNER=workers: the pub/sub channel layer and the co-editing log in
the local Redis at 127.0.0.1:6379, db 12, under a prefix of its own; no simulation worker is
needed here),
makes each design and its edit link through the API (POST /api/scenarios, POST
.../edit-link), and opens the editors' co-editing sockets on the link. Each editor keeps a
replica of the room's document with pycrdt (the server's library), as the browser does with
Yjs: every `--interval` (uniform between the two bounds) it makes an edit of its replica
(move a component, change a parameter, rename one, add a service and connect it, remove one
it added), sends the update, and applies what the others send. An update refused
`rate_limited` is sent again after a sync, as the browser does, and its delay runs from the
first try. Always exits 0; see bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402
    ONE_ADDRESS_FOR_ALL,
    ROOT,
    known_commit,
    live_server,
    percentile,
    table,
    worktree,
)
from pycrdt import Doc  # noqa: E402

from playground.coedit.ydoc import apply_document, to_document  # noqa: E402

TARGET_P95_MS = 150
SCENARIOS = {"one": (1, 30), "ten": (10, 5)}  # designs, editors each
REDIS_DB = 12


def generated_design(size: int) -> dict:
    """A design of `size` components: a client, two balancers, services and databases, on a
    grid, linked client -> balancers -> services -> databases."""
    components = [
        {"id": "users", "kind": "client", "label": "Users", "position": {"x": 40, "y": 300},
         "params": {"rate_rps": 200}},
        {"id": "lb1", "kind": "load_balancer", "position": {"x": 200, "y": 200},
         "params": {"algorithm": "round_robin"}},
        {"id": "lb2", "kind": "load_balancer", "position": {"x": 200, "y": 400},
         "params": {"algorithm": "least_connections"}},
    ]
    links = [{"from": "users", "to": "lb1"}, {"from": "users", "to": "lb2"}]
    databases = max(1, (size - 3) // 5)
    for d in range(databases):
        components.append({"id": f"db{d}", "kind": "database",
                           "position": {"x": 700, "y": 80 + 120 * d},
                           "params": {"workers": 4, "read_ms": 5, "write_ms": 10}})
    for s in range(size - 3 - databases):
        sid = f"app{s}"
        components.append({"id": sid, "kind": "service",
                           "position": {"x": 400 + 80 * (s % 3), "y": 60 + 40 * s},
                           "params": {"workers": 4, "service_ms": 10}})
        links += [{"from": f"lb{1 + s % 2}", "to": sid},
                  {"from": sid, "to": f"db{s % databases}", "latency_ms": 1}]
    return {"format": "playground.scenario/v1", "name": "co-editing bench", "seed": 1,
            "duration_s": 300, "components": components, "links": links}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Edit:
    room: int
    sender: int
    kind: str
    sent_at: float  # the first try (time.monotonic(): one clock, one process)
    update_bytes: int = 0  # the Yjs update
    message_bytes: int = 0  # the JSON message(s) sent
    seen: dict[int, float] = field(default_factory=dict)  # receiver -> delay, s
    fanned_bytes: int = 0  # bytes of every `update` message the others received
    recorded: bool = True


class Bench:
    """Every edit in flight, by its update's base64 text (the server forwards it as is)."""

    def __init__(self):
        self.edits: list[Edit] = []
        self.by_update: dict[str, list[Edit]] = {}
        self.refused = 0  # updates refused rate_limited
        self.errors: list[str] = []
        self.recording = False


class Editor:
    def __init__(self, bench: Bench, room: int, index: int, editors: int,
                 interval: tuple[float, float], seed: int):
        self.bench, self.room, self.index, self.editors = bench, room, index, editors
        self.interval = interval
        self.rng = random.Random(seed)
        self.doc = Doc()
        self.added: list[str] = []
        self.made = 0
        self.inflight: list[Edit] = []  # sent, not answered yet (answers come in order)
        self.pending: list[Edit] = []  # refused, waiting for the sync's answer
        self.welcomed = asyncio.Event()

    async def run(self, url: str, path: str, joined: asyncio.Event, start: asyncio.Event,
                  stop: asyncio.Event) -> None:
        try:
            async with websockets.connect(url.replace("http", "ws", 1) + path,
                                          additional_headers={"Origin": url},
                                          max_size=2**23, open_timeout=30) as ws:
                reader = asyncio.create_task(self.read(ws))
                await asyncio.wait({reader, asyncio.create_task(self.welcomed.wait())},
                                   timeout=30, return_when=asyncio.FIRST_COMPLETED)
                if not self.welcomed.is_set():
                    raise RuntimeError("no welcome")
                joined.set()
                await start.wait()
                await asyncio.sleep(self.rng.uniform(0, self.interval[1]))
                while not stop.is_set():
                    await self.edit(ws)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.rng.uniform(*self.interval))
                await asyncio.sleep(3)  # what is in flight arrives
                reader.cancel()
        except Exception as exc:  # noqa: BLE001 (reported: a measurement)
            self.bench.errors.append(f"editor {self.room}.{self.index}: "
                                     f"{type(exc).__name__}: {exc}")
            joined.set()

    async def read(self, ws) -> None:
        async for text in ws:
            now = time.monotonic()
            msg = json.loads(text)
            kind = msg["type"]
            if kind == "update":
                for edit in self.bench.by_update.get(msg["update"], ()):
                    edit.seen[self.index] = now - edit.sent_at
                    edit.fanned_bytes += len(text)
                self.doc.apply_update(base64.b64decode(msg["update"]))
            elif kind == "welcome":
                self.doc.apply_update(base64.b64decode(msg["state"]))
                self.welcomed.set()
            elif kind == "accepted":
                self.inflight.pop(0)
            elif kind == "sync":
                self.doc.apply_update(base64.b64decode(msg["update"]))
                missing = self.doc.get_update(base64.b64decode(msg["vector"]))
                if self.pending and len(missing) > 2:  # an empty update is 2 bytes
                    await self.send(ws, missing, self.pending)
                self.pending = []
            elif kind == "error":
                if msg.get("ref") == "update":
                    refused = self.inflight.pop(0)
                if msg.get("code") == "rate_limited" and msg.get("ref") == "update":
                    self.bench.refused += 1
                    if not self.pending:  # as the browser: a sync, then what was refused
                        await ws.send(json.dumps({"type": "sync",
                                                  "vector": b64(self.doc.get_state())}))
                    self.pending.append(refused)
                else:
                    self.bench.errors.append(f"editor {self.room}.{self.index}: {msg}")

    async def send(self, ws, update: bytes, edits: list[Edit]) -> None:
        """`update` holds `edits` (several: refused ones sent again as one)."""
        text = b64(update)
        message = json.dumps({"type": "update", "update": text})
        edits[0].update_bytes += len(update)
        edits[0].message_bytes += len(message)
        self.bench.by_update[text] = edits
        self.inflight.append(edits[0])
        await ws.send(message)

    async def edit(self, ws) -> None:
        document = to_document(self.doc)
        kind = self.change(document)
        updates = []  # the transaction's update, as the browser's Y.Doc "update" event
        observer = self.doc.observe(lambda event: updates.append(event.update))
        apply_document(self.doc, document)
        self.doc.unobserve(observer)
        if not updates:  # the same value again: nothing to send
            return
        update = updates[0]
        edit = Edit(self.room, self.index, kind, time.monotonic(),
                    recorded=self.bench.recording)
        self.bench.edits.append(edit)
        await self.send(ws, update, [edit])

    def change(self, document: dict) -> str:
        """One edit of `document`, as a person makes them; its kind."""
        rng, components = self.rng, document["components"]
        services = [c for c in components if c["kind"] == "service"]
        roll = rng.random()
        if roll < 0.1 and len(self.added) < 3:
            self.made += 1
            cid = f"e{self.room}x{self.index}x{self.made}"
            components.append({"id": cid, "kind": "service", "label": f"New {self.made}",
                               "position": {"x": rng.randrange(900), "y": rng.randrange(900)},
                               "params": {"workers": 2, "service_ms": 20}})
            document["links"].append({"from": rng.choice(["lb1", "lb2"]), "to": cid})
            self.added.append(cid)
            return "add and connect"
        if roll < 0.2 and self.added:
            gone = self.added.pop(0)
            document["components"] = [c for c in components if c["id"] != gone]
            return "remove"
        target = rng.choice(services or components)
        if roll < 0.55:
            target["position"] = {"x": rng.randrange(900), "y": rng.randrange(900)}
            return "move"
        if roll < 0.85:
            target["params"][rng.choice(["workers", "service_ms"])] = rng.randrange(1, 40)
            return "parameter"
        target["label"] = f"{target['id']} by {self.index} ({rng.randrange(1000)})"
        return "rename"


def make_designs(url: str, count: int, size: int) -> list[str]:
    """Each design saved by an owner (a workspace) with its edit link: their socket paths."""
    paths = []
    for _ in range(count):
        owner = requests.Session()
        owner.get(f"{url}/", timeout=30).raise_for_status()  # the CSRF cookie, as a browser
        owner.headers["X-CSRFToken"] = owner.cookies.get("csrftoken", "")
        created = owner.post(f"{url}/api/scenarios", json={"document": generated_design(size)},
                             timeout=30)
        created.raise_for_status()
        link = owner.post(f"{url}/api/scenarios/{created.json()['id']}/edit-link", json={},
                          timeout=30)
        link.raise_for_status()
        paths.append(link.json()["socket"])
    return paths


def rss(proc: psutil.Process) -> int:
    return proc.memory_info().rss


def cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


async def measure(args, url: str, server: psutil.Process) -> dict:
    designs, editors = SCENARIOS[args.scenario]
    me = psutil.Process()
    bench = Bench()
    paths = make_designs(url, designs, args.components)
    rss_empty = rss(server)
    stop, start = asyncio.Event(), asyncio.Event()
    crew, tasks = [], []
    for room, path in enumerate(paths):
        for index in range(editors):
            editor = Editor(bench, room, index, editors, args.interval,
                            seed=hash((args.seed, room, index)))
            joined = asyncio.Event()
            crew.append(editor)
            tasks.append(asyncio.create_task(editor.run(url, path, joined, start, stop)))
            await joined.wait()
    await asyncio.sleep(1)
    rss_joined = rss(server)
    start.set()
    await asyncio.sleep(args.warmup)
    bench.recording = True
    cpu_server, cpu_me, t0 = cpu(server), cpu(me), time.monotonic()
    await asyncio.sleep(args.seconds)
    bench.recording = False
    wall = time.monotonic() - t0
    cpu_server, cpu_me = cpu(server) - cpu_server, cpu(me) - cpu_me
    rss_edited = rss(server)
    stop.set()
    await asyncio.gather(*tasks)
    edits = [e for e in bench.edits if e.recorded]
    others = editors - 1
    return {
        "delays": [d * 1000 for e in edits for d in e.seen.values()],
        "all_seen": [max(e.seen.values()) * 1000 for e in edits if len(e.seen) == others],
        "edits": len(edits), "unseen": sum(len(e.seen) < others for e in edits),
        "refused": bench.refused, "errors": bench.errors,
        "update_bytes": statistics.mean(e.update_bytes for e in edits) if edits else 0,
        "message_bytes": statistics.mean(e.message_bytes for e in edits) if edits else 0,
        "fanned_bytes": statistics.mean(e.fanned_bytes for e in edits) if edits else 0,
        "cpu": cpu_server / wall, "client_cpu": cpu_me / wall, "wall": wall,
        "rss_empty": rss_empty, "rss_joined": rss_joined, "rss_edited": rss_edited,
        "rooms": designs, "load": os.getloadavg()[0],
    }


def p50(r: dict) -> float:
    return percentile(r["delays"], 0.5)


def p95(r: dict) -> float:
    return percentile(r["delays"], 0.95)


FIGURES = {  # name -> (one measurement's value, format)
    "edit -> visible p50, ms": (p50, "{:.0f}"),
    "edit -> visible p95, ms": (p95, "{:.0f}"),
    "edit -> all others have it p95, ms": (lambda r: percentile(r["all_seen"], 0.95),
                                           "{:.0f}"),
    "edits (all seen by all others)": (lambda r: r["edits"] - r["unseen"], "{:.0f}"),
    "edits not seen by every other editor": (lambda r: r["unseen"], "{:.0f}"),
    "updates refused rate_limited": (lambda r: r["refused"], "{:.0f}"),
    "server CPU, % of a core": (lambda r: 100 * r["cpu"], "{:.1f}"),
    "server CPU per room, % of a core": (lambda r: 100 * r["cpu"] / r["rooms"], "{:.1f}"),
    "server CPU per edit, ms": (lambda r: 1000 * r["cpu"] * r["wall"] / max(1, r["edits"]),
                                "{:.2f}"),
    "server RSS empty / joined / edited, MiB": (
        lambda r: r["rss_edited"] / 2**20, "{:.0f}"),
    "server RSS per room, its sockets in (edited - empty), KiB": (
        lambda r: (r["rss_edited"] - r["rss_empty"]) / r["rooms"] / 1024, "{:.0f}"),
    "Yjs update per edit, bytes": (lambda r: r["update_bytes"], "{:.0f}"),
    "message sent per edit, bytes": (lambda r: r["message_bytes"], "{:.0f}"),
    "fanned out per edit (all receivers), bytes": (lambda r: r["fanned_bytes"], "{:.0f}"),
    "this client's CPU, % of a core": (lambda r: 100 * r["client_cpu"], "{:.0f}"),
    "load average (1 min) at the end": (lambda r: r["load"], "{:.1f}"),
}


def summary(results: list[dict]) -> dict[str, str]:
    """Each figure: the median over the measurements, [min-max] when there are several."""
    out = {}
    for name, (value, fmt) in FIGURES.items():
        values = [value(r) for r in results]
        text = fmt.format(statistics.median(values))
        if name.startswith("server RSS empty"):
            r = sorted(results, key=lambda r: r["rss_edited"])[(len(results) - 1) // 2]
            text = " / ".join(f"{r[k] / 2**20:.0f}" for k in ("rss_empty", "rss_joined",
                                                             "rss_edited"))
        elif len(values) > 1:
            text += f" [{fmt.format(min(values))}-{fmt.format(max(values))}]"
        out[name] = text
    return out


def report(args, ours: list[dict], theirs: list[dict]) -> None:
    designs, editors = SCENARIOS[args.scenario]
    print(f"\nscenario {args.scenario}: {designs} design(s) x {editors} editors, "
          f"{args.components} components, an edit every {args.interval[0]:g}-"
          f"{args.interval[1]:g} s each, {args.seconds:g} s; "
          f"{len(ours)} measurement(s) each, median [min-max]")
    mine = summary(ours)
    if theirs:
        before = summary(theirs)
        table(["figure", f"baseline ({args.baseline})", "this tree"],
              [(name, before[name], mine[name]) for name in FIGURES])
    else:
        table(["figure", "this tree"], [(name, mine[name]) for name in FIGURES])
    verdict = "PASS" if statistics.median(p95(r) for r in ours) < TARGET_P95_MS else "FAIL"
    print(f"target: edit -> visible p95 < {TARGET_P95_MS} ms: {verdict}")
    for name, results in (("baseline", theirs), ("this tree", ours)):
        errors = [e for r in results for e in r["errors"]]
        if errors:
            print(f"{name}: {len(errors)} errors, e.g. {errors[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "both"], default="both")
    parser.add_argument("--components", type=int, default=40,
                        help="components of each design at the start")
    parser.add_argument("--interval", type=float, nargs=2, default=(1.0, 3.0),
                        metavar=("MIN", "MAX"), help="seconds between an editor's edits")
    parser.add_argument("--seconds", type=float, default=60, help="measurement time")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis", nargs="?", const="workers", choices=("workers", "inprocess"),
                        help="channel layer and co-editing log in 127.0.0.1:6379/"
                        f"{REDIS_DB}; the runner: workers (as scripts/cluster's web processes, "
                        "the pub/sub layer; the default) or inprocess (the core layer)")
    parser.add_argument("--baseline", metavar="REV",
                        help="measure this git revision first, alternately, side by side")
    args = parser.parse_args()
    if not (4 <= args.components <= 500 and 0.05 <= args.interval[0] <= args.interval[1] <= 60
            and 0 < args.seconds <= 600 and 1 <= args.repeat <= 5):
        parser.error("bounded: 4-500 components, intervals 0.05-60 s, 600 s, 5 repeats")
    if args.baseline and not known_commit(args.baseline):
        parser.error(f"--baseline {args.baseline}: no such commit in this repository")
    load = os.getloadavg()
    print(f"one Daphne{f' with Redis ({args.redis} runner)' if args.redis else ''}; load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs")
    settings = dict(ONE_ADDRESS_FOR_ALL)
    if args.redis:
        settings |= {"REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
                     "PLAYGROUND_RUNNER": args.redis,
                     "PLAYGROUND_REDIS_PREFIX": f"bench-coedit-{os.getpid()}:"}

    def run(root: Path, scenario: str) -> dict:
        with live_server(root, **settings) as (url, _env):
            port = url.rsplit(":", 1)[1]
            server = next(p for p in psutil.Process().children(recursive=True)
                          if "daphne" in " ".join(p.cmdline()) and port in p.cmdline())
            return asyncio.run(measure(argparse.Namespace(**{**vars(args),
                                                             "scenario": scenario}),
                                       url, server))

    scenarios = list(SCENARIOS) if args.scenario == "both" else [args.scenario]
    results = {s: ([], []) for s in scenarios}
    with worktree(args.baseline) if args.baseline else contextlib.nullcontext() as root:
        for _ in range(args.repeat):
            for scenario in scenarios:
                ours, theirs = results[scenario]
                if root is not None:
                    theirs.append(run(root, scenario))
                ours.append(run(ROOT, scenario))
    for scenario, (ours, theirs) in results.items():
        report(argparse.Namespace(**{**vars(args), "scenario": scenario}), ours, theirs)


if __name__ == "__main__":
    main()
