"""Tiny builders of scenario documents (format playground.scenario/v1) for engine tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import simulations

FORMAT = "playground.scenario/v1"

Stage = tuple[str, dict[str, Any]] | tuple[str, str, dict[str, Any]]


def document(components: list[dict], links: list[dict], duration_s: float,
             warmup_s: float = 0.0, events: list[dict] | None = None,
             name: str = "test") -> dict[str, Any]:
    """A whole scenario document."""
    return {"format": FORMAT, "name": name, "duration_s": duration_s, "warmup_s": warmup_s,
            "components": components, "links": links, "events": events or []}


def component(cid: str, kind: str, **params: Any) -> dict[str, Any]:
    return {"id": cid, "kind": kind, "params": params}


def link(src: str, dst: str, **fields: Any) -> dict[str, Any]:
    return {"from": src, "to": dst, **fields}


def chain(client_params: dict[str, Any], stages: list[Stage], latency_ms: float = 0.0,
          duration_s: float = 100.0, warmup_s: float = 0.0) -> dict[str, Any]:
    """client -> stage 1 -> stage 2 -> ...; a stage is (kind, params), id "s1", "s2", ...,
    or (id, kind, params)."""
    comps = [component("client", "client", **client_params)]
    for i, stage in enumerate(stages, 1):
        cid, kind, params = stage if len(stage) == 3 else (f"s{i}", *stage)
        comps.append(component(cid, kind, **params))
    ids = [c["id"] for c in comps]
    links = [link(a, b, latency_ms=latency_ms) for a, b in zip(ids, ids[1:], strict=False)]
    return document(comps, links, duration_s, warmup_s)


def balanced(client_params: dict[str, Any], lb_params: dict[str, Any],
             targets: list[tuple[str, dict[str, Any]]], weights: list[float] | None = None,
             duration_s: float = 100.0, warmup_s: float = 0.0) -> dict[str, Any]:
    """client -> lb -> targets (kind, params) with ids "t1", "t2", ...; optional link weights."""
    comps = [component("client", "client", **client_params),
             component("lb", "load_balancer", **lb_params)]
    links = [link("client", "lb")]
    for i, (kind, params) in enumerate(targets, 1):
        comps.append(component(f"t{i}", kind, **params))
        extra = {"weight": weights[i - 1]} if weights else {}
        links.append(link("lb", f"t{i}", **extra))
    return document(comps, links, duration_s, warmup_s)


def copy_continues_exactly(sim: simulations.Simulation, until: float) -> dict[str, Any]:
    """Checkpoints (replay, seeking) and live copies deep-copy a running simulation: the
    copy, run on to `until`, must report exactly what the original does. Returns the
    original's report (without its wall time)."""
    twin = copy.deepcopy(sim)
    sim.advance(until)
    twin.advance(until)
    a, b = sim.report(), twin.report()
    a.pop("wall_s"), b.pop("wall_s")
    assert a == b
    assert twin.frame() == sim.frame()
    return a


# Tests that replace a method of a live component to watch it: compiled classes do not
# allow that (simulations/compiled.py); tests/engine/test_compiled.py checks that the
# compiled engine reports exactly what the plain one does.
plain_python_only = pytest.mark.skipif(
    simulations.COMPILED, reason="watches a component by replacing a method (plain Python)")
