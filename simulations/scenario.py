"""The scenario document (format playground.scenario/v1) and its one validator.

Every entry point that runs a design (CLI, websocket, run links, grading) calls `validate()`;
keeping a design in progress calls `check_draft()`, the same rules less those that make a
design runnable. Errors name the path of what is wrong (`components[2].params.workers: must
be >= 1`) and are collected, not raised one at a time, so an editor can mark every bad field
at once.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    TypeAdapter,
    ValidationError,
    create_model,
)

from .components.rates import rate_schedule
from .registry import (
    KINDS,
    MAX_BANDWIDTH_MBPS,
    MAX_LOSS,
    MAX_RATE_RPS,
    MAX_SCHEDULE_S,
    MAX_SIZE_KB,
    MIN_BANDWIDTH_MBPS,
    NETWORK_DEFAULTS,
    NETWORK_FIELDS,
    Param,
)

FORMAT = "playground.scenario/v1"

# Documented in docs/scenario-format.md (generated from these numbers).
LIMITS = {
    "components": 500,
    "links": 2000,
    "events": 1000,
    "duration_s": 86_400,
    "total_rate_rps": 200_000,
    "name_chars": 200,
    "label_chars": 100,
    "description_chars": 20_000,
    "document_bytes": 1_000_000,
}
ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_ERRORS = 50

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
MAX_BINDING = 200  # characters of an exchange binding's key or pattern
MAX_CLASSES = 50  # request classes of one client (and names one link or service lists)
CLASS_NAME_PATTERN = r"^\S(.*\S)?$"
ClassName = Annotated[str, Field(min_length=1, max_length=60, pattern=CLASS_NAME_PATTERN)]


class ScenarioError(ValueError):
    """An invalid scenario; `errors` lists every problem as "path: message"."""

    def __init__(self, errors: list[str]):
        self.errors = errors[:MAX_ERRORS]
        super().__init__("\n".join(self.errors))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Position(_Strict):
    x: Finite
    y: Finite


class Component(_Strict):
    id: Id
    kind: Literal[tuple(KINDS)]  # type: ignore[valid-type]
    label: Annotated[str, Field(max_length=LIMITS["label_chars"])] | None = None
    position: Position | None = None
    params: dict[str, Any] = {}
    # Parameters with defaults filled in, checked against the registry.
    _settings: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        return self._settings


def _about(help: str, unit: str = "") -> Any:
    """A field's line of help (and unit), for the editor (simulations/fields.py)."""
    return Field(description=help, json_schema_extra={"unit": unit} if unit else None)


class Link(_Strict):
    from_: Id = Field(alias="from")
    to: Id
    latency_ms: Annotated[NonNegative, _about("One-way network delay, added in each direction.",
                                              "ms")] = 0.0
    route: Annotated[Literal["any", "read", "write"],
                     _about("Which operations may take this link.")] = "any"
    weight: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False),
                      _about("Share of requests when a caller picks among several links.")] = 1.0
    kind: Annotated[Literal["call", "replication"], _about(
        "Call links carry requests; replication links copy a primary's writes to a "
        "replica.")] = "call"
    mode: Annotated[Literal["async", "sync"] | None, _about(
        "sync: the primary answers a write only once the replica applied it.")] = None
    lag_ms: Annotated[NonNegative | None, _about(
        "Mean delay before a write reaches the replica.", "ms")] = None
    lag_dist: Annotated[Literal["exponential", "constant"] | None,
                        _about("Distribution of the replication delay.")] = None
    group: Id | None = None  # links out of a topic: the consumer group (default "default")
    classes: Annotated[list[ClassName] | None, Field(max_length=MAX_CLASSES), _about(
        "Request classes this link carries (layer-7 routing, federation). None = all.")] = None
    # -- payloads and protocols (issue 18; components/network.py). None: the default in
    # NETWORK_DEFAULTS, left out of the document, so that a link using none of them is
    # written as before; a link that sets none runs exactly as before (the ideal link).
    bandwidth_mbps: Annotated[float | None, Field(ge=MIN_BANDWIDTH_MBPS, le=MAX_BANDWIDTH_MBPS,
                                                  allow_inf_nan=False), _about(
        "Megabits per second each way; a message takes its size over it to send and waits "
        "its turn behind the others (a FIFO per direction). None = infinite.", "Mbps")] = None
    protocol: Annotated[Literal["none", "tcp", "udp"] | None, _about(
        "tcp: a handshake round trip per new connection, lost messages sent again after "
        "retransmit_ms; udp: a lost message fails the call. none: an ideal link.")] = None
    loss: Annotated[float | None, Field(ge=0, le=MAX_LOSS, allow_inf_nan=False), _about(
        "Probability that each message (request or answer) is lost (needs a protocol).")] = None
    keepalive: Annotated[bool | None, _about(
        "tcp: the caller keeps its connections open (no handshake); off, every request opens "
        "a new connection.")] = None
    retransmit_ms: Annotated[float | None, Field(ge=1, le=60_000, allow_inf_nan=False), _about(
        "tcp: how long a sender waits for a lost message's acknowledgement before sending it "
        "again.", "ms")] = None
    encoding: Annotated[Literal["none", "rest", "rpc"] | None, _about(
        "How messages are encoded: each message costs encoding_ms and carries overhead_kb "
        "more (defaults per encoding in docs/engine.md).")] = None
    encoding_ms: Annotated[float | None, Field(ge=0, le=10_000, allow_inf_nan=False), _about(
        "Encoding and decoding time of one message. None = the encoding's default.",
        "ms")] = None
    overhead_kb: Annotated[float | None, Field(ge=0, le=MAX_SIZE_KB, allow_inf_nan=False),
                           _about("Bytes the encoding adds to each message (headers, field "
                                  "names). None = the encoding's default.", "kB")] = None
    # None (false) is left out of the document: a link that is no dead-letter link is
    # written as before.
    dead_letter: Annotated[bool | None, _about(
        "Out of a queue or topic with at_least_once delivery: the queue that takes the "
        "messages delivered max_deliveries times without success.")] = None

    # Out of an exchange (components/exchange.py); None is left out of the document.
    binding: Annotated[str | None, Field(min_length=1, max_length=MAX_BINDING), _about(
        "Out of a direct or topic exchange: the routing key this queue takes (direct), or a "
        "pattern of '.'-separated words where * is one word and # zero or more (topic).")] \
        = None

    def net(self, name: str) -> Any:
        """A payload or protocol field, its default if not given."""
        value = getattr(self, name)
        return NETWORK_DEFAULTS.get(name) if value is None else value

    def carries(self, key: str) -> bool:
        """Whether the link carries a request of a route key: its op ("read", "write") for a
        request with no class, "op name" for one of a class. A link that lists classes
        carries those only."""
        op, _, name = key.partition(" ")
        return (self.route == "any" or self.route == op) and (
            self.classes is None or name in self.classes)


REPLICATION_DEFAULTS = {"mode": "async", "lag_ms": 100.0, "lag_dist": "exponential"}
MAX_SHARDS = 100  # targets of one shard_router (its ring holds up to 10,000 points each)
# Edge kinds pass each request to one of their outgoing call links (components/edge.py).
EDGE_FORWARDERS = ("dns", "cdn", "reverse_proxy", "rate_limiter", "waf")

Action = Literal["fail", "recover", "slow", "partition", "heal", "set"]


class Event(_Strict):
    at_s: NonNegative
    action: Action
    target: Id | Annotated[list[Id], Field(min_length=2, max_length=2)]
    params: dict[str, Any] = {}


Figure = Annotated[str, Field(min_length=1, max_length=40)]


class View(_Strict):
    """How the editor first shows the design; the engine ignores it. `compare`: the charts
    show one series per client ("clients") or per listed component; `watch`: the figures a
    lesson is about, per component, highlighted in the editor. Ids that name no component
    are ignored (deleting a component never makes a design invalid)."""

    compare: Literal["clients"] | Annotated[list[Id], Field(min_length=1, max_length=12)] \
        | None = None
    watch: Annotated[dict[Id, Annotated[list[Figure], Field(min_length=1, max_length=8)]],
                     Field(max_length=50)] = {}


class Scenario(_Strict):
    format: Literal["playground.scenario/v1"]
    name: Annotated[str, Field(min_length=1, max_length=LIMITS["name_chars"])]
    description: Annotated[str, Field(max_length=LIMITS["description_chars"])] = ""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1),
                    _about("Same seed, same run: change it to see another sample.")] = 0
    duration_s: Annotated[float, Field(gt=0, le=LIMITS["duration_s"], allow_inf_nan=False),
                          _about("Simulated time of a run, warm-up included.", "s")]
    warmup_s: Annotated[NonNegative,
                        _about("Counts and averages start after the warm-up.", "s")] = 0.0
    components: Annotated[list[Component], Field(min_length=1,
                                                 max_length=LIMITS["components"])]
    links: Annotated[list[Link], Field(max_length=LIMITS["links"])] = []
    events: Annotated[list[Event], Field(max_length=LIMITS["events"])] = []
    view: View | None = None

    def component(self, cid: str) -> Component:
        return next(c for c in self.components if c.id == cid)

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, exclude_defaults=False)


class Draft(Scenario):
    """A design in progress: the scenario's shape and limits, except that it may be empty."""

    components: Annotated[list[Component], Field(max_length=LIMITS["components"])]


# --- messages ------------------------------------------------------------------------------

def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out or "(document)"


def _message(err: dict) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    simple = {
        "missing": "is required",
        "extra_forbidden": "unknown key",
        "finite_number": "must be a finite number (not NaN or Infinity)",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "list_type": "must be a list",
        "string_pattern_mismatch": "must be 1 to 64 letters, digits, '_', '-' or '.'",
    }
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == CLASS_NAME_PATTERN:
        return "must not start or end with a space"
    if kind in simple:
        return simple[kind]
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
              "less_than": "<"}
    if kind in bounds:
        value = next(iter(ctx.values()))
        return f"must be {bounds[kind]} {value:g}" if isinstance(value, float) else \
            f"must be {bounds[kind]} {value}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind in ("too_long", "string_too_long"):
        return f"must have at most {ctx.get('max_length')} " + \
            ("characters" if kind == "string_too_long" else "items")
    if kind in ("too_short", "string_too_short"):
        return f"must have at least {ctx.get('min_length')} " + \
            ("characters" if kind == "string_too_short" else "items")
    return err["msg"][:1].lower() + err["msg"][1:]


def _errors_of(exc: ValidationError, prefix: tuple = ()) -> list[str]:
    seen, out = set(), []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        # A union (event target) reports once per branch; one message per path is enough.
        loc = tuple(p for p in loc if p not in ("str", "list[str]", "list[constrained-str]",
                                                  "constrained-str"))
        line = f"{_path(loc)}: {_message(err)}"
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


# --- parameters from the registry ----------------------------------------------------------

def _field(p: Param) -> tuple[Any, Any]:
    base = {"int": int, "float": float, "bool": bool, "schedule": dict,
            "classes": list, "class_times": dict}.get(p.type)
    if p.type == "choice":
        base = Literal[p.choices]  # type: ignore[valid-type]
    constraints: dict[str, Any] = {}
    if p.type in ("int", "float"):
        if p.minimum is not None:
            constraints["gt" if p.exclusive_minimum else "ge"] = p.minimum
        if p.maximum is not None:
            constraints["le"] = p.maximum
        if p.type == "float":
            constraints["allow_inf_nan"] = False
    annotated = Annotated[base, Field(**constraints)]
    if p.nullable:
        annotated = annotated | None
    return (annotated, ... if p.required else p.default)


@cache
def params_model(kind: str, partial: bool = False) -> type[BaseModel]:
    """A pydantic model of one kind's parameters; with `partial` every field may be left
    out (a `set` changes some), but a given value is checked as in full (never null unless
    the parameter is nullable: pydantic does not validate the omitted default)."""
    fields = {}
    for p in KINDS[kind].params:
        annotated, default = _field(p)
        fields[p.name] = (annotated, None) if partial else (annotated, default)
    return create_model(f"{kind}_params", __config__=ConfigDict(extra="forbid", strict=True),
                        **fields)


def check_params(kind: str, params: Any, path: str, partial: bool = False
                 ) -> tuple[dict[str, Any], list[str]]:
    """Validate parameters of `kind`; returns (settings, errors). Partial: only those given."""
    try:
        model = params_model(kind, partial).model_validate(params)
    except ValidationError as exc:
        return {}, [f"{path}.{line}" for line in _errors_of(exc)]
    settings, errors = model.model_dump(exclude_unset=partial), []
    for p in KINDS[kind].params:
        if p.shapes and settings.get(p.name) is not None:
            settings[p.name], errs = check_schedule(p, settings[p.name], f"{path}.{p.name}")
            errors += errs
        elif p.type in CLASS_PARAMS and settings.get(p.name) is not None:
            settings[p.name], errs = _check_structured(CLASS_PARAMS[p.type], settings[p.name],
                                                       f"{path}.{p.name}")
            errors += errs
    if not errors and settings.get("classes"):
        errors += _class_name_errors(settings["classes"], f"{path}.classes")
    return settings, errors


# --- request classes (a client's mix; a service's work per class; links carry some) --------

class RequestClass(_Strict):
    """One class of a client's requests: its name, share of the requests (a weight: shares
    are normalised to sum to 1), operation, keys and payload sizes (default: the
    client's)."""

    name: ClassName
    share: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]
    op: Literal["read", "write"] = "read"
    keys: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    key_skew: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)] | None = None
    request_kb: Annotated[float, Field(ge=0, le=MAX_SIZE_KB, allow_inf_nan=False)] | None = None
    response_kb: Annotated[float, Field(ge=0, le=MAX_SIZE_KB, allow_inf_nan=False)] | None = None


WorkMs = Annotated[float, Field(ge=0, le=3_600_000, allow_inf_nan=False)]
CLASS_PARAMS: dict[str, Any] = {
    "classes": TypeAdapter(Annotated[list[RequestClass],
                                     Field(min_length=1, max_length=MAX_CLASSES)]),
    "class_times": TypeAdapter(Annotated[dict[ClassName, WorkMs],
                                         Field(max_length=MAX_CLASSES)]),
}


def _check_structured(adapter: TypeAdapter, value: Any, path: str) -> tuple[Any, list[str]]:
    try:
        out = adapter.validate_python(value, strict=True)
    except ValidationError as exc:
        return value, [path + ("" if line.startswith(("[", ":")) else ".") + line
                       for line in (e.removeprefix("(document)") for e in _errors_of(exc))]
    if isinstance(out, list):
        out = [c.model_dump() for c in out]
    return out, []


def _class_name_errors(classes: list[dict[str, Any]], path: str) -> list[str]:
    seen: dict[str, int] = {}
    errors = []
    for i, c in enumerate(classes):
        if c["name"] in seen:
            errors.append(f"{path}[{i}].name: duplicate class '{c['name']}' (also "
                          f"{path}[{seen[c['name']]}])")
        seen.setdefault(c["name"], i)
    return errors


def class_ops(s: Scenario) -> dict[str, str]:
    """Every class's route key ("op name") and its op, over every client, in order."""
    return {f"{c['op']} {c['name']}": c["op"] for comp in s.components
            if comp.kind == "client" for c in comp.settings.get("classes") or ()}


def _check_class_names(s: Scenario) -> list[str]:
    """The classes a link carries or a service times must be ones some client sends."""
    sent = {key.partition(" ")[2] for key in class_ops(s)}
    errors = [f"links[{i}].classes[{j}]: no client sends class '{name}'"
              for i, link in enumerate(s.links) for j, name in enumerate(link.classes or ())
              if name not in sent]
    errors += [f"components[{i}].params.class_ms.{name}: no client sends class '{name}'"
               for i, c in enumerate(s.components) for name in c.settings.get("class_ms") or ()
               if name not in sent]
    return errors


# --- structured parameters: a client's schedule (registry.SCHEDULE_SHAPES) -----------------

# [t_s, rps]: a JSON list taken as a pair (strict mode takes only tuples), numbers strict
_POINT = Annotated[tuple[
    Annotated[float, Strict(), Field(ge=0, le=MAX_SCHEDULE_S, allow_inf_nan=False)],
    Annotated[float, Strict(), Field(ge=0, le=MAX_RATE_RPS, allow_inf_nan=False)]],
    Field(strict=False)]


@cache
def shape_model(param: Param, shape: str) -> type[BaseModel]:
    """A pydantic model of one shape of a structured parameter."""
    fields: dict[str, Any] = {"shape": (Literal[shape], ...)}  # type: ignore[valid-type]
    for p in next(s for s in param.shapes if s.name == shape).params:
        if p.type == "points":
            fields[p.name] = (Annotated[list[_POINT], Field(min_length=int(p.minimum or 0),
                                                            max_length=int(p.maximum or 0))],
                              ...)
        else:
            fields[p.name] = _field(p)
    return create_model(f"{param.name}_{shape}", __config__=ConfigDict(extra="forbid",
                                                                      strict=True), **fields)


def check_schedule(param: Param, value: dict[str, Any], path: str
                   ) -> tuple[dict[str, Any], list[str]]:
    """A schedule's shape and parameters; returns (it with defaults filled in, errors)."""
    names = tuple(s.name for s in param.shapes)
    if value.get("shape") not in names:
        return value, [f"{path}.shape: must be one of {', '.join(names)}"]
    try:
        model = shape_model(param, value["shape"]).model_validate(value)
    except ValidationError as exc:
        return value, [f"{path}.{line}" for line in _errors_of(exc)]
    out = model.model_dump()
    if "points" in out:
        out["points"] = [list(point) for point in out["points"]]
    return out, [f"{path}.{e}" for e in _schedule_order_errors(out)]


def _schedule_order_errors(s: dict[str, Any]) -> list[str]:
    """What one field alone cannot say: times in order, a burst within its period."""
    shape = s["shape"]
    if shape == "points":
        points = s["points"]
        return [f"points[{i}][0]: must be > {points[i - 1][0]:g} (the time of the point "
                "before: times increase strictly)" for i in range(1, len(points))
                if points[i][0] <= points[i - 1][0]][:MAX_ERRORS]
    checks = {"ramp": [("end_s", s.get("end_s", 0) > s.get("start_s", 0),
                        f"must be > start_s ({s.get('start_s', 0):g})")],
              "diurnal": [("peak_at_s", s.get("peak_at_s", 0) < s.get("period_s", 1),
                           f"must be < period_s ({s.get('period_s', 0):g})")],
              "bursts": [("burst_s", s.get("burst_s", 0) <= s.get("every_s", 0),
                          f"must be <= every_s ({s.get('every_s', 0):g})"),
                         ("first_s", s.get("first_s", 0) < s.get("every_s", 0),
                          f"must be < every_s ({s.get('every_s', 0):g})")]}
    return [f"{name}: {message}" for name, ok, message in checks.get(shape, ()) if not ok]


# --- the validator -------------------------------------------------------------------------

def load(text: str | bytes) -> Scenario:
    """Parse a JSON document and validate it."""
    if isinstance(text, str):
        text = text.encode("utf-8", errors="surrogatepass")
    if len(text) > LIMITS["document_bytes"]:
        raise ScenarioError([f"(document): larger than {LIMITS['document_bytes']} bytes"])
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ScenarioError([f"(document): not valid JSON ({exc})"]) from None
    return validate(doc)


def validate(doc: Any) -> Scenario:
    """Check a scenario document; returns the Scenario or raises ScenarioError."""
    if isinstance(doc, Scenario):
        return doc
    if not isinstance(doc, dict):
        raise ScenarioError(["(document): must be a JSON object"])
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as exc:
        raise ScenarioError(_errors_of(exc)) from None
    errors = _check_params(scenario) + _check_references(scenario)
    if not errors:
        errors = _check_events(scenario) + _check_class_names(scenario)
    if not errors:
        errors = _check_rates(scenario) + _check_topology(scenario)
    if errors:
        raise ScenarioError(errors)
    return scenario


def check_draft(doc: Any) -> Draft:
    """Check a design in progress (a draft); returns it or raises ScenarioError. The
    document's structure, limits, kinds, parameters and ids are checked as by `validate`;
    what only a finished design has is not (links to every part, a client, routes, events
    that name existing parts): a person may keep what they made before it can run."""
    if not isinstance(doc, dict):
        raise ScenarioError(["(document): must be a JSON object"])
    try:
        draft = Draft.model_validate(doc)
    except ValidationError as exc:
        raise ScenarioError(_errors_of(exc)) from None
    errors = [e for i, c in enumerate(draft.components)
              for e in check_params(c.kind, c.params, f"components[{i}].params")[1]]
    errors += _check_references(draft)
    if errors:
        raise ScenarioError(errors)
    return draft


def _check_params(s: Scenario) -> list[str]:
    errors = []
    for i, c in enumerate(s.components):
        c._settings, errs = check_params(c.kind, c.params, f"components[{i}].params")
        errors += errs or bound_errors(c.kind, c.settings, f"components[{i}].params", c.params)
    if s.warmup_s >= s.duration_s:
        errors.append(f"warmup_s: must be < duration_s ({s.duration_s:g})")
    return errors


def _check_references(s: Scenario) -> list[str]:
    errors, first = [], {}
    for i, c in enumerate(s.components):
        if c.id in first:
            errors.append(f"components[{i}].id: duplicate id '{c.id}' "
                          f"(also components[{first[c.id]}])")
        else:
            first[c.id] = i
    seen_links: dict[tuple, int] = {}
    for i, link in enumerate(s.links):
        for end, cid in (("from", link.from_), ("to", link.to)):
            if cid not in first:
                errors.append(f"links[{i}].{end}: no component with id '{cid}'")
        if link.from_ == link.to:
            errors.append(f"links[{i}]: a component cannot link to itself")
        key = (link.from_, link.to)
        if key in seen_links:
            errors.append(f"links[{i}]: duplicate link {link.from_} -> {link.to} "
                          f"(also links[{seen_links[key]}])")
        seen_links[key] = i
        if link.kind == "replication" and link.classes is not None:
            errors.append(f"links[{i}].classes: only call links carry request classes")
        if link.kind == "call":
            for extra in REPLICATION_DEFAULTS:
                if getattr(link, extra) is not None:
                    errors.append(f"links[{i}].{extra}: only replication links take {extra}")
        else:
            for name, default in REPLICATION_DEFAULTS.items():
                if getattr(link, name) is None:
                    setattr(link, name, default)
    return errors


def _check_events(s: Scenario) -> list[str]:
    errors = []
    ids = {c.id: c for c in s.components}
    links = {(link.from_, link.to) for link in s.links}
    for i, ev in enumerate(s.events):
        path = f"events[{i}]"
        if ev.at_s > s.duration_s:
            errors.append(f"{path}.at_s: must be <= duration_s ({s.duration_s:g})")
        found = check_command(ev.action, ev.target, ev.params, ids, links, path)
        if not found and ev.action == "set" and ev.params.get("schedule"):
            # as the engine runs it: the shape's defaults filled in
            ev.params = {**ev.params, "schedule": check_params(
                ids[ev.target].kind, {"schedule": ev.params["schedule"]}, path,
                partial=True)[0]["schedule"]}
        errors += found
    return errors


def set_values(s: Scenario, cid: str, name: str) -> list[Any]:
    """A parameter's starting value and every value `set` events give it."""
    start = next(c.settings[name] for c in s.components if c.id == cid)
    return [start] + [ev.params[name] for ev in s.events
                      if ev.action == "set" and ev.target == cid and name in ev.params]


def peak_rate(s: Scenario, cid: str) -> float:
    """The most a client sends per second, over its rates and schedules, with set events
    (the highest rate_rps under each schedule: a shape rises at most to its own rates)."""
    base = max(set_values(s, cid, "rate_rps"))
    return max([base] + [rate_schedule(base, schedule).peak(0.0, s.duration_s)
                         for schedule in set_values(s, cid, "schedule") if schedule])


def _check_rates(s: Scenario) -> list[str]:
    total = sum(peak_rate(s, c.id) for c in s.components if c.kind == "client")
    if total > LIMITS["total_rate_rps"]:
        return [f"components: clients may send {total:g} rps in all (with their set events); "
                f"the limit is {LIMITS['total_rate_rps']}"]
    return []


def check_command(action: str, target: Any, params: dict, components: dict,
                  links: set, path: str) -> list[str]:
    """Check one event or live command; shared by the validator and the stepping API."""
    if action in ("partition", "heal"):
        if not isinstance(target, list) or tuple(target) not in links:
            return [f"{path}.target: must be [from, to] of an existing link"]
        return [f"{path}.params: {action} takes no params"] if params else []
    if not isinstance(target, str) or target not in components:
        return [f"{path}.target: no component with id '{target}'"]
    if action == "slow":
        factor = params.get("factor") if isinstance(params, dict) else None
        ok = (set(params) == {"factor"} and isinstance(factor, int | float)
              and not isinstance(factor, bool) and math.isfinite(factor) and 0 < factor <= 1000)
        return [] if ok else [f"{path}.params: slow takes {{\"factor\": number in (0, 1000]}}"]
    if action == "set":
        if not params:
            return [f"{path}.params: set needs at least one parameter"]
        kind = components[target].kind
        changes, errors = check_params(kind, params, f"{path}.params", partial=True)
        errors += [f"{path}.params.{name}: cannot change while running (it shapes the design)"
                   for name in changes if KINDS[kind].param(name).fixed]
        if not errors and kind == "service":
            errors = session_store_errors(target, changes.get("sessions", "none"), links,
                                          components, f"{path}.params")
        return errors or bound_errors(kind, {**components[target].settings, **changes},
                                      f"{path}.params", changes)
    if action == "fail" and params:
        return instance_fail_errors(target, params, components, path)
    return [f"{path}.params: {action} takes no params"] if params else []


def bound_errors(kind: str, settings: dict[str, Any], path: str, given: Any) -> list[str]:
    """Parameters bounded by another of the same component (a kv_store's quorums and
    partition by its replicas). The error names whichever of the two the document gives."""
    if kind in ("service", "worker"):  # groups of instances
        return fleet_bound_errors(settings, path, given)
    if kind != "kv_store":
        return []
    n, errors = settings["replicas_n"], []
    for name, limit, rel in (("read_quorum", n, "<="), ("write_quorum", n, "<="),
                             ("partitioned_replicas", n - 1, "<")):
        value = settings[name]
        if value > limit:
            errors.append(f"{path}.{name}: must be {rel} replicas_n ({n})" if name in given
                          else f"{path}.replicas_n: must be {'>=' if rel == '<=' else '>'} "
                          f"{name} ({value})")
    return errors


# --- instances, autoscaling and sessions of a service (components/fleet.py) ----------------

SESSION_STORES = ("cache", "kv_store")  # what a service with shared sessions reads them from


def fleet_bound_errors(settings: dict[str, Any], path: str, given: Any) -> list[str]:
    """An autoscaled service: min_instances <= instances <= max_instances, a utilisation
    target at most 1. The error names whichever of the two the document gives."""
    if settings["autoscale"] == "none":
        return []
    errors = []
    low, high, start = (settings[n] for n in ("min_instances", "max_instances", "instances"))
    if low > high:
        name = "max_instances" if "max_instances" in given else "min_instances"
        errors.append(f"{path}.{name}: min_instances ({low}) must be <= max_instances ({high})")
    elif not low <= start <= high:
        name = "instances" if "instances" in given or not (
            {"min_instances", "max_instances"} & set(given)) else \
            ("min_instances" if start < low else "max_instances")
        errors.append(f"{path}.{name}: instances ({start}) must be within min_instances "
                      f"({low}) and max_instances ({high})")
    if settings["autoscale"] == "utilisation" and settings["scale_target"] > 1:
        errors.append(f"{path}.scale_target: a utilisation target must be <= 1")
    return errors


def session_store_errors(cid: str, sessions: str, links: set, components: dict,
                         path: str) -> list[str]:
    """Shared sessions are read from a cache or kv_store the service calls."""
    if sessions != "shared" or any(a == cid and components[b].kind in SESSION_STORES
                                   for a, b in links if b in components):
        return []
    return [f"{path}.sessions: shared sessions need a call link from '{cid}' to a cache or "
            "kv_store (the session store)"]


def instance_fail_errors(target: str, params: Any, components: dict, path: str) -> list[str]:
    """`fail` of one instance of a service: {"instance": its number}."""
    if components[target].kind != "service" or set(params) != {"instance"}:
        return [f"{path}.params: fail takes no params (but on a service "
                "{\"instance\": number}, to fail one of its instances)"]
    value = params["instance"]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
        return []
    return [f"{path}.params.instance: must be the number of an instance (a whole number >= 0)"]


def failover_errors(s: Scenario, primaries_of: dict[str, list[str]]) -> list[str]:
    """Failover is set on primaries: active_passive on one with replicas (they follow it),
    multi_primary on two databases that replicate to each other and to nobody else."""
    errors = []
    replicas: dict[str, list[str]] = {}
    for replica, primaries in primaries_of.items():
        for primary in primaries:
            replicas.setdefault(primary, []).append(replica)
    for i, c in enumerate(s.components):
        if c.kind != "database":
            continue
        path, mode = f"components[{i}].params.failover", c.settings["failover"]
        outs, ins = replicas.get(c.id, []), primaries_of.get(c.id, [])
        peers = [x for x in outs if x in ins]
        if peers and mode != "multi_primary":
            errors.append(f"{path}: '{c.id}' and '{peers[0]}' replicate to each other, which "
                          "needs failover multi_primary on both")
        if mode == "multi_primary" and not peers:
            errors.append(f"{path}: multi_primary needs a peer, a database that '{c.id}' "
                          "replicates to and from")
        elif mode == "multi_primary" and (len(peers) > 1 or len(outs) > 1 or len(ins) > 1):
            errors.append(f"{path}: a multi_primary database replicates with its one peer "
                          "only (both ways)")
        if mode == "active_passive" and ins:
            errors.append(f"{path}: '{c.id}' is a replica; set failover on its primary "
                          f"'{ins[0]}' (its replicas follow it)")
        elif mode == "active_passive" and not outs:
            errors.append(f"{path}: active_passive needs a replica to promote (a replication "
                          f"link from '{c.id}')")
    return errors


def network_errors(i: int, link: Link) -> list[str]:
    """Payload and protocol fields belong to call links, and loss needs a protocol."""
    if link.kind == "replication":
        return [f"links[{i}].{name}: only call links carry payloads and protocols"
                for name in NETWORK_FIELDS if getattr(link, name) is not None]
    errors = []
    if link.net("loss") and link.net("protocol") == "none":
        errors.append(f"links[{i}].loss: a lossy link needs a protocol (tcp sends lost "
                      "messages again, udp fails the call)")
    if link.net("keepalive") and link.net("protocol") != "tcp":
        errors.append(f"links[{i}].keepalive: only tcp opens connections")
    return errors


def _check_topology(s: Scenario) -> list[str]:
    errors = []
    kinds = {c.id: c.kind for c in s.components}
    index = {c.id: i for i, c in enumerate(s.components)}
    calls = nx.DiGraph()
    calls.add_nodes_from(kinds)
    reach = nx.DiGraph()
    reach.add_nodes_from(kinds)
    replicas_of: dict[str, list[str]] = {}
    for i, link in enumerate(s.links):
        a, b = link.from_, link.to
        reach.add_edge(a, b)
        errors += network_errors(i, link)
        if link.dead_letter:
            errors += _dead_letter_errors(i, link, kinds, index)
        if kinds[a] == "topic" and link.kind == "call" and not link.dead_letter:
            link.group = link.group or "default"
        elif link.group is not None:
            errors.append(f"links[{i}].group: only links out of a topic take a group")
        errors += _binding_errors(i, link, kinds, s)
        if link.kind == "replication":
            if kinds[a] != "database" or kinds[b] != "database":
                errors.append(f"links[{i}]: replication links join two databases")
            replicas_of.setdefault(b, []).append(a)
            continue
        calls.add_edge(a, b)
        if kinds[b] == "client":
            errors.append(f"links[{i}]: clients only send requests; '{b}' cannot be called")
        if kinds[a] == "database":
            errors.append(f"links[{i}]: a database calls nothing; use a replication link")
        if kinds[a] == "kv_store":
            errors.append(f"links[{i}]: a kv_store calls nothing (its replicas are inside it)")
        if kinds[a] == "shard_router" and link.route != "any":
            errors.append(f"links[{i}].route: a shard_router's links carry reads and writes "
                          "('any'): a key has one shard for both")
        if (kinds[a] in ("queue", "topic")) != (kinds[b] == "worker") and not link.dead_letter:
            errors.append(f"links[{i}]: queues feed workers, as topics do; workers are fed "
                          f"only by queues and topics ({kinds[a]} -> {kinds[b]})")
    errors += failover_errors(s, replicas_of) + dead_letter_cycle_errors(s, index)
    comps = {c.id: c for c in s.components}
    call_ends = {(link.from_, link.to) for link in s.links if link.kind == "call"}
    errors += [e for c in s.components if c.kind == "service" for e in session_store_errors(
        c.id, c.settings["sessions"], call_ends, comps, f"components[{index[c.id]}].params")]
    # Multi-primary peers replicate both ways: neither is the other's replica.
    replicas_of = {replica: kept for replica, primaries in replicas_of.items()
                   if (kept := [p for p in primaries if replica not in replicas_of.get(p, ())])}
    for replica, primaries in replicas_of.items():
        if len(primaries) > 1:
            errors.append(f"components[{index[replica]}]: replica '{replica}' has more than "
                          "one primary")
        if any(src in replicas_of for src in primaries):
            errors.append(f"components[{index[replica]}]: replica '{replica}' replicates from "
                          "a replica (chained replication is not modelled)")
    try:
        cycle = nx.find_cycle(calls)
        path = " -> ".join([cycle[0][0]] + [edge[1] for edge in cycle])
        errors.append(f"links: call cycle {path} (a request would loop forever)")
    except nx.NetworkXNoCycle:
        pass
    clients = [cid for cid, kind in kinds.items() if kind == "client"]
    if not clients:
        errors.append("components: no client sends requests")
    dead_letters: dict[str, int] = {}  # a queue's dead-letter link is not a consumer
    for link in s.links:
        if link.dead_letter:
            dead_letters[link.from_] = dead_letters.get(link.from_, 0) + 1
    dead_letter_targets = {link.to for link in s.links if link.dead_letter}
    reachable = set(clients)
    for cid in clients:
        reachable |= nx.descendants(reach, cid)
    for cid, kind in kinds.items():
        where = f"components[{index[cid]}]"
        if cid not in reachable:
            errors.append(f"{where}: '{cid}' is not reachable from any client")
        if kind in ("client", "load_balancer", "cache", "queue", "topic", "exchange") \
                + EDGE_FORWARDERS \
                and not calls.out_degree(cid) - dead_letters.get(cid, 0) \
                and cid not in dead_letter_targets:
            errors.append(f"{where}: {kind} '{cid}' has no outgoing link to send requests to")
        if kind == "shard_router" and not 0 < calls.out_degree(cid) <= MAX_SHARDS:
            errors.append(f"{where}: shard_router '{cid}' needs 1 to {MAX_SHARDS} targets "
                          f"(it has {calls.out_degree(cid)})")
    if not errors:
        errors += route_errors(s)
    return errors


def route_errors(s: Scenario, ratios: dict[str, list[float]] | None = None) -> list[str]:
    """Every operation that reaches a forwarder must have a link that carries it. Clients
    send what any of their read ratios allows: the starting one and those of `set` events,
    or the ones given in `ratios` (a live command's)."""
    kinds = {c.id: c.kind for c in s.components}
    index = {c.id: i for i, c in enumerate(s.components)}
    out: dict[str, list[Link]] = {cid: [] for cid in kinds}
    calls = nx.DiGraph()
    calls.add_nodes_from(kinds)
    for link in s.links:
        if link.kind == "call":
            out[link.from_].append(link)
            calls.add_edge(link.from_, link.to)
    ops: dict[str, set[str]] = {cid: set() for cid in kinds}
    for c in s.components:
        if c.kind == "client" and c.settings.get("classes"):
            ops[c.id] = {f"{x['op']} {x['name']}" for x in c.settings["classes"]}
        elif c.kind == "client":
            for ratio in (ratios or {}).get(c.id) or set_values(s, c.id, "read_ratio"):
                ops[c.id] |= {op for op, share in (("read", ratio), ("write", 1 - ratio))
                              if share}
    for cid in nx.topological_sort(calls):
        for link in out[cid]:
            ops[link.to] |= {op for op in ops[cid] if link.carries(op)}
    errors = []
    for cid, kind in kinds.items():
        if kind not in ("client", "load_balancer", "cache") + EDGE_FORWARDERS:
            continue
        for op in sorted(ops[cid]):
            if not any(link.carries(op) for link in out[cid]):
                what, name = op.partition(" ")[::2]
                errors.append(f"components[{index[cid]}]: {kind} '{cid}' receives class "
                              f"'{name}' ({what}s) but none of its links carries it" if name
                              else f"components[{index[cid]}]: {kind} '{cid}' receives {op}s "
                              f"but none of its links carries {op}s")
    return errors


# --- exchanges (components/exchange.py) ---------------------------------------------------

def _binding_errors(i: int, link: Link, kinds: dict[str, str], s: Scenario) -> list[str]:
    """An exchange's links are call links to queues (or topics); a direct or topic
    exchange's each need a binding, a topic's a well-formed pattern."""
    if kinds[link.from_] != "exchange":
        return [] if link.binding is None else [
            f"links[{i}].binding: only links out of an exchange take a binding"]
    if link.kind != "call" or kinds[link.to] not in ("queue", "topic"):
        return [f"links[{i}]: an exchange routes messages to queues and topics "
                f"(exchange -> {kinds[link.to]})"]
    kind = next(c.settings["type"] for c in s.components if c.id == link.from_)
    if kind == "fanout" or link.binding is None:
        return [] if kind == "fanout" else [
            f"links[{i}].binding: a {kind} exchange's link needs a binding (the routing key "
            "or pattern it takes)"]
    words = link.binding.split(".")
    if kind == "topic" and any(not w or (w not in ("*", "#") and ("*" in w or "#" in w))
                               for w in words):
        return [f"links[{i}].binding: '{link.binding}' is not a topic pattern (words "
                "separated by '.', none empty; * and # stand alone as a word)"]
    return []


# --- dead-letter queues (components/messaging.py) ---------------------------------------------

def _dead_letter_errors(i: int, link: Link, kinds: dict[str, str], index: dict[str, int]
                        ) -> list[str]:
    """A dead-letter link goes from a queue or topic to a queue, as a call link."""
    if link.kind != "call" or kinds[link.from_] not in ("queue", "topic"):
        return [f"links[{i}].dead_letter: only call links out of a queue or topic lead to "
                "a dead-letter queue"]
    if kinds[link.to] != "queue":
        return [f"components[{index[link.to]}]: '{link.to}', the dead-letter target of "
                f"'{link.from_}', is a {kinds[link.to]}, not a queue"]
    return []


def dead_letter_cycle_errors(s: Scenario, index: dict[str, int]) -> list[str]:
    """At most one dead-letter queue per queue or topic, and no queue dead-letters (through
    others) into itself: a message failing for ever would go round for ever."""
    errors, seen = [], {}
    for link in s.links:
        if not link.dead_letter:
            continue
        if link.from_ in seen:
            errors.append(f"components[{index[link.from_]}]: '{link.from_}' has more than one "
                          f"dead-letter queue ('{seen[link.from_]}', '{link.to}')")
        seen.setdefault(link.from_, link.to)
    for start in seen:
        path, cid = [start], seen[start]
        while cid in seen and cid not in path:
            path.append(cid)
            cid = seen[cid]
        if cid == start:
            errors.append(f"components[{index[start]}]: '{start}' dead-letters into a cycle "
                          f"({' -> '.join([*path, start])})")
    return errors
