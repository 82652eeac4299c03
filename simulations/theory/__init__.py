"""The formulas the predictions and the tests share: one implementation of each, with its
source in its docstring. Pure Python, standard library only; never imports Django or numpy.

The simulation test-suite compares simulated results with these formulas and the predictions
(simulations.predict) are built from them, so every function is the textbook result (cited
in its docstring) or is explicitly labelled as an approximation.

    queues        Erlang B/C, M/M/c, M/M/c/K, M/G/1, Allen-Cunneen G/G/c, Jackson tandems
    gi_m1         GI/M/1, inter-arrival transforms, round robin over M/M/1 servers
    caches        Zipf popularity, Che (LRU), FIFO, LFU and TTL hit models, write-behind
    replication   apply delays and stale reads of asynchronous replicas
    quorum        response times and stale reads of a quorum store
    availability  one component, series and parallel
    fluid         backlog of a queue under a changing rate, a step's backlog and drain (fluid)
    network       links: transmission time, a direction's FIFO, TCP and UDP under loss
    scaling       groups of instances: target tracking, reaction time, session misses
    roots         root finding
    inputs        argument checks

Conventions
-----------
* Times are in any consistent unit; rates are per that same unit.
* ``lam`` is an arrival rate, ``mu`` a per-server service rate, ``c`` the
  number of servers, ``a = lam / mu`` the offered load in Erlangs.
* ``q`` in the quantile methods is a probability in ``[0, 1)``; the returned
  value ``t`` is the smallest ``t`` with ``P(X <= t) >= q``.
* Invalid input (``c < 1``, negative rates, unstable load where the formula
  needs stability, ...) raises :class:`ValueError` with a clear message.
* Every number returned is a plain Python ``float`` (or ``int`` where a count
  is echoed back).

References
----------
* [Kleinrock] L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley 1975.
* [GSTH] D. Gross, J. Shortle, J. Thompson, C. Harris, *Fundamentals of
  Queueing Theory*, 4th ed., Wiley 2008.
* [Harchol-Balter] M. Harchol-Balter, *Performance Modeling and Design of
  Computer Systems*, CUP 2013.
* [Che] H. Che, Y. Tung, Z. Wang, "Hierarchical Web caching systems: modeling,
  design and experimental results", IEEE JSAC 20(7), 2002; and C. Fricker,
  P. Robert, J. Roberts, "A versatile and accurate approximation for LRU
  cache performance", ITC 2012.
* [Jung] J. Jung, A. Berger, H. Balakrishnan, "Modeling TTL-based Internet
  caches", INFOCOM 2003.
* [Allen] A. O. Allen, *Probability, Statistics and Queueing Theory*, 2nd ed.,
  Academic Press 1990 (Allen-Cunneen approximation).
"""

from .availability import availability, parallel, series
from .caches import cache_presence, che_lru_hit_ratio, flush_rates, ttl_hit_ratio, zipf_popularity
from .delivery import (
    dead_letter_share,
    expected_deliveries,
    rebalance_backlog,
    retention_expired,
)
from .fluid import drain_s, fluid_backlog, step_backlog
from .gi_m1 import (
    GIM1,
    gi_m1,
    hyperexp2_balanced,
    lst_erlang,
    lst_gamma,
    lst_hyperexp2,
    round_robin_mm1,
)
from .network import (
    link_fifo,
    tcp_delay_s,
    tcp_transmissions,
    transmission_s,
    udp_delivery,
)
from .queues import (
    MG1,
    GGcApprox,
    MMc,
    MMcK,
    erlang_b,
    erlang_c,
    jackson_tandem,
    mg1,
    mgc_allen_cunneen,
    mm1,
    mmc,
    mmck,
    random_split_mm1,
)
from .quorum import contact_moments, stale_read_probability
from .replication import (
    apply_delays,
    async_stale_read_probability,
    stale_read_ratio_per_key,
    stale_read_ratio_shared_log,
)
from .scaling import (
    instance_capacity,
    instances_needed,
    reaction_s,
    session_miss_share,
    sessions_lost_share,
)

__all__ = [
    "GIM1", "MG1", "GGcApprox", "MMc", "MMcK", "apply_delays", "async_stale_read_probability",
    "availability", "cache_presence", "che_lru_hit_ratio", "contact_moments", "drain_s",
    "erlang_b", "erlang_c", "fluid_backlog", "flush_rates", "gi_m1", "hyperexp2_balanced",
    "instance_capacity", "instances_needed", "jackson_tandem", "lst_erlang", "lst_gamma",
    "lst_hyperexp2", "mg1", "mgc_allen_cunneen", "mm1", "mmc", "mmck", "parallel",
    "random_split_mm1", "reaction_s", "round_robin_mm1", "series", "session_miss_share",
    "sessions_lost_share", "step_backlog",
    "stale_read_probability", "stale_read_ratio_per_key", "stale_read_ratio_shared_log",
    "ttl_hit_ratio", "zipf_popularity",
    "link_fifo", "tcp_delay_s", "tcp_transmissions", "transmission_s", "udp_delivery",
    "dead_letter_share", "expected_deliveries", "rebalance_backlog", "retention_expired",
]
