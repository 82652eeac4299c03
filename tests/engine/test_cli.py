"""The command line: `python -m simulations run|validate|kinds` (simulations/cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulations import KINDS, registry_json, run
from tests.engine.strategies import contract_example

ROOT = Path(__file__).resolve().parents[2]
INVALID = 2


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulations", *args], cwd=ROOT,
                          capture_output=True, text=True, input=stdin, timeout=120)


def without_wall(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "wall_s"}


def assert_clean_failure(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == INVALID, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


@pytest.fixture(scope="module")
def example_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "example.json"
    path.write_text(json.dumps(contract_example(), indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def short_file(tmp_path_factory) -> Path:
    """The contract's example, shortened so that runs take a fraction of a second."""
    doc = contract_example()
    doc.update(duration_s=40, warmup_s=5, events=[
        {"at_s": 10, "action": "fail", "target": "app2"},
        {"at_s": 20, "action": "recover", "target": "app2"}])
    path = tmp_path_factory.mktemp("cli") / "short.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def json_report(*args: str) -> dict[str, Any]:
    result = cli("run", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- run ----------------------------------------------------------------------------------------

def test_run_json_matches_run_for_the_same_seed(example_file):
    report = json_report(str(example_file))
    assert report["format"] == "playground.report/v1"
    assert report["scenario"] == "Cache in front of a database"
    assert (report["seed"], report["duration_s"], report["warmup_s"]) == (7, 300, 30)
    assert isinstance(report["wall_s"], float) and report["wall_s"] >= 0
    assert without_wall(report) == without_wall(run(contract_example()))
    assert set(report["components"]) == {c["id"] for c in contract_example()["components"]}


def test_seed_option_changes_the_report(short_file):
    doc = json.loads(short_file.read_text())
    default = json_report(str(short_file))
    seeded = json_report(str(short_file), "--seed", "8")
    assert default["seed"] == 7 and seeded["seed"] == 8
    assert without_wall(seeded) != without_wall(default)
    assert without_wall(seeded) == without_wall(run(doc, seed=8))
    assert without_wall(json_report(str(short_file), "--seed", "7")) == without_wall(default)


def test_duration_option_changes_the_report(short_file):
    doc = json.loads(short_file.read_text())
    default = json_report(str(short_file))
    shorter = json_report(str(short_file), "--duration", "25")
    assert default["duration_s"] == 40 and shorter["duration_s"] == 25
    assert shorter["summary"]["requests"] < default["summary"]["requests"]
    assert without_wall(shorter) == without_wall(run(doc, duration_s=25))
    both = json_report(str(short_file), "--duration", "25", "--seed", "3")
    assert without_wall(both) == without_wall(run(doc, seed=3, duration_s=25))


def test_run_reads_standard_input(short_file):
    result = cli("run", "-", "--json", stdin=short_file.read_text())
    assert result.returncode == 0, result.stderr
    assert without_wall(json.loads(result.stdout)) == without_wall(json_report(str(short_file)))


def test_readable_table_mentions_every_component(short_file):
    result = cli("run", str(short_file))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Cache in front of a database" in out
    assert "seed 7" in out
    lines = out.splitlines()
    for comp in contract_example()["components"]:
        row = [line for line in lines if line.split()[:2] == [comp["id"], comp["kind"]]]
        assert row, f"no row for {comp['id']} ({comp['kind']}) in:\n{out}"
    for word in ("requests", "succeeded", "failed", "throughput", "p99"):
        assert word in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


@pytest.mark.parametrize("args, fragment", [
    (["--seed", "-1"], "--seed"),
    (["--duration", "0"], "--duration"),
    (["--duration", "-5"], "--duration"),
    (["--duration", "nan"], "--duration"),
    (["--duration", "1e9"], "--duration"),
])
def test_run_rejects_bad_options(short_file, args, fragment):
    assert_clean_failure(cli("run", str(short_file), *args), fragment)


def test_run_rejects_an_invalid_document(tmp_path):
    doc = contract_example()
    doc["components"][2]["params"]["workers"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert_clean_failure(cli("run", str(path), "--json"), "components[2].params.workers",
                         ">= 1")


# --- validate -----------------------------------------------------------------------------------

def test_validate_accepts_a_valid_file(example_file):
    result = cli("validate", str(example_file))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "6 components" in result.stdout and "6 links" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("text", ['{"format": ', "not json", "", "[1, 2,"])
def test_validate_rejects_invalid_json(tmp_path, text):
    path = tmp_path / "broken.json"
    path.write_text(text)
    assert_clean_failure(cli("validate", str(path)), str(path), "(document)", "not valid JSON")


@pytest.mark.parametrize("path, value, fragment", [
    ("components[2].params.workers", 0, ">= 1"),
    ("components[0].params.read_ratio", 1.5, "<= 1"),
    ("links[1].to", "ghost", "ghost"),
    ("warmup_s", 300, "duration_s"),
    ("events[0].target", "ghost", "ghost"),
])
def test_validate_rejects_an_invalid_document_naming_the_path(tmp_path, path, value,
                                                             fragment):
    doc = contract_example()
    node: Any = doc
    parts = path.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        node = node[int(part) if part.isdigit() else part]
    last = parts[-1]
    node[int(last) if last.isdigit() else last] = value
    file = tmp_path / "invalid.json"
    file.write_text(json.dumps(doc))
    result = cli("validate", str(file))
    assert_clean_failure(result, f"{file}: {path}: ", fragment)


def test_validate_reports_every_error_on_its_own_line(tmp_path):
    doc = contract_example()
    doc["colour"] = "red"
    doc["links"][0]["colour"] = "red"
    file = tmp_path / "two.json"
    file.write_text(json.dumps(doc))
    result = cli("validate", str(file))
    assert_clean_failure(result)
    lines = result.stderr.strip().splitlines()
    assert sorted(lines) == sorted([f"{file}: colour: unknown key",
                                    f"{file}: links[0].colour: unknown key"])


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_validate_rejects_nan_literals(tmp_path, literal):
    text = json.dumps(contract_example()).replace('"latency_ms": 20', f'"latency_ms": {literal}')
    file = tmp_path / "nan.json"
    file.write_text(text)
    assert_clean_failure(cli("validate", str(file)), "links[0].latency_ms", "finite")


def test_validate_rejects_a_missing_file(tmp_path):
    missing = tmp_path / "nope.json"
    assert_clean_failure(cli("validate", str(missing)), str(missing), "cannot read")
    assert_clean_failure(cli("run", str(missing)), str(missing), "cannot read")


def test_validate_rejects_a_directory(tmp_path):
    assert_clean_failure(cli("validate", str(tmp_path)), "cannot read")


def test_validate_rejects_a_file_that_is_not_utf8(tmp_path):
    file = tmp_path / "latin1.json"
    file.write_bytes(b'\xff\xfe{"name": "caf\xe9"}')
    assert_clean_failure(cli("validate", str(file)), str(file))


def test_validate_reads_standard_input():
    assert cli("validate", "-", stdin=json.dumps(contract_example())).returncode == 0
    assert_clean_failure(cli("validate", "-", stdin="{"), "not valid JSON")


def test_bad_command_line_exits_2_without_traceback():
    for args in ([], ["frobnicate"], ["run"], ["run", "x.json", "--seed", "abc"]):
        result = cli(*args)
        assert result.returncode == INVALID, args
        assert "Traceback" not in result.stderr
        assert "usage" in result.stderr


# --- kinds --------------------------------------------------------------------------------------

def test_kinds_prints_the_registry():
    result = cli("kinds")
    assert result.returncode == 0, result.stderr
    kinds = json.loads(result.stdout)
    assert kinds == json.loads(json.dumps(registry_json()))
    assert set(kinds) == set(KINDS)
    for name, kind in KINDS.items():
        entry = kinds[name]
        assert entry["title"] and entry["help"] and entry["group"]
        params = {p["name"]: p for p in entry["params"]}
        assert list(params) == [p.name for p in kind.params]
        for p in kind.params:
            got = params[p.name]
            for key in ("type", "unit", "default", "help"):
                assert key in got, (name, p.name, key)
            assert got["type"] == p.type and got["unit"] == p.unit
            assert got["default"] == p.default and got["help"] == p.help
            assert got["help"].strip()
            if p.type in ("int", "float"):
                assert (got["minimum"], got["maximum"]) == (p.minimum, p.maximum)
            if p.type == "choice":
                assert got["choices"] == list(p.choices) and got["default"] in got["choices"]


def test_series_adds_the_live_figures_second_by_second():
    """--series: the report plus each second's frame figures in columns, for a notebook;
    taking them only observes the run (the report is the plain one)."""
    path = ROOT / "docs/examples/topic-consumer-groups.json"
    result = cli("run", str(path), "--series", "--seed", "4", "--duration", "30")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    series = report.pop("series")
    assert series["t"] == [float(t) for t in range(1, 31)]
    plain = json.loads(cli("run", str(path), "--json", "--seed", "4", "--duration",
                           "30").stdout)
    assert without_wall(report) == without_wall(plain)
    columns = series["components"]["events"]
    assert all(len(values) == 30 for values in columns.values())
    assert max(columns["lag.analytics"]) > 100  # the slow group falls behind
    assert series["summary"]["ok_rps"][-1] > 0
    assert series["components"]["orders"]["latency_ms"][5] is None  # warm-up: 20 s
