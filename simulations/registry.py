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
class Shape:
    """One form a structured parameter (a client's schedule) may take: the value is an
    object {"shape": name, <its params>}."""

    name: str
    title: str
    help: str
    params: tuple[Param, ...]


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "int" | "float" | "bool" | "choice" | "points" | "schedule" | "classes"
    #            | "class_times" (a client's request classes; a service's work per class)
    help: str
    default: Any = None  # None with required=False means "none" (unbounded, never, ...)
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    required: bool = False
    nullable: bool = False  # the default None is a meaningful "none"
    fixed: bool = False  # shapes the design: a `set` command may not change it
    shapes: tuple[Shape, ...] = ()  # "schedule": the shapes it may take


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


def _resilience(call: str) -> tuple[Param, ...]:
    """How a caller (a client, a service for its downstream calls) treats a failing callee:
    components/resilience.py."""
    return (
        Param("timeout_ms", "float", f"{call} not answered by then fails. None = no timeout.",
              None, unit="ms", minimum=0, exclusive_minimum=True, maximum=3_600_000,
              nullable=True),
        Param("retries", "int", "Attempts made again after a failure.", 0, minimum=0,
              maximum=10),
        Param("backoff_ms", "float", "Wait before the first retry, doubled for each later one.",
              100.0, unit="ms", minimum=0, maximum=3_600_000),
        Param("jitter", "choice", "Randomises each wait: full draws it uniformly in [0, wait], "
              "equal in [wait/2, wait].", "none", choices=("none", "full", "equal")),
        Param("breaker_errors", "int", "Failed calls within breaker_window_s that open the "
              "circuit breaker of a link (it then fails calls at once). None = no breaker.",
              None, unit="calls", minimum=1, maximum=1_000_000, nullable=True),
        Param("breaker_window_s", "float", "The window in which breaker_errors failures open "
              "the breaker.", 10.0, unit="s", minimum=0, exclusive_minimum=True,
              maximum=86_400),
        Param("breaker_open_s", "float", "How long an open breaker fails calls before it lets "
              "one trial call through: success closes it, failure opens it again.", 5.0,
              unit="s", minimum=0, maximum=86_400),
    )


# Running cost per hour, in currency units, per unit of what sizes a component: the first of
# COST_SIZES its kind has (per worker, per 1000 keys), else the component itself. Kinds not
# listed cost DEFAULT_HOURLY_COST.
COST_SIZES = (("workers", 1, "worker"), ("replicas_n", 1, "replica"),
              ("capacity_keys", 1000, "1000 keys"))
HOURLY_COST = {"client": 0.0, "load_balancer": 0.025, "service": 0.10, "cache": 0.05,
               "database": 0.50, "queue": 0.05, "worker": 0.10}
DEFAULT_HOURLY_COST = 0.10


def _cost(kind: Kind) -> Param:
    names = {p.name for p in kind.params}
    per = next((f" per {unit}" for name, _, unit in COST_SIZES if name in names), "")
    return Param("cost_per_hour", "float", f"Running cost in currency units{per} per hour.",
                 HOURLY_COST.get(kind.name, DEFAULT_HOURLY_COST), unit=f"{per[1:]}-hour"
                 if per else "per hour", minimum=0, maximum=1e6)


def hourly_cost(settings: dict[str, Any]) -> float:
    """What a component costs per hour as configured: cost_per_hour times its size (a
    service: each of its instances at its size's price)."""
    if "instances" in settings:
        return instance_cost(settings) * settings["instances"]
    if settings.get("size", CUSTOM_SIZE) != CUSTOM_SIZE:  # a database of a named size
        return instance_cost(settings)
    for name, per, _ in COST_SIZES:
        if name in settings:
            return settings["cost_per_hour"] * settings[name] / per
    return settings["cost_per_hour"]


# -- a client's rate over time (components/rates.py draws the arrivals) --
MAX_RATE_RPS = 200_000  # of one client, at any time
MAX_SCHEDULE_S = 1e7  # times within a schedule
# Payloads and links (issue 18; docs/scenario-format.md lists these ranges).
MAX_SIZE_KB = 1_000_000  # a request's or answer's size, and an encoding's overhead
MIN_BANDWIDTH_MBPS, MAX_BANDWIDTH_MBPS = 0.001, 400_000
MAX_LOSS = 0.5  # a link's loss probability per message
# An encoding's default (encoding_ms, overhead_kb) per message: REST as JSON over HTTP/1.1
# (text field names and headers), RPC as a binary schema-based encoding (protobuf-like).
ENCODINGS = {"none": (0.0, 0.0), "rest": (0.5, 0.4), "rpc": (0.1, 0.05)}
# A call link's payload and protocol fields when not given (scenario.Link), and all of them.
NETWORK_DEFAULTS = {"bandwidth_mbps": None, "protocol": "none", "loss": 0.0, "keepalive": False,
                    "retransmit_ms": 200.0, "encoding": "none", "encoding_ms": None,
                    "overhead_kb": None}
NETWORK_FIELDS = tuple(NETWORK_DEFAULTS)
MAX_POINTS = 1000


def _rps(name: str, help_: str) -> Param:
    return Param(name, "float", help_, None, unit="rps", minimum=0, maximum=MAX_RATE_RPS,
                 required=True)


def _at(name: str, help_: str, default: float | None = None, positive: bool = False) -> Param:
    return Param(name, "float", help_, default, unit="s", minimum=0, exclusive_minimum=positive,
                 maximum=MAX_SCHEDULE_S, required=default is None)


SCHEDULE_SHAPES = (
    Shape("points", "Points", "rate_rps until the first point, then straight lines through "
          "the points; the last point's rate holds after it.", (
              Param("points", "points", f"[[t_s, rps], ...]: 1 to {MAX_POINTS:,} points, "
                    f"times from 0 to {MAX_SCHEDULE_S:,.0f} s strictly increasing, rates 0 to "
                    f"{MAX_RATE_RPS:,} rps.", None, unit="s, rps", minimum=1,
                    maximum=MAX_POINTS, required=True),)),
    Shape("step", "Step", "rate_rps until at_s, then to_rps.", (
        _at("at_s", "When the rate changes."),
        _rps("to_rps", "The rate from at_s on."))),
    Shape("ramp", "Ramp", "rate_rps until start_s, then a straight line to to_rps at end_s, "
          "held after.", (
              _at("start_s", "When the ramp starts."),
              _at("end_s", "When it reaches to_rps (after start_s)."),
              _rps("to_rps", "The rate from end_s on."))),
    Shape("spike", "Spike (flash crowd)", "rate_rps, then from at_s a rise to peak_rps over "
          "rise_s, peak_rps for hold_s, and a fall back to rate_rps over decay_s.", (
              _at("at_s", "When the rise starts."),
              _rps("peak_rps", "The rate at the top."),
              _at("rise_s", "Time from rate_rps to peak_rps (0 = at once).", 0.0),
              _at("hold_s", "Time at peak_rps.", 60.0),
              _at("decay_s", "Time from peak_rps back to rate_rps (0 = at once).", 60.0))),
    Shape("diurnal", "Diurnal (daily sine)", "A sine wave between rate_rps (the trough) and "
          "peak_rps, peaking at peak_at_s and every period_s after (drawn as 48 straight "
          "pieces per period).", (
              _rps("peak_rps", "The rate at the peak."),
              _at("period_s", "Time from one peak to the next.", 86_400.0, positive=True),
              _at("peak_at_s", "When the first peak is (before period_s).", 0.0))),
    Shape("bursts", "Repeating bursts", "rate_rps, with burst_s at burst_rps from first_s "
          "and every every_s after.", (
              _rps("burst_rps", "The rate during a burst."),
              _at("every_s", "Time from the start of one burst to the next.", positive=True),
              _at("burst_s", "Length of a burst (at most every_s).", positive=True),
              _at("first_s", "When the first burst starts.", 0.0))),
)


# -- instances, sizes, autoscaling and sessions of a service (components/fleet.py) ----------
# Named sizes an instance runs as: (workers, speed factor, cost per instance-hour). Capacity
# is workers x speed; a bigger size costs more per unit of capacity, as clouds price them.
# "custom" is today's service: `workers` workers at speed 1 costing cost_per_hour each.
SIZES: dict[str, tuple[int, float, float]] = {
    "small": (2, 1.0, 0.20),
    "medium": (4, 1.0, 0.44),
    "large": (8, 1.25, 1.20),
    "xlarge": (16, 1.5, 3.12),
    "2xlarge": (32, 1.75, 7.84),
}
CUSTOM_SIZE = "custom"
# Parameters that, away from their defaults, make a service run as a group of instances.
FLEET_DEFAULTS = {"size": CUSTOM_SIZE, "instances": 1, "autoscale": "none",
                  "sessions": "none"}


def runs_as_group(settings: dict[str, Any]) -> bool:
    """Whether a service runs as a group of instances rather than one plain pool."""
    return "instances" in settings and any(settings.get(name, default) != default
                                           for name, default in FLEET_DEFAULTS.items())


def size_of(settings: dict[str, Any]) -> tuple[int, float, float | None]:
    """(workers, speed, cost per instance-hour; None: cost_per_hour per worker) of one
    instance as configured."""
    size = settings.get("size", CUSTOM_SIZE)
    if size == CUSTOM_SIZE:
        return settings["workers"], 1.0, None
    return SIZES[size]


def slots(settings: dict[str, Any]) -> int:
    """Workers of a pool as configured: its size's times its instances (the count it starts
    with, when autoscaled)."""
    return size_of(settings)[0] * settings.get("instances", 1)


def instance_cost(settings: dict[str, Any]) -> float:
    """What one instance of a service or worker pool (or a sized database) costs per hour."""
    price = size_of(settings)[2]
    return settings["cost_per_hour"] * settings["workers"] if price is None else price


def _size(what: str = "one instance") -> Param:
    return Param("size", "choice", f"What {what} runs on: custom = `workers` workers at "
                 "speed 1, cost_per_hour each; a named size sets workers, speed and price "
                 "(docs/engine.md).", CUSTOM_SIZE, choices=(CUSTOM_SIZE, *SIZES))


def _fleet() -> tuple[Param, ...]:
    return (
        _size(),
        Param("instances", "int", "Copies of the service, each with its own workers and "
              "queue; with autoscale, the count it starts with.", 1, minimum=1, maximum=1000),
        Param("autoscale", "choice", "What the autoscaler tracks per serving instance: none "
              "(a fixed count), utilisation of its workers, queue (requests waiting), or rps "
              "(requests arriving per second).", "none",
              choices=("none", "utilisation", "queue", "rps")),
        *_autoscaling(),
        *_sessions(),
    )


def _worker_fleet() -> tuple[Param, ...]:
    """A worker pool's instances: as a service's, without sessions (nobody logs in to a
    consumer); its queue figure is its backlog (components/fleet.py)."""
    return (
        _size(),
        Param("instances", "int", "Copies of the worker pool, each with its own workers, "
              "all taking messages from the same queues; with autoscale, the count it starts "
              "with.", 1, minimum=1, maximum=1000),
        Param("autoscale", "choice", "What the autoscaler tracks per serving instance: none "
              "(a fixed count), utilisation of its workers, queue (its backlog: messages "
              "waiting in the queues it consumes plus those in process), or rps (messages "
              "taken per second).", "none", choices=("none", "utilisation", "queue", "rps")),
        *_autoscaling(),
    )


def _autoscaling() -> tuple[Param, ...]:
    return (
        Param("scale_target", "float", "The value of the tracked figure per instance the "
              "autoscaler aims at (utilisation: a share, at most 1).", 0.6, minimum=0,
              exclusive_minimum=True, maximum=200_000),
        Param("min_instances", "int", "Autoscale: never fewer instances.", 1, minimum=1,
              maximum=1000),
        Param("max_instances", "int", "Autoscale: never more instances.", 10, minimum=1,
              maximum=1000),
        Param("scale_period_s", "float", "Autoscale: how often the figure is evaluated "
              "(averaged over the period).", 10.0, unit="s", minimum=0.1, maximum=3600),
        Param("scale_out_cooldown_s", "float", "Autoscale: no scale-out sooner than this "
              "after the last one.", 30.0, unit="s", minimum=0, maximum=86_400),
        Param("scale_in_cooldown_s", "float", "Autoscale: no scale-in sooner than this "
              "after the last scaling either way.", 120.0, unit="s", minimum=0,
              maximum=86_400),
        Param("boot_s", "float", "Time a new instance takes before it serves (a balancer in "
              "front adds its health_check_s).", 30.0, unit="s", minimum=0, maximum=3600),
        Param("drain_s", "float", "Deadline of a draining instance: what it still holds then "
              "fails.", 30.0, unit="s", minimum=0, maximum=3600),
    )


def _sessions() -> tuple[Param, ...]:
    return (
        Param("sessions", "choice", "Where users' sessions live: none; local (in the memory "
              "of the instance a user logged in on); shared (read from the first cache or "
              "kv_store the service links to, by every request).", "none",
              choices=("none", "local", "shared")),
        Param("relogin", "choice", "Local sessions: what a request on an instance without "
              "its user's session costs: work (relogin_ms more work) or fail (it fails; "
              "the user logs in there).", "work", choices=("work", "fail")),
        _ms("relogin_ms", "Local sessions: the extra work of a re-login.", 100.0),
    )


def _delivery(what: str) -> tuple[Param, ...]:
    """Delivery guarantees of a queue or a topic's groups (components/messaging.py)."""
    return (
        Param("delivery", "choice", f"at_most_once: {what} is gone once handed to a worker; "
              "at_least_once: acknowledged after the worker's work, redelivered when it "
              "fails.", "at_most_once", choices=("at_most_once", "at_least_once")),
        Param("max_deliveries", "int", "at_least_once: deliveries of a message before it goes "
              "to the dead-letter queue (the link marked dead_letter; none: dropped).", 5,
              minimum=1, maximum=1000),
        Param("durable", "bool", "Messages survive a failure of the component (else lost).",
              False),
    )


def _ms(name: str, help_: str, default: float | None, required: bool = False) -> Param:
    return Param(name, "float", help_, default, unit="ms", minimum=0, maximum=3_600_000,
                 required=required)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("client", "traffic", "Client", "Users sending reads and writes at a given rate.", (
        Param("rate_rps", "float", "Requests started per second; with a schedule, the rate "
              "it starts from.", None, unit="rps", minimum=0, maximum=MAX_RATE_RPS,
              required=True),
        Param("schedule", "schedule", "How the rate changes over time, from the run's start "
              "(an object with a shape and its parameters). None = rate_rps throughout.",
              None, nullable=True, shapes=SCHEDULE_SHAPES),
        Param("arrival_cv", "float", "Coefficient of variation of the gaps between requests: "
              "1 is Poisson, above 1 bursty (hyperexponential), below 1 regular (gamma).",
              1.0, minimum=0.05, maximum=20),
        Param("read_ratio", "float", "Share of requests that are reads; the rest are writes.",
              1.0, minimum=0, maximum=1),
        Param("keys", "int", "Number of distinct keys requests pick from.", 1000, minimum=1,
              maximum=1_000_000),
        Param("key_skew", "float", "Zipf exponent of key popularity (0 = uniform).", 0.0,
              minimum=0, maximum=5),
        *_resilience("A request"),
        Param("malicious_ratio", "float", "Share of requests that are attacks (a WAF may "
              "block them).", 0.0, minimum=0, maximum=1),
        Param("classes", "classes", "Named request classes sent in a mix (each: name, share, "
              "op, keys, key_skew, request_kb, response_kb; shares are weights, normalised); "
              "they replace read_ratio. "
              "None = unnamed reads and writes.", None, nullable=True, fixed=True),
        Param("request_kb", "float", "Size of each request (its body), sent over every link "
              "it takes; 0 = takes no time to send.", 0.0, unit="kB", minimum=0,
              maximum=MAX_SIZE_KB),
        Param("response_kb", "float", "Size of each successful answer, sent back over every "
              "link the request took (a cache or CDN hit answers as much).", 0.0, unit="kB",
              minimum=0, maximum=MAX_SIZE_KB),
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
    # -- edge kinds (components/edge.py) --
    Kind("dns", "edge", "DNS", "Tells callers where to send requests; each caller caches "
         "the answer for ttl_s, so only some requests pay the lookup.", (
        Param("policy", "choice", "How an answer picks among the targets that are up: in "
              "turn, by link weight, the lowest link latency, or the first in link order.",
              "round_robin", choices=("round_robin", "weighted", "latency", "failover")),
        _ms("lookup_ms", "Time of a lookup, paid by requests whose caller's cached answer "
            "has expired.", 20.0),
        Param("ttl_s", "float", "How long a caller keeps an answer; it keeps using it even "
              "if its target fails (0 = every request looks up).", 60.0, unit="s",
              minimum=0, maximum=1e7),
        Param("users", "int", "Distinct callers, each with its own cached answer (the "
              "request key modulo users).", 1000, minimum=1, maximum=1_000_000),
    )),
    Kind("cdn", "edge", "CDN", "An edge cache in front of an origin: static reads it holds "
         "answer at the edge.", (
        Param("mode", "choice", "pull: fetch from the origin on a miss and keep it (LRU); "
              "push: the push_keys most popular keys are preloaded.", "pull",
              choices=("pull", "push")),
        Param("capacity_keys", "int", "Pull: objects the edge holds.", 10_000, unit="keys",
              minimum=0, maximum=1_000_000),
        Param("ttl_s", "float", "Pull: an object expires this long after it was fetched. "
              "None = never.", None, unit="s", minimum=0, exclusive_minimum=True,
              maximum=1e7, nullable=True),
        Param("push_keys", "int", "Push: the keys of popularity ranks 0 to N-1, always hit.",
              0, unit="keys", minimum=0, maximum=1_000_000),
        _ms("edge_ms", "Time at the edge, paid by every request (a hit answers after it).",
            5.0),
        Param("dynamic_ratio", "float", "Share of reads that are dynamic: never cached, "
              "always sent to the origin.", 0.0, minimum=0, maximum=1),
    )),
    Kind("reverse_proxy", "edge", "Reverse proxy", "Terminates TLS, limits each client, "
         "caches responses and forwards over a bounded number of connections.", (
        Param("connections", "int", "Requests forwarded at once; more wait their turn.",
              100, minimum=1, maximum=10_000),
        _queue_limit(),
        _ms("tls_ms", "TLS termination, paid by every request.", 1.0),
        _ms("compress_ms", "Compression, paid by every successful response.", 0.0),
        Param("cache_keys", "int", "Responses to reads it caches (LRU); 0 = no cache.", 0,
              unit="keys", minimum=0, maximum=1_000_000),
        Param("cache_ttl_s", "float", "A cached response expires this long after it was "
              "stored. None = never.", None, unit="s", minimum=0, exclusive_minimum=True,
              maximum=1e7, nullable=True),
        Param("client_rate_rps", "float", "Requests per second each client may send (token "
              "bucket); more are answered rate_limited (429). None = no limit.", None,
              unit="rps", minimum=0, exclusive_minimum=True, maximum=200_000, nullable=True),
        Param("client_burst", "int", "Requests a client may send at once after a quiet "
              "spell (its bucket size).", 10, minimum=1, maximum=1_000_000),
        Param("clients", "int", "Distinct clients, each with its own limit (the request key "
              "modulo clients).", 1000, minimum=1, maximum=1_000_000),
    )),
    Kind("rate_limiter", "edge", "Rate limiter", "A token bucket: requests over the limit "
         "are answered rate_limited (429) at once.", (
        Param("rate_rps", "float", "Requests admitted per second (the bucket's refill).",
              None, unit="rps", minimum=0, exclusive_minimum=True, maximum=200_000,
              required=True),
        Param("burst", "int", "Requests admitted at once after a quiet spell (the bucket "
              "size).", 10, minimum=1, maximum=1_000_000),
    )),
    Kind("waf", "edge", "WAF", "Web application firewall: inspects every request and "
         "blocks attacks (and some legitimate requests).", (
        _ms("inspect_ms", "Inspection time, paid by every request.", 1.0),
        Param("block_ratio", "float", "Share of attacks (the client's malicious_ratio) it "
              "blocks.", 0.95, minimum=0, maximum=1),
        Param("false_positive_ratio", "float", "Share of legitimate requests it blocks.",
              0.0, minimum=0, maximum=1),
    )),
    Kind("service", "compute", "Service", "A pool of workers doing its own work, then calling "
         "what it links to.", (
        _workers(),
        _ms("service_ms", "Mean time of the service's own work per request.", None, True),
        _service_dist(), _service_cv(), _queue_limit(),
        Param("blocking", "bool", "Whether a worker stays held while downstream calls run.",
              True),
        Param("class_ms", "class_times", "Mean work time per request class, by class name "
              "(classes not listed take service_ms). None = service_ms for all.", None,
              unit="ms", nullable=True, fixed=True),
        *_resilience("A downstream call"),
        *_fleet(),
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
        _size("the database"),
        Param("failover", "choice", "On a primary: active_passive promotes a replica when it "
              "fails; multi_primary lets two databases replicating to each other both take "
              "writes.", "none", choices=("none", "active_passive", "multi_primary"),
              fixed=True),
        Param("heartbeat_s", "float", "Active-passive: how long a dead primary goes unnoticed "
              "before its failover starts.", 1.0, unit="s", minimum=0, maximum=3600),
        Param("promotion_s", "float", "Active-passive: time to promote a replica once the "
              "failure is noticed; writes fail until then.", 5.0, unit="s", minimum=0,
              maximum=3600),
    )),
    # -- sharding and quorum stores (components/sharding.py, components/quorum.py) --
    Kind("shard_router", "storage", "Shard router", "Sends each key to one of its targets "
         "(shards), by hash, key range or a consistent-hash ring over the targets that are "
         "up.", (
        Param("strategy", "choice", "hash_mod: hash(key) mod N; range: N equal ranges of "
              "0..key_space-1; consistent_hash: a ring of virtual nodes.", "consistent_hash",
              choices=("hash_mod", "range", "consistent_hash")),
        Param("key_space", "int", "Range: keys 0..key_space-1 are split (set it to the "
              "clients' keys); larger keys go to the last range.", 1000, unit="keys",
              minimum=1, maximum=1_000_000),
        Param("vnodes", "int", "Consistent hash: virtual nodes per target, times the link's "
              "weight (at most 10,000 per target).", 100, minimum=1, maximum=1000),
    )),
    Kind("kv_store", "storage", "Key-value store", "A Dynamo-style cluster of N replicas: "
         "writes wait for W acknowledgements, reads ask R replicas.", (
        Param("replicas_n", "int", "Copies of every key (N).", 3, minimum=1, maximum=15),
        Param("read_quorum", "int", "Replicas a read asks and waits for (R <= N).", 2,
              minimum=1, maximum=15),
        Param("write_quorum", "int", "Acknowledgements a write waits for (W <= N).", 2,
              minimum=1, maximum=15),
        _ms("replica_ms", "Mean time of one replica contact (exponential).", 5.0),
        Param("partitioned_replicas", "int", "Replicas cut off from the rest, with the "
              "clients near them (< N; 0 = no partition).", 0, minimum=0, maximum=14),
        Param("on_partition", "choice", "refuse (CP): fail requests without a full quorum "
              "on their side; serve (AP): answer from the replicas there.", "refuse",
              choices=("refuse", "serve")),
    )),
    Kind("queue", "messaging", "Queue", "Buffers messages for the workers it links to; the "
         "caller is answered once the message is queued.", (
        Param("capacity", "int", "Messages it holds; a full queue rejects. None = unbounded.",
              None, unit="messages", minimum=0, maximum=10_000_000, nullable=True),
        _ms("enqueue_ms", "Time to accept a message.", 1.0),
        *_delivery("a message"),
        Param("visibility_timeout_s", "float", "at_least_once: a message not acknowledged "
              "this long after its delivery is delivered again. None = never.", None,
              unit="s", minimum=0, exclusive_minimum=True, maximum=86_400, nullable=True),
    )),
    Kind("topic", "messaging", "Topic", "A partitioned log: each consumer group (the group "
         "of its links) receives every message, one worker per partition, in key order.", (
        Param("partitions", "int", "Partitions; a message goes to the one its key hashes to.",
              4, minimum=1, maximum=1000, fixed=True),
        _ms("append_ms", "Time to append a message; the producer is answered then.", 1.0),
        Param("retention_s", "float", "Messages older than this are dropped, consumed or not. "
              "None = kept until every group consumed them.", None, unit="s", minimum=0,
              exclusive_minimum=True, maximum=1e7, nullable=True),
        *_delivery("a group's message"),
        Param("subscriptions", "choice", "durable: a group whose workers are all down keeps "
              "its messages for later; ephemeral: it loses them, and what is appended while "
              "it is away.", "durable", choices=("durable", "ephemeral")),
        Param("session_timeout_s", "float", "A worker down this long loses its partitions to "
              "the group's other workers (a rebalance; again when it is back). None = its "
              "partitions wait for it.", None, unit="s", minimum=0, exclusive_minimum=True,
              maximum=86_400, nullable=True),
        Param("rebalance_s", "float", "How long a rebalance stops the whole group.", 3.0,
              unit="s", minimum=0, maximum=3600),
    )),
    Kind("exchange", "messaging", "Exchange", "Routes a copy of each message to every queue "
         "whose binding (its link's) matches the message's routing key: its class name, or "
         "its op; the producer is answered once it is published.", (
        Param("type", "choice", "fanout: every bound queue; direct: the bindings equal to "
              "the routing key; topic: the binding patterns it matches ('.' between words, "
              "* one word, # zero or more).", "fanout", choices=("fanout", "direct", "topic")),
        _ms("publish_ms", "Time to publish a message; the producer is answered then.", 0.0),
    )),
    Kind("worker", "messaging", "Worker", "Consumers pulling messages from the queues that "
         "link to it; may call downstream like a service.", (
        _workers(),
        _ms("service_ms", "Mean processing time per message.", None, True),
        _service_dist(), _service_cv(),
        Param("fail_prob", "float", "Probability that processing a message fails (a crashing "
              "consumer), after its work.", 0.0, minimum=0, maximum=1),
        *_worker_fleet(),
    )),
)}

for _kind in list(KINDS.values()):
    KINDS[_kind.name] = Kind(_kind.name, _kind.group, _kind.title, _kind.help,
                             _kind.params + _failures() + (_cost(_kind),))


def _param_json(p: Param) -> dict[str, Any]:
    """A parameter as JSON; a structured one's shapes with their own parameters."""
    out = {key: (list(v) if isinstance(v, tuple) else v) for key, v in asdict(p).items()
           if key != "shapes"}
    if p.shapes:
        out["shapes"] = [{"name": s.name, "title": s.title, "help": s.help,
                          "params": [_param_json(sp) for sp in s.params]} for s in p.shapes]
    return out


def registry_json() -> dict[str, Any]:
    """The registry as plain JSON, for the CLI and the browser palette/inspector."""
    return {
        name: {"group": k.group, "title": k.title, "help": k.help,
               "params": [_param_json(p) for p in k.params]}
        for name, k in KINDS.items()
    }


def sizes_json() -> dict[str, dict[str, float]]:
    """The named sizes of a service's instances, for /api/kinds."""
    return {name: {"workers": workers, "speed": speed, "cost_per_hour": price}
            for name, (workers, speed, price) in SIZES.items()}
