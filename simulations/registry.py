"""The one declaration of every component kind and its parameters.

The validator, the docs (docs/scenario-format.md), the CLI's `kinds` command and the
browser's palette and inspector are all generated from `KINDS`, so a parameter is declared
here once: type, unit, default, range and one line of help.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DISTRIBUTIONS = ("exponential", "constant", "lognormal")


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "int" | "float" | "bool" | "choice"
    help: str
    default: Any = None  # None with required=False means "none" (unbounded, never, ...)
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    required: bool = False
    nullable: bool = False  # the default None is a meaningful "none"


@dataclass(frozen=True)
class Kind:
    name: str
    group: str  # palette group: traffic, edge, compute, storage, messaging
    title: str
    help: str
    params: tuple[Param, ...] = field(default_factory=tuple)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


def _workers() -> Param:
    return Param("workers", "int", "Requests served at once.", 1, minimum=1, maximum=10_000)


def _queue_limit() -> Param:
    return Param(
        "queue_limit", "int", "Requests that may wait beyond those in service; a full queue "
        "rejects at once. None = unbounded.", None, unit="requests", minimum=0,
        maximum=10_000_000, nullable=True)


def _service_dist() -> Param:
    return Param("service_dist", "choice", "Distribution of service times.", "exponential",
                 choices=DISTRIBUTIONS)


def _service_cv() -> Param:
    return Param("service_cv", "float", "Coefficient of variation of a lognormal service time.",
                 1.0, minimum=0.01, maximum=20)


def _failures() -> tuple[Param, ...]:
    return (
        Param("mtbf_s", "float", "Mean time between failures (exponential). None = never fails.",
              None, unit="s", minimum=0, exclusive_minimum=True, maximum=1e9, nullable=True),
        Param("mttr_s", "float", "Mean time to repair (exponential).", 30.0, unit="s",
              minimum=0, exclusive_minimum=True, maximum=1e9),
    )


def _ms(name: str, help_: str, default: float | None, required: bool = False) -> Param:
    return Param(name, "float", help_, default, unit="ms", minimum=0, maximum=3_600_000,
                 required=required)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("client", "traffic", "Client", "Users sending reads and writes at a given rate.", (
        Param("rate_rps", "float", "Requests started per second.", None, unit="rps",
              minimum=0, maximum=200_000, required=True),
        Param("arrival_cv", "float", "Coefficient of variation of the gaps between requests: "
              "1 is Poisson, above 1 bursty (hyperexponential), below 1 regular (gamma).",
              1.0, minimum=0.05, maximum=20),
        Param("read_ratio", "float", "Share of requests that are reads; the rest are writes.",
              1.0, minimum=0, maximum=1),
        Param("keys", "int", "Number of distinct keys requests pick from.", 1000, minimum=1,
              maximum=1_000_000),
        Param("key_skew", "float", "Zipf exponent of key popularity (0 = uniform).", 0.0,
              minimum=0, maximum=5),
        Param("timeout_ms", "float", "A request not answered by then fails. None = no timeout.",
              None, unit="ms", minimum=0, exclusive_minimum=True, maximum=3_600_000,
              nullable=True),
        Param("retries", "int", "Attempts made again after a failure.", 0, minimum=0,
              maximum=10),
        Param("backoff_ms", "float", "Wait before the first retry, doubled for each later one.",
              100.0, unit="ms", minimum=0, maximum=3_600_000),
        Param("malicious_ratio", "float", "Share of requests that are attacks (a WAF may "
              "block them).", 0.0, minimum=0, maximum=1),
    )),
    Kind("load_balancer", "edge", "Load balancer", "Sends each request to one healthy target.", (
        Param("algorithm", "choice", "How a target is chosen.", "round_robin", choices=(
            "round_robin", "random", "least_connections", "weighted", "ip_hash",
            "power_of_two")),
        _ms("overhead_ms", "Time added to every request.", 0.0),
        Param("health_check_s", "float", "How long a dead target keeps receiving requests "
              "before it is taken out (and a recovered one before it is put back).", 5.0,
              unit="s", minimum=0, maximum=3600),
    )),
    Kind("service", "compute", "Service", "A pool of workers doing its own work, then calling "
         "what it links to.", (
        _workers(),
        _ms("service_ms", "Mean time of the service's own work per request.", None, True),
        _service_dist(), _service_cv(), _queue_limit(),
        Param("blocking", "bool", "Whether a worker stays held while downstream calls run.",
              True),
    )),
    Kind("cache", "storage", "Cache", "Key-value cache in front of a slower store.", (
        Param("capacity_keys", "int", "Entries the cache holds.", None, unit="keys",
              minimum=0, maximum=1_000_000, required=True),
        Param("eviction", "choice", "Which entry goes when the cache is full.", "lru",
              choices=("lru", "lfu", "fifo")),
        Param("ttl_s", "float", "An entry expires this long after it was stored. "
              "None = never.", None, unit="s", minimum=0, exclusive_minimum=True,
              maximum=1e7, nullable=True),
        _ms("hit_ms", "Time of a lookup (constant), paid by hits and misses.", 1.0),
        Param("write_policy", "choice", "What a write does.", "write_through", choices=(
            "write_through", "write_around", "write_behind")),
        _ms("flush_ms", "Write-behind: how often dirty entries are written downstream.",
            1000.0),
    )),
    Kind("database", "storage", "Database", "A store with workers; primaries replicate writes "
         "to replicas along replication links.", (
        _workers(),
        _ms("read_ms", "Mean time of a read.", None, True),
        _ms("write_ms", "Mean time of a write.", None, True),
        _service_dist(), _service_cv(), _queue_limit(),
    )),
    Kind("queue", "messaging", "Queue", "Buffers messages for the workers it links to; the "
         "caller is answered once the message is queued.", (
        Param("capacity", "int", "Messages it holds; a full queue rejects. None = unbounded.",
              None, unit="messages", minimum=0, maximum=10_000_000, nullable=True),
        _ms("enqueue_ms", "Time to accept a message.", 1.0),
    )),
    Kind("worker", "messaging", "Worker", "Consumers pulling messages from the queues that "
         "link to it; may call downstream like a service.", (
        _workers(),
        _ms("service_ms", "Mean processing time per message.", None, True),
        _service_dist(), _service_cv(),
    )),
)}

for _kind in list(KINDS.values()):
    KINDS[_kind.name] = Kind(_kind.name, _kind.group, _kind.title, _kind.help,
                             _kind.params + _failures())


def registry_json() -> dict[str, Any]:
    """The registry as plain JSON, for the CLI and the browser palette/inspector."""
    return {
        name: {"group": k.group, "title": k.title, "help": k.help,
               "params": [{key: (list(v) if isinstance(v, tuple) else v)
                           for key, v in asdict(p).items()} for p in k.params]}
        for name, k in KINDS.items()
    }
