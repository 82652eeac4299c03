"""The editor in a browser under load: frame timing with ~2000 request dots in flight, and
the websocket traffic of a live run.

1. Serves the app with Daphne on a free port (a fresh SQLite database, as the tests' live
   server), opens the editor in headless Chromium (Debian's /usr/bin/chromium) at 1280x800.
2. Imports (Design menu -> Import JSON) a generated design of 200 components: 10 clients ->
   10 load balancers -> 160 services -> 20 databases, on a grid; plays it and measures, in
   the page (the charts showing one line per client), the time between requestAnimationFrame
   callbacks over --seconds (median and 95th percentile; targets: median < 17 ms, p95 <
   25 ms) and the number of dots in flight.
3. Imports a 20-component design, plays it at 1x and records every websocket frame the page
   receives: bytes per frame and per second, median over --seconds, for delta frames and
   keyframes.

Prints a table and PASS/FAIL against the targets; always exits 0 (a measurement, not a test).

    .venv/bin/python bench/browser.py [--seconds 10] [--speed 5] [--rate 11] [--trace]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ONE_ADDRESS_FOR_ALL, ROOT, live_server, percentile, table  # noqa: E402

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
VIEWPORT = {"width": 1280, "height": 800}
TARGET_MEDIAN_MS = 17.0
TARGET_P95_MS = 25.0
TARGET_DOTS = 2000
BASELINE_S = 3.0
FORMAT = "playground.scenario/v1"

# -- designs ---------------------------------------------------------------------------------


def big_design(rate_rps: float) -> dict:
    """10 clients -> 10 load balancers -> 160 services -> 20 databases, in columns on a
    180 x 110 grid: load balancer i feeds the 16 services of rows 2i and 2i+1 (8 columns),
    and every service in row r calls database r."""
    dx, dy = 180, 110
    comps, links = [], []
    for i in range(10):
        y = (2 * i + 0.5) * dy
        comps.append({"id": f"c{i}", "kind": "client", "position": {"x": 0, "y": y},
                      "params": {"rate_rps": rate_rps}})
        comps.append({"id": f"lb{i}", "kind": "load_balancer",
                      "position": {"x": dx, "y": y}, "params": {}})
        links.append({"from": f"c{i}", "to": f"lb{i}"})
    for r in range(20):
        for col in range(8):
            sid = f"s{r}-{col}"
            comps.append({"id": sid, "kind": "service",
                          "position": {"x": (2 + col) * dx, "y": r * dy},
                          "params": {"workers": 4, "service_ms": 5}})
            links.append({"from": f"lb{r // 2}", "to": sid})
            links.append({"from": sid, "to": f"db{r}"})
        comps.append({"id": f"db{r}", "kind": "database",
                      "position": {"x": 10 * dx, "y": r * dy},
                      "params": {"workers": 4, "read_ms": 2, "write_ms": 4}})
    assert len(comps) == 200
    return {"format": FORMAT, "name": "200 components", "seed": 1, "duration_s": 3600,
            "warmup_s": 0, "components": comps, "links": links, "events": []}


def small_design() -> dict:
    """20 components: 2 clients -> 2 balancers -> 12 services -> 2 caches -> 2 databases."""
    comps = [
        {"id": "web", "kind": "client", "position": {"x": 0, "y": 200},
         "params": {"rate_rps": 400, "read_ratio": 0.9, "keys": 5000, "key_skew": 0.8}},
        {"id": "mobile", "kind": "client", "position": {"x": 0, "y": 500},
         "params": {"rate_rps": 300, "read_ratio": 0.8, "keys": 5000, "key_skew": 0.8}},
        {"id": "lb-a", "kind": "load_balancer", "position": {"x": 200, "y": 200}, "params": {}},
        {"id": "lb-b", "kind": "load_balancer", "position": {"x": 200, "y": 500}, "params": {}},
    ]
    links = [{"from": "web", "to": "lb-a"}, {"from": "mobile", "to": "lb-b"}]
    for i in range(12):
        sid = f"app{i + 1}"
        comps.append({"id": sid, "kind": "service",
                      "position": {"x": 420 + 180 * (i % 2), "y": 40 + 110 * (i // 2)},
                      "params": {"workers": 8, "service_ms": 8}})
        links.append({"from": "lb-a" if i < 6 else "lb-b", "to": sid})
        links.append({"from": sid, "to": "cache-a" if i % 2 == 0 else "cache-b"})
    for j, name in enumerate("ab"):
        comps.append({"id": f"cache-{name}", "kind": "cache",
                      "position": {"x": 820, "y": 200 + 300 * j},
                      "params": {"capacity_keys": 2000}})
        comps.append({"id": f"db-{name}", "kind": "database",
                      "position": {"x": 1020, "y": 200 + 300 * j},
                      "params": {"workers": 8, "read_ms": 4, "write_ms": 8}})
        links.append({"from": f"cache-{name}", "to": f"db-{name}"})
    assert len(comps) == 20
    return {"format": FORMAT, "name": "20 components", "seed": 1, "duration_s": 3600,
            "warmup_s": 0, "components": comps, "links": links, "events": []}


# -- the server ------------------------------------------------------------------------------


# -- the page --------------------------------------------------------------------------------

# rAF deltas and, every 250 ms, the number of dots drawn in that paint (between start and
# end of their trip). Reads window.playground only.
MEASURE_JS = """async (seconds) => {
  const overlay = window.playground.overlay;
  const inFlight = () => {
    const now = performance.now();
    let n = 0;
    for (const d of overlay.dots.dots) if (now >= d.t0 && now - d.t0 < d.dur) n += 1;
    return n;
  };
  const longTasks = [];
  let observer = null;
  try {
    observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    observer.observe({ type: "longtask", buffered: false });
  } catch { observer = null; }
  const stats = window.playground.player.stats;
  const frames0 = stats.framesApplied, drawn0 = stats.dotsDrawn;
  const deltas = [], dots = [];
  let last = null, nextSample = 0;
  const end = performance.now() + seconds * 1000;
  await new Promise((resolve) => {
    const tick = (t) => {
      if (last !== null) deltas.push(t - last);
      last = t;
      if (t >= nextSample) {
        dots.push(inFlight());
        nextSample = t + 250;
      }
      if (t < end) requestAnimationFrame(tick);
      else resolve();
    };
    requestAnimationFrame(tick);
  });
  observer?.disconnect();
  const run = window.playground.player.run;
  return { deltas, dots, longTasks, frames: stats.framesApplied - frames0,
           dotsDrawn: stats.dotsDrawn - drawn0, behind: !!run?.status?.behind,
           simT: run?.t ?? null, zoom: window.playground.cy.zoom() };
}"""

# Time spent in the overlay's paint and in the Cytoscape render, per paint (profiling).
PROFILE_JS = """async (seconds) => {
  const o = window.playground.overlay;
  const draw = o.draw.bind(o);
  const times = [];
  o.draw = () => { const t = performance.now(); draw(); times.push(performance.now() - t); };
  await new Promise((r) => setTimeout(r, seconds * 1000));
  o.draw = draw;
  return times;
}"""


def open_editor(browser, url: str, frames: list | None = None):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    if frames is not None:
        def on_socket(ws):
            ws.on("framereceived", lambda payload: frames.append((time.monotonic(), payload)))
        page.on("websocket", on_socket)
    page.goto(f"{url}/")
    page.wait_for_function("() => document.body.classList.contains('ready')")
    page.wait_for_function("() => window.playground.player.online")
    return context, page, errors


def import_design(page, doc: dict) -> None:
    """Design menu -> Import JSON, as a person would; then wait for the validator's verdict."""
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("file-menu").click()
        page.get_by_test_id("menu-import").click()
    chooser.value.set_files(files=[{"name": "bench.json", "mimeType": "application/json",
                                    "buffer": json.dumps(doc).encode()}])
    page.wait_for_function(
        "(n) => window.playground.store.doc.components.length === n", arg=len(doc["components"]))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=validity]').dataset.state === 'valid'",
        timeout=30_000)
    for close in page.locator(".toast .toast-close").all():
        if close.is_visible():
            close.click()


def play(page, speed: str) -> None:
    page.get_by_test_id("speed").select_option(speed)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.player.phase === 'playing'", timeout=30_000)
    page.wait_for_function("() => window.playground.player.stats.framesApplied > 15",
                           timeout=30_000)


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) used so far by this script's child processes, by role:
    Chromium's renderer, its GPU process (the software compositor), the rest of Chromium,
    and the server (Daphne, which also runs the simulation). From /proc; Linux only."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # state ppid ... utime stime
            used = (int(fields[11]) + int(fields[12])) / tick
            stats[int(proc.name)] = (int(fields[1]), used, cmd)
    mine, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        for child, (ppid, _, _) in stats.items():
            if ppid == pid and child not in mine:
                mine.add(child)
                todo.append(child)
    out: dict[str, float] = defaultdict(float)
    for pid in mine:
        _, used, cmd = stats[pid]
        role = ("server" if "daphne" in cmd else "renderer" if "--type=renderer" in cmd
                else "gpu" if "--type=gpu-process" in cmd else "chromium" if "chrom" in cmd
                else None)
        if role:
            out[role] += used
    return out


def metrics(cdp) -> dict[str, float]:
    """Chromium's counters for the page's main thread (seconds of CPU work so far)."""
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def measure_dots(browser, url: str, args) -> dict:
    frames: list = []
    context, page, errors = open_editor(browser, url, frames)
    try:
        import_design(page, big_design(args.rate))
        # a control: the same page with nothing moving, to see how much the machine itself
        # delays frames (other processes on the same CPUs)
        baseline = page.evaluate(MEASURE_JS, BASELINE_S)["deltas"]
        # the heaviest charts: one line per client (10 of them) on each chart
        page.get_by_test_id("charts-mode-clients").click()
        play(page, args.speed)
        page.wait_for_timeout(3000)  # the dots fill the links; the frame gap settles
        first = len(frames)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        before, cpu0, t0 = metrics(cdp), cpu_seconds(), time.monotonic()
        result = page.evaluate(MEASURE_JS, args.seconds)
        after, cpu1, wall = metrics(cdp), cpu_seconds(), time.monotonic() - t0
        result["cpu"] = {k: (cpu1[k] - cpu0.get(k, 0)) / wall for k in cpu1}
        result["busy"] = {k: (after.get(k, 0) - before.get(k, 0)) / wall
                          for k in ("TaskDuration", "ScriptDuration", "RecalcStyleDuration",
                                    "LayoutDuration")}
        result["errors"] = errors
        result["baseline"] = baseline
        result["wire"] = frames[first:]
        shot = ROOT / "artifacts" / "bench-browser-200.png"
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=shot)
        result["screenshot"] = shot
        if args.trace:
            result["paint_ms"] = page.evaluate(PROFILE_JS, 3)
            trace = ROOT / "artifacts" / "bench-browser-trace.json"
            browser.start_tracing(page=page, path=trace, screenshots=False)
            page.wait_for_timeout(3000)
            browser.stop_tracing()
            result["trace"] = trace
        return result
    finally:
        context.close()


def measure_wire(browser, url: str, args) -> dict:
    frames: list = []
    context, page, errors = open_editor(browser, url, frames)
    try:
        import_design(page, small_design())
        play(page, "1")
        start = len(frames)
        page.wait_for_timeout(args.seconds * 1000)
        return {"frames": frames[start:], "errors": errors}
    finally:
        context.close()


WINDOW_S = 2.0  # keyframes come every 2 s of wall time: per-second rates over 2 s windows


def wire_stats(frames: list) -> dict:
    """Bytes per message and per second, by kind (delta frame, keyframe, other messages).
    Per second: the median over consecutive 2 s windows of the bytes in the window / 2."""
    out: dict = {}
    if len(frames) < 2:
        return out
    t0 = frames[0][0]
    windows = max(1, int((frames[-1][0] - t0) // WINDOW_S))
    span = windows * WINDOW_S
    by_kind: dict[str, list[tuple[float, int]]] = defaultdict(list)
    parts: dict[str, list[int]] = defaultdict(list)
    dots: list[int] = []
    for at, payload in frames:
        if at - t0 >= span:
            break
        size = len(payload.encode() if isinstance(payload, str) else payload)
        msg = json.loads(payload)
        kind = "other" if msg.get("type") != "frame" else "keyframe" if msg.get("full") \
            else "delta"
        by_kind[kind].append((at, size))
        by_kind["all messages"].append((at, size))
        if kind == "other":
            continue
        frame = msg["frame"]
        dots.append(len(frame.get("dots", [])))
        for key in ("components", "links", "dots", "summary"):
            parts[f"{kind}:{key}"].append(len(json.dumps(frame.get(key), separators=(",", ":"))))
    for kind, items in by_kind.items():
        per_window = [0] * windows
        for at, size in items:
            per_window[int((at - t0) // WINDOW_S)] += size
        sizes = [size for _, size in items]
        out[kind] = {"count": len(items), "rate": len(items) / span,
                     "median": statistics.median(sizes), "max": max(sizes),
                     "per_s": statistics.median(per_window) / WINDOW_S}
    out["parts"] = {k: statistics.mean(v) for k, v in parts.items()}
    out["dots_per_frame"] = statistics.median(dots) if dots else 0
    out["seconds"] = span
    return out


# -- report ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_dots(r: dict, args) -> None:
    deltas = r["deltas"]
    med, p95 = statistics.median(deltas), percentile(deltas, 0.95)
    dots = r["dots"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load} (other work skews frame times)")
    print(f"\n200 components (10 clients -> 10 LBs -> 160 services -> 20 DBs), "
          f"{args.rate:g} rps per client, speed {args.speed}x, {args.seconds:g} s, "
          f"1280x800, zoom {r['zoom']:.2f}")
    rows = [
        ("rAF frames", f"{len(deltas)}", f"{len(deltas) / args.seconds:.1f} fps", ""),
        ("frame time median", f"{med:.2f} ms", f"< {TARGET_MEDIAN_MS:g} ms",
         verdict(med < TARGET_MEDIAN_MS)),
        ("frame time p95", f"{p95:.2f} ms", f"< {TARGET_P95_MS:g} ms",
         verdict(p95 < TARGET_P95_MS)),
        ("frame time max", f"{max(deltas):.1f} ms", "", ""),
        ("control: not playing, p95", f"{percentile(r['baseline'], 0.95):.2f} ms",
         f"median {statistics.median(r['baseline']):.2f} ms over {BASELINE_S:g} s",
         "(machine jank)"),
        ("main thread busy", f"{r['busy']['TaskDuration']:.0%} of the time",
         f"script {r['busy']['ScriptDuration']:.0%}, style "
         f"{r['busy']['RecalcStyleDuration']:.0%}, layout {r['busy']['LayoutDuration']:.0%}",
         ""),
        ("CPU used (share of one CPU)",
         " / ".join(f"{r['cpu'].get(k, 0):.0%}" for k in ("renderer", "gpu", "chromium", "server")),
         "renderer / GPU (compositor) / rest of Chromium / server", ""),
        ("long tasks (> 50 ms)", f"{len(r['longTasks'])}",
         f"{sum(r['longTasks']):.0f} ms total" if r["longTasks"] else "", ""),
        ("dots in flight, median", f"{statistics.median(dots):.0f}",
         f"~{TARGET_DOTS} wanted", ""),
        ("dots in flight, min / max", f"{min(dots)} / {max(dots)}", "", ""),
        ("dots drawn / s", f"{r['dotsDrawn'] / args.seconds:.0f}", "", ""),
        ("frames applied / s", f"{r['frames'] / args.seconds:.1f}", "15 sent", ""),
        ("server behind", "yes" if r["behind"] else "no", "", ""),
    ]
    if r.get("paint_ms"):
        paint = r["paint_ms"]
        rows.append(("overlay paint median / p95",
                     f"{statistics.median(paint):.2f} / {percentile(paint, 0.95):.2f} ms", "", ""))
    table(["measure", "value", "target / note", ""], rows)
    if r["errors"]:
        print("console errors:", *r["errors"][:5], sep="\n  ")
    print(f"screenshot: {r['screenshot'].relative_to(ROOT)}")
    if r.get("trace"):
        print(f"Chromium trace: {r['trace'].relative_to(ROOT)} (open in chrome://tracing)")


def report_wire(s: dict, title: str) -> None:
    print(f"\n{title}")
    if not s:
        print("no frames recorded")
        return
    rows = []
    for kind in ("delta", "keyframe", "other", "all messages"):
        if kind not in s:
            continue
        k = s[kind]
        rows.append((kind, str(k["count"]), f"{k['rate']:.2f}", f"{k['median']:,.0f}",
                     f"{k['max']:,}", f"{k['per_s']:,.0f}"))
    table(["message", "count", "per s", "bytes/msg median", "bytes/msg max",
           "bytes/s median (2 s windows)"], rows)
    parts = s.get("parts", {})
    if parts:
        print("  mean bytes by field: " + ", ".join(
            f"{k} {v:,.0f}" for k, v in sorted(parts.items())))
        print(f"  dots per frame (median): {s['dots_per_frame']:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    parser.add_argument("--speed", default="5", help="run speed (one of the editor's speeds)")
    parser.add_argument("--rate", type=float, default=11.0, help="rate_rps of each client")
    parser.add_argument("--trace", action="store_true",
                        help="also profile: overlay paint times and a Chromium trace")
    args = parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        print(f"{CHROMIUM} is missing: nothing measured")
        return
    from playwright.sync_api import sync_playwright

    with live_server(**ONE_ADDRESS_FOR_ALL) as (url, _env), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            dots = measure_dots(browser, url, args)
            report_dots(dots, args)
            report_wire(wire_stats(dots["wire"]),
                        "Websocket traffic of that 200-component run (for comparison)")
            wire = measure_wire(browser, url, args)
            report_wire(wire_stats(wire["frames"]),
                        f"Websocket traffic, 20 components, speed 1x, {args.seconds:g} s")
            if wire["errors"]:
                print("console errors:", *wire["errors"][:5], sep="\n  ")
        finally:
            browser.close()


if __name__ == "__main__":
    try:
        main()
    except Exception:  # a measurement: say what broke, never fail the caller
        traceback.print_exc()
        print("bench/browser.py: the measurement did not complete")
    sys.exit(0)
