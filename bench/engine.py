"""Engine benchmark: SimPy 4, Ciw and our engine on the same queueing models.

Run from the repository root:

    .venv/bin/python bench/engine.py [--requests N] [--seeds K] [--quick]

Models (Poisson arrivals at 900/s, exponential service, FIFO, unbounded queues):
  * M/M/10   - one stage, 10 servers at 100/s each;
  * tandem   - 10 servers at 100/s, then 4 at 300/s, then 2 at 500/s.

Every (engine, model, seed) run happens in a fresh child process (multiprocessing,
'spawn'), so imports, caches and garbage from one run never touch the next, and the
child's peak memory is its own.  Peak memory is the child's VmHWM from
/proc/self/status (peak resident set of the child's own address space, interpreter and
imports included); where /proc is missing it falls back to the child's
getrusage(RUSAGE_SELF).ru_maxrss.  RUSAGE_CHILDREN in the parent is not used: it is the
maximum over every child reaped so far, so it would stick at the largest run.

Requests/s is completed requests over the wall time of the simulation itself (model
construction included, child start-up and imports excluded).  The mean response time is
compared with the exact value (Erlang C; Jackson sum for the tandem).  Sampling noise is
estimated by batch means (20 batches per run) from the SimPy and Ciw runs, whose models
are written here and so trusted (up to 20 batches of at least 5,000 requests); a mean
is "within noise" if it is within 3 sigma of the exact value.

The script then runs the reference scenarios (bench/six_tier.py, bench/diurnal.py) on our
engine.
It always exits 0: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))          # so `import simulations` works from bench/

MAX_BATCHES = 20             # batch means per run, for the noise estimate ...
MIN_BATCH = 5_000            # ... each batch long against the queues' correlation time
NOISE_SIGMAS = 3.0           # "within sampling noise" = within this many sigma
TARGET_SPEEDUP = {"M/M/10": 6.0, "tandem": 5.0}  # our req/s >= this x SimPy's (#16)
TARGET_PEAK_MB = 200.0       # peak memory of a 10^6-request run
DEFAULT_REQUESTS = 1_000_000
DEFAULT_CIW_REQUESTS = 200_000   # Ciw keeps every customer and record: slow and big
QUICK_REQUESTS = 100_000


# --------------------------------------------------------------------------- models

@dataclass(frozen=True)
class Stage:
    name: str
    workers: int
    rate: float              # service rate per worker, 1/s


@dataclass(frozen=True)
class Model:
    name: str
    arrival_rate: float      # 1/s
    stages: tuple[Stage, ...]


MODELS = (
    Model("M/M/10", 900.0, (Stage("pool", 10, 100.0),)),
    Model("tandem", 900.0, (Stage("s1", 10, 100.0), Stage("s2", 4, 300.0), Stage("s3", 2, 500.0))),
)


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load a = lam/mu (a < c)."""
    b = 1.0
    for k in range(1, c + 1):             # Erlang B recursion, stable for any c
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def mmc_response(lam: float, c: int, mu: float) -> float:
    """Exact mean response time (s) of M/M/c: W = C(c, a) / (c mu - lam) + 1 / mu."""
    return erlang_c(c, lam / mu) / (c * mu - lam) + 1.0 / mu


def exact_response(model: Model) -> float:
    """Jackson network: the tandem's mean response is the sum of its stages'."""
    return sum(mmc_response(model.arrival_rate, s.workers, s.rate) for s in model.stages)


# --------------------------------------------------------------------------- child helpers

def _memory_mb(field: str) -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0       # kB -> MB
    except OSError:
        pass
    import resource
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def _child(conn, fn_name: str, args: tuple) -> None:
    """Child-process entry point: run one benchmark function, send back its result."""
    try:
        result = globals()[fn_name](*args)
    except ImportError as e:
        result = {"error": f"not available ({type(e).__name__}: {e})"}
    except BaseException as e:  # noqa: BLE001 - report anything, never hang the parent
        result = {"error": f"{type(e).__name__}: {e}"}
    result["peak_mb"] = _memory_mb("VmHWM")
    conn.send(result)
    conn.close()


def isolated(fn_name: str, *args, timeout: float = 900.0) -> dict:
    """Run globals()[fn_name](*args) in a fresh 'spawn' child; return its result dict."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn_name, args))
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            return {"error": f"timed out after {timeout:.0f} s"}
        return parent.recv()
    except EOFError:                      # e.g. killed by the OOM killer
        proc.join()
        return {"error": f"child died without a result (exit code {proc.exitcode})"}
    finally:
        if proc.is_alive():
            proc.terminate()              # only this child, which we started
        proc.join()
        parent.close()


def n_batches(n: int) -> int:
    return max(2, min(MAX_BATCHES, n // MIN_BATCH))


def _batch_stats(batch_sums: list[float], batch_counts: list[int]) -> tuple[float, float, int]:
    """(mean, variance of the overall mean by batch means, count)."""
    n = sum(batch_counts)
    mean = sum(batch_sums) / n
    means = [s / k for s, k in zip(batch_sums, batch_counts, strict=True) if k]
    var_of_mean = statistics.variance(means) / len(means) if len(means) > 1 else float("nan")
    return mean, var_of_mean, n


# --------------------------------------------------------------------------- engines

def simpy_run(model: Model, n: int, seed: int) -> dict:
    """SimPy 4: a source process, one Resource per stage, a process per request."""
    import simpy

    base_mb = _memory_mb("VmRSS")
    start = time.perf_counter()
    rng = random.Random(seed)
    exp = rng.expovariate
    env = simpy.Environment()
    stages = [(simpy.Resource(env, capacity=s.workers), s.rate) for s in model.stages]
    batches = n_batches(n)
    batch_sums = [0.0] * batches
    batch_counts = [0] * batches

    def request(i: int):
        t0 = env.now
        for res, rate in stages:
            with res.request() as req:
                yield req
                yield env.timeout(exp(rate))
        b = i * batches // n
        batch_sums[b] += env.now - t0
        batch_counts[b] += 1

    def source():
        lam = model.arrival_rate
        for i in range(n):                    # exactly n arrivals; run until all complete
            yield env.timeout(exp(lam))
            env.process(request(i))

    env.process(source())
    env.run()
    wall = time.perf_counter() - start
    mean, var, done = _batch_stats(batch_sums, batch_counts)
    return {"requests": done, "wall_s": wall, "mean_s": mean, "var_mean": var,
            "sim_s": env.now, "base_mb": base_mb}


def ciw_run(model: Model, n: int, seed: int) -> dict:
    """Ciw 3: the same network, run for n / lambda simulated seconds."""
    import ciw

    base_mb = _memory_mb("VmRSS")
    k = len(model.stages)
    start = time.perf_counter()
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=model.arrival_rate)] + [None] * (k - 1),
        service_distributions=[ciw.dists.Exponential(rate=s.rate) for s in model.stages],
        number_of_servers=[s.workers for s in model.stages],
        routing=[[1.0 if j == i + 1 else 0.0 for j in range(k)] for i in range(k)],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(n / model.arrival_rate)
    wall = time.perf_counter() - start
    # Completed requests are the individuals at the exit node; their records hold the
    # arrival at stage 1 and the exit from the last stage.
    done = sim.nodes[-1].all_individuals
    m = len(done)
    batches = n_batches(m)
    batch_sums = [0.0] * batches
    batch_counts = [0] * batches
    for i, ind in enumerate(done):
        b = i * batches // m
        batch_sums[b] += ind.data_records[-1].exit_date - ind.data_records[0].arrival_date
        batch_counts[b] += 1
    mean, var, _ = _batch_stats(batch_sums, batch_counts)
    return {"requests": m, "wall_s": wall, "mean_s": mean, "var_mean": var,
            "sim_s": n / model.arrival_rate, "base_mb": base_mb}


def scenario_doc(model: Model, n: int, seed: int) -> dict:
    """The model as a playground.scenario/v1 document (times in ms, rates in rps)."""
    components = [{"id": "users", "kind": "client", "params": {"rate_rps": model.arrival_rate}}]
    links = []
    previous = "users"
    for i, s in enumerate(model.stages):
        params = {"workers": s.workers, "service_ms": 1000.0 / s.rate}
        if i < len(model.stages) - 1:
            params["blocking"] = False        # free the worker after its own work: tandem
        components.append({"id": s.name, "kind": "service", "params": params})
        links.append({"from": previous, "to": s.name})
        previous = s.name
    return {"format": "playground.scenario/v1", "name": model.name, "seed": seed,
            "duration_s": n / model.arrival_rate, "warmup_s": 0,
            "components": components, "links": links}


def ours_run(model: Model, n: int, seed: int) -> dict:
    """Our engine: simulations.run on the equivalent scenario document (compiled when
    scripts/build-engine has built it: simulations/compiled.py)."""
    from simulations import COMPILED

    if not COMPILED:
        return {"error": "not compiled (run scripts/build-engine); see the `plain` row"}
    return _run_ours(model, n, seed)


def plain_run(model: Model, n: int, seed: int) -> dict:
    """Our engine as plain Python (the baseline of the compiled one)."""
    os.environ["SIMULATIONS_PURE"] = "1"  # this spawn child imports simulations after this
    return _run_ours(model, n, seed)


def _run_ours(model: Model, n: int, seed: int) -> dict:
    from simulations import run

    doc = scenario_doc(model, n, seed)
    base_mb = _memory_mb("VmRSS")
    start = time.perf_counter()
    report = run(doc, seed=seed)
    wall = time.perf_counter() - start
    summary = report["summary"]
    return {"requests": summary["requests"], "wall_s": wall,
            "mean_s": summary["latency_ms"]["mean"] / 1000.0, "var_mean": float("nan"),
            "sim_s": doc["duration_s"], "events": report.get("events_processed"),
            "engine_wall_s": report.get("wall_s"), "base_mb": base_mb}


def reference_run(module: str, seed: int, plain: bool) -> dict:
    """A reference scenario (bench/six_tier.py, bench/diurnal.py) on our engine."""
    if plain:
        os.environ["SIMULATIONS_PURE"] = "1"
    # bench/ is on sys.path: the script's directory, copied into the spawn child
    import importlib

    import six_tier

    from simulations import COMPILED
    reference = importlib.import_module(module)
    return {**six_tier.measure(seed, reference.scenario(seed)), "compiled": COMPILED}


REFERENCES = ("six_tier", "diurnal")  # modules of bench/, each a scenario and its target


ENGINES = (("SimPy", "simpy_run"), ("Ciw", "ciw_run"), ("ours", "ours_run"),
           ("plain", "plain_run"))


# --------------------------------------------------------------------------- reporting

@dataclass
class Row:
    engine: str
    model: Model
    n: int
    runs: list[dict]

    @property
    def ok(self) -> list[dict]:
        return [r for r in self.runs if "error" not in r]

    @property
    def error(self) -> str | None:
        errors = [r["error"] for r in self.runs if "error" in r]
        return errors[0] if errors else None

    @property
    def rate(self) -> float:
        return statistics.median(r["requests"] / r["wall_s"] for r in self.ok)

    @property
    def peak_mb(self) -> float:
        return max(r["peak_mb"] for r in self.ok)

    @property
    def base_mb(self) -> float:
        return max(r["base_mb"] for r in self.ok)

    @property
    def mean_s(self) -> float:
        """Mean response over all seeds, weighted by completed requests."""
        ok = self.ok
        return sum(r["mean_s"] * r["requests"] for r in ok) / sum(r["requests"] for r in ok)

    @property
    def requests(self) -> int:
        return sum(r["requests"] for r in self.ok)


def noise_per_request(rows: list[Row], exact: float) -> float:
    """Relative variance of a mean times its request count, pooled from the trusted runs.

    Batch means give, for each SimPy and Ciw run, the variance of its mean; that variance
    scales as 1/requests, so var * requests / exact^2 is comparable across run lengths.
    """
    samples = [r["var_mean"] * r["requests"] / exact**2
               for row in rows if row.engine in ("SimPy", "Ciw")
               for r in row.ok if math.isfinite(r["var_mean"])]
    return statistics.fmean(samples) if samples else float("nan")


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def fmt_pct(x: float) -> str:
    return f"{x:.2%}" if math.isfinite(x) else "n/a"


def pass_fail(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def print_table(all_rows: dict[str, list[Row]], n: int) -> list[tuple[str, bool | None, str]]:
    targets = []
    header = (f"{'model':<8} {'engine':<6} {'req/run':>9} {'req/s':>10} {'ours x':>7} "
              f"{'peak MB':>8} {'base MB':>8} {'mean ms':>8} {'exact ms':>9} "
              f"{'rel err':>8} {'±1σ':>7} {'in noise':>8}")
    print(header)
    print("-" * len(header))
    for model in MODELS:
        rows = all_rows[model.name]
        exact = exact_response(model)
        unit_var = noise_per_request(rows, exact)
        by_engine = {row.engine: row for row in rows}
        ours = by_engine.get("ours")
        ours_rate = ours.rate if ours and ours.ok else None
        for row in rows:
            if not row.ok:
                print(f"{model.name:<8} {row.engine:<6} {row.n:>9,}  {row.error}")
                continue
            rel = (row.mean_s - exact) / exact
            sigma = math.sqrt(unit_var / row.requests) if math.isfinite(unit_var) else float("nan")
            in_noise = abs(rel) <= NOISE_SIGMAS * sigma if math.isfinite(sigma) else None
            ratio = f"{ours_rate / row.rate:6.2f}x" if ours_rate and row.engine != "ours" else ""
            print(f"{model.name:<8} {row.engine:<6} {row.n:>9,} {fmt_rate(row.rate):>10} "
                  f"{ratio:>7} "
                  f"{row.peak_mb:>8.1f} {row.base_mb:>8.1f} {row.mean_s * 1000:>8.3f} "
                  f"{exact * 1000:>9.3f} {rel:>+8.2%} {fmt_pct(sigma):>7} {pass_fail(in_noise):>8}")
            if row.engine == "ours":
                targets.append((f"{model.name}: mean response within {NOISE_SIGMAS:g} sigma "
                                f"(rel err {rel:+.2%}, sigma {fmt_pct(sigma)})", in_noise,
                                "" if in_noise is not None
                                else "no SimPy/Ciw runs to estimate noise"))
        simpy = by_engine.get("SimPy")
        if ours_rate and simpy and simpy.ok:
            speedup = ours_rate / simpy.rate
            target = TARGET_SPEEDUP[model.name]
            targets.append((f"{model.name}: req/s >= {target:g}x SimPy ({speedup:.2f}x)",
                            speedup >= target, ""))
        elif ours is not None:
            targets.append((f"{model.name}: req/s >= {TARGET_SPEEDUP[model.name]:g}x SimPy", None,
                            ours.error or (simpy.error if simpy else "SimPy not run")))
        if ours_rate:
            peak_ok = ours.peak_mb < TARGET_PEAK_MB if n >= DEFAULT_REQUESTS else None
            note = "" if peak_ok is not None else f"needs --requests >= {DEFAULT_REQUESTS:,}"
            targets.append((f"{model.name}: peak memory < {TARGET_PEAK_MB:g} MB for 10^6 requests "
                            f"({ours.peak_mb:.1f} MB at {ours.n:,})", peak_ok, note))
        print()
    return targets


def print_reference(module: str, results: list[dict]) -> tuple[str, bool | None, str]:
    """A reference scenario's runs, fastest mode first; the target is judged on the
    first."""
    import importlib
    reference = importlib.import_module(module)
    target = f"{reference.TITLE}: >= {reference.TARGET_REALTIME:g}x real time"
    print(f"{reference.TITLE} ({reference.DURATION_S:g} simulated s, "
          f"warmup {reference.WARMUP_S:g} s, {reference.SHAPE}), our engine:")
    for result in results:
        if "error" in result:
            print(f"  {result['error']}")
            return (target, None, result["error"])
        speed = result["sim_s"] / result["wall_s"]
        print(f"  {'compiled' if result['compiled'] else 'plain':<8} wall "
              f"{result['wall_s']:.2f} s   simulated s / wall s {speed:.2f}   "
              f"events/s {fmt_rate(result['events_per_s'])}   peak {result['peak_mb']:.1f} MB"
              f"   requests {result['requests']:,}   success ratio "
              f"{result['success_ratio']:.4f}   mean latency {result['latency_mean_ms']:.2f} ms")
    speed = results[0]["sim_s"] / results[0]["wall_s"]
    return (f"{target} ({speed:.2f}x)", speed >= reference.TARGET_REALTIME, "")


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, help=f"requests per run [{DEFAULT_REQUESTS:,}]")
    ap.add_argument("--seeds", type=int, help="seeds per engine and model [3]")
    ap.add_argument("--ciw-requests", type=int,
                    help=f"requests per Ciw run [min(requests, {DEFAULT_CIW_REQUESTS:,})]")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_REQUESTS:,} requests, 1 seed")
    ap.add_argument("--engines", default="SimPy,Ciw,ours,plain",
                    help="comma-separated subset (ours: compiled; plain: plain Python)")
    ap.add_argument("--no-six-tier", action="store_true",
                    help="skip the reference scenarios (six-tier, diurnal autoscaled)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per child run [900]")
    args = ap.parse_args(argv)

    n = args.requests or (QUICK_REQUESTS if args.quick else DEFAULT_REQUESTS)
    seeds = list(range(1, 1 + (args.seeds or (1 if args.quick else 3))))
    n_ciw = args.ciw_requests or min(n, DEFAULT_CIW_REQUESTS)
    wanted = {e.strip() for e in args.engines.split(",")}
    engines = [(name, fn) for name, fn in ENGINES if name in wanted]

    print(f"Engine benchmark: {n:,} requests per run ({n_ciw:,} for Ciw), seeds {seeds}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print("Each run in a fresh 'spawn' child; req/s = median over seeds; "
          "peak MB = max over seeds of the child's VmHWM (peak RSS, interpreter included);")
    print("base MB = child RSS after imports, before the run; "
          "±1σ = noise of the mean by batch means from SimPy/Ciw; "
          f"in noise = within {NOISE_SIGMAS:g}σ.")
    print()

    all_rows: dict[str, list[Row]] = {}
    t_start = time.perf_counter()
    for model in MODELS:
        all_rows[model.name] = []
        for name, fn in engines:
            runs_n = n_ciw if name == "Ciw" else n
            row = Row(name, model, runs_n, [])
            for seed in seeds:
                r = isolated(fn, model, runs_n, seed, timeout=args.timeout)
                row.runs.append(r)
                if "error" in r:
                    print(f"  {model.name:<8} {name:<6} seed {seed}: {r['error']}", flush=True)
                    break               # same error for every seed; don't repeat it
                print(f"  {model.name:<8} {name:<6} seed {seed}: {r['requests']:,} requests in "
                      f"{r['wall_s']:.2f} s = {fmt_rate(r['requests'] / r['wall_s'])} req/s, "
                      f"peak {r['peak_mb']:.0f} MB", flush=True)
            all_rows[model.name].append(row)
    print(f"\n(queueing models took {time.perf_counter() - t_start:.0f} s)\n")

    targets = print_table(all_rows, n)
    if not args.no_six_tier and wanted & {"ours", "plain"}:
        modes = [plain for name, plain in (("ours", False), ("plain", True)) if name in wanted]
        for module in REFERENCES:
            results = [isolated("reference_run", module, seeds[0], plain,
                                timeout=args.timeout) for plain in modes]
            targets.append(print_reference(module, results))
            print()

    print("Targets for our engine:" + ("" if targets else " (our engine not run)"))
    for text, ok, note in targets:
        print(f"  [{pass_fail(ok)}] {text}" + (f"  -- {note}" if note else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
