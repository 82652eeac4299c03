"""Hypothesis strategies of scenario documents (format playground.scenario/v1).

* `valid_scenarios()`: random valid designs -- clients -> optional load balancer -> services
  -> optional cache -> database with optional replicas (and an active-passive or
  multi-primary failover), an optional queue -> worker branch, an optional topic -> consumer
  groups branch, optional key-value stores (behind a shard router when there are several),
  up to three edge kinds (dns, cdn, reverse_proxy, rate_limiter, waf) between the clients and
  the front,
  random parameters within the registry's ranges (modest sizes), random events, optional
  mtbf/mttr, costs, and timeouts, retries (with jitter) and circuit breakers on clients and
  services. Every document drawn passes `simulations.validate`.
* `invalid_scenarios()`: mutations of valid documents that each make the document invalid
  (deleted required keys, unknown keys, wrong types, NaN/Infinity, negative times, dangling,
  duplicate and self-referencing ids, random JSON values in place of objects and lists).
* `json_values()`: arbitrary JSON values.
* `CONTRACT_EXAMPLE`: the example document of the contract (scenario-format-v1.md).
* `error_path_ok(doc, line)`: whether an error line "path: message" names a real place.

Reused by the web tests' fuzzing; import as `from tests.engine.strategies import ...`.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from hypothesis import strategies as st

from simulations import KINDS

FORMAT = "playground.scenario/v1"

CONTRACT_EXAMPLE: dict[str, Any] = {
    "format": "playground.scenario/v1",
    "name": "Cache in front of a database",
    "description": "markdown, optional",
    "seed": 7,
    "duration_s": 300,
    "warmup_s": 30,
    "components": [
        {"id": "users", "kind": "client", "label": "Users", "position": {"x": 80, "y": 200},
         "params": {"rate_rps": 400, "read_ratio": 0.9, "keys": 100000, "key_skew": 0.99}},
        {"id": "lb", "kind": "load_balancer", "params": {"algorithm": "round_robin"}},
        {"id": "app1", "kind": "service", "params": {"workers": 8, "service_ms": 12}},
        {"id": "app2", "kind": "service", "params": {"workers": 8, "service_ms": 12}},
        {"id": "cache", "kind": "cache",
         "params": {"capacity_keys": 5000, "eviction": "lru", "hit_ms": 1}},
        {"id": "db", "kind": "database", "params": {"workers": 4, "read_ms": 8, "write_ms": 20}},
    ],
    "links": [
        {"from": "users", "to": "lb", "latency_ms": 20},
        {"from": "lb", "to": "app1"}, {"from": "lb", "to": "app2"},
        {"from": "app1", "to": "cache"}, {"from": "app2", "to": "cache"},
        {"from": "cache", "to": "db"},
    ],
    "events": [
        {"at_s": 120, "action": "fail", "target": "app2"},
        {"at_s": 180, "action": "recover", "target": "app2"},
    ],
}


def contract_example() -> dict[str, Any]:
    """A fresh deep copy of the contract's example."""
    return copy.deepcopy(CONTRACT_EXAMPLE)


# --- small value strategies ------------------------------------------------------------------

def _float(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


DISTS = ("exponential", "constant", "lognormal")

# Timeouts, retries and breakers of callers (clients, and services for their calls).
RESILIENCE_VALUES: dict[str, st.SearchStrategy] = {
    "timeout_ms": _maybe(_float(1.0, 2000.0)),
    "retries": st.integers(0, 3),
    "backoff_ms": _float(0.0, 500.0),
    "jitter": st.sampled_from(("none", "full", "equal")),
    "breaker_errors": _maybe(st.integers(1, 20)),
    "breaker_window_s": _float(0.01, 5.0),
    "breaker_open_s": _float(0.0, 2.0),
}

# A service run as instances (components/fleet.py): bounds that hold whichever are given
# (min 1 <= instances <= 3 <= max; a target that suits utilisation too). Shared sessions need
# a store link, which the designs drawn do not make.
FLEET_VALUES: dict[str, st.SearchStrategy] = {
    "size": st.sampled_from(KINDS["service"].param("size").choices),
    "instances": st.integers(1, 3),
    "autoscale": st.sampled_from(KINDS["service"].param("autoscale").choices),
    "scale_target": _float(0.2, 1.0),
    "max_instances": st.integers(3, 6),
    "scale_period_s": _float(0.5, 3.0),
    "scale_out_cooldown_s": _float(0.0, 3.0),
    "scale_in_cooldown_s": _float(0.0, 3.0),
    "boot_s": _float(0.0, 2.0),
    "drain_s": _float(0.0, 2.0),
    "sessions": st.sampled_from(("none", "local")),
    "relogin": st.sampled_from(("work", "fail")),
    "relogin_ms": _float(0.0, 20.0),
}

# Modest values inside the registry's ranges, per kind and parameter. Required parameters are
# always given; the others are given or left to their default at random.
PARAM_VALUES: dict[str, dict[str, st.SearchStrategy]] = {
    "client": {
        "arrival_cv": st.one_of(st.just(1.0), _float(0.2, 4.0)),
        "read_ratio": st.one_of(st.sampled_from([0.0, 1.0]), _float(0.0, 1.0)),
        "keys": st.integers(1, 5000),
        "key_skew": _float(0.0, 2.0),
        "malicious_ratio": _float(0.0, 0.5),
        **RESILIENCE_VALUES,
    },
    "load_balancer": {
        "algorithm": st.sampled_from(KINDS["load_balancer"].param("algorithm").choices),
        "overhead_ms": _float(0.0, 5.0),
        "health_check_s": st.one_of(st.just(0.0), _float(0.0, 2.0)),
    },
    "service": {
        "service_ms": st.one_of(st.just(0.0), _float(0.0, 30.0)),
        "workers": st.integers(1, 16),
        "service_dist": st.sampled_from(DISTS),
        "service_cv": _float(0.1, 3.0),
        "queue_limit": _maybe(st.integers(0, 50)),
        "blocking": st.booleans(),
        **RESILIENCE_VALUES,
        **FLEET_VALUES,
    },
    "cache": {
        "capacity_keys": st.integers(0, 2000),
        "eviction": st.sampled_from(("lru", "lfu", "fifo")),
        "ttl_s": _maybe(_float(0.01, 5.0)),
        "hit_ms": _float(0.0, 2.0),
        "write_policy": st.sampled_from(("write_through", "write_around", "write_behind")),
        "flush_ms": st.one_of(st.just(0.0), _float(1.0, 1000.0)),
    },
    "database": {
        "read_ms": _float(0.0, 20.0),
        "write_ms": _float(0.0, 40.0),
        "workers": st.integers(1, 8),
        "service_dist": st.sampled_from(DISTS),
        "service_cv": _float(0.1, 3.0),
        "queue_limit": _maybe(st.integers(0, 50)),
        "heartbeat_s": _float(0.0, 1.0),
        "promotion_s": _float(0.0, 1.0),
    },
    "topic": {
        "partitions": st.integers(1, 8),
        "append_ms": _float(0.0, 2.0),
        "retention_s": _maybe(_float(0.05, 2.0)),
        "delivery": st.sampled_from(KINDS["topic"].param("delivery").choices),
        "max_deliveries": st.integers(1, 5),
        "durable": st.booleans(),
        "subscriptions": st.sampled_from(KINDS["topic"].param("subscriptions").choices),
        "session_timeout_s": _maybe(_float(0.05, 2.0)),
        "rebalance_s": _float(0.0, 1.0),
    },
    "queue": {
        "capacity": _maybe(st.integers(0, 100)),
        "enqueue_ms": _float(0.0, 2.0),
        "delivery": st.sampled_from(KINDS["queue"].param("delivery").choices),
        "max_deliveries": st.integers(1, 5),
        "durable": st.booleans(),
        "visibility_timeout_s": _maybe(_float(0.01, 1.0)),
    },
    "worker": {
        "service_ms": _float(0.0, 30.0),
        "workers": st.integers(1, 4),
        "service_dist": st.sampled_from(DISTS),
        "service_cv": _float(0.1, 3.0),
        "fail_prob": _float(0.0, 1.0),
    },
    "shard_router": {
        "strategy": st.sampled_from(KINDS["shard_router"].param("strategy").choices),
        "key_space": st.integers(1, 5000),
        "vnodes": st.integers(1, 200),
    },
    # Quorums and partitions stay below the fewest replicas drawn (3), in sets too.
    "kv_store": {
        "replicas_n": st.integers(3, 5),
        "read_quorum": st.integers(1, 3),
        "write_quorum": st.integers(1, 3),
        "replica_ms": _float(0.0, 20.0),
        "partitioned_replicas": st.integers(0, 2),
        "on_partition": st.sampled_from(("refuse", "serve")),
    },
    # edge kinds (components/edge.py)
    "dns": {
        "policy": st.sampled_from(KINDS["dns"].param("policy").choices),
        "lookup_ms": _float(0.0, 5.0),
        "ttl_s": st.one_of(st.just(0.0), _float(0.0, 3.0)),
        "users": st.integers(1, 200),
    },
    "cdn": {
        "mode": st.sampled_from(("pull", "push")),
        "capacity_keys": st.integers(0, 2000),
        "ttl_s": _maybe(_float(0.01, 5.0)),
        "push_keys": st.integers(0, 2000),
        "edge_ms": _float(0.0, 5.0),
        "dynamic_ratio": _float(0.0, 1.0),
    },
    "reverse_proxy": {
        "connections": st.integers(1, 32),
        "queue_limit": _maybe(st.integers(0, 50)),
        "tls_ms": _float(0.0, 2.0),
        "compress_ms": _float(0.0, 2.0),
        "cache_keys": st.integers(0, 500),
        "cache_ttl_s": _maybe(_float(0.01, 5.0)),
        "client_rate_rps": _maybe(_float(0.1, 500.0)),
        "client_burst": st.integers(1, 50),
        "clients": st.integers(1, 200),
    },
    "rate_limiter": {
        "rate_rps": _float(0.1, 3000.0),
        "burst": st.integers(1, 100),
    },
    "waf": {
        "inspect_ms": _float(0.0, 5.0),
        "block_ratio": _float(0.0, 1.0),
        "false_positive_ratio": _float(0.0, 0.5),
    },
}
EDGE_KINDS = ("dns", "cdn", "reverse_proxy", "rate_limiter", "waf")
FAILURE_VALUES = {"mtbf_s": _float(0.5, 10.0), "mttr_s": _float(0.1, 3.0)}
COST_VALUES = _float(0.0, 5.0)  # cost_per_hour, which every kind has


@st.composite
def params_for(draw, kind: str, rate_max: float = 2000.0) -> dict[str, Any]:
    """Random valid parameters of `kind`: required ones always, optional ones at random."""
    out: dict[str, Any] = {}
    if kind == "client":
        # Mostly real traffic; now and then a silent client.
        out["rate_rps"] = 0.0 if draw(st.integers(0, 15)) == 0 else \
            draw(st.integers(10, int(rate_max))) * draw(_float(0.9, 1.0))
    for name, values in PARAM_VALUES[kind].items():
        if KINDS[kind].param(name).required or draw(st.booleans()):
            out[name] = draw(values)
    if draw(st.integers(0, 4)) == 0:
        out["mtbf_s"] = draw(FAILURE_VALUES["mtbf_s"])
        if draw(st.booleans()):
            out["mttr_s"] = draw(FAILURE_VALUES["mttr_s"])
    if draw(st.integers(0, 3)) == 0:
        out["cost_per_hour"] = draw(COST_VALUES)
    return out


@st.composite
def set_params_for(draw, kind: str, rate_max: float) -> dict[str, Any]:
    """A non-empty, valid `params` of a `set` event on a component of `kind`."""
    # mtbf_s may be set to null (never fails) by the contract; that crashes the engine today
    # (test_validation.py::test_set_mtbf_to_null_stops_failures), so it is not drawn here.
    values = {name: v for name, v in PARAM_VALUES[kind].items()
              if not KINDS[kind].param(name).fixed}  # a set may not change these
    values.update(mtbf_s=FAILURE_VALUES["mtbf_s"], mttr_s=FAILURE_VALUES["mttr_s"],
                  cost_per_hour=COST_VALUES)
    if kind == "client":
        values["rate_rps"] = _float(0.0, rate_max)
    names = draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=3, unique=True))
    return {name: draw(values[name]) for name in names}


# --- valid documents -------------------------------------------------------------------------

@st.composite
def valid_scenarios(draw, max_duration_s: float = 5.0, max_rate_rps: float = 2000.0,
                    warmup: bool = False, events: bool = True) -> dict[str, Any]:
    """A random valid scenario document (warm-up 0 unless `warmup`)."""
    n_clients = draw(st.integers(1, 2))
    rate_max = max_rate_rps / n_clients
    comps: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []

    def add(cid: str, kind: str) -> str:
        comp: dict[str, Any] = {"id": cid, "kind": kind,
                                "params": draw(params_for(kind, rate_max))}
        if draw(st.integers(0, 3)) == 0:
            comp["label"] = draw(st.text(max_size=20))
            comp["position"] = {"x": draw(_float(-1e4, 1e4)), "y": draw(_float(-1e4, 1e4))}
        comps.append(comp)
        return cid

    def link(a: str, b: str, **fields: Any) -> None:
        spec: dict[str, Any] = {"from": a, "to": b}
        if draw(st.booleans()):
            spec["latency_ms"] = draw(_float(0.0, 20.0))
        if draw(st.integers(0, 3)) == 0:
            spec["weight"] = draw(_float(0.1, 10.0))
        spec.update(fields)
        links.append(spec)

    clients = [add(f"client{i}", "client") for i in range(n_clients)]
    services = [add(f"svc{i}", "service") for i in range(draw(st.integers(1, 3)))]
    lb = add("lb", "load_balancer") if draw(st.booleans()) else None
    cache = add("cache", "cache") if draw(st.booleans()) else None
    db = add("db", "database")
    # active_passive needs a replica; multi_primary joins db and one peer both ways.
    failover = draw(st.sampled_from(["none", "none", "active_passive", "multi_primary"]))
    n_replicas = 1 if failover == "multi_primary" else \
        draw(st.integers(int(failover == "active_passive"), 2))
    replicas = [add(f"replica{i}", "database") for i in range(n_replicas)]
    for comp in comps:
        if comp["id"] == db or (failover == "multi_primary" and comp["id"] in replicas):
            comp["params"]["failover"] = failover
        if comp["id"] == db and failover == "active_passive":  # short enough to happen
            comp["params"].update(heartbeat_s=draw(PARAM_VALUES["database"]["heartbeat_s"]),
                                  promotion_s=draw(PARAM_VALUES["database"]["promotion_s"]))
    queue = add("queue", "queue") if draw(st.booleans()) else None
    workers = [add(f"worker{i}", "worker") for i in range(draw(st.integers(1, 2)))] \
        if queue else []
    topic = add("topic", "topic") if draw(st.booleans()) else None
    consumers = [add(f"consumer{i}", "worker") for i in range(draw(st.integers(1, 3)))] \
        if topic else []
    stores = [add(f"kv{i}", "kv_store") for i in range(draw(st.integers(0, 3)))]
    router = add("router", "shard_router") \
        if len(stores) > 1 or (stores and draw(st.booleans())) else None
    edges = [add(f"{kind}{i}", kind)
             for i, kind in enumerate(draw(st.lists(st.sampled_from(EDGE_KINDS), max_size=3)))]

    # Forwarders (clients, load balancers, caches) take "any" links so that they always have
    # a link for both operations, whatever a `set` event does to read_ratio.
    front = [lb] if lb else services
    first_hop = front
    for e in reversed(edges):  # edge kinds stand one after another before the front
        for target in first_hop:
            link(e, target)
        first_hop = [e]
    for c in clients:
        for target in first_hop:
            link(c, target)
        if queue and draw(st.integers(0, 3)) == 0:
            link(c, queue)
        if topic and draw(st.integers(0, 3)) == 0:
            link(c, topic)
    if lb:
        for s in services:
            link(lb, s)
    for s in services:
        route = draw(st.sampled_from(["any", "any", "read", "write"]))
        link(s, cache or db, **({} if route == "any" else {"route": route}))
        for r in replicas:  # a multi-primary peer takes writes too
            if draw(st.booleans()):
                link(s, r, route="read" if failover != "multi_primary" else
                     draw(st.sampled_from(["any", "read", "write"])))
        if queue and draw(st.booleans()):
            link(s, queue, route=draw(st.sampled_from(["any", "write"])))
        if topic and draw(st.booleans()):
            link(s, topic, route=draw(st.sampled_from(["any", "write"])))
    if cache:
        link(cache, db)
    for r in replicas:
        spec: dict[str, Any] = {"kind": "replication"}
        for name, values in (("mode", st.sampled_from(["async", "sync"])),
                             ("lag_ms", _float(0.0, 200.0)),
                             ("lag_dist", st.sampled_from(["exponential", "constant"]))):
            if draw(st.booleans()):
                spec[name] = draw(values)
        link(db, r, **spec)
        if failover == "multi_primary":
            link(r, db, **spec)
    if queue:
        # A queue must be reachable: if no client or service links to it, one service does.
        if not any(spec["to"] == queue for spec in links):
            link(services[0], queue)
        for w in workers:
            link(queue, w)
            if draw(st.booleans()):
                link(w, db)
    if topic:
        if not any(spec["to"] == topic for spec in links):
            link(services[0], topic)
        groups = st.sampled_from([{}, {"group": "default"}, {"group": "audit"}])
        for w in consumers + workers[:draw(st.integers(0, 1))]:  # a queue's worker too
            link(topic, w, **draw(groups))
        for w in consumers:
            if draw(st.booleans()):
                link(w, db)
    if stores:
        entry = router or stores[0]
        for s in services:
            if draw(st.booleans()):
                link(s, entry, route=draw(st.sampled_from(["any", "read", "write"])))
        if not any(spec["to"] == entry for spec in links):
            link(services[0], entry)
        if router:
            for kv in stores:
                link(router, kv)

    duration = draw(st.integers(2, int(max_duration_s * 10))) / 10
    doc: dict[str, Any] = {
        "format": FORMAT,
        "name": draw(st.text(min_size=1, max_size=30)),
        "seed": draw(st.integers(0, 2**32)),
        "duration_s": duration,
        "components": comps,
        "links": links,
    }
    if warmup and draw(st.booleans()):
        doc["warmup_s"] = draw(_float(0.0, duration * 0.5))
    if draw(st.booleans()):
        doc["description"] = draw(st.text(max_size=50))
    if events:
        kinds = {c["id"]: c["kind"] for c in comps}
        ids = sorted(kinds)
        ends = [[spec["from"], spec["to"]] for spec in links]
        evs = []
        for _ in range(draw(st.integers(0, 6))):
            action = draw(st.sampled_from(["fail", "recover", "slow", "partition", "heal",
                                           "set"]))
            ev: dict[str, Any] = {"at_s": draw(_float(0.0, duration)), "action": action}
            if action in ("partition", "heal"):
                ev["target"] = list(draw(st.sampled_from(ends)))
            else:
                ev["target"] = draw(st.sampled_from(ids))
            if action == "slow":
                ev["params"] = {"factor": draw(_float(0.1, 10.0))}
            elif action == "set":
                ev["params"] = draw(set_params_for(kinds[ev["target"]], rate_max))
            evs.append(ev)
        doc["events"] = evs
    return doc


# --- arbitrary JSON and invalid documents ----------------------------------------------------

def json_values(max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Any JSON value (floats include NaN and Infinity, which Python's json accepts)."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=max_leaves)


TOP_REQUIRED = ("format", "name", "duration_s", "components")
COMPONENT_REQUIRED = ("id", "kind")
LINK_REQUIRED = ("from", "to")
EVENT_REQUIRED = ("at_s", "action", "target")
KNOWN_KEYS = frozenset(
    {"format", "name", "description", "seed", "duration_s", "warmup_s", "components", "links",
     "events", "id", "kind", "label", "position", "params", "x", "y", "from", "to",
     "latency_ms", "route", "weight", "mode", "lag_ms", "lag_dist", "group", "at_s", "action",
     "target", "factor"}
    | {p.name for k in KINDS.values() for p in k.params})

NOT_A_NUMBER = st.one_of(st.text(max_size=5), st.booleans(), st.none(),
                         st.lists(st.integers(), max_size=2), st.just({}))
# For fields where null means "none" (nullable parameters, lag_ms).
NOT_A_NUMBER_OR_NULL = st.one_of(st.text(max_size=5), st.booleans(),
                                 st.lists(st.integers(), max_size=2), st.just({}))
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NEGATIVE = st.one_of(st.integers(-10**6, -1), _float(-1e6, -1e-9))


def _at(doc: Any, path: list[Any]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def _mutate(draw, doc: dict[str, Any]) -> dict[str, Any]:
    """Apply one mutation that makes a (valid or already invalid) document invalid."""
    doc = copy.deepcopy(doc)
    if not isinstance(doc, dict) or not all(
            isinstance(doc.get(k), list) for k in ("components", "links")) or not all(
            isinstance(c, dict) and isinstance(c.get("params"), dict) and c.get("kind") in KINDS
            for c in doc["components"]):
        # Already mangled beyond the structured mutations: replace the whole document.
        return draw(st.one_of(json_values().filter(lambda v: not isinstance(v, dict)),
                              st.dictionaries(st.text(max_size=8), json_values(), max_size=4)))
    what = draw(st.sampled_from([
        "delete", "unknown_key", "wrong_type", "not_finite", "negative", "dangling",
        "duplicate_id", "duplicate_link", "self_link", "unknown_kind", "replace_list",
        "replace_item", "replace_document", "float_for_int"]))
    comps, links = doc["components"], doc["links"]
    if what == "delete":
        choices: list[tuple[Any, str]] = [(doc, k) for k in TOP_REQUIRED if k in doc]
        choices += [(c, k) for c in comps for k in COMPONENT_REQUIRED if k in c]
        choices += [(spec, k) for spec in links if isinstance(spec, dict)
                    for k in LINK_REQUIRED if k in spec]
        events = doc.get("events")
        choices += [(ev, k) for ev in (events if isinstance(events, list) else [])
                    if isinstance(ev, dict)
                    for k in EVENT_REQUIRED if k in ev]
        choices += [(c["params"], p.name) for c in comps for p in KINDS[c["kind"]].params
                    if p.required and p.name in c["params"]]
        holder, key = draw(st.sampled_from(choices))
        del holder[key]
    elif what == "unknown_key":
        holder = draw(st.sampled_from(_dicts_loose(doc)))
        key = draw(st.one_of(st.from_regex(r"\A[a-z_]{1,12}\Z"), st.text(min_size=1,
                                                                           max_size=8))
                   .filter(lambda k: k not in KNOWN_KEYS))
        holder[key] = draw(json_values(4))
    elif what in ("wrong_type", "not_finite", "negative", "float_for_int"):
        fields = _number_fields(doc)
        if what == "float_for_int":
            fields = [f for f in fields if f[2] == "int"]
        path, key, _typ, nullable = draw(st.sampled_from(fields))
        holder = _at(doc, path)
        if what == "wrong_type":
            holder[key] = draw(NOT_A_NUMBER_OR_NULL if nullable else NOT_A_NUMBER)
        elif what == "not_finite":
            holder[key] = draw(NOT_FINITE)
        elif what == "negative":
            holder[key] = draw(NEGATIVE)
        else:
            holder[key] = draw(st.floats(-1e6, 1e6))
    elif what == "dangling":
        missing = draw(st.from_regex(r"\Aghost_[a-z0-9]{1,8}\Z"))
        dicts = [spec for spec in links if isinstance(spec, dict)]
        if dicts and draw(st.booleans()):
            spec = draw(st.sampled_from(dicts))
            spec[draw(st.sampled_from(["from", "to"]))] = missing
        else:
            doc.setdefault("events", [])
            if not isinstance(doc["events"], list):
                doc["events"] = []
            doc["events"].append({"at_s": 0, "action": draw(st.sampled_from(
                ["fail", "recover", "set"])), "target": missing,
                "params": {}})
    elif what == "duplicate_id":
        if len(comps) > 1:
            i, j = draw(st.lists(st.integers(0, len(comps) - 1), min_size=2, max_size=2,
                                 unique=True))
            comps[j]["id"] = comps[i].get("id", "dup")
            comps[i]["id"] = comps[j]["id"]
        else:
            comps.append(copy.deepcopy(comps[0]))
    elif what == "duplicate_link":
        if links:
            links.append(copy.deepcopy(draw(st.sampled_from(links))))
        else:
            doc["links"] = [{"from": "a", "to": "a"}]
    elif what == "self_link":
        cid = draw(st.sampled_from([c.get("id", "x") for c in comps]))
        links.append({"from": cid, "to": cid})
    elif what == "unknown_kind":
        comp = draw(st.sampled_from(comps))
        comp["kind"] = draw(st.text(max_size=12).filter(lambda k: k not in KINDS))
    elif what == "replace_list":
        key = draw(st.sampled_from(["components", "links", "events"]))
        doc[key] = draw(json_values(4).filter(lambda v: not isinstance(v, list)))
    elif what == "replace_item":
        key = draw(st.sampled_from(["components", "links"]))
        seq = doc[key]
        if seq:
            seq[draw(st.integers(0, len(seq) - 1))] = draw(
                json_values(4).filter(lambda v: not isinstance(v, dict)))
        else:
            doc[key] = [draw(json_values(4).filter(lambda v: not isinstance(v, dict)))]
    else:  # replace_document
        return draw(st.one_of(json_values().filter(lambda v: not isinstance(v, dict)),
                              st.dictionaries(st.text(max_size=8), json_values(), max_size=4)))
    return doc


def _dicts_loose(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = [doc]
    for comp in doc["components"]:
        out += [comp, comp["params"]]
        if isinstance(comp.get("position"), dict):
            out.append(comp["position"])
    out += [spec for spec in doc["links"] if isinstance(spec, dict)]
    events = doc.get("events")
    if isinstance(events, list):
        out += [ev for ev in events if isinstance(ev, dict)]
    return out


def _number_fields(doc: dict[str, Any]) -> list[tuple[list[Any], str, str, bool]]:
    """(path to the holding object, key, "int" or "float", nullable) of every number field
    of a document. Every number of v1 has a minimum >= 0 (or > 0): a negative is invalid."""
    out: list[tuple[list[Any], str, str, bool]] = [([], "duration_s", "float", False),
                                                   ([], "seed", "int", False)]
    if "warmup_s" in doc:
        out.append(([], "warmup_s", "float", False))
    for i, comp in enumerate(doc["components"]):
        for name, value in comp["params"].items():
            if value is None or not any(p.name == name for p in KINDS[comp["kind"]].params):
                continue
            p = KINDS[comp["kind"]].param(name)
            if p.type in ("int", "float"):
                out.append((["components", i, "params"], name, p.type, p.nullable))
    for i, spec in enumerate(doc["links"]):
        if isinstance(spec, dict):
            for name in ("latency_ms", "weight", "lag_ms"):
                if name in spec:
                    out.append((["links", i], name, "float", name == "lag_ms"))
    events = doc.get("events")
    if isinstance(events, list):
        for i, ev in enumerate(events):
            if isinstance(ev, dict) and "at_s" in ev:
                out.append((["events", i], "at_s", "float", False))
    return out


@st.composite
def invalid_scenarios(draw, max_mutations: int = 3) -> dict[str, Any] | Any:
    """A valid document with one to `max_mutations` mutations, each making it invalid."""
    doc = draw(valid_scenarios())
    for _ in range(draw(st.integers(1, max_mutations))):
        doc = draw(_mutate(doc))
    return doc


# --- checking error lines --------------------------------------------------------------------

_INDEX = re.compile(r"\[(\d+)\]")


def _resolves(node: Any, rest: str, message: str) -> bool:
    """Whether `rest` (a path suffix like ".params.workers" or "[3].id") names a place in
    `node`; the last key may be missing when the message says it is required."""
    if not rest:
        return True
    m = _INDEX.match(rest)
    if m:
        i = int(m.group(1))
        return isinstance(node, list) and i < len(node) and \
            _resolves(node[i], rest[m.end():], message)
    if not rest.startswith("."):
        return False
    rest = rest[1:]
    if isinstance(node, dict):
        for key in sorted(node, key=lambda k: -len(str(k))):
            k = str(key)
            if (rest == k or (rest.startswith(k) and rest[len(k)] in ".[")) and \
                    _resolves(node[key], rest[len(k):], message):
                return True
    # A field that is not there: only a required one may be named, as the last part.
    return bool(re.fullmatch(r"[A-Za-z_]+", rest)) and message == "is required"


def error_path_ok(doc: Any, line: str) -> bool:
    """An error line is "path: message" with a path into `doc` (or "(document)")."""
    if ": " not in line:
        return False
    path, message = line.split(": ", 1)
    if not message.strip():
        return False
    if path == "(document)":
        return True
    return _resolves(doc, "." + path, message)
