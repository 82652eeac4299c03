"""Call links with payloads and protocols (issue 18): bandwidth, loss, TCP and UDP, encodings.

The engine makes a `NetLink` instead of a plain `Link` only for a link that sets one of these
fields (scenario.NETWORK_FIELDS), so an ideal link keeps its hot path. A message (a request
on its way there, or its answer on its way back) is, in order:

- sent after a handshake round trip, for a request over tcp without keepalive;
- transmitted: it waits for the messages ahead of it in its direction's FIFO, then takes its
  size over the bandwidth (size: the request's request_kb there, response_kb back for an OK
  answer, nothing for a failed one; plus the encoding's overhead_kb either way);
- lost with probability `loss` once transmitted: over tcp it is transmitted again (it queues
  again) retransmit_ms after it was, over udp the call fails;
- delivered after the link's latency and the encoding's time.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .._mypyc import mypyc_attr
from ..kernel import stream
from ..registry import ENCODINGS, NETWORK_FIELDS
from ..theory.network import transmission_s
from .base import CUT, FAILED, OK, Component, Host, Link, Reply, Request

DIRECTIONS = ("forward", "back")


def networked(spec: Any) -> bool:
    """Whether a call link sets any payload or protocol field (else it is an ideal Link)."""
    return any(getattr(spec, name) is not None for name in NETWORK_FIELDS)


def encoding_costs(spec: Any) -> tuple[float, float]:
    """A link's (encoding_ms, overhead_kb) per message: its own, else its encoding's."""
    ms, kb = ENCODINGS[spec.net("encoding")]
    return (ms if spec.encoding_ms is None else spec.encoding_ms,
            kb if spec.overhead_kb is None else spec.overhead_kb)


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class NetLink(Link):
    __slots__ = ("per_kb", "overhead", "encode", "tcp", "handshake", "loss", "rto", "rng",
                 "free", "backlog", "busy", "at_warm", "waited", "messages", "kb", "lost",
                 "warmup")

    def __init__(self, sim: Host, index: int, source: Component, target: Component,
                 spec: Any, carried: frozenset[str]):
        super().__init__(sim, index, source, target, spec.latency_ms, carried, spec.weight)
        self.per_kb = 0.0 if spec.bandwidth_mbps is None else \
            transmission_s(1.0, spec.bandwidth_mbps)
        encode_ms, self.overhead = encoding_costs(spec)
        self.encode = encode_ms / 1000.0
        self.tcp = spec.net("protocol") == "tcp"
        self.handshake = 2.0 * self.latency if self.tcp and not spec.net("keepalive") else 0.0
        self.loss = float(spec.net("loss"))
        self.rto = spec.net("retransmit_ms") / 1000.0
        self.rng = stream(sim.seed, f"links[{index}]", "loss")
        self.warmup = sim.warmup_s
        # Per direction (0 there, 1 back): when its FIFO is next free, the ends of the
        # transmissions not yet over (the live queue), and totals since warm-up.
        self.free = [0.0, 0.0]
        self.backlog: list[deque[float]] = [deque(), deque()]
        self.busy = [0.0, 0.0]  # seconds of transmission put in the FIFO since the start
        self.at_warm = [0.0, 0.0]  # seconds transmitted when warm-up ended
        self.waited = [0.0, 0.0]  # seconds messages waited in the FIFO
        self.messages = [0, 0]  # transmissions, retransmissions included
        self.kb = [0.0, 0.0]
        self.lost = [0, 0]

    def send(self, req: Request, carrier: Any) -> None:
        self.total += 1
        carrier.link = self
        if self.cut:
            carrier.answer(CUT)
            return
        if req.sample:
            self.sim.dot(self.index, 0, req)
        msg = Message(self, req, carrier.answer, req.request_kb + self.overhead)
        if self.handshake:
            self.kernel.schedule(self.handshake, msg.put)
        else:
            self.put(msg)

    def put(self, msg: Message) -> None:
        """Transmit `msg` in its direction: after those ahead of it, for its size."""
        now = self.kernel.now
        d = msg.direction
        start = max(now, self.free[d])
        tx = msg.size * self.per_kb
        done = self.free[d] = start + tx
        if self.per_kb:
            self._backlog(d).append(done)
        self.busy[d] += tx
        if now >= self.warmup:
            self.waited[d] += start - now
            self.messages[d] += 1
            self.kb[d] += msg.size
        if self.loss and self.rng.random() < self.loss:
            if now >= self.warmup:
                self.lost[d] += 1
            if self.tcp:  # no acknowledgement: sent again when the timer runs out
                self.kernel.schedule(done - now + self.rto, msg.put)
            else:  # udp: the caller is answered FAILED when the answer was due
                self.kernel.schedule(done - now + self.latency * (2 - d), msg.fail)
            return
        self.kernel.schedule(done - now + self.latency + self.encode, msg.arrive)

    def _backlog(self, d: int) -> deque[float]:
        """The ends of direction d's transmissions not over yet (the others leave it)."""
        now = self.kernel.now
        backlog = self.backlog[d]
        while backlog and backlog[0] <= now:
            backlog.popleft()
        return backlog

    def queue(self, d: int) -> int:
        """Messages in direction d's FIFO now, the one being transmitted included."""
        return len(self._backlog(d))

    def sent(self, d: int) -> float:
        """Seconds spent transmitting in direction d since warm-up, up to now."""
        return self._transmitted(d) - self.at_warm[d]

    def _transmitted(self, d: int) -> float:
        """Since the start: what was put in the FIFO less what it still holds (its remaining
        work, as it works without pause), so never more than the time elapsed."""
        return self.busy[d] - max(self.free[d] - self.kernel.now, 0.0)

    def warm(self, now: float) -> None:
        self.at_warm = [self._transmitted(0), self._transmitted(1)]

    def frame_extra(self, old: tuple, new: tuple, span: float) -> list[Any]:
        """What a frame adds to a link with a bandwidth: {utilisation, queue} each way."""
        if span <= 0:
            return []
        return [{"utilisation": [round(min((new[2 + d] - old[2 + d]) / span, 1.0), 4)
                                 for d in (0, 1)],
                 "queue": [self.queue(0), self.queue(1)]}]

    def mark(self) -> tuple:
        return (self.total, self.errors, self.sent(0), self.sent(1))

    def report(self, now: float) -> dict[str, Any] | None:
        span = now - self.warmup
        out: dict[str, Any] = {"from": self.source.id, "to": self.target.id}
        for d, name in enumerate(DIRECTIONS):
            n = self.messages[d]
            # kB offered to the link; with a bandwidth, those transmitted by now
            kb = self.sent(d) / self.per_kb if self.per_kb else self.kb[d]
            fields: dict[str, Any] = {"messages": n, "kb": kb}
            if self.per_kb and span > 0:
                fields.update(utilisation=self.sent(d) / span,
                              mean_wait_ms=self.waited[d] / n * 1000.0 if n else 0.0,
                              mean_queue=self.waited[d] / span)  # Little: L = lambda W
            if self.loss:
                fields["lost"] = self.lost[d]
            out[name] = fields
        return out


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Message:
    """A request on a NetLink, then its answer (direction 1): an object, not closures, so
    that a running simulation can be copied."""

    __slots__ = ("link", "req", "reply", "direction", "size", "outcome")

    def __init__(self, link: NetLink, req: Request, reply: Reply, size: float):
        self.link = link
        self.req = req
        self.reply = reply
        self.direction = 0
        self.size = size
        self.outcome = OK

    def put(self, _: Any = None) -> None:
        self.link.put(self)

    def arrive(self, _: Any = None) -> None:
        if self.direction:
            self.reply(self.outcome)
        else:
            self.link.target.accept(self.req, self.answered)

    def answered(self, outcome: int) -> None:
        """The target answered: the answer travels back (its body only if it is OK)."""
        link = self.link
        if self.req.sample:
            link.sim.dot(link.index, 1, self.req, outcome)
        self.direction = 1
        self.outcome = outcome
        self.size = (self.req.response_kb if outcome == OK else 0.0) + link.overhead
        link.put(self)

    def fail(self, _: Any = None) -> None:
        self.reply(FAILED)
