"""A client that sends a mix of named request classes (`GET /feed` 70%, `POST /photo` 5%):
each has its share, operation and keys, and its own figures. Chosen at build time for a
client with `classes`, so a client without them runs the plain Client's code unchanged."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from itertools import accumulate

from .._mypyc import mypyc_attr
from ..distributions import KeyChooser
from ..kernel import stream
from ..metrics import LatencyHistogram
from .base import OK, Request, rate
from .client import Client


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class ClassedClient(Client):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        classes = self.settings["classes"]
        self.names: list[str] = [c["name"] for c in classes]
        self.ops: list[str] = [c["op"] for c in classes]
        self.keys_of: list[str] = [f"{c['op']} {c['name']}" for c in classes]  # route keys
        self.index: dict[str, int] = {key: i for i, key in enumerate(self.keys_of)}
        shares = list(accumulate(float(c["share"]) for c in classes))
        self._cumulative: list[float] = [x / shares[-1] for x in shares[:-1]]  # normalised
        self._choosers: list[KeyChooser] = self._key_choosers()
        n = len(classes)
        self.class_requests = [0] * n
        self.class_ok = [0] * n  # counted (after warm-up), as the report's figures
        self.class_failed = [0] * n
        self.class_latency = [LatencyHistogram() for _ in range(n)]
        self.class_total_ok = [0] * n  # since the start, for live rates
        self.class_total_bad = [0] * n
        # Live view: each class's latencies in the window open now, and in the closed
        # windows of the last few seconds (None: a headless run keeps none).
        self.class_recent: list[LatencyHistogram] | None = None
        self._class_windows: deque[tuple[float, list[LatencyHistogram]]] = deque()

    def _key_choosers(self, *when: str) -> list[KeyChooser]:
        """Each class draws its keys from its own stream (adding a class never shifts
        another's), from its own keys and skew or its client's; `when`: a `set` of those."""
        s = self.settings
        return [KeyChooser(c["keys"] or s["keys"],
                           s["key_skew"] if c["key_skew"] is None else c["key_skew"],
                           stream(self.sim.seed, self.id, "keys", c["name"], *when))
                for c in s["classes"]]

    def _configure(self) -> None:
        """As a client's, with each class's (request_kb, response_kb): its own, else its
        client's (made again with every `set`, as the client's)."""
        super()._configure()
        s = self.settings
        self.sizes: list[tuple[float, float]] = [
            (float(s["request_kb"] if c["request_kb"] is None else c["request_kb"]),
             float(s["response_kb"] if c["response_kb"] is None else c["response_kb"]))
            for c in s["classes"]]
        self._sized = any(a or b for a, b in self.sizes)

    def apply_settings(self, changes):
        super().apply_settings(changes)
        if {"keys", "key_skew"} & set(changes):  # classes without their own follow the client
            self._choosers = self._key_choosers(str(self.kernel.now))

    def _request(self, now: float, counted: bool) -> Request:
        i = bisect_right(self._cumulative, self._op_rng.random()) if self._cumulative else 0
        if counted:
            self.class_requests[i] += 1
        req = Request(self.ops[i], self._choosers[i]() if self._uses_keys else 0, now, counted,
                      self._sample_every and self.sim.sample_next(),
                      self._malicious > 0 and self._malicious_rng.random() < self._malicious,
                      self, self.keys_of[i])
        if self._sized:
            req.request_kb, req.response_kb = self.sizes[i]
        return req

    def settled(self, req: Request, outcome: int) -> None:
        super().settled(req, outcome)
        i = self.index[req.cls]
        if outcome == OK:
            self.class_total_ok[i] += 1
            if req.counted:
                self.class_ok[i] += 1
                self.class_latency[i].record((self.kernel.now - req.born) * 1000.0)
            if self.class_recent is not None:
                self.class_recent[i].record((self.kernel.now - req.born) * 1000.0)
        else:
            self.class_total_bad[i] += 1
            if req.counted:
                self.class_failed[i] += 1

    def start_recent(self) -> None:
        self.class_recent = [LatencyHistogram() for _ in self.names]

    def close_window(self, now: float, rolling_s: float) -> None:
        """A live window ends at `now`: keep its latencies for `rolling_s` seconds."""
        if self.class_recent is not None:
            self._class_windows.append((now, self.class_recent))
        self.class_recent = [LatencyHistogram() for _ in self.names]
        while self._class_windows and self._class_windows[0][0] <= now - rolling_s:
            self._class_windows.popleft()

    def class_percentiles(self, quantiles: tuple[float, ...]) -> dict[str, dict]:
        """Each class's latency percentiles over the kept windows (as its client's)."""
        out: dict[str, dict] = {}
        for i, name in enumerate(self.names):
            merged = LatencyHistogram()
            for _, hists in self._class_windows:
                merged.merge(hists[i])
            figures = merged.summary(quantiles)
            del figures["max"], figures["mean"]
            out[name] = figures
        return out

    def report(self, now: float):
        out = super().report(now)
        out["classes"] = {name: {"op": self.ops[i], "requests": self.class_requests[i],
                                 "succeeded": self.class_ok[i], "failed": self.class_failed[i],
                                 "latency_ms": self.class_latency[i].summary()}
                          for i, name in enumerate(self.names)}
        return out

    def counters(self, now: float) -> dict[str, float]:
        out = super().counters(now)
        for i in range(len(self.names)):
            out[f"ok.{i}"] = self.class_total_ok[i]
            out[f"bad.{i}"] = self.class_total_bad[i]
            out[f"done.{i}"] = self.class_ok[i]
            out[f"lat.{i}"] = self.class_latency[i].sum
        return out

    def windowed(self, old, new, span: float, out) -> None:
        """Per class too: answers per second, error ratio and mean latency over the window."""
        super().windowed(old, new, span, out)
        classes: dict[str, dict[str, float]] = {}
        for i, name in enumerate(self.names):
            ok, bad = new[f"ok.{i}"] - old[f"ok.{i}"], new[f"bad.{i}"] - old[f"bad.{i}"]
            figures = {"ok_rps": rate(ok, span),
                       "error_ratio": round(bad / (ok + bad), 4) if ok + bad else 0.0}
            done = new[f"done.{i}"] - old[f"done.{i}"]
            if done > 0:
                figures["latency_ms"] = float(
                    f"{(new[f'lat.{i}'] - old[f'lat.{i}']) / done:.3g}")
            classes[name] = figures
        out["classes"] = classes
