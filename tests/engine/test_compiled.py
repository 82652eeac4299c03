"""The compiled engine (scripts/build-engine, simulations/compiled.py) against the plain one:
the same reports byte for byte, replays that seek through checkpoints, and a build from other
sources never used."""

from __future__ import annotations

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
