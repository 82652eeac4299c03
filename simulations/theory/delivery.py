"""Delivery guarantees of queues and topics: redelivery after a consumer's failure, the
dead-letter share, what a retention limit drops and what a rebalance holds up.

Each delivery of a message fails independently with probability p (a crashing consumer);
a message is delivered until one succeeds or it has been delivered m = max_deliveries
times. The number of deliveries D is then a geometric variable truncated at m:
P(D > k) = p^k, so E[D] = sum_{k<m} p^k = (1 - p^m) / (1 - p), and the message is
dead-lettered with probability P(all m fail) = p^m [Ross, *Introduction to Probability
Models*, 11th ed., Academic Press 2014, sec. 2.2.4].
"""

from __future__ import annotations

from .inputs import _integer, _nonneg, _probability


def expected_deliveries(p: float, m: int) -> float:
    """Mean deliveries of one message: sum_{k<m} p^k."""
    p, m = _probability("p", p), _integer("m", m, 1)
    return float(m) if p == 1.0 else (1.0 - p ** m) / (1.0 - p)


def dead_letter_share(p: float, m: int) -> float:
    """Share of the messages that fail all m deliveries: p^m."""
    return _probability("p", p) ** _integer("m", m, 1)


def retention_expired(rate: float, outage_s: float, retention_s: float) -> float:
    """Messages a group loses to retention while it reads nothing for `outage_s` seconds
    (fluid): those appended in the first outage_s - retention_s seconds are older than the
    retention before it is back, rate x max(outage - retention, 0). Its lag is cut to at
    most rate x retention meanwhile."""
    rate, outage = _nonneg("rate", rate), _nonneg("outage_s", outage_s)
    return rate * max(outage - _nonneg("retention_s", retention_s), 0.0)


def rebalance_backlog(rate: float, share: float, session_timeout_s: float,
                      rebalance_s: float) -> float:
    """Messages a group holds up when one of its workers dies (fluid): its `share` of the
    partitions stalls until the session times out, then every partition stalls for the
    rebalance: rate x (share x session_timeout + rebalance)."""
    return _nonneg("rate", rate) * (_probability("share", share)
                                   * _nonneg("session_timeout_s", session_timeout_s)
                                   + _nonneg("rebalance_s", rebalance_s))
