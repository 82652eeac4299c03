"""The simulation: builds components from a scenario, runs it headless or step by step.

Live use (the web app's run driver): `advance(t)` moves simulated time, `frame()` returns
the compact state to stream, `apply(command)` changes the running system at the current
simulated time and logs the command, so that scenario + seed + command log replay a run
exactly (`replay()`).
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

from . import snapshot
from .components.base import Component, Link, rate
from .components.cache import Cache
from .components.classes import ClassedClient
from .components.client import Client
from .components.database import Database, Replication
from .components.edge import Cdn, Dns, RateLimiter, ReverseProxy, Waf
from .components.exchange import Exchange
from .components.load_balancer import LoadBalancer
from .components.messaging import Queue, Worker
from .components.network import NetLink, networked
from .components.pool import Pool, Service
from .components.quorum import KVStore
from .components.rates import rate_schedule
from .components.sharding import ShardRouter
from .components.topic import Topic
from .kernel import Kernel, stream
from .metrics import LatencyHistogram
from .scenario import (
    Scenario,
    ScenarioError,
    check_command,
    check_params,
    class_ops,
    route_errors,
    set_values,
    validate,
)

KIND_CLASSES: dict[str, type[Component]] = {
    "client": Client, "load_balancer": LoadBalancer, "service": Service, "cache": Cache,
    "database": Database, "queue": Queue, "worker": Worker,
    "dns": Dns, "cdn": Cdn, "reverse_proxy": ReverseProxy, "rate_limiter": RateLimiter,
    "waf": Waf,
    "shard_router": ShardRouter, "kv_store": KVStore,
    "topic": Topic,
    "exchange": Exchange,
}
# Live figures (rates, utilisation, ratios, percentiles) are taken at fixed simulated times,
# the multiples of WINDOW_S, never at frame() calls: a frame at time t is then the same
# however the run was sliced, paced or restored from a checkpoint (simulations/replay.py).
WINDOW_S = 0.25
RATE_WINDOWS = 4  # rates cover the last four windows: one simulated second
ROLLING_S = 5.0  # live percentiles cover the last few simulated seconds
# A pool's latency percentiles: over each whole block of ROLLING_S simulated seconds,
# taken where it ends (computing them per window would cost a merge per component).
BLOCK_WINDOWS = round(ROLLING_S / WINDOW_S)
MAX_DOTS = 600  # dots kept per frame; older ones are dropped first
LIVE_QUANTILES = (0.5, 0.95, 0.99)  # the percentiles of frames: the summary's and each client's


class Simulation:
    def __init__(self, scenario: Scenario | dict, seed: int | None = None,
                 duration_s: float | None = None, dots_per_s: float = 0.0,
                 live: bool = False):
        """`live` (implied by `dots_per_s`) keeps what frames need from the start: the
        recent latencies of each client. A headless run skips that work."""
        self.scenario = scenario = validate(scenario)
        self.seed = scenario.seed if seed is None else seed
        self.duration_s = scenario.duration_s if duration_s is None else duration_s
        self.warmup_s = min(scenario.warmup_s, self.duration_s)
        self.kernel = Kernel()
        # Known before the components are made: clients keep them (read per request).
        self._sampled = 0
        total_rate = sum(_peak_rate(c.settings, self.duration_s) for c in scenario.components
                         if c.kind == "client")
        self.sample_every = max(1, round(total_rate / dots_per_s)) if dots_per_s else 0
        # Keys matter only to caches, databases, hashing balancers and the edge kinds that
        # cache or tell callers apart, shard routers, key-value stores and topics (keys pick
        # partitions); skip drawing them else.
        # Services keeping sessions tell users apart by key too.
        self.uses_keys = any(c.kind in ("cache", "database", "load_balancer", "dns", "cdn",
                                        "reverse_proxy", "shard_router", "kv_store", "topic")
                             for c in scenario.components) or any(
            session != "none" for c in scenario.components if c.kind == "service"
            for session in set_values(scenario, c.id, "sessions"))
        self.class_ops = class_ops(scenario)  # request classes: route key -> op
        self.components: dict[str, Component] = {
            c.id: (ClassedClient if c.kind == "client" and c.settings["classes"] else
                   KIND_CLASSES[c.kind])(self, c.id, c.kind, c.settings)
            for c in scenario.components}
        self.links: dict[int, Link] = {}
        self.replications: dict[int, Replication] = {}
        self._by_ends: dict[tuple[str, str], Link | Replication] = {}
        self._build_links()
        self.command_log: list[dict[str, Any]] = []
        # Parameters changed by a `set` so far, scheduled or live, per component, and when
        # the last one was: what predictions of the design as it runs now start from.
        self.param_changes: dict[str, dict[str, Any]] = {}
        self.params_changed_at: float | None = None
        self._pick_rngs: dict[str, Any] = {}
        self._dots: deque[list] = deque(maxlen=MAX_DOTS)
        # Counters at the ends of the last windows: (t, per component, per link, clients).
        self._marks: deque[tuple] | None = None  # None: a headless run keeps no windows
        self._window_k = 0  # windows end at k * WINDOW_S
        # Each client's latencies per window: (end of window, client id, histogram).
        self._recent: deque[tuple[float, str, LatencyHistogram]] = deque()
        self._bottleneck: str | None = None
        self._block_start: dict[str, LatencyHistogram] = {}  # latencies when a block began
        self._percentiles: dict[str, tuple[float, float]] = {}  # (p95, p99) of the last block
        # What frames take from the closed windows alone, worked out by the first frame after
        # a window closes and reused until the next one (None: not yet): _window_figures.
        self._figures: tuple[dict[str, dict[str, Any]], dict[str, Any]] | None = None
        self._schedule_start()
        self.wall_s = 0.0
        if live or dots_per_s:
            self._start_windows()

    def __deepcopy__(self, memo: dict) -> Simulation:
        """An independent copy that continues exactly as this one would. Through pickle:
        several times faster than deepcopy, and deepcopy would share the bound methods of
        random streams (`rng.random`) that samplers hold, pickle copies them."""
        return snapshot.loads(snapshot.dumps(self))

    def __reduce__(self) -> tuple:
        """Pickled without recursion along chains of components (snapshot.py)."""
        return snapshot.loads, (snapshot.dumps(self),)

    def _build_links(self) -> None:
        comps = self.components
        for i, spec in enumerate(self.scenario.links):
            a, b = comps[spec.from_], comps[spec.to]
            if spec.kind == "replication":
                rep = Replication(self, i, a, b, spec.mode, spec.lag_ms, spec.lag_dist)
                a.replicas.append(rep)
                b.primary = a
                self.replications[i] = self._by_ends[(a.id, b.id)] = rep
            else:
                carried = frozenset(k for k in ("read", "write", *self.class_ops)
                                    if spec.carries(k))
                link = NetLink(self, i, a, b, spec, carried) if networked(spec) else \
                    Link(self, i, a, b, spec.latency_ms, carried, spec.weight)
                a.out.append(link)
                self.links[i] = self._by_ends[(a.id, b.id)] = link
        for c in comps.values():
            c.wire()
        # (position in a frame's links, index) of the links whose frames add figures
        self._measured_links = [(pos, i) for pos, (i, link) in enumerate(self.links.items())
                                if isinstance(link, NetLink) and link.per_kb]

    def _schedule_start(self) -> None:
        kernel = self.kernel
        kernel.schedule(self.warmup_s, self._warm)
        for ev in self.scenario.events:
            kernel.schedule(ev.at_s, self._event, ev)
        self._failure_rngs = {cid: stream(self.seed, cid, "failures") for cid in self.components}
        self._failure_epochs = dict.fromkeys(self.components, 0)
        for c in self.components.values():
            self._start_failures(c)
        for c in self.clients():
            c.start()

    def clients(self) -> list[Client]:
        return [c for c in self.components.values() if isinstance(c, Client)]

    # -- running --------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.kernel.now

    def advance(self, t: float, budget_s: float | None = None) -> bool:
        """Run simulated time forward to `t` (never backwards); with a wall-clock budget it
        may stop short of `t`. Returns whether `t` was reached."""
        start = time.perf_counter()
        deadline = None if budget_s is None else start + budget_s
        kernel = self.kernel
        reached = True
        while reached and self._marks is not None and self._window_k * WINDOW_S <= t:
            reached = kernel.run_until(self._window_k * WINDOW_S, _left(deadline))
            if reached:
                self._close_window()
                # The kernel looks at the clock only within a window's events: look here
                # too, or a light design's long step would run hundreds of windows at once.
                reached = _left(deadline) != 0.0
        if reached:
            reached = kernel.run_until(t, _left(deadline))
        self.wall_s += time.perf_counter() - start
        return reached

    def run(self) -> dict[str, Any]:
        """Run to the end and return the report."""
        self.advance(self.duration_s)
        return self.report()

    def _warm(self, _=None) -> None:
        for c in self.components.values():
            c.warm(self.kernel.now)
        for link in self.links.values():
            link.warm(self.kernel.now)

    def _start_failures(self, c: Component) -> None:
        """mtbf/mttr: exponential failure, then exponential repair, for as long as the
        component has an mtbf_s; a `set` of mtbf_s starts the process afresh."""
        self._failure_epochs[c.id] += 1
        if c.settings.get("mtbf_s"):
            rng = self._failure_rngs[c.id]
            self.kernel.schedule(rng.expovariate(1 / c.settings["mtbf_s"]), self._break,
                                 (c, self._failure_epochs[c.id]))

    def _break(self, item) -> None:
        c, epoch = item
        if epoch != self._failure_epochs[c.id]:
            return
        c.fail()
        rng = self._failure_rngs[c.id]
        self.kernel.schedule(rng.expovariate(1 / c.settings["mttr_s"]), self._repair, item)

    def _repair(self, item) -> None:
        c, epoch = item
        if epoch != self._failure_epochs[c.id]:
            return
        c.recover()
        if c.settings.get("mtbf_s"):
            rng = self._failure_rngs[c.id]
            self.kernel.schedule(rng.expovariate(1 / c.settings["mtbf_s"]), self._break, item)

    # -- events and live commands ---------------------------------------------------------
    def _event(self, ev) -> None:
        self._do(ev.action, ev.target, ev.params)

    def apply(self, command: dict[str, Any]) -> None:
        """Apply a live command now: {"action", "target", "params"}; logged for replay."""
        if not isinstance(command, dict) or set(command) - {"action", "target", "params"}:
            raise ScenarioError(["command: must be {action, target, params}"])
        action = command.get("action")
        if action not in ("fail", "recover", "slow", "partition", "heal", "set"):
            raise ScenarioError([f"command.action: unknown action {action!r}"])
        target, params = command.get("target"), command.get("params") or {}
        ids = {c.id: c for c in self.scenario.components}
        errors = check_command(action, target, params, ids, set(self._by_ends), "command")
        if errors:
            raise ScenarioError(errors)
        if action == "set":
            params = check_params(ids[target].kind, params, "command.params", partial=True)[0]
            if params.get("sessions", "none") != "none" and not self.uses_keys:
                raise ScenarioError(["command.params.sessions: this run's requests carry no "
                                     "users (keys); give the service sessions in the design"])
            if "read_ratio" in params:
                errors = route_errors(self.scenario, {target: [params["read_ratio"]]})
                if errors:
                    raise ScenarioError([f"command.params.read_ratio: {e}" for e in errors])
        # A budgeted advance may have stopped between two events due at the same time: run
        # the rest first, so the command lands where a replay's advance(at_s) puts it.
        self.kernel.run_until(self.kernel.now)
        self.command_log.append({"at_s": self.kernel.now, "action": action,
                                 "target": target, "params": params})
        self._do(action, target, params)

    def _do(self, action: str, target: Any, params: dict[str, Any]) -> None:
        if action in ("partition", "heal"):
            link = self._by_ends[tuple(target)]
            if action == "partition":
                link.cut = True
            elif isinstance(link, Replication):
                link.heal()
            else:
                link.cut = False
            return
        c = self.components[target]
        if action == "fail" and params:
            c.fail_instance(params["instance"])  # type: ignore[attr-defined]
        elif action == "fail":
            c.fail()
        elif action == "recover":
            c.recover()
        elif action == "slow":
            c.set_slow(params["factor"])
        else:
            c.apply_settings(params)
            self.param_changes[target] = {**self.param_changes.get(target, {}), **params}
            self.params_changed_at = self.kernel.now
            if "mtbf_s" in params:
                self._start_failures(c)

    def design_now(self) -> dict[str, Any]:
        """The scenario document with every `set` applied so far: the design as it runs."""
        doc = self.scenario.to_document()
        for comp in doc["components"]:
            comp["params"] = {**comp["params"], **self.param_changes.get(comp["id"], {})}
        return doc

    @classmethod
    def replay(cls, scenario, seed: int | None, commands: list[dict[str, Any]],
               until: float | None = None, **kwargs) -> Simulation:
        """Re-run a live run from its scenario, seed and command log."""
        sim = cls(scenario, seed=seed, **kwargs)
        for cmd in commands:
            if until is not None and cmd["at_s"] > until:
                break
            sim.advance(cmd["at_s"])
            sim.apply({k: cmd[k] for k in ("action", "target", "params")})
        if until is not None:
            sim.advance(until)
        return sim

    # -- helpers for components -----------------------------------------------------------
    def pick_weighted(self, owner: Component, links: list[Link]) -> Link:
        rng = self._pick_rngs.get(owner.id)
        if rng is None:
            rng = self._pick_rngs[owner.id] = stream(self.seed, owner.id, "links")
        r = rng.random() * sum(link.weight for link in links)
        for link in links:
            r -= link.weight
            if r < 0:
                return link
        return links[-1]

    def sample_next(self) -> bool:
        """Every n-th request is drawn as a dot (no random draw: dots never change a run)."""
        self._sampled += 1
        return self._sampled % self.sample_every == 0

    def dot(self, link: int, direction: int, req, outcome: int = -1) -> None:
        self._dots.append([link, direction, outcome, int(req.hit)])

    # -- output ---------------------------------------------------------------------------
    def _start_windows(self) -> None:
        """Keep live figures from now on (from the start in a live run)."""
        for c in self.clients():
            c.recent = LatencyHistogram()
            if isinstance(c, ClassedClient):
                c.start_recent()
        self._marks = deque(maxlen=RATE_WINDOWS + 1)
        self._window_k = math.floor(self.kernel.now / WINDOW_S)
        self._block_start = {cid: c.latency.copy() for cid, c in self.components.items()
                             if isinstance(c, Pool)}
        self._close_window()

    def _close_window(self) -> None:
        """A window ends (at k * WINDOW_S, or where the windows start): take the counters."""
        now = self.kernel.now
        clients = self.clients()
        self._marks.append((
            now, {cid: c.counters(now) for cid, c in self.components.items()},
            {i: link.mark() for i, link in self.links.items()},
            (sum(c.total_ok for c in clients), sum(c.total_failed for c in clients),
             sum(c.total_limited for c in clients))))
        for c in clients:
            self._recent.append((now, c.id, c.recent))
            c.recent = LatencyHistogram()
            if isinstance(c, ClassedClient):
                c.close_window(now, ROLLING_S)
        while self._recent and self._recent[0][0] <= now - ROLLING_S:
            self._recent.popleft()
        self._figures = None
        self._bottleneck = self._pick_bottleneck()
        if self._window_k % BLOCK_WINDOWS == 0:
            self._close_block()
        self._window_k += 1

    def _close_block(self) -> None:
        """Each pool's latency percentiles over the block that ends now (theory has them
        for pools only: M/M/c)."""
        for cid, c in self.components.items():
            if not isinstance(c, Pool):
                continue
            now = c.latency.copy()
            block = now.minus(self._block_start[cid])
            self._block_start[cid] = now
            if block:
                p95, p99 = block.quantiles((0.95, 0.99))
                self._percentiles[cid] = (float(f"{p95:.3g}"), float(f"{p99:.3g}"))
            else:
                self._percentiles.pop(cid, None)

    def frame(self) -> dict[str, Any]:
        """The live state now: instant values as of now, figures over the last windows
        (rates over the second before the last multiple of WINDOW_S). A headless simulation
        keeps windows from its first frame on."""
        if self._marks is None:
            self._start_windows()
        old, new = self._marks[0], self._marks[-1]
        span = new[0] - old[0]
        client_latencies, summary = self._window_figures()
        comps = {}
        for cid, c in self.components.items():
            state = c.live()
            c.windowed(old[1][cid], new[1][cid], span, state)
            if cid in client_latencies:  # a client's own latency, beside its ok_rps, error_ratio
                state.update(client_latencies[cid])
            if isinstance(c, ClassedClient):  # and each class's
                for name, figures in c.class_percentiles(LIVE_QUANTILES).items():
                    state["classes"][name].update(figures)
            if cid in self._percentiles:
                state["p95"], state["p99"] = self._percentiles[cid]
            comps[cid] = state
        links = [[i, rate(total - old[2][i][0], span), rate(errors - old[2][i][1], span)]
                 for i, (total, errors, *_) in new[2].items()]
        for pos, i in self._measured_links:  # links with a bandwidth: utilisation, queue
            links[pos] += self.links[i].frame_extra(old[2][i], new[2][i], span)
        dots, self._dots = list(self._dots), deque(maxlen=MAX_DOTS)
        return {"t": round(self.kernel.now, 4), "components": comps, "links": links,
                "dots": dots, "summary": self._with_cost(summary),
                "bottleneck": self._bottleneck}

    def live_summary(self) -> dict[str, Any]:
        """The summary a frame would carry now, alone: no component states, and the dots
        stay for the next frame."""
        if self._marks is None:
            self._start_windows()
        return self._with_cost(self._window_figures()[1])

    def drop_dots(self) -> None:
        """Forget the dots not yet handed out (after a jump in time they show nothing)."""
        self._dots.clear()

    def _pick_bottleneck(self) -> str | None:
        """The pool with the most work per worker (utilisation over the windows plus its
        queue per worker), if that is at least 0.5. The previous one is kept while it stays
        above 0.4 and within 0.1 of the top, so the highlight does not flicker."""
        old, new = self._marks[0], self._marks[-1]
        loads = {}
        for cid, c in self.components.items():
            if isinstance(c, Pool) and c.up:
                state = c.live()
                c.windowed(old[1][cid], new[1][cid], new[0] - old[0], state)
                loads[cid] = state["util"] + state.get("queue", 0) / max(c.workers, 1)
        top = max(loads, key=loads.get, default=None)
        held = self._bottleneck
        if held in loads and loads[held] >= 0.4 and loads[held] >= loads[top] - 0.1:
            top = held
        elif top is not None and loads[top] < 0.5:
            top = None
        return top

    def _window_figures(self) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        """Each client's latency percentiles and the run's summary (but its cost) over the
        last windows: they change only as a window closes, so a frame reuses them (merging
        each client's histograms of the last ROLLING_S was most of a frame's work)."""
        if self._figures is None:
            old, new = self._marks[0], self._marks[-1]
            per_client = self._client_latencies()
            summaries = {cid: h.summary(LIVE_QUANTILES) for cid, h in per_client.items()}
            # One client's latencies are the run's: the same histogram, summarised once.
            alone = next(iter(summaries.values())) if len(summaries) == 1 else None
            summary = self._live_summary(old, new, new[0] - old[0], per_client, alone)
            for lat in summaries.values():
                del lat["max"]
            self._figures = summaries, summary
        return self._figures

    def _client_latencies(self) -> dict[str, LatencyHistogram]:
        """Each client's latencies over the rolling window (ROLLING_S)."""
        out: dict[str, LatencyHistogram] = {c.id: LatencyHistogram() for c in self.clients()}
        for _, cid, h in self._recent:
            out[cid].merge(h)
        return out

    def _live_summary(self, old: tuple, new: tuple, span: float,
                      per_client: dict[str, LatencyHistogram],
                      latencies: dict[str, float | None] | None = None) -> dict[str, Any]:
        """`latencies`: the summary of all clients' latencies, when already known."""
        if latencies is None:
            window = LatencyHistogram()
            for h in per_client.values():
                window.merge(h)
            latencies = window.summary(LIVE_QUANTILES)
        ok, bad, limited = (n - o for n, o in zip(new[3], old[3], strict=True))
        done = ok + bad
        summary = dict(latencies)
        summary.update(ok_rps=round(ok / span, 2) if span > 0 else 0.0,
                       error_ratio=round(bad / done, 4) if done else 0.0,
                       # 429s apart from other errors (a part of error_ratio)
                       rate_limited_ratio=round(limited / done, 4) if done else 0.0)
        return summary

    def _with_cost(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The summary with the design's cost as it stands now: a `set` of workers shows at
        once."""
        return {**summary, "cost_per_hour": round(sum(c.cost_now()
                                                      for c in self.components.values()), 4)}

    def report(self) -> dict[str, Any]:
        from .report import build_report
        return build_report(self)


def _peak_rate(settings: dict[str, Any], duration_s: float) -> float:
    """A client's highest starting rate: its schedule's peak, if it has one."""
    if settings["schedule"] is None:
        return settings["rate_rps"]
    return rate_schedule(settings["rate_rps"], settings["schedule"]).peak(0.0, duration_s)


def _left(deadline: float | None) -> float | None:
    """The wall-clock budget left until `deadline` (None: no budget)."""
    return None if deadline is None else max(deadline - time.perf_counter(), 0.0)
