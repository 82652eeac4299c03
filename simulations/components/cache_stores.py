"""The entries of a cache under LRU, LFU or FIFO eviction, with optional expiry.

Each store maps key -> expiry time (inf when there is no TTL) and counts evictions.
"""

from __future__ import annotations

from collections import OrderedDict

from .._mypyc import mypyc_attr

INF = float("inf")


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class FifoStore:
    """Evicts the oldest fill; hits do not change the order."""

    touch_on_hit = False

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.entries: OrderedDict[int, float] = OrderedDict()
        self.evictions = 0

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, key: int, now: float) -> bool:
        expiry = self.entries.get(key)
        if expiry is None:
            return False
        if expiry <= now:
            self.remove(key)
            return False
        if self.touch_on_hit:
            self.entries.move_to_end(key)
        return True

    def fill(self, key: int, expiry: float) -> None:
        entries = self.entries
        if key in entries:
            entries[key] = expiry
            entries.move_to_end(key)
            return
        if self.capacity <= 0:
            return
        if len(entries) >= self.capacity:
            entries.popitem(last=False)
            self.evictions += 1
        entries[key] = expiry

    def remove(self, key: int) -> None:
        self.entries.pop(key, None)

    def clear(self) -> None:
        self.entries.clear()

    def items(self) -> list[tuple[int, float]]:
        """Entries from the first to be evicted to the last."""
        return list(self.entries.items())

    def trim(self) -> None:
        """Evict down to the capacity (after the capacity was lowered)."""
        while len(self.entries) > max(self.capacity, 0):
            self.entries.popitem(last=False)
            self.evictions += 1


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class LruStore(FifoStore):
    """Evicts the least recently used entry."""

    touch_on_hit = True


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class LfuStore:
    """Evicts the least frequently used entry (the least recent among equals), in O(1)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.expiry: dict[int, float] = {}
        self.freq: dict[int, int] = {}
        self.buckets: dict[int, OrderedDict[int, None]] = {}
        self.min_freq = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self.expiry)

    def _bump(self, key: int) -> None:
        f = self.freq[key]
        bucket = self.buckets[f]
        del bucket[key]
        if not bucket:
            del self.buckets[f]
            if self.min_freq == f:
                self.min_freq = f + 1
        self.freq[key] = f + 1
        self.buckets.setdefault(f + 1, OrderedDict())[key] = None

    def lookup(self, key: int, now: float) -> bool:
        expiry = self.expiry.get(key)
        if expiry is None:
            return False
        if expiry <= now:
            self.remove(key)
            return False
        self._bump(key)
        return True

    def fill(self, key: int, expiry: float) -> None:
        if key in self.expiry:
            self.expiry[key] = expiry
            self._bump(key)
            return
        if self.capacity <= 0:
            return
        if len(self.expiry) >= self.capacity:
            bucket = self.buckets[self.min_freq]
            victim, _ = bucket.popitem(last=False)
            if not bucket:
                del self.buckets[self.min_freq]
            del self.expiry[victim], self.freq[victim]
            self.evictions += 1
        self.expiry[key] = expiry
        self.freq[key] = 1
        self.buckets.setdefault(1, OrderedDict())[key] = None
        self.min_freq = 1

    def remove(self, key: int) -> None:
        if key not in self.expiry:
            return
        f = self.freq.pop(key)
        del self.expiry[key]
        bucket = self.buckets[f]
        del bucket[key]
        if not bucket:
            del self.buckets[f]
            if self.min_freq == f:
                self.min_freq = min(self.buckets, default=0)

    def clear(self) -> None:
        self.expiry.clear()
        self.freq.clear()
        self.buckets.clear()
        self.min_freq = 0

    def items(self) -> list[tuple[int, float]]:
        """Entries from the first to be evicted to the last."""
        return [(key, self.expiry[key]) for f in sorted(self.buckets)
                for key in self.buckets[f]]

    def trim(self) -> None:
        """Evict down to the capacity (after the capacity was lowered)."""
        while len(self.expiry) > max(self.capacity, 0):
            self.remove(next(iter(self.buckets[min(self.buckets)])))
            self.evictions += 1


STORES = {"lru": LruStore, "lfu": LfuStore, "fifo": FifoStore}
