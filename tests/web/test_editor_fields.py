"""The editor's limits are the engine's: /api/kinds carries every bound the editor checks
(the kinds' parameters from the registry, the document's own fields from the validator's
models), and the editor's own check (registry.js `checkValue`, run by node) accepts and
refuses exactly what the validator does, at and just past every bound."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from simulations.registry import KINDS
from simulations.scenario import (
    ID_PATTERN,
    Component,
    Link,
    Scenario,
    _errors_of,
    check_params,
    shape_model,
)

REGISTRY_JS = Path(__file__).resolve().parents[2] / "static" / "playground" / "registry.js"
EXACT = 2**53  # past this a JavaScript number is not the integer the validator sees

CHECK = """
import { checkValue, ID_PATTERN } from %s;
let text = "";
for await (const chunk of process.stdin) text += chunk;
const probes = JSON.parse(text);
console.log(JSON.stringify({ id: ID_PATTERN.source,
                             messages: probes.map(([spec, value]) => checkValue(spec, value)) }));
"""


def editor_checks(probes: list[tuple[dict, object]]) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = CHECK % json.dumps(REGISTRY_JS.as_uri())
    out = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps(probes),
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def probes_of(spec: dict) -> list[object]:
    """Values at and just past the spec's bounds."""
    if spec["type"] == "text":
        return ["x" * n for n in (0, spec.get("min_length", 0), spec.get("max_length", 0),
                                  spec.get("max_length", -1) + 1) if n >= 0]
    if spec["type"] == "choice":
        return [*spec["choices"], "no-such-choice"]
    if spec["type"] not in ("int", "float"):
        return []
    step = 1 if spec["type"] == "int" else 1e-3
    out = []
    for bound in (spec.get("minimum"), spec.get("maximum")):
        if bound is not None and abs(bound) < EXACT:
            out += [bound - step, bound, bound + step]
    return out or [0]


def engine_error(where: str, kind: str | None, name: str, value: object) -> str:
    """The validator's message about `name` set to `value` ("" when it accepts it)."""
    if where == "kind":
        _, errors = check_params(kind, {name: value}, "p", partial=True)
        lines = errors
    elif where.startswith("shape:"):  # a field of one shape of a client's schedule, alone
        shape = where.removeprefix("shape:")
        model = shape_model(KINDS[kind].param("schedule"), shape)
        base = {"shape": shape} | {n: 1.0 for n, f in model.model_fields.items()
                                   if f.is_required() and n != "shape"}
        try:
            model.model_validate(base | {name: value})
            lines = []
        except ValidationError as exc:
            lines = _errors_of(exc)
    else:
        model, base = {
            "scenario": (Scenario, {"format": "playground.scenario/v1", "name": "n",
                                    "duration_s": 10, "components": [{"id": "a",
                                                                      "kind": "client"}]}),
            "component": (Component, {"id": "a", "kind": "client"}),
            "link": (Link, {"from": "a", "to": "b"}),
            "replication": (Link, {"from": "a", "to": "b", "kind": "replication"}),
            "network": (Link, {"from": "a", "to": "b"}),
            "exchange": (Link, {"from": "a", "to": "b"}),
        }[where]
        try:
            model.model_validate(base | {name: value})
            lines = []
        except ValidationError as exc:
            lines = _errors_of(exc)
    mine = [line.split(": ", 1)[1] for line in lines
            if line.split(": ", 1)[0].rsplit(".", 1)[-1] == name]
    return mine[0] if mine else ""


def same_words(editor: str, engine: str) -> bool:
    """The same message, but for how a list or a number is written: the editor lists
    choices "'a', 'b', 'c'" and pydantic "'a', 'b' or 'c'"; Python may write a bound 1e+06
    and JavaScript 1000000."""
    bounded = re.compile(r"must be (>=|>|<=|<) (\S+)$")
    a, b = bounded.match(editor), bounded.match(engine)
    if a and b:
        return a[1] == b[1] and float(a[2]) == float(b[2])
    if editor.startswith("must be one of ") and engine.startswith("must be one of "):
        return re.findall(r"'([^']*)'", editor) == re.findall(r"'([^']*)'", engine)
    return editor == engine


def test_kinds_carries_the_document_fields_the_editor_shows(client):
    fields = client.get("/api/kinds").json()["fields"]
    assert [f["name"] for f in fields["scenario"]] == ["name", "description", "duration_s",
                                                       "warmup_s", "seed"]
    assert [f["name"] for f in fields["link"]] == ["latency_ms", "route", "weight", "kind",
                                                   "classes"]
    classes = next(f for f in fields["link"] if f["name"] == "classes")
    assert (classes["type"], classes["default"], classes["max_items"]) == ("names", None, 50)
    assert [f["name"] for f in fields["replication"]] == ["mode", "lag_ms", "lag_dist"]
    binding = fields["exchange"][0]  # a link out of an exchange (issue 18)
    assert (binding["name"], binding["type"], binding["max_length"]) == ("binding", "text", 200)
    # a call link's payload and protocol fields (issue 18), with their defaults
    network = {f["name"]: f for f in fields["network"]}
    assert {name: f["default"] for name, f in network.items()} == {
        "bandwidth_mbps": None, "protocol": "none", "loss": 0.0, "keepalive": False,
        "retransmit_ms": 200.0, "encoding": "none", "encoding_ms": None, "overhead_kb": None}
    assert network["keepalive"]["type"] == "bool"
    assert network["bandwidth_mbps"]["nullable"] is True
    assert (network["loss"]["minimum"], network["loss"]["maximum"]) == (0, 0.5)
    duration = next(f for f in fields["scenario"] if f["name"] == "duration_s")
    assert duration | {"help": ""} == {
        "name": "duration_s", "type": "float", "unit": "s", "help": "", "default": None,
        "required": True, "minimum": 0, "exclusive_minimum": True, "maximum": 86_400}
    # a replication link's defaults, which the model leaves to the validator to fill in
    assert {f["name"]: f["default"] for f in fields["replication"]} == {
        "mode": "async", "lag_ms": 100.0, "lag_dist": "exponential"}


def test_kinds_describe_a_clients_schedule_shape_by_shape(client):
    params = client.get("/api/kinds").json()["kinds"]["client"]["params"]
    schedule = next(p for p in params if p["name"] == "schedule")
    assert (schedule["type"], schedule["nullable"], schedule["default"]) == ("schedule", True,
                                                                           None)
    shapes = {s["name"]: s for s in schedule["shapes"]}
    assert list(shapes) == ["points", "step", "ramp", "spike", "diurnal", "bursts"]
    assert shapes["spike"]["title"] == "Spike (flash crowd)"
    assert [(p["name"], p["unit"], p["required"], p["default"])
            for p in shapes["spike"]["params"]] == [
        ("at_s", "s", True, None), ("peak_rps", "rps", True, None), ("rise_s", "s", False, 0),
        ("hold_s", "s", False, 60), ("decay_s", "s", False, 60)]
    (points,) = shapes["points"]["params"]
    assert (points["type"], points["minimum"], points["maximum"]) == ("points", 1, 1000)
    assert all("shapes" not in p for p in params if p["name"] != "schedule")


def test_the_editor_checks_every_field_as_the_validator_does(client):
    body = client.get("/api/kinds").json()
    cases = [("kind", kind, spec) for kind, k in body["kinds"].items() for spec in k["params"]]
    cases += [(where, None, spec) for where, specs in body["fields"].items() for spec in specs
              if spec["name"] != "id"]
    schedule = next(p for p in body["kinds"]["client"]["params"] if p["name"] == "schedule")
    cases += [(f"shape:{shape['name']}", "client", spec) for shape in schedule["shapes"]
              for spec in shape["params"]]
    probes = [(where, kind, spec, value) for where, kind, spec in cases
              for value in probes_of(spec)]
    answer = editor_checks([(spec, value) for _, _, spec, value in probes])
    assert answer["id"] == ID_PATTERN  # the one pattern the editor keeps (it tidies imports)
    assert len(probes) > 300
    differ = []
    for (where, kind, spec, value), editor in zip(probes, answer["messages"], strict=True):
        engine = engine_error(where, kind, spec["name"], value)
        if not same_words(editor, engine):
            differ.append(f"{kind or where}.{spec['name']} = {value!r}: editor {editor!r}, "
                          f"engine {engine!r}")
    assert differ == []
