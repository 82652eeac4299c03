"""The structure of a design, which does not depend on rates: kinds, settings, call links in
order, replication links, consumer groups."""

from __future__ import annotations

import networkx as nx

from .. import theory as qt
from ..components.rates import RateSchedule, rate_schedule
from ..scenario import Link, Scenario, peak_rate

OPS = ("read", "write")


POOLS = ("service", "database", "worker")


MS = 1000.0


NO_TIME = 1e-12  # seconds; shorter holding times count as none (1/mean would overflow)


Stream = tuple[str, str, tuple]  # (origin, op, via)


def route_key(stream: Stream) -> str:
    """What picks a stream's links: its op, or "op name" for a request class (a class
    stream's via starts with ("class", name))."""
    _, op, via = stream
    return f"{op} {via[0][1]}" if via and via[0][0] == "class" else op


class _Design:
    """What does not depend on rates: kinds, settings, call links in order, replication."""

    def __init__(self, scenario: Scenario):
        self.kind = {c.id: c.kind for c in scenario.components}
        self.settings = {c.id: c.settings for c in scenario.components}
        self.calls: dict[str, list[Link]] = {cid: [] for cid in self.kind}
        self.replication: dict[str, Link] = {}  # replica -> its link from the primary
        # A queue's or topic's dead-letter link: not one of its consumers (load.py).
        self.dead_letter: dict[str, Link] = {}
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(self.kind)
        for link in scenario.links:
            if link.dead_letter:
                self.dead_letter[link.from_] = link
                self.graph.add_edge(link.from_, link.to)
            elif link.kind == "call":
                self.calls[link.from_].append(link)
                self.graph.add_edge(link.from_, link.to)
            else:
                self.replication[link.to] = link
        self.order = list(nx.topological_sort(self.graph))
        self.clients = [cid for cid in self.order if self.kind[cid] == "client"]
        self.classed = any(self.settings[cid]["classes"] for cid in self.clients)
        self.groups = self._consumer_groups()
        self._below: dict[str, set[str]] = {}
        # Clients whose rate follows a schedule, and the part of the run that is measured.
        self.schedules: dict[str, RateSchedule] = {
            cid: rate_schedule(self.settings[cid]["rate_rps"], self.settings[cid]["schedule"])
            for cid in self.clients if self.settings[cid]["schedule"] is not None}
        self.measured = (scenario.warmup_s, scenario.duration_s)
        # Each client's rate at the start and at its highest (schedules and `set` events):
        # what a group of instances starts at and must scale out to.
        self.start_rates = {cid: self.settings[cid]["rate_rps"] for cid in self.clients}
        self.peak_rates = {cid: peak_rate(scenario, cid) for cid in self.clients}

    def rate(self, cid: str, peak: bool = False) -> float:
        """A client's rate in the steady state: its schedule's mean over the measured part
        of the run (or its peak there), else rate_rps."""
        schedule = self.schedules.get(cid)
        if schedule is None:
            return self.settings[cid]["rate_rps"]
        return schedule.peak(*self.measured) if peak else schedule.mean(*self.measured)

    def below(self, cid: str) -> set[str]:
        """Every component a request from `cid` may reach (kept: the saturation search asks
        for it once per pool and trial rate, and a design may have 500 of them)."""
        if cid not in self._below:
            self._below[cid] = nx.descendants(self.graph, cid)
        return self._below[cid]

    def carrying(self, cid: str, key: str) -> list[Link]:
        """The links out of `cid` that carry an op or a class's route key."""
        return [link for link in self.calls[cid] if link.carries(key)]

    def availability(self, cid: str) -> float:
        s = self.settings[cid]
        return qt.availability(s["mtbf_s"], s["mttr_s"]) if s.get("mtbf_s") else 1.0

    def _consumer_groups(self) -> list[tuple[list[str], list[str]]]:
        """Queues and the workers they share: each group is one pool of competing consumers."""
        bipartite = nx.Graph()
        for cid, kind in self.kind.items():
            if kind == "queue":
                bipartite.add_edges_from((cid, link.to) for link in self.calls[cid])
        groups = []
        for members in nx.connected_components(bipartite):
            ordered = [cid for cid in self.order if cid in members]
            groups.append(([c for c in ordered if self.kind[c] == "queue"],
                           [c for c in ordered if self.kind[c] == "worker"]))
        return groups


def _topic_groups(links: list[Link]) -> dict[str, list[Link]]:
    """A topic's consumer groups: the links of each, in the order listed."""
    groups: dict[str, list[Link]] = {}
    for link in links:
        groups.setdefault(link.group, []).append(link)
    return groups
