"""The validator (simulations.scenario.validate / load) against the contract
(docs: scenario-format-v1.md): every rejection class yields an error "path: message" that
names the path, and a valid document validates and keeps its meaning."""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import pytest

from simulations import KINDS, LIMITS, ScenarioError, Simulation, load, validate
from tests.engine.strategies import CONTRACT_EXAMPLE, contract_example

# --- a document with every kind ---------------------------------------------------------------


def full_doc() -> dict[str, Any]:
    """A valid document using every kind, replication, a queue branch and every event."""
    return {
        "format": "playground.scenario/v1",
        "name": "every kind",
        "seed": 3,
        "duration_s": 5,
        "warmup_s": 1,
        "components": [
            {"id": "c", "kind": "client", "params": {"rate_rps": 100, "read_ratio": 0.8}},
            {"id": "lb", "kind": "load_balancer", "params": {}},
            {"id": "s1", "kind": "service", "params": {"service_ms": 5}},
            {"id": "s2", "kind": "service", "params": {"service_ms": 5}},
            {"id": "k", "kind": "cache", "params": {"capacity_keys": 100}},
            {"id": "db", "kind": "database", "params": {"read_ms": 1, "write_ms": 2}},
            {"id": "rep", "kind": "database", "params": {"read_ms": 1, "write_ms": 2}},
            {"id": "q", "kind": "queue", "params": {}},
            {"id": "w", "kind": "worker", "params": {"service_ms": 3}},
            # edge kinds: c -> dns -> waf -> rl -> proxy -> cdn -> db
            {"id": "dns", "kind": "dns", "params": {}},
            {"id": "waf", "kind": "waf", "params": {}},
            {"id": "rl", "kind": "rate_limiter", "params": {"rate_rps": 50}},
            {"id": "proxy", "kind": "reverse_proxy", "params": {}},
            {"id": "cdn", "kind": "cdn", "params": {}},
            # s2 -> router -> kv; 15 replicas and quorums of 1: every quorum in range is valid
            {"id": "router", "kind": "shard_router", "params": {}},
            {"id": "kv", "kind": "kv_store",
             "params": {"replicas_n": 15, "read_quorum": 1, "write_quorum": 1}},
            # s1 -> topic -> w (which the queue feeds too)
            {"id": "t", "kind": "topic", "params": {}},
            # s1 -> exchange -> q, bound by "#" (every type takes a binding; a fanout ignores it)
            {"id": "x", "kind": "exchange", "params": {}},
        ],
        "links": [
            {"from": "c", "to": "lb", "latency_ms": 5},
            {"from": "lb", "to": "s1"},
            {"from": "lb", "to": "s2"},
            {"from": "s1", "to": "k"},
            {"from": "s2", "to": "k"},
            {"from": "k", "to": "db"},
            {"from": "db", "to": "rep", "kind": "replication", "mode": "sync", "lag_ms": 5},
            {"from": "s1", "to": "q", "route": "write"},
            {"from": "q", "to": "w"},
            {"from": "w", "to": "db"},
            {"from": "c", "to": "dns"},
            {"from": "dns", "to": "waf"},
            {"from": "waf", "to": "rl"},
            {"from": "rl", "to": "proxy"},
            {"from": "proxy", "to": "cdn"},
            {"from": "cdn", "to": "db"},
            {"from": "s2", "to": "router"},
            {"from": "router", "to": "kv"},
            {"from": "s1", "to": "t", "route": "write"},
            {"from": "t", "to": "w", "group": "g"},
            {"from": "s1", "to": "x", "route": "write"},
            {"from": "x", "to": "q", "binding": "#"},
        ],
        "events": [
            {"at_s": 1, "action": "fail", "target": "s2"},
            {"at_s": 2, "action": "recover", "target": "s2"},
            {"at_s": 1.5, "action": "partition", "target": ["s1", "k"]},
            {"at_s": 2.5, "action": "heal", "target": ["s1", "k"]},
            {"at_s": 3, "action": "slow", "target": "db", "params": {"factor": 2}},
            {"at_s": 3.5, "action": "set", "target": "c", "params": {"rate_rps": 50}},
        ],
    }


# The first component of each kind in full_doc().
KIND_INDEX: dict[str, int] = {}
for _i, _c in enumerate(full_doc()["components"]):
    KIND_INDEX.setdefault(_c["kind"], _i)


def tiny(components: list[dict], links: list[dict], **top: Any) -> dict[str, Any]:
    doc = {"format": "playground.scenario/v1", "name": "t", "duration_s": 10,
           "components": components, "links": links}
    doc.update(top)
    return doc


def client(cid: str = "c", **params: Any) -> dict[str, Any]:
    return {"id": cid, "kind": "client", "params": {"rate_rps": 10, **params}}


def service(cid: str) -> dict[str, Any]:
    return {"id": cid, "kind": "service", "params": {"service_ms": 1}}


def database(cid: str) -> dict[str, Any]:
    return {"id": cid, "kind": "database", "params": {"read_ms": 1, "write_ms": 1}}


def of_kind(cid: str, kind: str) -> dict[str, Any]:
    params = {"service": {"service_ms": 1}, "worker": {"service_ms": 1},
              "database": {"read_ms": 1, "write_ms": 1}, "cache": {"capacity_keys": 5},
              "client": {"rate_rps": 10}}.get(kind, {})
    return {"id": cid, "kind": kind, "params": dict(params)}


def errors_of(doc: Any) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    errors = info.value.errors
    assert errors, "ScenarioError without errors"
    for line in errors:
        assert re.match(r"^\S.*?: \S", line), f"not 'path: message': {line!r}"
    return errors


def assert_rejected(doc: Any, path: str, *fragments: str) -> list[str]:
    """Some error names exactly `path` and its message contains every fragment."""
    errors = errors_of(doc)
    at_path = [e for e in errors if e.startswith(path + ": ")]
    assert at_path, f"no error at {path!r}; got {errors}"
    assert any(all(f in e for f in fragments) for e in at_path), \
        f"no error at {path!r} mentions {fragments}; got {at_path}"
    return errors


def assert_text_rejected(text: str | bytes, path: str, *fragments: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load(text)
    at_path = [e for e in info.value.errors if e.startswith(path + ": ")]
    assert at_path, f"no error at {path!r}; got {info.value.errors}"
    assert any(all(f in e for f in fragments) for e in at_path), at_path


def set_at(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set doc[path] where path is like 'components[2].params.workers'."""
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    node = doc
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return doc


# --- valid documents keep their meaning -------------------------------------------------------

def test_contract_example_validates_and_keeps_its_meaning():
    doc = contract_example()
    scenario = validate(doc)
    assert doc == CONTRACT_EXAMPLE, "validate must not change the document it is given"
    assert scenario.name == "Cache in front of a database"
    assert (scenario.seed, scenario.duration_s, scenario.warmup_s) == (7, 300, 30)
    assert [c.id for c in scenario.components] == ["users", "lb", "app1", "app2", "cache", "db"]
    # Settings carry every parameter of the kind: the given ones and the registry defaults.
    for comp, spec in zip(scenario.components, doc["components"], strict=True):
        expected = {**KINDS[comp.kind].defaults(), **spec["params"]}
        assert comp.settings == expected, comp.id
    users = scenario.components[0].settings
    assert users["arrival_cv"] == 1.0 and users["timeout_ms"] is None
    assert users["retries"] == 0 and users["backoff_ms"] == 100
    assert scenario.components[1].settings["health_check_s"] == 5
    assert scenario.components[2].settings["blocking"] is True
    assert scenario.components[2].settings["queue_limit"] is None
    assert scenario.components[4].settings["write_policy"] == "write_through"
    assert scenario.components[5].settings["service_dist"] == "exponential"
    # Link defaults.
    first, second = scenario.links[0], scenario.links[1]
    assert (first.from_, first.to, first.latency_ms) == ("users", "lb", 20)
    assert (second.latency_ms, second.route, second.weight, second.kind) == (0, "any", 1, "call")
    assert [(e.at_s, e.action, e.target) for e in scenario.events] == [
        (120, "fail", "app2"), (180, "recover", "app2")]


def test_valid_document_round_trips():
    scenario = validate(full_doc())
    again = validate(scenario.to_document())
    assert again.to_document() == scenario.to_document()
    for a, b in zip(scenario.components, again.components, strict=True):
        assert a.settings == b.settings
    # Replication links get their defaults (and keep given values).
    rep = scenario.links[6]
    assert (rep.kind, rep.mode, rep.lag_ms, rep.lag_dist) == ("replication", "sync", 5,
                                                              "exponential")
    assert validate(scenario) is scenario


def test_load_equals_validate_of_parsed_text():
    text = json.dumps(full_doc())
    assert load(text).to_document() == validate(full_doc()).to_document()
    assert load(text.encode()).to_document() == validate(full_doc()).to_document()


def test_replication_defaults():
    doc = tiny([client(), database("a"), database("b")],
               [{"from": "c", "to": "a"}, {"from": "a", "to": "b", "kind": "replication"}])
    rep = validate(doc).links[1]
    assert (rep.mode, rep.lag_ms, rep.lag_dist) == ("async", 100.0, "exponential")


def test_ints_are_accepted_for_floats():
    doc = full_doc()
    doc["duration_s"] = 5
    doc["components"][2]["params"]["service_ms"] = 7
    assert validate(doc).components[2].settings["service_ms"] == 7


# --- unknown keys -----------------------------------------------------------------------------

@pytest.mark.parametrize("holder_path, path", [
    ("", "colour"),
    ("components[2]", "components[2].colour"),
    ("components[2].params", "components[2].params.colour"),
    ("components[0].params", "components[0].params.colour"),
    ("links[3]", "links[3].colour"),
    ("events[1]", "events[1].colour"),
])
def test_unknown_keys_are_rejected(holder_path, path):
    doc = full_doc()
    holder = doc
    for part in re.findall(r"[^.\[\]]+", holder_path):
        holder = holder[int(part) if part.isdigit() else part]
    holder["colour"] = "red"
    assert_rejected(doc, path, "unknown key")


def test_unknown_key_in_position():
    doc = full_doc()
    doc["components"][0]["position"] = {"x": 1, "y": 2, "z": 3}
    assert_rejected(doc, "components[0].position.z", "unknown key")


def test_every_unknown_key_is_reported_at_once():
    """Errors of one stage are collected (parameters are checked once the structure is)."""
    doc = full_doc()
    doc["colour"] = 1
    doc["links"][0]["colour"] = 1
    doc["components"][3]["colour"] = 1
    doc["events"][0]["colour"] = 1
    errors = errors_of(doc)
    for path in ("colour", "links[0].colour", "components[3].colour", "events[0].colour"):
        assert any(e.startswith(path + ": ") for e in errors), (path, errors)


# --- wrong types ------------------------------------------------------------------------------

@pytest.mark.parametrize("path, value, fragment", [
    ("duration_s", "5", "must be a number"),
    ("warmup_s", "1", "must be a number"),
    ("components[2].params.service_ms", "12", "must be a number"),
    ("components[0].params.rate_rps", "100", "must be a number"),
    ("links[0].latency_ms", "5", "must be a number"),
    ("links[0].weight", "2", "must be a number"),
    ("events[0].at_s", "1", "must be a number"),
    ("components[2].params.workers", "2", "must be a whole number"),
    ("components[2].params.workers", 2.0, "must be a whole number"),
    ("components[2].params.workers", 2.5, "must be a whole number"),
    ("components[0].params.keys", 100.0, "must be a whole number"),
    ("components[0].params.retries", 1.0, "must be a whole number"),
    ("seed", 7.0, "must be a whole number"),
    ("components[2].params.workers", True, "must be a whole number"),
    ("components[0].params.retries", False, "must be a whole number"),
    ("seed", True, "must be a whole number"),
    ("duration_s", True, "must be a number"),
    ("components[2].params.service_ms", False, "must be a number"),
    ("components[2].params.service_ms", None, "must be a number"),
    ("components[2].params.service_ms", [12], "must be a number"),
    ("components[2].params.blocking", 1, "must be true or false"),
    ("components[2].params.blocking", "true", "must be true or false"),
    ("components[1].params.algorithm", 1, "must be one of"),
    ("name", 5, "must be a string"),
    ("components[2].label", 5, "must be a string"),
    ("components", {}, "must be a list"),
    ("links", "c->lb", "must be a list"),
    ("components[2].params", [], "must be an object"),
    ("links[0]", "c->lb", "must be an object"),
    ("components[0].position", [1, 2], "must be an object"),
])
def test_wrong_types_are_rejected(path, value, fragment):
    assert_rejected(set_at(full_doc(), path, value), path, fragment)


def test_document_must_be_an_object():
    for value in ([], "x", 1, None, True):
        assert errors_of(value) == ["(document): must be a JSON object"]


@pytest.mark.parametrize("text, fragment", [
    ("", "not valid JSON"), ("{", "not valid JSON"), ("[1,", "not valid JSON"),
    ("[]", "must be a JSON object"), ("null", "must be a JSON object"),
])
def test_load_rejects_text_that_is_no_document(text, fragment):
    assert_text_rejected(text, "(document)", fragment)


# --- NaN and Infinity -------------------------------------------------------------------------

NUMBER_PATHS = [
    "duration_s", "warmup_s", "components[0].params.rate_rps",
    "components[0].params.read_ratio", "components[2].params.service_ms",
    "components[5].params.write_ms", "components[0].position.x", "links[0].latency_ms",
    "links[0].weight", "links[6].lag_ms", "events[0].at_s",
]


def with_position(doc: dict[str, Any]) -> dict[str, Any]:
    doc["components"][0]["position"] = {"x": 1.5, "y": 2}
    return doc


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("path", NUMBER_PATHS)
def test_nan_and_infinity_are_rejected(path, value):
    doc = set_at(with_position(full_doc()), path, value)
    assert_rejected(doc, path, "must be")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("path", ["seed", "components[2].params.workers",
                                  "components[0].params.keys"])
def test_nan_and_infinity_are_not_whole_numbers(path, value):
    assert_rejected(set_at(full_doc(), path, value), path, "must be a whole number")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("path", NUMBER_PATHS)
def test_nan_and_infinity_literals_in_json_text(path, literal):
    doc = set_at(with_position(full_doc()), path, "@@@")
    text = json.dumps(doc).replace('"@@@"', literal)
    assert literal in text
    assert_text_rejected(text, path, "must be")


def test_nan_literal_message_says_finite():
    text = json.dumps(full_doc()).replace('"duration_s": 5', '"duration_s": NaN')
    assert_text_rejected(text, "duration_s", "finite")


@pytest.mark.parametrize("factor", [math.nan, math.inf, 0, -1, 1001, "2", True, None])
def test_slow_factor_must_be_a_finite_number_in_range(factor):
    doc = full_doc()
    doc["events"][4]["params"]["factor"] = factor
    assert_rejected(doc, "events[4].params", "factor")


# --- negative times, probabilities ------------------------------------------------------------

@pytest.mark.parametrize("path, fragment", [
    ("duration_s", "must be > 0"),
    ("warmup_s", "must be >= 0"),
    ("links[0].latency_ms", "must be >= 0"),
    ("links[6].lag_ms", "must be >= 0"),
    ("events[0].at_s", "must be >= 0"),
    ("components[2].params.service_ms", "must be >= 0"),
    ("components[5].params.read_ms", "must be >= 0"),
    ("components[0].params.backoff_ms", "must be >= 0"),
    ("components[0].params.timeout_ms", "must be > 0"),
    ("components[4].params.ttl_s", "must be > 0"),
    ("components[1].params.health_check_s", "must be >= 0"),
    ("components[2].params.mtbf_s", "must be > 0"),
])
def test_negative_times_are_rejected(path, fragment):
    assert_rejected(set_at(full_doc(), path, -1), path, fragment)
    assert_rejected(set_at(full_doc(), path, -0.001), path, fragment)


def test_zero_duration_is_rejected():
    assert_rejected(set_at(full_doc(), "duration_s", 0), "duration_s", "must be > 0")


def test_duration_over_the_limit_is_rejected():
    limit = LIMITS["duration_s"]
    assert_rejected(set_at(full_doc(), "duration_s", limit + 1), "duration_s",
                    f"must be <= {limit}")
    validate(set_at(full_doc(), "duration_s", limit))


@pytest.mark.parametrize("ratio, fragment", [
    (1.0001, "must be <= 1"), (2, "must be <= 1"), (-0.0001, "must be >= 0"),
    (-1, "must be >= 0")])
def test_read_ratio_outside_unit_interval(ratio, fragment):
    doc = set_at(full_doc(), "components[0].params.read_ratio", ratio)
    assert_rejected(doc, "components[0].params.read_ratio", fragment)


@pytest.mark.parametrize("ratio", [0, 0.0, 0.5, 1, 1.0])
def test_read_ratio_bounds_are_valid(ratio):
    validate(set_at(full_doc(), "components[0].params.read_ratio", ratio))


@pytest.mark.parametrize("warmup", [5, 6, 5.0])
def test_warmup_not_below_duration_is_rejected(warmup):
    assert_rejected(set_at(full_doc(), "warmup_s", warmup), "warmup_s", "must be < duration_s")


def test_warmup_just_below_duration_is_valid():
    validate(set_at(full_doc(), "warmup_s", 4.999))


# --- references -------------------------------------------------------------------------------

@pytest.mark.parametrize("end", ["from", "to"])
def test_dangling_link_ends(end):
    doc = set_at(full_doc(), f"links[2].{end}", "ghost")
    assert_rejected(doc, f"links[2].{end}", "ghost")


def test_duplicate_ids():
    doc = full_doc()
    doc["components"][3]["id"] = "s1"
    assert_rejected(doc, "components[3].id", "duplicate", "s1")


def test_duplicate_links():
    doc = full_doc()
    doc["links"].append({"from": "lb", "to": "s1", "latency_ms": 3})
    assert_rejected(doc, f"links[{len(doc['links']) - 1}]", "duplicate", "lb -> s1")


def test_self_links():
    doc = full_doc()
    doc["links"].append({"from": "s2", "to": "s2"})
    assert_rejected(doc, f"links[{len(doc['links']) - 1}]", "itself")


@pytest.mark.parametrize("kind", ["mainframe", "Client", "", "services"])
def test_unknown_kinds(kind):
    doc = set_at(full_doc(), "components[3].kind", kind)
    assert_rejected(doc, "components[3].kind", "must be one of", "service")


@pytest.mark.parametrize("cid", ["", "has space", "a/b", "x" * 65, "é"])
def test_bad_ids(cid):
    assert_rejected(set_at(full_doc(), "components[3].id", cid), "components[3].id", "must be")


def test_replication_fields_only_on_replication_links():
    doc = full_doc()
    doc["links"][1]["mode"] = "sync"
    assert_rejected(doc, "links[1].mode", "replication")


@pytest.mark.parametrize("path, value", [
    ("links[0].route", "reads"), ("links[0].kind", "stream"), ("links[6].mode", "semi"),
    ("links[6].lag_dist", "lognormal"), ("events[0].action", "explode"),
    ("format", "playground.scenario/v2"),
])
def test_enumerations(path, value):
    assert_rejected(set_at(full_doc(), path, value), path, "must be one of")


@pytest.mark.parametrize("path", ["format", "name", "duration_s", "components",
                                  "components[2].id", "components[2].kind",
                                  "components[2].params.service_ms",
                                  "components[0].params.rate_rps",
                                  "components[4].params.capacity_keys",
                                  "components[5].params.write_ms", "links[1].from",
                                  "links[1].to", "events[0].at_s", "events[0].action",
                                  "events[0].target"])
def test_missing_required_keys(path):
    doc = full_doc()
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    node = doc
    for part in parts[:-1]:
        node = node[part]
    del node[parts[-1]]
    assert_rejected(doc, path, "is required")


def test_empty_name_and_components():
    assert_rejected(set_at(full_doc(), "name", ""), "name", "at least 1")
    assert_rejected(set_at(full_doc(), "components", []), "components", "at least 1")


# --- limits -----------------------------------------------------------------------------------

def test_too_many_components():
    n = LIMITS["components"]
    comps = [client()] + [service(f"s{i}") for i in range(n)]
    links = [{"from": "c", "to": f"s{i}"} for i in range(n)]
    assert_rejected(tiny(comps, links), "components", f"at most {n}")


def test_components_at_the_limit_are_valid():
    n = LIMITS["components"]
    comps = [client()] + [service(f"s{i}") for i in range(n - 1)]
    validate(tiny(comps, [{"from": "c", "to": f"s{i}"} for i in range(n - 1)]))


def test_too_many_links():
    n = LIMITS["links"]
    comps = [client()] + [service(f"s{i}") for i in range(70)]
    links = [{"from": "c", "to": "s0"}] + [
        {"from": f"s{i}", "to": f"s{j}"} for i in range(70) for j in range(i + 1, 70)]
    assert len(links) > n
    assert_rejected(tiny(comps, links[:n + 1]), "links", f"at most {n}")


def test_too_many_events():
    n = LIMITS["events"]
    doc = full_doc()
    doc["events"] = [{"at_s": 1, "action": "fail", "target": "s2"}] * (n + 1)
    assert_rejected(doc, "events", f"at most {n}")
    doc["events"] = doc["events"][:n]
    validate(doc)


def test_rate_over_the_parameter_limit():
    doc = set_at(full_doc(), "components[0].params.rate_rps", LIMITS["total_rate_rps"] + 1)
    assert_rejected(doc, "components[0].params.rate_rps", "must be <=")


def test_total_rate_over_the_limit():
    limit = LIMITS["total_rate_rps"]
    comps = [client("a", rate_rps=limit / 2), client("b", rate_rps=limit / 2 + 1),
             service("s")]
    doc = tiny(comps, [{"from": "a", "to": "s"}, {"from": "b", "to": "s"}])
    assert_rejected(doc, "components", "rps", str(limit))
    comps[1]["params"]["rate_rps"] = limit / 2
    validate(doc)


def test_total_rate_limit_holds_for_set_events():
    limit = LIMITS["total_rate_rps"]
    comps = [client("a", rate_rps=1), client("b", rate_rps=1), service("s")]
    doc = tiny(comps, [{"from": "a", "to": "s"}, {"from": "b", "to": "s"}], events=[
        {"at_s": 1, "action": "set", "target": "a", "params": {"rate_rps": limit}},
        {"at_s": 1, "action": "set", "target": "b", "params": {"rate_rps": limit}}])
    errors_of(doc)


def test_text_over_the_byte_limit():
    limit = LIMITS["document_bytes"]
    text = json.dumps(full_doc())
    padded = text[:-1] + " " * (limit - len(text) + 1) + "}"
    assert len(padded.encode()) > limit
    assert_text_rejected(padded, "(document)", "larger than", str(limit))
    assert_text_rejected(padded.encode(), "(document)", "larger than", str(limit))
    # Exactly at the limit it is parsed (and valid: whitespace only).
    load(text[:-1] + " " * (limit - len(text)) + "}")


def test_text_over_the_byte_limit_in_utf8():
    limit = LIMITS["document_bytes"]
    doc = full_doc()
    doc["description"] = "é" * (limit // 2 + 10)  # 2 bytes each in UTF-8
    text = json.dumps(doc, ensure_ascii=False)
    assert len(text) <= limit < len(text.encode("utf-8"))
    assert_text_rejected(text, "(document)", "larger than")


@pytest.mark.parametrize("path, size, fragment", [
    ("name", LIMITS["name_chars"] + 1, "at most"),
    ("description", LIMITS["description_chars"] + 1, "at most"),
    ("components[0].label", LIMITS["label_chars"] + 1, "at most"),
])
def test_string_limits(path, size, fragment):
    assert_rejected(set_at(full_doc(), path, "x" * size), path, fragment)
    validate(set_at(full_doc(), path, "x" * (size - 1)))


def test_error_count_is_capped():
    doc = full_doc()
    doc["components"][2]["params"].update({f"bogus{i}": 1 for i in range(200)})
    assert 0 < len(errors_of(doc)) <= 50


# --- events -----------------------------------------------------------------------------------

def test_event_target_must_exist():
    doc = set_at(full_doc(), "events[0].target", "ghost")
    assert_rejected(doc, "events[0].target", "ghost")


@pytest.mark.parametrize("target", ["s1", ["s1", "ghost"], ["k", "s1"], ["c", "s1"]])
def test_partition_targets_an_existing_link(target):
    doc = set_at(full_doc(), "events[2].target", target)
    assert_rejected(doc, "events[2].target", "link")


def test_partition_of_a_replication_link_is_valid():
    validate(set_at(full_doc(), "events[2].target", ["db", "rep"]))


@pytest.mark.parametrize("action", ["fail", "recover", "slow", "set"])
def test_component_actions_reject_a_link_target(action):
    doc = full_doc()
    doc["events"] = [{"at_s": 1, "action": action, "target": ["s1", "k"],
                      "params": {"factor": 2} if action == "slow" else {"workers": 2}}]
    assert_rejected(doc, "events[0].target")


@pytest.mark.parametrize("params, path, fragment", [
    ({"workers": 0}, "events[0].params.workers", "must be >= 1"),
    ({"workers": 2.5}, "events[0].params.workers", "whole number"),
    ({"service_ms": "fast"}, "events[0].params.service_ms", "must be a number"),
    ({"service_ms": math.nan}, "events[0].params.service_ms", "finite"),
    ({"service_ms": -1}, "events[0].params.service_ms", "must be >= 0"),
    ({"service_dist": "normal"}, "events[0].params.service_dist", "must be one of"),
    ({"colour": 1}, "events[0].params.colour", "unknown key"),
    ({"rate_rps": 1}, "events[0].params.rate_rps", "unknown key"),
    ({}, "events[0].params", "at least one"),
])
def test_set_with_bad_params(params, path, fragment):
    doc = full_doc()
    doc["events"] = [{"at_s": 1, "action": "set", "target": "s1", "params": params}]
    assert_rejected(doc, path, fragment)


@pytest.mark.parametrize("action", ["fail", "recover", "partition", "heal"])
def test_actions_without_params_reject_params(action):
    doc = full_doc()
    target = ["s1", "k"] if action in ("partition", "heal") else "s1"
    doc["events"] = [{"at_s": 1, "action": action, "target": target, "params": {"x": 1}}]
    assert_rejected(doc, "events[0].params", "no params")


def test_event_after_the_end_is_rejected():
    doc = set_at(full_doc(), "events[1].at_s", 5.5)
    assert_rejected(doc, "events[1].at_s", "duration_s")
    validate(set_at(full_doc(), "events[1].at_s", 5))


@pytest.mark.parametrize("param, kind_index", [
    ("service_ms", 2), ("workers", 2), ("read_ms", 5), ("capacity_keys", 4),
    ("algorithm", 1), ("rate_rps", 0), ("keys", 0), ("mttr_s", 2)])
def test_set_cannot_null_a_non_nullable_parameter(param, kind_index):
    doc = full_doc()
    target = doc["components"][kind_index]["id"]
    doc["events"] = [{"at_s": 1, "action": "set", "target": target, "params": {param: None}}]
    assert_rejected(doc, f"events[0].params.{param}")


def run_or_reject(doc: dict[str, Any]) -> None:
    """A document is either rejected by the validator or runs without an exception."""
    try:
        validate(doc)
    except ScenarioError:
        return
    Simulation(doc).run()


def test_set_read_ratio_cannot_route_writes_nowhere():
    doc = tiny([client(read_ratio=1), service("s")], [{"from": "c", "to": "s", "route": "read"}],
               duration_s=3, events=[{"at_s": 1, "action": "set", "target": "c",
                                      "params": {"read_ratio": 0.5}}])
    run_or_reject(doc)


def test_set_read_ratio_cannot_route_cache_writes_nowhere():
    doc = tiny([client(read_ratio=1), of_kind("k", "cache"), database("db")],
               [{"from": "c", "to": "k"}, {"from": "k", "to": "db", "route": "read"}],
               duration_s=3, events=[{"at_s": 1, "action": "set", "target": "c",
                                      "params": {"read_ratio": 0}}])
    run_or_reject(doc)


def test_set_mtbf_to_null_stops_failures():
    doc = tiny([client(), {"id": "s", "kind": "service",
                           "params": {"service_ms": 1, "mtbf_s": 1, "mttr_s": 0.5}}],
               [{"from": "c", "to": "s"}], duration_s=20,
               events=[{"at_s": 0.1, "action": "set", "target": "s",
                        "params": {"mtbf_s": None}}])
    run_or_reject(doc)


# --- topology ---------------------------------------------------------------------------------

def test_client_without_outgoing_link():
    doc = tiny([client("a"), client("b"), service("s")], [{"from": "a", "to": "s"}])
    assert_rejected(doc, "components[1]", "client 'b'", "no outgoing link")


@pytest.mark.parametrize("kind", ["load_balancer", "cache", "queue"])
def test_forwarders_without_outgoing_link(kind):
    doc = tiny([client(), of_kind("x", kind)], [{"from": "c", "to": "x"}])
    assert_rejected(doc, "components[1]", f"{kind} 'x'", "no outgoing link")


def test_unreachable_component():
    doc = tiny([client(), service("s"), service("island"), service("island2")],
               [{"from": "c", "to": "s"}, {"from": "island", "to": "island2"}])
    errors = assert_rejected(doc, "components[2]", "'island'", "not reachable")
    assert any(e.startswith("components[3]: ") and "not reachable" in e for e in errors)


def test_no_client():
    doc = tiny([service("a"), service("b")], [{"from": "a", "to": "b"}])
    assert_rejected(doc, "components", "no client")


@pytest.mark.parametrize("a_kind, b_kind", [("service", "database"), ("database", "service"),
                                            ("cache", "database"), ("database", "cache")])
def test_replication_link_between_non_databases(a_kind, b_kind):
    comps = [client(), of_kind("a", a_kind), of_kind("b", b_kind), database("d")]
    links = [{"from": "c", "to": "a"}, {"from": "a", "to": "b", "kind": "replication"}]
    if a_kind == "cache":
        links.append({"from": "a", "to": "d"})
    elif a_kind != "database":
        links.append({"from": "b", "to": "d"} if b_kind == "cache" else
                     {"from": "c", "to": "d"})
    if b_kind == "cache":
        links.append({"from": "b", "to": "d"})
    assert_rejected(tiny(comps, links), "links[1]", "replication links join two databases")


def test_replica_of_a_replica():
    doc = tiny([client(), database("p"), database("r1"), database("r2")],
               [{"from": "c", "to": "p"},
                {"from": "p", "to": "r1", "kind": "replication"},
                {"from": "r1", "to": "r2", "kind": "replication"}])
    assert_rejected(doc, "components[3]", "replica 'r2'", "replica")


def test_replica_with_two_primaries():
    doc = tiny([client(), database("p1"), database("p2"), database("r")],
               [{"from": "c", "to": "p1"}, {"from": "c", "to": "p2"},
                {"from": "p1", "to": "r", "kind": "replication"},
                {"from": "p2", "to": "r", "kind": "replication"}])
    assert_rejected(doc, "components[3]", "more than one primary")


@pytest.mark.parametrize("ring", [["a", "b"], ["a", "b", "d"]])
def test_call_cycle(ring):
    comps = [client()] + [service(x) for x in ring]
    links = [{"from": "c", "to": "a"}] + [
        {"from": x, "to": y} for x, y in zip(ring, ring[1:] + ring[:1], strict=True)]
    assert_rejected(tiny(comps, links), "links", "call cycle", "a")


def test_call_link_out_of_a_database():
    doc = tiny([client(), database("d"), service("s")],
               [{"from": "c", "to": "d"}, {"from": "c", "to": "s"}, {"from": "d", "to": "s"}])
    assert_rejected(doc, "links[2]", "database calls nothing")


def test_call_link_into_a_client():
    doc = tiny([client("a"), client("b"), service("s")],
               [{"from": "a", "to": "s"}, {"from": "b", "to": "s"}, {"from": "a", "to": "b"}])
    assert_rejected(doc, "links[2]", "'b' cannot be called")


@pytest.mark.parametrize("kind", ["service", "database", "cache", "load_balancer", "queue"])
def test_queue_feeds_only_workers(kind):
    comps = [client(), of_kind("q", "queue"), of_kind("x", kind), database("d"),
             of_kind("w", "worker")]
    links = [{"from": "c", "to": "q"}, {"from": "q", "to": "x"}, {"from": "q", "to": "w"}]
    if kind in ("cache", "load_balancer"):
        links.append({"from": "x", "to": "d"})
    if kind == "queue":
        links.append({"from": "x", "to": "w"})
    assert_rejected(tiny(comps, links), "links[1]", "queues feed workers")


@pytest.mark.parametrize("kind", ["client", "service", "load_balancer"])
def test_workers_are_fed_only_by_queues(kind):
    comps = [client(), of_kind("w", "worker")]
    links = [{"from": "c", "to": "w"}]
    if kind != "client":
        comps.append(of_kind("x", kind))
        links = [{"from": "c", "to": "x"}, {"from": "x", "to": "w"}]
    errors = errors_of(tiny(comps, links))
    assert any("queues feed workers" in e and e.startswith("links[") for e in errors), errors


def test_load_balancer_receiving_writes_without_a_write_link():
    doc = tiny([client(read_ratio=0.5), of_kind("lb", "load_balancer"), service("a"),
                service("b")],
               [{"from": "c", "to": "lb"}, {"from": "lb", "to": "a", "route": "read"},
                {"from": "lb", "to": "b", "route": "read"}])
    assert_rejected(doc, "components[1]", "load_balancer 'lb'", "writes")
    doc["links"][2]["route"] = "write"
    validate(doc)


def test_load_balancer_receiving_only_reads_needs_no_write_link():
    doc = tiny([client(read_ratio=1), of_kind("lb", "load_balancer"), service("a")],
               [{"from": "c", "to": "lb"}, {"from": "lb", "to": "a", "route": "read"}])
    validate(doc)


def test_writes_reaching_a_balancer_through_a_write_route():
    """Ops flow along routes: a read-only link does not bring writes to the balancer."""
    doc = tiny([client(read_ratio=0.5), of_kind("lb", "load_balancer"), service("a"),
                service("w")],
               [{"from": "c", "to": "lb", "route": "read"}, {"from": "c", "to": "w",
                                                              "route": "write"},
                {"from": "lb", "to": "a", "route": "read"}])
    validate(doc)


def test_client_sending_writes_without_a_write_link():
    doc = tiny([client(read_ratio=0.9), service("a")],
               [{"from": "c", "to": "a", "route": "read"}])
    assert_rejected(doc, "components[0]", "client 'c'", "writes")


def test_cache_receiving_writes_without_a_write_link():
    doc = tiny([client(read_ratio=0.5), of_kind("k", "cache"), database("d")],
               [{"from": "c", "to": "k"}, {"from": "k", "to": "d", "route": "read"}])
    assert_rejected(doc, "components[1]", "cache 'k'", "writes")


# --- every registry parameter's range ---------------------------------------------------------

NUMERIC = [(k, p) for k in KINDS for p in KINDS[k].params if p.type in ("int", "float")]
CHOICES = [(k, p) for k in KINDS for p in KINDS[k].params if p.type == "choice"]
BOOLS = [(k, p) for k in KINDS for p in KINDS[k].params if p.type == "bool"]


def _id(item):
    kind, p = item
    return f"{kind}.{p.name}"


def with_param(kind: str, name: str, value: Any) -> tuple[dict[str, Any], str]:
    doc = full_doc()
    i = KIND_INDEX[kind]
    doc["components"][i]["params"][name] = value
    if (kind, name, value) == ("database", "failover", "multi_primary"):
        # Two primaries replicate to each other: rep (next to db) becomes db's peer.
        doc["components"][i + 1]["params"][name] = value
        doc["links"].append({"from": "rep", "to": "db", "kind": "replication"})
    return doc, f"components[{i}].params.{name}"


def below(p) -> float:
    return p.minimum - 1 if p.type == "int" else math.nextafter(p.minimum, -math.inf)


def above(p) -> float:
    return p.maximum + 1 if p.type == "int" else math.nextafter(p.maximum, math.inf)


def bound_in(message: str) -> float:
    return float(re.search(r"must be [<>]=? (\S+)$", message).group(1))


def test_every_kind_is_in_the_full_document():
    assert set(KIND_INDEX) == set(KINDS)
    doc = full_doc()
    for kind, i in KIND_INDEX.items():
        assert doc["components"][i]["kind"] == kind
    validate(doc)


@pytest.mark.parametrize("item", NUMERIC, ids=_id)
def test_numeric_parameter_ranges_are_enforced(item):
    kind, p = item
    assert p.minimum is not None and p.maximum is not None, "every number has a range"
    doc, path = with_param(kind, p.name, below(p))
    errors = assert_rejected(doc, path, "must be >" if p.exclusive_minimum else "must be >=")
    assert bound_in(next(e for e in errors if e.startswith(path))) == p.minimum
    doc, path = with_param(kind, p.name, above(p))
    errors = assert_rejected(doc, path, "must be <=")
    assert bound_in(next(e for e in errors if e.startswith(path))) == p.maximum
    # The bounds themselves: the maximum is valid, the minimum unless exclusive.
    validate(with_param(kind, p.name, p.maximum)[0])
    if p.exclusive_minimum:
        assert_rejected(with_param(kind, p.name, p.minimum)[0], path, "must be >")
    else:
        validate(with_param(kind, p.name, p.minimum)[0])


@pytest.mark.parametrize("item", NUMERIC + CHOICES + BOOLS, ids=_id)
def test_parameter_default_validates(item):
    kind, p = item
    doc, _ = with_param(kind, p.name, p.default)
    if p.required:
        assert p.default is None
        assert_rejected(doc, f"components[{KIND_INDEX[kind]}].params.{p.name}", "must be")
        del doc["components"][KIND_INDEX[kind]]["params"][p.name]
        assert_rejected(doc, f"components[{KIND_INDEX[kind]}].params.{p.name}",
                        "is required")
        return
    settings = validate(doc).components[KIND_INDEX[kind]].settings
    assert settings[p.name] == p.default
    # Leaving it out gives the same default.
    del doc["components"][KIND_INDEX[kind]]["params"][p.name]
    assert validate(doc).components[KIND_INDEX[kind]].settings[p.name] == p.default


@pytest.mark.parametrize("item", NUMERIC, ids=_id)
def test_null_only_for_nullable_parameters(item):
    kind, p = item
    doc, path = with_param(kind, p.name, None)
    if p.nullable:
        assert validate(doc).components[KIND_INDEX[kind]].settings[p.name] is None
    else:
        assert_rejected(doc, path, "must be")


@pytest.mark.parametrize("item", NUMERIC, ids=_id)
def test_numeric_parameter_types(item):
    kind, p = item
    bad = ["1", True, [1], {}] + ([1.5, 2.0] if p.type == "int" else [])
    for value in bad:
        doc, path = with_param(kind, p.name, value)
        assert_rejected(doc, path, "whole number" if p.type == "int" else "must be a number")


@pytest.mark.parametrize("item", CHOICES, ids=_id)
def test_choice_parameters(item):
    kind, p = item
    for choice in p.choices:
        assert validate(with_param(kind, p.name, choice)[0]).components[
            KIND_INDEX[kind]].settings[p.name] == choice
    for bad in ("nonsense", p.choices[0].upper(), 1, None):
        doc, path = with_param(kind, p.name, bad)
        assert_rejected(doc, path, "must be one of")


@pytest.mark.parametrize("item", BOOLS, ids=_id)
def test_bool_parameters(item):
    kind, p = item
    for good in (True, False):
        validate(with_param(kind, p.name, good)[0])
    for bad in (1, 0, "true", None):
        doc, path = with_param(kind, p.name, bad)
        assert_rejected(doc, path, "true or false")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_unknown_parameter_of_every_kind(kind):
    doc, path = with_param(kind, "not_a_param", 1)
    assert_rejected(doc, path, "unknown key")


def test_validation_is_pure():
    doc = full_doc()
    before = copy.deepcopy(doc)
    validate(doc)
    with pytest.raises(ScenarioError):
        validate(set_at(doc, "duration_s", -1))
    set_at(doc, "duration_s", 5)
    assert doc == before


# --- view: how the editor first shows a design (docs/scenario-format.md) ------------------

def test_a_view_is_kept_and_ignored_by_the_engine():
    doc = contract_example()
    ids = [c["id"] for c in doc["components"]]
    view = {"compare": "clients", "watch": {ids[1]: ["util", "queue"], "gone": ["hit"]}}
    scenario = validate({**doc, "view": view})
    assert scenario.to_document()["view"] == view  # a deleted component's entry is no error
    assert validate({**doc, "view": {"compare": ids[1:3]}}).to_document()["view"] == \
        {"compare": ids[1:3], "watch": {}}
    plain = Simulation(doc, seed=1)
    plain.advance(5)
    viewed = Simulation({**doc, "view": view}, seed=1)
    viewed.advance(5)
    assert viewed.frame() == plain.frame()


@pytest.mark.parametrize("view, fragment", [
    ({"compare": "everything"}, "view.compare"),
    ({"compare": []}, "view.compare"),
    ({"watch": {"app": []}}, "view.watch.app"),
    ({"watch": {"app": ["util"] * 9}}, "view.watch.app"),
    ({"colour": "red"}, "view.colour: unknown key"),
])
def test_a_wrong_view_is_rejected(view, fragment):
    with pytest.raises(ScenarioError) as err:
        validate({**contract_example(), "view": view})
    assert any(fragment in e for e in err.value.errors), err.value.errors
