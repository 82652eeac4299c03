"""Every docs/examples/*.json runs from the command line, headless, with a sane report.

Each example is a small design that shows one point, said in its `description`; this test
runs each one as `python -m simulations run FILE --json` would (in process, for speed).
Add an example by dropping its file into docs/examples/: it is picked up here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulations import KINDS, validate
from simulations.cli import main

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "docs" / "examples").glob("*.json"))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_validates_and_runs(path, capsys):
    doc = json.loads(path.read_text(encoding="utf-8"))
    scenario = validate(doc)
    assert scenario.description.strip(), "an example says what to look at"

    assert main(["run", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["requests"] > 0
    assert set(report["components"]) == {c.id for c in scenario.components}
    for cid, comp in report["components"].items():
        assert comp["kind"] in KINDS, cid
    assert "error" not in report["predictions"], report["predictions"]
