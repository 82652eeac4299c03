"""The co-editing mapping layer (playground/coedit/ydoc.py) under concurrent edits: three
replicas edit through it, some offline for a while, syncing in random interleavings; once
everyone has everyone's updates they all read the same scenario document, and that document
gets the same verdict from the validator everywhere."""

import base64
import copy
import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from playground.coedit.ydoc import Reading, apply_document, link_key, roots, to_document
from simulations import ScenarioError, validate
from tests.conftest import ROOT

from .conftest import EXAMPLE

BASE = json.loads(EXAMPLE.read_text())


def _verdict(document):
    try:
        validate(document)
        return []
    except ScenarioError as exc:
        return exc.errors


def _edit(document, op, pick, number, client):
    """One editor action on a copy of the document, as the canvas and inspector make them."""
    doc = copy.deepcopy(document)
    comps = doc["components"]
    target = comps[pick % len(comps)] if comps else None
    if op == "move" and target:
        target["position"] = {"x": number, "y": number * 2 % 700}
    elif op == "param" and target:
        target["params"]["workers"] = 1 + number % 32
    elif op == "param2" and target:
        target["params"]["service_ms"] = 1 + number % 50
    elif op == "rename" and target:
        target["label"] = f"{client} {number}"
    elif op == "title":
        doc["name"] = f"design by {client} {number}"
    elif op == "add":
        comps.append({"id": f"{client}{number}", "kind": "service", "label": "new",
                      "position": {"x": number, "y": 10},
                      "params": {"workers": 2, "service_ms": 5}})
    elif op == "delete" and len(comps) > 1:
        gone = comps.pop(pick % len(comps))["id"]
        doc["links"] = [lk for lk in doc["links"] if gone not in (lk["from"], lk["to"])]
    elif op == "connect" and len(comps) > 1:
        a, b = comps[pick % len(comps)]["id"], comps[(pick + number) % len(comps)]["id"]
        if a != b and link_key({"from": a, "to": b}) not in {link_key(lk)
                                                              for lk in doc["links"]}:
            doc["links"].append({"from": a, "to": b, "latency_ms": number % 30})
    elif op == "unlink" and doc["links"]:
        doc["links"].pop(pick % len(doc["links"]))
    elif op == "latency" and doc["links"]:
        doc["links"][pick % len(doc["links"])]["latency_ms"] = number % 40
    return doc


def _sync(source: Doc, target: Doc) -> None:
    target.apply_update(source.get_update(target.get_state()))


OPS = st.sampled_from(["move", "param", "param2", "rename", "title", "add", "delete",
                       "connect", "unlink", "latency"])
STEP = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 2), OPS, st.integers(0, 50),
              st.integers(0, 999)),
    st.tuples(st.just("sync"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("offline"), st.integers(0, 2), st.booleans()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=60))
def test_three_clients_converge(steps):
    server = Doc()
    apply_document(server, BASE)
    clients = [Doc() for _ in range(3)]
    for client in clients:
        _sync(server, client)
    offline = [False] * 3
    for step in steps:
        if step[0] == "edit":
            _, who, op, pick, number = step
            doc = to_document(clients[who])
            apply_document(clients[who], _edit(doc, op, pick, number, "abc"[who]))
            # The local view is what was written (the mapping loses nothing of one's own).
            assert to_document(clients[who]) == _edit(doc, op, pick, number, "abc"[who]) \
                or op in ("add",)
            if not offline[who]:
                _sync(clients[who], server)
        elif step[0] == "sync":
            _, a, b = step
            if not offline[a] and not offline[b]:
                _sync(clients[a], server)
                _sync(server, clients[b])
        else:
            offline[step[1]] = step[2]
    for client in clients:  # everyone comes back online
        _sync(client, server)
    for client in clients:
        _sync(server, client)
    documents = [to_document(c) for c in [server, *clients]]
    assert all(d == documents[0] for d in documents)
    ids = {c["id"] for c in documents[0]["components"]}
    assert all(lk["from"] in ids and lk["to"] in ids for lk in documents[0]["links"])
    verdicts = {json.dumps(_verdict(d)) for d in documents}
    assert len(verdicts) == 1


def _malformed(doc: Doc, kind: int, number: int) -> None:
    """An entry or field of a shape the reader skips, written as a crafted client could."""
    scenario, components, links = roots(doc)
    cid = next(iter(sorted(components.keys())), "x")
    if kind == 0:
        components[f"raw{number}"] = "not a map"
    elif kind == 1 and isinstance(components.get(cid), Map):
        components[cid]["label"] = "not JSON {"
    elif kind == 2 and isinstance(components.get(cid), Map):
        components[cid]["params"] = '"params not a map"'
    elif kind == 3:
        links[f"a>b{number}"] = Map({"from": '"users"', "to": '"lb"', "order": "1"})
    elif kind == 4:
        scenario["name"] = Map({"a": "1"})
    elif kind == 5:
        scenario["name"] = '"fixed again"'


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 1), OPS, st.integers(0, 50),
              st.integers(0, 999)),
    st.tuples(st.just("crafted"), st.integers(0, 1), st.integers(0, 5), st.integers(0, 9)),
    st.tuples(st.just("checked"), st.integers(0, 1)),
    st.tuples(st.just("remote"), st.integers(0, 1))), max_size=40))
def test_a_reading_kept_entry_by_entry_is_the_whole_reading(steps):
    """The room's Reading (rooms.py checks every update with it) reads each entry again only
    when an update touches it; it must read what to_document reads, whether an update came
    through a check (a copy) or was applied to the room's document itself."""
    server = Doc()
    apply_document(server, BASE)
    reading = Reading(server)
    clients = [Doc() for _ in range(2)]
    for client in clients:
        _sync(server, client)
    for step in steps:
        if step[0] == "edit":
            _, who, op, pick, number = step
            apply_document(clients[who], _edit(to_document(clients[who]), op, pick, number,
                                               "ab"[who]))
        elif step[0] == "crafted":
            _malformed(clients[step[1]], step[2], step[3])
        elif step[0] == "checked":  # as Room.checked: the update on a copy, its reading
            copy_ = Doc()
            copy_.apply_update(reading.doc.get_update())
            checked = Reading(copy_, reading)
            checked.apply(clients[step[1]].get_update(copy_.get_state()))
            assert checked.document() == to_document(copy_)
            reading = checked
        else:  # as Room.apply_remote
            reading.apply(clients[step[1]].get_update(reading.doc.get_state()))
        _sync(reading.doc, clients[0])
        assert reading.document() == to_document(reading.doc)


def test_round_trip_keeps_the_document():
    doc = Doc()
    apply_document(doc, BASE)
    assert to_document(doc) == BASE


def test_two_parameters_of_one_component_both_survive():
    a, b = Doc(), Doc()
    apply_document(a, BASE)
    _sync(a, b)
    one, two = to_document(a), to_document(b)
    one["components"][2]["params"]["workers"] = 17
    two["components"][2]["params"]["service_ms"] = 33
    apply_document(a, one)
    apply_document(b, two)
    _sync(a, b)
    _sync(b, a)
    merged = to_document(a)
    assert merged == to_document(b)
    assert merged["components"][2]["params"]["workers"] == 17
    assert merged["components"][2]["params"]["service_ms"] == 33


def test_a_link_to_a_component_deleted_meanwhile_is_left_out():
    a, b = Doc(), Doc()
    apply_document(a, BASE)
    _sync(a, b)
    one, two = to_document(a), to_document(b)
    one["components"] = [c for c in one["components"] if c["id"] != "db"]
    one["links"] = [lk for lk in one["links"] if "db" not in (lk["from"], lk["to"])]
    two["links"].append({"from": "users", "to": "db"})
    apply_document(a, one)
    apply_document(b, two)
    _sync(a, b)
    _sync(b, a)
    assert to_document(a) == to_document(b)
    assert all("db" not in (lk["from"], lk["to"]) for lk in to_document(a)["links"])


def test_integers_and_long_seeds_keep_their_type():
    doc = Doc()
    apply_document(doc, BASE | {"seed": 2**63 - 1})
    out = to_document(doc)
    assert out["seed"] == 2**63 - 1
    service = next(c for c in out["components"] if c["kind"] == "service")
    assert isinstance(service["params"]["workers"], int)


NODE_READER = """
import { Y, toDocument, applyDocument } from "%s";
import { readFileSync } from "node:fs";
const d = new Y.Doc();
Y.applyUpdate(d, readFileSync(0));
const doc = toDocument(d);
doc.components.find((c) => c.id === "app1").params.workers = 99;
doc.components.push({ id: "js", kind: "service", params: { workers: 1, service_ms: 2 } });
doc.links.push({ from: "app1", to: "js", latency_ms: 1.5 });
doc.seed = 5;
const vector = Y.encodeStateVector(d);
applyDocument(d, doc);
process.stdout.write(JSON.stringify({ read: toDocument(d),
  update: Buffer.from(Y.encodeStateAsUpdate(d, vector)).toString("base64") }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_browser_mapping_reads_and_writes_the_same_shape(tmp_path):
    """static/playground/coedit-map.js (with the vendored Yjs) against this module."""
    script = tmp_path / "reader.mjs"
    script.write_text(NODE_READER % (ROOT / "static/playground/coedit-map.js"))
    doc = Doc()
    apply_document(doc, BASE)
    out = subprocess.run(["node", str(script)], input=doc.get_update(), capture_output=True,
                         check=True, timeout=60)
    answer = json.loads(out.stdout)
    doc.apply_update(base64.b64decode(answer["update"]))
    ours = to_document(doc)
    assert ours == answer["read"]
    expected = copy.deepcopy(BASE) | {"seed": 5}
    next(c for c in expected["components"] if c["id"] == "app1")["params"]["workers"] = 99
    expected["components"].append({"id": "js", "kind": "service",
                                   "params": {"workers": 1, "service_ms": 2}})
    expected["links"].append({"from": "app1", "to": "js", "latency_ms": 1.5})
    assert ours == expected
