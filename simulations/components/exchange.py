"""Exchanges (RabbitMQ-style): a producer's message copied to the queues whose binding
matches its routing key.

A producer calls an exchange as it calls a queue: it is answered once the message is
published (after `publish_ms`), whatever becomes of the copies. A binding is one of the
exchange's outgoing links, its `binding` the key or pattern. The routing key is the request's
class name, or its op ("read", "write") for a request with no class. `fanout` copies every
message to every bound queue; `direct` to the bindings equal to the routing key; `topic` to
the bindings whose pattern matches it, words separated by '.', `*` standing for exactly one
word and `#` for zero or more. A message no binding matches is dropped (`unroutable`).
"""

from __future__ import annotations

from .._mypyc import mypyc_attr
from .base import OK, Component, Job, Unanswered
from .edge import after


def routing_key(route_key: str) -> str:
    """A request's routing key from its route key ("op name" for a class, else its op)."""
    return route_key.partition(" ")[2] or route_key


def binds(kind: str, binding: str | None, key: str) -> bool:
    """Whether a binding of an exchange of type `kind` takes a message of routing `key`."""
    if kind == "fanout":
        return True
    if binding is None:
        return False
    if kind == "direct":
        return binding == key
    return _matches(binding.split("."), key.split("."))


def _matches(pattern: list[str], words: list[str]) -> bool:
    """Topic matching, word by word, as a table of which pattern prefixes match which word
    prefixes: O(pattern x words), where trying every count of words each `#` may stand for
    grows exponentially with the `#`s (a 200-character binding holds up to 100)."""
    n = len(words)
    matched = [True] + [False] * n  # the empty pattern matches the first 0 words only
    for part in pattern:
        if part == "#":  # zero or more words: any prefix at or after one already matched
            for j in range(1, n + 1):
                matched[j] = matched[j] or matched[j - 1]
        else:
            matched = [False] + [matched[j - 1] and part in ("*", words[j - 1])
                                 for j in range(1, n + 1)]
    return matched[n]


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Exchange(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.published = self.routed = self.unroutable = 0  # counted after warm-up
        self.per_target: list[int] = []
        self.bound: dict[str, list[int]] = {}  # route key -> indices of matching bindings

    def wire(self) -> None:
        super().wire()
        self.per_target = [0] * len(self.out)
        self._bind()

    def _bind(self) -> None:
        """Which bindings take each route key (a `set` may change the type)."""
        specs = self.sim.scenario.links
        kind = self.settings["type"]
        self.bound = {key: [i for i, link in enumerate(self.out) if link.carries(key) and binds(
            kind, specs[link.index].binding, routing_key(key))] for key in self.routes}

    def apply_settings(self, changes) -> None:
        super().apply_settings(changes)
        if "type" in changes:
            self._bind()

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is not None:
            after(self, self.settings["publish_ms"], self._publish, job)

    def _publish(self, job: Job) -> None:
        req, counted = job.req, job.counted
        targets = self.bound[req.cls]
        if counted:
            self.published += 1
            if not targets:
                self.unroutable += 1
        for i in targets:
            if counted:
                self.routed += 1
                self.per_target[i] += 1
            self.out[i].send(req, Unanswered())  # nobody waits for a copy's answer
        self.finish(job, OK)

    def report(self, now: float):
        out = super().report(now)
        out.update(published=self.published, routed=self.routed, unroutable=self.unroutable,
                   per_target={link.target.id: n for link, n in
                               zip(self.out, self.per_target, strict=True)})
        return out

    def live(self):
        out = super().live()  # its counts so far (since warm-up), as the report has them
        out.update(published=self.published, routed=self.routed, unroutable=self.unroutable)
        return out
