"""Links with payloads and protocols: transmission time, the FIFO of a link's direction, TCP's
retransmissions and UDP's losses under independent loss of each message.

Sizes are in kB (1,000 bytes), bandwidths in Mbit/s (10^6 bits per second), times in seconds.
"""

from __future__ import annotations

from .inputs import _nonneg, _positive
from .queues import MG1, mg1


def transmission_s(size_kb: float, bandwidth_mbps: float) -> float:
    """Time to put `size_kb` on a link: its bits over the bandwidth (8 kbit per kB)."""
    return _nonneg("size_kb", size_kb) * 8.0 / (1000.0 * _positive("bandwidth_mbps",
                                                                   bandwidth_mbps))


def _loss(p: float) -> float:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"loss must be in [0, 1), got {p!r}")
    return float(p)


def tcp_transmissions(p: float) -> float:
    """Mean transmissions of a message each lost independently with probability p until one
    arrives: geometric, 1 / (1 - p); so p / (1 - p) retransmissions."""
    return 1.0 / (1.0 - _loss(p))


def tcp_delay_s(p: float, timeout_s: float, attempt_s: float = 0.0) -> tuple[float, float]:
    """Mean and variance of the time TCP's retransmissions add to a message: each of its
    N - 1 retransmissions (N geometric, mean 1/(1-p), variance p/(1-p)^2) costs the
    retransmission timeout plus `attempt_s` (the transmission again, and its wait)."""
    p = _loss(p)
    step = _nonneg("timeout_s", timeout_s) + _nonneg("attempt_s", attempt_s)
    return p / (1.0 - p) * step, p / (1.0 - p) ** 2 * step * step


def udp_delivery(p: float, messages: int = 1) -> float:
    """Share of UDP exchanges of `messages` messages that arrive whole: (1 - p)^messages (a
    call is 2: the request and its answer)."""
    return (1.0 - _loss(p)) ** messages


def link_fifo(lam: float, mean_s: float, second_s: float) -> MG1:
    """One direction of a link: messages arriving at rate `lam` (Poisson assumed) wait for the
    link in FIFO order and take their transmission time (mean `mean_s`, second moment
    `second_s`: a mixture of sizes). M/G/1 by Pollaczek-Khinchine; M/D/1 when every message
    has one size."""
    var = max(second_s - mean_s * mean_s, 0.0)
    return mg1(lam, mean_s, var ** 0.5 / mean_s)
