"""Clients: request arrivals, key choice; timeouts, retries and breakers (resilience.py)."""

from __future__ import annotations

import math

from .._mypyc import mypyc_attr
from ..distributions import KeyChooser, Sampler, gap_sampler
from ..kernel import heappush, next_number, stream
from ..metrics import LatencyHistogram
from .base import OK, OUTCOME_NAMES, RATE_LIMITED, Component, Request, rate
from .rates import ScheduledGaps, rate_schedule
from .resilience import Call, Calls


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Client(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        seed = sim.seed
        self._uses_keys: bool = sim.uses_keys
        self._sample_every: int = sim.sample_every  # dots: 0 for none
        self._gap_rng = stream(seed, cid, "arrivals")
        self._op_rng = stream(seed, cid, "operations")
        self._malicious_rng = stream(seed, cid, "malicious")
        self._keys = KeyChooser(settings["keys"], settings["key_skew"],
                                stream(seed, cid, "keys"))
        self._epoch = 0
        self._on_arrival = self._arrive  # bound once: compiled, binding costs per arrival
        self.requests = self.succeeded = 0
        self.failures = dict.fromkeys(OUTCOME_NAMES[1:], 0)
        self.total_limited = 0  # failed as rate_limited, warm-up included (live frames)
        self.recent: LatencyHistogram | None = None  # latencies since the last live frame
        self.calls = Calls(self)
        self._configure()
        self._configure_arrivals()

    def _configure(self) -> None:
        s = self.settings
        self._read_ratio = float(s["read_ratio"])  # floats: compiled, compared natively
        self._malicious = float(s["malicious_ratio"])
        self._request_kb = float(s["request_kb"])
        self._response_kb = float(s["response_kb"])
        self._sized = bool(self._request_kb or self._response_kb)

    def _configure_arrivals(self) -> None:
        """The sampler of gaps to the next arrival (made again only when the rate, its
        schedule or arrival_cv change: a schedule's stream keeps its place otherwise)."""
        s = self.settings
        # A schedule's gaps come from the same sampler, in operational time (rates.py): the
        # constant rate's arrivals stay exactly what they were, at no extra cost.
        self._timed: ScheduledGaps | None = None
        self._gap: Sampler | None = None
        if s["schedule"] is not None:
            self._timed = ScheduledGaps(rate_schedule(s["rate_rps"], s["schedule"]),
                                        gap_sampler(1.0, s["arrival_cv"], self._gap_rng),
                                        self.kernel)
            self._gap = self._timed.sample
        elif s["rate_rps"] > 0:
            self._gap = gap_sampler(s["rate_rps"], s["arrival_cv"], self._gap_rng)

    def start(self) -> None:
        """Schedule the first arrival (again after a rate change: the old chain stops)."""
        self._epoch += 1
        if self._timed is not None:
            self._timed.begin(self.kernel.now)
        if self._gap is not None:
            gap = self._gap()
            if gap < math.inf:  # a schedule whose rate stays 0 from here sends nothing
                self.kernel.schedule(gap, self._arrive, self._epoch)

    def apply_settings(self, changes):
        super().apply_settings(changes)
        if {"keys", "key_skew"} & set(changes):
            self._keys = KeyChooser(self.settings["keys"], self.settings["key_skew"],
                                    stream(self.sim.seed, self.id, "keys",
                                           str(self.kernel.now)))
        self._configure()
        self.calls.update(changes)
        if {"rate_rps", "arrival_cv", "schedule"} & set(changes):
            self._configure_arrivals()
            self.start()

    def warm(self, now: float):
        super().warm(now)
        self.calls.warm(now)

    def drop_state(self) -> None:
        self.calls.reset_breakers()

    def accept(self, req, reply):  # validation forbids links into a client
        raise AssertionError("clients are never called")

    def _arrive(self, epoch: int) -> None:
        if epoch != self._epoch:
            return
        kernel = self.kernel
        now = kernel.now
        heappush(kernel.heap, (now + self._gap(), next_number(kernel.seq),  # type: ignore[misc]
                               self._on_arrival, epoch))
        if not self.up:
            return
        counted = now >= self.warmup
        self.total_in += 1
        if counted:
            self.requests += 1
        req = self._request(now, counted)
        links = self.routes[req.cls]
        if self.calls.uncalled:
            link = links[0] if len(links) == 1 else self.sim.pick_weighted(self, links)
            link.send(req, req)
        else:
            self.calls.send(links, req, req)

    def _request(self, now: float, counted: bool) -> Request:
        """The next request: a read or a write (a ClassedClient's: one of its classes)."""
        op = "read" if self._read_ratio >= 1.0 or self._op_rng.random() < self._read_ratio \
            else "write"
        req = Request(op, self._keys() if self._uses_keys else 0, now, counted,
                      self._sample_every and self.sim.sample_next(),
                      self._malicious > 0 and self._malicious_rng.random() < self._malicious, self)
        if self._sized:
            req.request_kb = self._request_kb
            req.response_kb = self._response_kb
        return req

    def retry(self, call: Call) -> None:
        """Attempt n + 1, along a link chosen afresh."""
        req = call.subject
        self.calls.send(self.routes[req.cls], req, req, call.n + 1)

    def settled(self, req: Request, outcome: int) -> None:
        """The request is over: answered OK, or failed with no retry left."""
        if outcome == OK:
            self.total_ok += 1
            if req.counted:
                self.succeeded += 1
                self.latency.record((self.kernel.now - req.born) * 1000.0)
            if self.recent is not None:  # live view: warm-up included, people watch it too
                self.recent.record((self.kernel.now - req.born) * 1000.0)
            return
        self.total_failed += 1
        self.total_limited += outcome == RATE_LIMITED
        if req.counted:
            self.failures[OUTCOME_NAMES[outcome]] += 1

    def in_flight(self) -> int:
        """Requests started and not yet finished (retries included)."""
        return self.total_in - self.total_ok - self.total_failed

    def report(self, now: float):
        failed = sum(self.failures.values())
        return {"kind": self.kind, "requests": self.requests, "succeeded": self.succeeded,
                "failed": failed, "failures": dict(self.failures),
                "latency_ms": self.latency.summary(), "available_ratio": self.uptime.mean(now),
                **self.calls.report(now)}

    def live(self):
        out = {**super().live(), **self.calls.live()}
        if self._timed is not None:  # what its schedule asks for now, beside what it sends
            out["target_rps"] = rate(self._timed.rates.rate(self.kernel.now), 1.0)
        return out

    def counters(self, now: float) -> dict[str, float]:
        out = super().counters(now)
        out["ok"] = self.total_ok
        out["done"] = self.succeeded  # its latency: from sending to the final answer
        return self.calls.counters(out)

    def windowed(self, old, new, span: float, out) -> None:
        """This client's share of the frame's summary: its answers per second and error
        ratio (the engine adds its latency percentiles), so groups can be compared; and its
        calls' attempts per request and breakers."""
        super().windowed(old, new, span, out)
        self.calls.windowed(old, new, span, out)
        ok, bad = new["ok"] - old["ok"], new["bad"] - old["bad"]
        out["ok_rps"] = rate(ok, span)
        out["error_ratio"] = round(bad / (ok + bad), 4) if ok + bad else 0.0
