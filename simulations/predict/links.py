"""Links with payloads and protocols: each direction's messages, transmission time and FIFO
wait, TCP's handshakes and retransmissions, UDP's losses (formulas in theory.network), and the
time a call spends on the link, which the callers' latencies add (timing.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import theory as qt
from ..components.network import DIRECTIONS, encoding_costs, networked
from ..scenario import Link
from .design import MS, _Design
from .load import _Load
from .moments import Moments

FIFO_MODEL = ("M/G/1 FIFO per direction (M/D/1 for one message size): Poisson messages, "
              "transmission = size / bandwidth")
TCP_MODEL = ("each message lost independently with probability p and sent again after "
             "retransmit_ms: p/(1-p) retransmissions, each costing the timeout and another "
             "transmission; a handshake round trip per request without keepalive")
UDP_MODEL = "each message lost independently: a call (request and answer) arrives whole (1-p)^2"


@dataclass
class _Direction:
    rate: float  # transmissions per second, retransmissions included
    kb_per_s: float
    tx: Moments  # one transmission's time
    fifo: qt.MG1 | None  # None: no bandwidth, or nothing to send
    saturated: bool

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"messages_per_s": self.rate, "kb_per_s": self.kb_per_s}
        if self.tx.mean > 0:
            out["transmission_ms"] = self.tx.mean * MS
            out["utilisation"] = min(self.rate * self.tx.mean, 1.0)
            out["saturated"] = self.saturated
        if self.fifo is not None:
            out.update(mean_wait_ms=self.fifo.mean_wait * MS, mean_queue=self.fifo.mean_queue,
                       model=FIFO_MODEL)
        return out


@dataclass
class LinkFit:
    link: Link
    directions: list[_Direction]
    extra: Moments | None  # a call's time on the link beyond 2 x latency; None: saturated
    handshake_s: float

    def fields(self) -> dict[str, Any]:
        link, p = self.link, self.link.net("loss")
        out: dict[str, Any] = {name: d.fields() for name, d in zip(DIRECTIONS, self.directions,
                                                                   strict=True)}
        if self.extra is not None:
            out["mean_call_ms"] = (self.extra.mean + 2 * link.latency_ms / MS) * MS
        if link.net("protocol") == "tcp":
            out["tcp"] = {"handshake_ms": self.handshake_s * MS,
                          "retransmissions_per_message": qt.tcp_transmissions(p) - 1.0,
                          "model": TCP_MODEL}
        elif link.net("protocol") == "udp":
            out["udp"] = {"delivery_ratio": qt.udp_delivery(p),
                          "call_success_ratio": qt.udp_delivery(p, 2), "model": UDP_MODEL}
        return out


def link_fits(design: _Design, load: _Load) -> dict[tuple[str, str], LinkFit]:
    """The fit of every call link that has payloads or protocols, by its ends."""
    return {(link.from_, link.to): _fit(design, load, link)
            for links in design.calls.values() for link in links if networked(link)}


def payload_kb(design: _Design, origin: str, name: str | None, size: str) -> float:
    """A request's `size` ("request_kb" or "response_kb") from `origin`: its class's own,
    else its client's (0 from a component that is not a client: a write-behind flush)."""
    settings = design.settings[origin]
    own = next((c[size] for c in settings.get("classes") or () if c["name"] == name), None)
    return settings.get(size, 0.0) if own is None else own


def _fit(design: _Design, load: _Load, link: Link) -> LinkFit:
    p, protocol = link.net("loss"), link.net("protocol")
    encode_ms, overhead = encoding_costs(link)
    latency = link.latency_ms / MS
    handshake = 2 * latency if protocol == "tcp" and not link.net("keepalive") else 0.0
    tries = qt.tcp_transmissions(p) if protocol == "tcp" else 1.0
    answered = qt.udp_delivery(p) if protocol == "udp" else 1.0  # requests that arrive
    per_origin = load.on_link[(link.from_, link.to)]
    total = math.fsum(per_origin.values())
    directions = [
        _direction([(r, payload_kb(design, origin, name, size) + overhead)
                    for (origin, name), r in per_origin.items()], total, rate * tries,
                   link.bandwidth_mbps)
        for size, rate in (("request_kb", total), ("response_kb", total * answered))]
    time = Moments(handshake - 2 * latency)  # the call's 2 x latency is counted already
    for d in directions:
        if d.saturated:
            return LinkFit(link, directions, None, handshake)
        attempt = d.tx + (Moments(d.fifo.mean_wait, d.fifo.mean_wait ** 2)  # wait: approx.
                          if d.fifo is not None else Moments())
        time += attempt + Moments(latency + encode_ms / MS)
        if protocol == "tcp":
            time += Moments(*qt.tcp_delay_s(p, link.net("retransmit_ms") / MS, attempt.mean))
    return LinkFit(link, directions, time, handshake)


def _direction(sizes: list[tuple[float, float]], total: float, rate: float,
               bandwidth: float | None) -> _Direction:
    """One direction: messages of these (rate, kB) at `rate` transmissions per second."""
    kb = math.fsum(r * s for r, s in sizes) / total if total > 0 else 0.0
    if bandwidth is None or total <= 0:
        return _Direction(rate, rate * kb, Moments(), None, False)
    times = [(r / total, qt.transmission_s(s, bandwidth)) for r, s in sizes]
    mean = math.fsum(w * t for w, t in times)
    second = math.fsum(w * t * t for w, t in times)
    tx = Moments(mean, max(second - mean * mean, 0.0))
    if mean <= 0:
        return _Direction(rate, rate * kb, tx, None, False)
    if rate * mean >= 1.0:
        return _Direction(rate, rate * kb, tx, None, True)
    return _Direction(rate, rate * kb, tx, qt.link_fifo(rate, mean, second), False)
