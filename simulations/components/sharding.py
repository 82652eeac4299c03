"""Shard routers: each key goes to one target, by hash mod N, key range or a hash ring.

The mapping covers the targets that are up. When one fails or recovers, or a `set` changes
the strategy, the mapping is recomputed at once and every key seen so far that now maps to
another target counts as moved. Hashes are blake2b of text, so a mapping depends only on
the target ids, the link weights and the keys (never on PYTHONHASHSEED or the seed).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from functools import lru_cache
from hashlib import blake2b
from typing import Any

from .._mypyc import mypyc_attr
from .base import DOWN, Component

MAX_RING_POINTS = 10_000  # per target: round(vnodes x link weight) is capped here


def ring_hash(text: str) -> int:
    """A fixed 64-bit hash (Python's hash() changes from one process to the next)."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class ShardMap:
    """Which of `targets` ((id, weight) pairs) owns a key, as an index into `targets`."""

    def __init__(self, strategy: str, targets: list[tuple[str, float]], key_space: int,
                 vnodes: int):
        self.strategy = strategy
        self.n = len(targets)
        self.key_space = key_space
        if strategy == "consistent_hash":
            # A target's virtual nodes sit at hash("id#i"); its weight scales how many.
            ring = sorted((ring_hash(f"{tid}#{i}"), j) for j, (tid, weight) in enumerate(targets)
                          for i in range(min(max(1, round(vnodes * weight)), MAX_RING_POINTS)))
            self.points = [point for point, _ in ring]
            self.owners = [j for _, j in ring]

    def __call__(self, key: int) -> int:
        if self.strategy == "range":  # n equal ranges of 0..key_space-1; beyond: the last
            return min(key * self.n // self.key_space, self.n - 1)
        h = ring_hash(str(key))
        if self.strategy == "hash_mod":
            return h % self.n
        i = bisect_left(self.points, h)  # the first virtual node clockwise from the key
        return self.owners[i if i < len(self.points) else 0]


@lru_cache(maxsize=8)
def key_owners(strategy: str, targets: tuple[tuple[str, float], ...], key_space: int,
               vnodes: int, keys: int) -> tuple[int, ...]:
    """The owner of each key 0..keys-1 with every target up (for the predictions)."""
    shard = ShardMap(strategy, list(targets), key_space, vnodes)
    return tuple(shard(key) for key in range(keys))


def imbalance(counts: list[float]) -> dict[str, float]:
    """How unevenly load spreads over targets: max over mean, and the coefficient of
    variation (population standard deviation over mean)."""
    mean = math.fsum(counts) / len(counts) if counts else 0.0
    if mean <= 0:
        return {"max_over_mean": 0.0, "load_cv": 0.0}
    var = math.fsum((c - mean) ** 2 for c in counts) / len(counts)
    return {"max_over_mean": max(counts) / mean, "load_cv": math.sqrt(var) / mean}


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class ShardRouter(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.owner: dict[int, int] = {}  # every key seen -> index of its target in self.out
        self.remaps = self.keys_moved = 0  # counted from warm-up on
        self.last_moved_ratio = 0.0
        # The last remap, warm-up or not, for live frames: when, and how many keys it moved.
        self.moved_at = -1.0
        self.moved_now = 0
        self.moved_share = 0.0

    def wire(self) -> None:
        super().wire()
        self.per_target = [0] * len(self.out)
        self.owned = [0] * len(self.out)  # keys each target owns now
        self.target_keys: list[set[int]] = [set() for _ in self.out]
        for link in self.out:
            link.target.watchers.append(self)
        self._build()

    def _build(self) -> None:
        self.up_targets = [i for i, link in enumerate(self.out) if link.target.up]
        s = self.settings
        self.shard = ShardMap(s["strategy"], [(self.out[i].target.id, self.out[i].weight)
                                              for i in self.up_targets],
                              s["key_space"], s["vnodes"])

    def target_changed(self, target: Component) -> None:
        """A target failed or recovered: the mapping covers the targets up now."""
        self._remap()

    def apply_settings(self, changes: dict[str, Any]) -> None:
        super().apply_settings(changes)
        self._remap()

    def _remap(self) -> None:
        self._build()
        if not self.up_targets:  # nothing to map to: keys stay where they were
            return
        moved = 0
        owner, up, shard, owned = self.owner, self.up_targets, self.shard, self.owned
        for key, old in owner.items():
            new = up[shard(key)]
            if new != old:
                owner[key] = new
                owned[old] -= 1
                owned[new] += 1
                moved += 1
        self.moved_at, self.moved_now = self.kernel.now, moved
        self.moved_share = moved / len(owner) if owner else 0.0
        if self.kernel.now >= self.warmup:
            self.remaps += 1
            self.keys_moved += moved
            self.last_moved_ratio = moved / len(owner) if owner else 0.0

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        if not self.up_targets:
            self.finish(job, DOWN)
            return
        key = req.key
        i = self.owner.get(key)
        if i is None:
            i = self.owner[key] = self.up_targets[self.shard(key)]
            self.owned[i] += 1
        if job.counted:
            self.per_target[i] += 1
            self.target_keys[i].add(key)
        self.out[i].send(req, job)

    def report(self, now: float):
        out = super().report(now)
        ids = [link.target.id for link in self.out]
        out["per_target"] = dict(zip(ids, self.per_target, strict=True))
        out["keys_per_target"] = {tid: len(keys) for tid, keys
                                  in zip(ids, self.target_keys, strict=True)}
        out.update(imbalance(self.per_target))  # type: ignore[arg-type]
        out.update(keys_tracked=len(self.owner), remaps=self.remaps,
                   keys_moved=self.keys_moved, last_moved_ratio=self.last_moved_ratio)
        return out

    def live(self):
        out = super().live()
        out["targets_up"] = len(self.up_targets)
        out["keys"] = list(self.owned)
        if self.moved_at >= 0:
            out["moved"] = [round(self.moved_at, 4), self.moved_now, round(self.moved_share, 4)]
        return out
