"""Figures lessons name that live frames now carry (issue #15: every figure a lesson names is
visible in the editor, not only in the headless report): a multi-primary database's conflict
ratio over the window, a cache's lost writes, an active-passive cluster's lost writes.
Checked against the prediction and against the run's own report, at the lessons' seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulations import Simulation
from simulations.predict import predict

LESSONS = Path(__file__).resolve().parents[2] / "docs" / "lessons"


def lesson(prefix: str) -> dict:
    return json.loads(next(LESSONS.glob(f"{prefix}-*.json")).read_text())


def test_live_conflict_ratio_follows_the_prediction_before_the_partition():
    doc = lesson("08")  # the regions are cut off from 80 s
    theory = predict(doc)["components"]["db-eu"]["conflict_ratio"]
    sim = Simulation(doc, live=True)
    ratios = []
    for t in range(doc["warmup_s"] + 2, 80):  # disjoint one-second windows
        sim.advance(t)
        comps = sim.frame()["components"]
        ratios += [comps[db]["conflict_ratio"] for db in ("db-eu", "db-us")]
    # ~40 writes per window each: the mean of 2 x 70 windows within 20% of theory
    assert sum(ratios) / len(ratios) == pytest.approx(theory, rel=0.20)
    assert "conflict_ratio" not in Simulation(lesson("07"), live=True).frame()["components"][
        "primary_async"]  # only multi-primary databases conflict


def test_caches_and_failovers_show_their_lost_writes_as_the_report_counts_them():
    doc = lesson("05")  # the three caches crash at 100 s
    sim = Simulation(doc, live=True)
    sim.advance(99)
    assert all(sim.frame()["components"][c]["lost_writes"] == 0
               for c in ("cache_aside", "cache_through", "cache_behind"))
    sim.advance(doc["duration_s"])
    comps, report = sim.frame()["components"], sim.report()["components"]
    for cache in ("cache_aside", "cache_through", "cache_behind"):
        assert comps[cache]["lost_writes"] == report[cache]["lost_writes"]
    assert comps["cache_behind"]["lost_writes"] > 0 == comps["cache_through"]["lost_writes"]

    doc = lesson("16")  # the primary dies at 50 s
    sim = Simulation(doc, live=True)
    sim.advance(doc["duration_s"])
    lost = sim.frame()["components"]["db"]["lost_writes"]
    assert lost == sim.report()["components"]["db"]["lost_writes"] > 0
