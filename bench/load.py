"""Load benchmark of the play websocket (issue #7): many runs, many viewers, a few slow ones.

Run from the repository root:

    .venv/bin/python bench/load.py                 # 50 runs, 500 viewers, cluster, ~1.5 min
    .venv/bin/python bench/load.py --quick         # 10 runs, 100 viewers, 20 s
    .venv/bin/python bench/load.py --single --runs 20 --viewers 200 --seconds 30
    .venv/bin/python bench/load.py --baseline HEAD~1   # that commit first, then this tree
    .venv/bin/python bench/load.py --baseline HEAD~1 --repeat 3   # alternately, 3 times each

By default it starts `scripts/cluster --web 2 --workers 2` (its own Redis on a free port, a
fresh SQLite database); `--single` serves with one Daphne that runs the simulations itself.
Every connection is on loopback, counts and time are bounded by the flags, and it stops by
itself. With `--baseline REV` the same load runs first on a git worktree of REV (sharing
this checkout's .venv and compiled engine) and the two are printed side by side; with
`--repeat N` each is measured N times, alternately, and the run with the median p95 of each
is printed (with every run's p95). See bench/README.md for what each figure means. Always
exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ONE_ADDRESS_FOR_ALL,
    ROOT,
    SLOW_READ_S,
    Viewer,
    cluster,
    connect,
    cpu_seconds,
    known_commit,
    percentile,
    rss,
    single_server,
    table,
    worktree,
)

TARGET_P95_MS = 250
TARGET_IDLE_KIB = 64
TARGET_MIN_FPS = 10  # a viewer below this is starved (runs publish 15 frames a second)
TARGET_FLAT_MIB = 10  # server RSS growth over the second half of the measurement

DESIGN = {
    "format": "playground.scenario/v1", "name": "load", "seed": 1, "duration_s": 3600,
    "components": [
        {"id": "users", "kind": "client", "params": {"rate_rps": 100}},
        {"id": "lb", "kind": "load_balancer", "params": {}},
        {"id": "app1", "kind": "service", "params": {"workers": 4, "service_ms": 10}},
        {"id": "app2", "kind": "service", "params": {"workers": 4, "service_ms": 10}},
    ],
    "links": [{"from": "users", "to": "lb"}, {"from": "lb", "to": "app1"},
              {"from": "lb", "to": "app2"}],
}


# --------------------------------------------------------------------------- servers

# --------------------------------------------------------------------------- clients

async def start_run(url: str, speed: float) -> tuple:
    """An owner connection with one run; (socket, run id). It reads and acks its frames."""
    ws = await connect(url)
    await ws.send(json.dumps({"type": "start", "scenario": DESIGN, "speed": speed}))
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if msg["type"] == "snapshot":
            return ws, msg["run_id"]
        if msg["type"] == "error":
            raise RuntimeError(f"start refused: {msg}")


async def idle_cost(urls: list[str], procs: dict, count: int) -> float:
    """Bytes of server RSS per open, idle play socket (count sockets, spread over urls)."""
    before = rss(procs, "web")
    sockets = []
    for i in range(count):
        sockets.append(await connect(urls[i % len(urls)]))
    await asyncio.sleep(1.5)
    after = rss(procs, "web")
    for ws in sockets:
        await ws.close()
    return (after - before) / count


async def measure(args, urls: list[str], procs: dict) -> dict:
    procs = {**procs, "load client": psutil.Process()}
    out = {"idle_bytes": await idle_cost(urls, procs, args.idle)}
    rss_before_runs = {"web": rss(procs, "web"), "worker": rss(procs, "worker")}
    owners = []
    for i in range(args.runs):
        owners.append(await start_run(urls[i % len(urls)], args.speed))
    await asyncio.sleep(2)
    out["rss_runs"] = {role: rss(procs, role) - rss_before_runs[role]
                       for role in ("web", "worker")}
    stop = asyncio.Event()
    viewers = [Viewer(urls[i % len(urls)], owners[i % len(owners)][1], slow=i < args.slow)
               for i in range(args.viewers)]
    tasks = [asyncio.create_task(v.watch(stop)) for v in viewers]
    # owners read and ack their own frames too (not counted)
    owner_viewers = [Viewer(urls[0], run_id, slow=False) for _ws, run_id in owners]
    owner_tasks = [asyncio.create_task(v.watch(stop, ws))
                   for v, (ws, _run_id) in zip(owner_viewers, owners, strict=True)]
    await asyncio.sleep(args.warmup)
    rss_start = rss(procs)
    for v in viewers + owner_viewers:
        v.recording = True
    cpu_start, t0 = cpu_seconds(procs), time.monotonic()
    samples = []
    while (elapsed := time.monotonic() - t0) < args.seconds:
        samples.append((elapsed, {name: p.memory_info().rss for name, p in procs.items()}))
        await asyncio.sleep(1)
    wall = time.monotonic() - t0
    for v in viewers + owner_viewers:
        v.recording = False
    cpu_end = cpu_seconds(procs)
    stop.set()
    await asyncio.gather(*tasks, *owner_tasks)
    server = [n for n in procs if n != "load client"]
    half = [s for s in samples if s[0] >= args.seconds / 2]
    out.update(
        wall=wall, viewers=viewers, rss_start=rss_start,
        delivered=sum(v.frames for v in viewers + owner_viewers),
        # every run's owner sees every seq its run publishes (some as a keyframe's)
        published=sum(v.seqs[1] - v.seqs[0] + 1 for v in owner_viewers if v.seqs),
        cpu={n: (cpu_end[n] - cpu_start[n]) / wall for n in procs},
        rss_end={n: procs[n].memory_info().rss for n in procs},
        growth_2nd_half=(sum(half[-1][1][n] for n in server)
                         - sum(half[0][1][n] for n in server)) if len(half) > 1 else 0,
    )
    return out


# --------------------------------------------------------------------------- report

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def figures(args, r: dict) -> list[tuple[str, str, str, str]]:
    """(measure, value, target, verdict) rows of one measurement."""
    fast = [v for v in r["viewers"] if not v.slow]
    slow = [v for v in r["viewers"] if v.slow]
    delays = [d for v in fast for d in v.delays]
    slow_delays = [d for v in slow for d in v.delays]
    fps = [v.frames / r["wall"] for v in fast]
    p50, p95, p99 = (percentile(delays, q) for q in (0.5, 0.95, 0.99))
    starved = sum(f < TARGET_MIN_FPS for f in fps)
    idle_kib = r["idle_bytes"] / 1024
    flat_mib = r["growth_2nd_half"] / 2**20
    rows = [
        ("frames delivered / s (all fast viewers)",
         f"{sum(v.frames for v in fast) / r['wall']:.0f}", f"~{len(fast) * 15} (15 Hz each)",
         ""),
        ("frames published / s (all runs)", f"{r['published'] / r['wall']:.0f}",
         f"~{args.runs * 15}", ""),
        ("frame delay p50 / p95 / p99 (publish -> receive)",
         f"{p50:.0f} / {p95:.0f} / {p99:.0f} ms", f"p95 < {TARGET_P95_MS} ms",
         verdict(p95 < TARGET_P95_MS)),
        ("frames per viewer per s: min / median",
         f"{min(fps, default=0):.1f} / {statistics.median(fps) if fps else 0:.1f}",
         f">= {TARGET_MIN_FPS} (none starved)", verdict(starved == 0 and bool(fps))),
        ("frames dropped (seq gaps, fast viewers)",
         f"{sum(v.missed for v in fast)} in {sum(v.gaps for v in fast)} gaps "
         f"of {sum(v.frames for v in fast)}", "", ""),
        ("slow viewers: frames / s each, keyframes, missed",
         f"{sum(v.frames for v in slow) / r['wall'] / max(1, len(slow)):.1f}, "
         f"{sum(v.keyframes for v in slow)}, {sum(v.missed for v in slow)}",
         f"<= {1 / SLOW_READ_S:g} (reads)", ""),
        ("slow viewers: frame delay p50 / max", f"{percentile(slow_delays, 0.5) / 1000:.1f} / "
         f"{max(slow_delays, default=0) / 1000:.1f} s", "bounded (newest state, no queue)",
         ""),
        ("server RSS growth, 2nd half of the measurement", f"{flat_mib:+.1f} MiB",
         f"< {TARGET_FLAT_MIB} MiB (flat)", verdict(flat_mib < TARGET_FLAT_MIB)),
        ("memory per idle connection", f"{idle_kib:.1f} KiB", f"< {TARGET_IDLE_KIB} KiB",
         verdict(idle_kib < TARGET_IDLE_KIB)),
        ("viewers failed", f"{sum(bool(v.error) for v in r['viewers'])}", "0",
         verdict(not any(v.error for v in r["viewers"]))),
    ]
    for role, grew in r["rss_runs"].items():
        if any(n.startswith(role) for n in r["cpu"]):
            what = "web processes, owner socket included" if role == "web" else "workers"
            rows.append((f"memory per run ({what})",
                         f"{grew / max(1, args.runs) / 1024:.0f} KiB", "", ""))
    costs = cpu_per_1000_frames(r)
    for kind, per_frames in costs.items():
        rows.append((f"CPU {kind} processes per 1,000 frames delivered",
                     f"{per_frames:.3f} s", "", ""))
    if "worker" in costs:
        rows.append(("CPU workers per run-second (at 15 frames a second)",
                     f"{worker_ms_per_run_s(r):.2f} ms", "", ""))
    for name, share in r["cpu"].items():
        rows.append((f"CPU {name}", f"{share * 100:.0f}% of a core, "
                     f"RSS {r['rss_end'][name] / 2**20:.0f} MiB", "", ""))
    return rows


def cpu_per_1000_frames(r: dict) -> dict[str, float]:
    """CPU-seconds of each server process kind (web, worker) per 1,000 frames delivered to
    the sockets (viewers and owners), over the measurement: the cost of a frame, which a
    busy machine changes far less than it changes delays."""
    out = {}
    for kind in ("web", "worker"):
        names = [n for n in r["cpu"] if n.startswith(kind)]
        if names:
            out[kind] = sum(r["cpu"][n] for n in names) * r["wall"] / max(1, r["delivered"]) \
                * 1000
    return out


def worker_ms_per_run_s(r: dict) -> float:
    """Milliseconds of worker CPU per second of a run at 15 frames a second: per frame
    published, times 15 (a machine too busy to publish 15 a second would flatter a figure
    per wall second)."""
    return sum(share for n, share in r["cpu"].items() if n.startswith("worker")) \
        * r["wall"] / max(1, r["published"]) * 15 * 1000


def p95(r: dict) -> float:
    return percentile([d for v in r["viewers"] if not v.slow for d in v.delays], 0.95)


def median_run(results: list[dict]) -> dict:
    """The measurement with the median p95 (the lower middle one of an even number)."""
    return sorted(results, key=p95)[(len(results) - 1) // 2]


def report(args, result: dict, baseline: dict | None = None) -> None:
    rows = figures(args, result)
    if baseline is None:
        table(["measure", "value", "target", ""], rows)
    else:
        before = {row[0]: row[1] for row in figures(args, baseline)}
        table(["measure", f"baseline ({args.baseline})", "this tree", "target", ""],
              [(m, before.get(m, ""), value, target, ok) for m, value, target, ok in rows])
    for name, r in (("baseline", baseline), ("this tree", result)):
        errors = [v.error for v in r["viewers"] if v.error] if r else []
        if errors:
            print(f"\n{name}: {len(errors)} viewers failed, e.g. {errors[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", action="store_true",
                        help="one Daphne running the simulations itself (no cluster)")
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--slow", type=int, default=5, help="of the viewers, slow readers")
    parser.add_argument("--idle", type=int, default=200,
                        help="idle sockets opened to measure memory per connection")
    parser.add_argument("--seconds", type=float, default=40, help="measurement time")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="10 runs, 100 viewers, 20 s")
    parser.add_argument("--baseline", metavar="REV",
                        help="measure this git revision first, side by side")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measurements of each; the one with the median p95 is shown")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.viewers, args.seconds, args.idle = 10, 100, 20, 100
    if not (0 < args.runs <= 200 and 0 <= args.viewers <= 2000 and args.idle <= 2000
            and 0 < args.seconds <= 600 and 1 <= args.repeat <= 5):
        parser.error("bounded: 1-200 runs, at most 2000 viewers and idle sockets, 600 s, "
                     "5 repeats")
    if args.baseline and not known_commit(args.baseline):
        parser.error(f"--baseline {args.baseline}: no such commit in this repository")
    load = os.getloadavg()
    where = "one Daphne" if args.single else \
        f"scripts/cluster --web {args.web} --workers {args.workers}"
    print(f"{args.runs} runs, {args.viewers} viewers ({args.slow} slow), {args.seconds:g} s "
          f"on {where}; load average {load[0]:.1f} on {os.cpu_count()} CPUs\n")
    def run(root: Path = ROOT) -> dict:
        limit = str(args.runs + 5)
        settings = {**ONE_ADDRESS_FOR_ALL, "PLAYGROUND_MAX_RUNS": limit}
        servers = single_server(root, **settings) if args.single else \
            cluster(args.web, args.workers, root, **settings, PLAYGROUND_WORKER_MAX_RUNS=limit)
        with servers as (urls, procs, _env):
            return asyncio.run(measure(args, urls, procs))

    ours, theirs = [], []
    with worktree(args.baseline) if args.baseline else contextlib.nullcontext() as root:
        for _ in range(args.repeat):
            if root is not None:
                theirs.append(run(root))
            ours.append(run())
    for name, results in (("baseline", theirs), ("this tree", ours)):
        if len(results) > 1:
            costs = [cpu_per_1000_frames(r) for r in results]
            print(f"{name}: p95 of each run " +
                  ", ".join(f"{p95(r):.0f}" for r in results) + " ms; CPU-s per 1,000 "
                  "frames of each run: " + "; ".join(
                      f"{kind} " + ", ".join(f"{c[kind]:.3f}" for c in costs)
                      for kind in costs[0]) + "; worker ms per run-second: "
                  + ", ".join(f"{worker_ms_per_run_s(r):.2f}" for r in results
                              if "worker" in costs[0]))
    report(args, median_run(ours), median_run(theirs) if theirs else None)


if __name__ == "__main__":
    main()
