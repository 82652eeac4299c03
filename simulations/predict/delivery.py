"""Delivery guarantees: deliveries per message and the dead-letter share of a queue or of
each consumer group of a topic delivering at least once, from its workers' `fail_prob`."""

from __future__ import annotations

from typing import Any

from .. import theory as qt
from ..registry import slots
from .design import _Design, _topic_groups

DELIVERY_MODEL = ("each delivery fails independently with the workers' fail_prob p (their "
                  "worker-weighted mean when they differ: approximate); deliveries per "
                  "message sum_{k<m} p^k, dead-lettered p^m (m = max_deliveries); failures "
                  "of downstream calls and visibility timeouts ignored")


def failure_prob(design: _Design, workers: list[str]) -> float:
    """The chance a delivery to one of `workers` fails (each takes its share of slots)."""
    shares = [slots(design.settings[w]) for w in workers]
    return sum(n * design.settings[w]["fail_prob"] for n, w in zip(shares, workers, strict=True)
               ) / sum(shares)


def redelivery(design: _Design, cid: str, workers: list[str]) -> tuple[float, float]:
    """(deliveries per message, dead-letter share) of messages of `cid` read by `workers`;
    (1, 0) when it delivers at most once."""
    s = design.settings[cid]
    if s["delivery"] != "at_least_once" or not workers:
        return 1.0, 0.0
    p = failure_prob(design, workers)
    return qt.expected_deliveries(p, s["max_deliveries"]), qt.dead_letter_share(
        p, s["max_deliveries"])


def consumer_sets(design: _Design, cid: str) -> dict[str | None, list[str]]:
    """A queue's workers (one set, named None) or each group's of a topic."""
    if design.kind[cid] == "queue":
        return {None: [link.to for link in design.calls[cid]]}
    return {name: [link.to for link in links]
            for name, links in _topic_groups(design.calls[cid]).items()}


def delivery_fields(design: _Design, rate: float, cid: str) -> dict[str, Any]:
    """Predicted figures of a queue or topic delivering at least once (else none); a
    topic's per group."""
    if design.settings[cid]["delivery"] != "at_least_once":
        return {}
    per: dict[str, Any] = {}
    for name, workers in consumer_sets(design, cid).items():
        deliveries, share = redelivery(design, cid, workers)
        per[name or ""] = {"deliveries_per_message": deliveries, "dead_letter_share": share,
                           "dead_letter_rps": rate * share, "delivery_model": DELIVERY_MODEL}
    return per.pop("") if design.kind[cid] == "queue" else {"delivery": per}
