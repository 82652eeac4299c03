"""Replicas and quorum stores: stale-read ratios, and what a failover costs (downtime, lost
writes) or two primaries risk (conflicts)."""

from __future__ import annotations

import math
from typing import Any

from ..theory.quorum import stale_read_probability
from ..theory.replication import apply_delays, stale_read_ratio_shared_log
from .design import MS, _Design
from .load import _Load
from .moments import Moments


def _quorum_stale_reads(design: _Design, load: _Load) -> dict[str, float]:
    """Stale-read ratio of each kv_store not partitioned from the start, key by key."""
    out = {}
    for cid, kind in design.kind.items():
        s = design.settings[cid]
        if kind != "kv_store" or s["partitioned_replicas"] or cid in load.unknown \
                or load.rate(cid, "read") <= 0:
            continue
        n, m = s["replicas_n"], s["replica_ms"] / MS
        r, w = min(s["read_quorum"], n), min(s["write_quorum"], n)
        out[cid] = math.fsum(q * stale_read_probability(n, r, w, m, rate) for q, rate in zip(
            load.key_shape(cid, "read"), load.key_rates(cid, "write"), strict=False))
    return out


def _stale_reads(design: _Design, load: _Load) -> dict[str, float]:
    out = {}
    for replica, link in design.replication.items():
        # Sync replicas are left out: whether a write counts before its apply is unsettled.
        if link.mode != "async" or {replica, link.from_} & load.unknown \
                or load.rate(replica, "read") <= 0:
            continue
        writes = load.key_rates(link.from_, "write")
        out[replica] = stale_read_ratio_shared_log(load.key_shape(replica, "read"), writes,
                                        link.lag_ms / MS, link.lag_dist)
    return out


def _failover(design: _Design, load: _Load) -> dict[str, dict[str, Any]]:
    """Per failover: writes fail for heartbeat + promotion, and the writes in flight to the
    promoted replica are lost: by Little's law, on average the write rate times the mean
    apply delay. Between multi-primary peers a write conflicts when a write of its key from
    the peer is in flight: the stale-read formula with the peer's writes."""
    out = {}
    for cid, s in design.settings.items():
        if design.kind[cid] != "database" or cid in load.unknown:
            continue
        links = [link for link in design.replication.values() if link.from_ == cid]
        writes = load.rate(cid, "write")
        if s["failover"] == "active_passive":
            fields: dict[str, Any] = {
                "write_downtime_per_failover_s": s["heartbeat_s"] + s["promotion_s"]}
            if len(links) == 1:  # with more, the most up-to-date replica is promoted
                link = links[0]
                delay = Moments.of(apply_delays(writes, link.lag_ms / MS, link.lag_dist))
                fields["lost_writes_per_failover"] = 0.0 if link.mode == "sync" else \
                    writes * delay.mean
            out[cid] = fields
        elif s["failover"] == "multi_primary" and writes > 0:
            link = design.replication[cid]  # from the peer
            out[cid] = {"conflict_ratio": stale_read_ratio_shared_log(
                load.key_shape(cid, "write"), load.key_rates(link.from_, "write"),
                link.lag_ms / MS, link.lag_dist),
                "conflict_model": "Poisson writes per key on each side: a write conflicts "
                                  "when a write of its key from the peer is not applied yet"}
    return out
