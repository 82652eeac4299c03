"""The compiled engine (scripts/build-engine, simulations/compiled.py) against the plain one:
the same reports byte for byte, replays that seek through checkpoints, a build from other
sources never used, the build the run and test commands make when the sources changed, and
pickled classes that plain Python can make (no patched C)."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulations import compiled

ROOT = Path(__file__).resolve().parents[2]

# Every lesson and example for 30 simulated seconds, plus a live run's frames and a replay
# that seeks back through a checkpoint: printed as JSON by each engine.
FINGERPRINT = """
import json, sys
from pathlib import Path
import simulations
from simulations import Simulation
from simulations.replay import Replayer
assert simulations.COMPILED == (sys.argv[1] == "compiled")
out = {}
docs = sorted(Path("docs/lessons").glob("*.json")) + sorted(Path("docs/examples").glob("*.json"))
for path in docs:
    doc = json.loads(path.read_text())
    report = simulations.run(doc, seed=11, duration_s=30)
    report.pop("wall_s", None)
    sim = Simulation(doc, seed=5)
    frames = [(sim.advance(t), sim.frame())[1] for t in (1.0, 2.5, 4.0)]
    replay = Replayer(simulations.validate(doc), 5, [], 20.0, every_s=2.0)
    replay.seek(15.0)
    replay.seek(3.0)  # back: from a checkpoint, unpickled
    out[path.name] = [report, frames, replay.sim.frame()]
print(json.dumps(out, sort_keys=True))
"""


def fingerprint(mode: str) -> str:
    env = {**os.environ, "SIMULATIONS_PURE": "1" if mode == "plain" else ""}
    return subprocess.run([sys.executable, "-c", FINGERPRINT, mode], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True).stdout


@pytest.mark.compiled
def test_the_compiled_engine_reports_exactly_what_the_plain_one_does():
    plain, fast = fingerprint("plain"), fingerprint("compiled")
    assert len(json.loads(plain)) >= 30
    assert fast == plain


def test_a_build_from_other_sources_is_not_used(tmp_path, monkeypatch):
    build = tmp_path / "engine"
    (build / "simulations").mkdir(parents=True)
    monkeypatch.setattr(compiled, "BUILD", build)
    monkeypatch.setattr(compiled, "STAMP", build / "stamp.json")
    monkeypatch.delenv("SIMULATIONS_PURE", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert compiled.use_build(path := []) is False and path == [], "no build"
    compiled.STAMP.write_text(json.dumps({**compiled.stamp(), "sources": "0" * 64}))
    with pytest.warns(UserWarning, match="other sources"):
        assert compiled.use_build(path) is False and path == []
    compiled.STAMP.write_text(json.dumps(compiled.stamp()))
    monkeypatch.setenv("SIMULATIONS_PURE", "1")
    assert compiled.use_build(path) is False and path == [], "plain Python asked for"
    monkeypatch.delenv("SIMULATIONS_PURE")
    assert compiled.use_build(path) is True and path == [str(build / "simulations")]
    assert sys.path[-1] == str(build)


def _build_script():
    spec = importlib.util.spec_from_file_location("build_engine",
                                                  ROOT / "scripts" / "build_engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_run_and_test_commands_build_only_for_changed_sources_and_say_when_they_cannot(
        tmp_path, monkeypatch, capsys):
    build = _build_script()
    compiled_ = build.load_compiled()
    monkeypatch.setattr(compiled_, "STAMP", tmp_path / "stamp.json")  # no build yet
    monkeypatch.setattr(build, "load_compiled", lambda: compiled_)
    monkeypatch.setattr(build, "build", lambda: pytest.fail("built"))
    monkeypatch.delenv("SIMULATIONS_PURE", raising=False)
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    assert build.build_if_stale() == 0
    said = capsys.readouterr().out.splitlines()
    assert len(said) == 1 and "plain Python" in said[0], said
    compiled_.STAMP.write_text(json.dumps(compiled_.stamp()))  # built from these sources
    assert build.build_if_stale() == 0
    assert capsys.readouterr().out == "", "an up-to-date build is used silently"
    compiled_.STAMP.write_text(json.dumps({**compiled_.stamp(), "sources": "0" * 64}))
    monkeypatch.setenv("SIMULATIONS_PURE", "1")
    assert build.build_if_stale() == 0
    assert capsys.readouterr().out == "", "plain Python asked for: no build, nothing to say"


def _decorators(cls: ast.ClassDef) -> dict[str, bool]:
    attrs = {}
    for dec in cls.decorator_list:
        if isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "mypyc_attr":
            attrs.update({k.arg: k.value.value for k in dec.keywords})
    return attrs


def test_every_pickled_class_is_made_by_its_init_from_plain_python_too():
    """mypyc/mypyc#1172 without patching what mypyc generates: each serializable class, and
    each subclass of one, allows interpreted subclasses, which gives it Python's __init__
    protocol when plain Python (engine.py, tests) makes one (simulations/_mypyc.py)."""
    package = ROOT / "simulations"
    classes = {}
    for path in [package / "kernel.py", package / "metrics.py", package / "distributions.py",
                 *(package / "components").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = node

    def serializable(name: str) -> bool:
        cls = classes.get(name)
        return cls is not None and (_decorators(cls).get("serializable", False) or any(
            serializable(getattr(base, "id", "")) for base in cls.bases))

    pickled = [name for name in classes if serializable(name)]
    assert len(pickled) > 30
    assert [name for name in pickled
            if not _decorators(classes[name]).get("allow_interpreted_subclasses")] == []


def test_a_pickled_class_made_from_plain_python_is_complete():
    from simulations.components.sharding import ShardMap

    # Made here, by interpreted code: compiled with `serializable` alone, it would have no
    # attributes (its __init__ skipped).
    shard = ShardMap("range", [("a", 1.0), ("b", 1.0)], 10, 1)
    assert [shard(key) for key in (0, 4, 5, 9)] == [0, 0, 1, 1]
