"""Theory beside simulation in the details panel (issue 15), in a real browser: the live
figures of the selected component next to their predictions, predictions that follow every
live `set` whichever control sent it, and the scenario panel's scheduled events.

Driven the way a person drives it; `window.playground` is only read. Screenshots of the
panel at 1440 px go to artifacts/e2e/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.test_editor import CSP_LISTENER, App

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test
    expect = None

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]

WIDE = {"width": 1440, "height": 900}
NUMBER = r"[0-9][\d,.]*"


def one_service(*, events: list | None = None, warmup_s: float = 1.0) -> dict:
    """users -> app (8 workers of 10 ms at 320 rps: 40% busy; it frees a worker before it
    calls) -> db."""
    return {
        "format": "playground.scenario/v1",
        "name": "One service",
        "seed": 11,
        "duration_s": 600,
        "warmup_s": warmup_s,
        "components": [
            {"id": "users", "kind": "client", "position": {"x": 120, "y": 240},
             "params": {"rate_rps": 320}},
            {"id": "app", "kind": "service", "position": {"x": 360, "y": 240},
             "params": {"workers": 8, "service_ms": 10, "blocking": False}},
            {"id": "db", "kind": "database", "position": {"x": 600, "y": 240},
             "params": {"workers": 8, "read_ms": 2, "write_ms": 5}},
        ],
        "links": [{"from": "users", "to": "app"}, {"from": "app", "to": "db"}],
        "events": events or [],
    }


@pytest.fixture
def app(browser, live_server_url):
    context = browser.new_context(viewport=WIDE)
    context.add_init_script(CSP_LISTENER)
    try:
        yield App(context.new_page(), live_server_url).open()
    finally:
        context.close()


def stop(app: App) -> None:
    app.page.get_by_test_id("stop").click()
    app.wait("() => !window.playground.player.run")


def metric(app: App, key: str):
    """The details panel's row of one figure: (row, its NOW cell, its THEORY cell)."""
    row = app.page.get_by_test_id("live-metrics").locator(f'tr[data-metric="{key}"]')
    return row, row.locator("td").first, row.locator("td").last


# -- item 1: NOW beside THEORY --------------------------------------------------------------
def test_now_shows_mean_wait_and_latency_beside_theory(app):
    app.import_design(one_service())
    app.set_speed("5")
    app.play()
    app.select_node("app")
    for key in ("wait", "latency"):
        _, now, theory = metric(app, key)
        expect(theory).to_have_text(re.compile(rf"^{NUMBER} ms$"))
        # past warm-up the simulated figure is there, in the same unit
        expect(now).to_have_text(re.compile(rf"^{NUMBER} ms$"), timeout=15_000)
    # the simulated mean latency is the theory's within what a second of samples allows:
    # 10 ms of service plus the database's few ms, waits of a fraction of a ms at 40%
    app.wait("() => window.playground.player.run.t > 8", timeout=20_000)
    live = app.read("() => window.playground.player.run.components.app.latency_ms")
    pred = app.read("() => window.playground.player.run.predictions.components.app"
                    ".latency_ms.mean")
    assert abs(live - pred) / pred < 0.25
    app.shot("theory-now-and-theory", app.page.get_by_test_id("details"))
    app.shot("theory-page-1440")
    app.assert_clean()


# -- item 1: predictions follow every live `set` --------------------------------------------
def util_theory(app: App):
    return metric(app, "util")[2]


def set_field(app: App, node: str, name: str, value: str) -> None:
    app.select_node(node)
    field = app.page.get_by_test_id(f"field-{name}")
    field.fill(value)
    field.press("Enter")
    app.wait("([id, n, v]) => window.playground.player.run.commands"
             ".some((c) => c.target === id && c.params[n] === v)", [node, name, float(value)])


def test_predictions_follow_a_second_live_set(app):
    """Workers 8 -> 16 in the inspector, then another component's parameter: the first
    change stays in the prediction (it was recomputed from the design plus the last set
    only, so the service's theory fell back to 8 workers: 40% beside 20% live)."""
    app.import_design(one_service())
    app.set_speed("2")
    app.play()
    app.select_node("app")
    expect(util_theory(app)).to_have_text("40%")
    set_field(app, "app", "workers", "16")
    expect(util_theory(app)).to_have_text("20%")
    set_field(app, "db", "workers", "4")
    app.select_node("app")
    expect(util_theory(app)).to_have_text("20%")
    note = app.page.get_by_test_id("theory-basis")
    expect(note).to_contain_text("workers 16")
    app.shot("theory-recomputed", app.page.get_by_test_id("details"))
    app.assert_clean()


def test_predictions_follow_a_scheduled_set(app):
    """A `set` the scenario schedules (the timeline lists it) changes the prediction when
    the run passes it, as a live one does."""
    app.import_design(one_service(events=[
        {"at_s": 3, "action": "set", "target": "app", "params": {"workers": 16}}]))
    app.set_speed("2")
    app.play()
    app.select_node("app")
    expect(util_theory(app)).to_have_text("40%")
    app.wait("() => window.playground.player.run.t > 3.5", timeout=15_000)
    expect(util_theory(app)).to_have_text("20%")
    expect(app.page.get_by_test_id("theory-basis")).to_contain_text("workers 16")
    app.assert_clean()


def test_predictions_return_to_the_design_after_reset(app):
    app.import_design(one_service())
    app.set_speed("2")
    app.play()
    set_field(app, "app", "workers", "16")
    expect(util_theory(app)).to_have_text("20%")
    app.page.get_by_test_id("reset").click()
    app.wait("() => window.playground.player.run.commands.length === 0")
    expect(util_theory(app)).to_have_text("40%")
    expect(app.page.get_by_test_id("theory-basis")).to_be_hidden()
    app.assert_clean()


# -- item 3: the scenario panel lists the scheduled events ----------------------------------
def test_scenario_panel_lists_the_scheduled_events(app):
    """With nothing selected the inspector shows the scenario: its scheduled events are those
    of the design on the canvas (the timeline's), after an import as after an edit."""
    app.import_design(one_service(events=[
        {"at_s": 5, "action": "fail", "target": "db"},
        {"at_s": 9, "action": "recover", "target": "db"}]))
    app.page.keyboard.press("Escape")
    inspector = app.page.get_by_test_id("inspector")
    items = inspector.locator(".event-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("fail db")
    expect(inspector).not_to_contain_text("None. Schedule")
    expect(app.page.get_by_test_id("command-log").locator(".timeline-item")).to_have_count(2)
    # one more from the form shows at once; undo takes it away again
    app.page.get_by_test_id("event-at").fill("12")
    app.page.get_by_test_id("event-add").click()
    expect(items).to_have_count(3)
    app.page.get_by_test_id("undo").click()
    expect(items).to_have_count(2)
    app.assert_clean()


# -- "what done looks like": every figure beside its prediction -----------------------------
LESSONS = ROOT / "docs" / "lessons"


def test_the_stale_reads_lesson_shows_the_stale_read_ratio_now(app):
    """Lesson 7 tells the reader to compare each replica's stale reads with the predicted
    ratio: both are in the panel, in the same unit."""
    app.import_design(json.loads((LESSONS / "07-read-replicas-and-lag.json").read_text()))
    app.set_speed("10")
    app.play()
    app.select_node("replica_async")
    _, now, theory = metric(app, "stale")
    expect(theory).to_have_text(re.compile(r"^2\d\.\d%$"))  # 0.22
    expect(now).to_have_text(re.compile(r"^\d+\.\d%$"), timeout=15_000)
    app.wait("() => window.playground.player.run.t > 12", timeout=20_000)
    app.shot("theory-stale-reads", app.page.get_by_test_id("details"))
    app.select_node("replica_sync")
    expect(metric(app, "stale")[1]).to_have_text("0.0%", timeout=10_000)
    app.assert_clean()


def test_shares_per_target_and_why_a_figure_has_no_theory(app):
    doc = one_service()
    doc["components"][1:2] = [
        {"id": "lb", "kind": "load_balancer", "position": {"x": 300, "y": 240}},
        {"id": "app", "kind": "service", "position": {"x": 480, "y": 160},
         "params": {"workers": 8, "service_ms": 10, "blocking": False}},
        {"id": "app2", "kind": "service", "position": {"x": 480, "y": 320},
         "params": {"workers": 8, "service_ms": 10, "blocking": False}}]
    doc["links"] = [{"from": "users", "to": "lb"}, {"from": "lb", "to": "app"},
                    {"from": "lb", "to": "app2"}, {"from": "app", "to": "db"}]
    app.import_design(doc)
    app.set_speed("5")
    app.play()
    app.select_node("lb")
    for target in ("app", "app2"):
        _, now, theory = metric(app, f"to:{target}")
        expect(theory).to_have_text("160 rps")
        expect(now).to_have_text(re.compile(r"^1[4-7]\d rps$"), timeout=10_000)
    app.shot("theory-balancer", app.page.get_by_test_id("details"))
    # a figure only one side has says why the other has none
    _, _, theory = metric(app, "in_flight")
    expect(theory).to_have_text("—")
    assert "Little's law" in theory.get_attribute("title")
    app.select_node("app2")  # M/M/c with nothing after it: theory has its percentiles
    _, now, theory = metric(app, "latency_p99")
    expect(theory).to_have_text(re.compile(rf"^{NUMBER} ms$"))
    expect(now).to_have_text(re.compile(rf"^{NUMBER} ms$"), timeout=15_000)  # a 5 s block
    assert "5 simulated seconds" in now.get_attribute("title")
    app.assert_clean()


def test_the_topic_figures_of_the_failover_sharding_and_topic_lessons(app):
    """What a learner of each topic looks at: a failover step by step against heartbeat and
    promotion times (lesson 16), the keys a node joining moves (lesson 11), a topic's lag per
    partition with the worker that owns it (lesson 13)."""
    app.import_design(json.loads((LESSONS / "16-active-passive-failover.json").read_text()))
    app.set_speed("25")
    app.play()
    app.select_node("db")
    app.wait("() => window.playground.player.run.t > 62", timeout=20_000)
    for key, text in (("failed_at", "00:50.0"), ("detected_at", "00:52.0"),
                      ("promoted_at", "01:00.0")):
        _, now, theory = metric(app, key)
        expect(now).to_have_text(text)
        if key != "failed_at":
            expect(theory).to_have_text(text)
    _, now, theory = metric(app, "downtime")
    expect(now).to_have_text("10 s")
    expect(theory).to_have_text("10 s")
    app.shot("theory-failover", app.page.get_by_test_id("details"))
    stop(app)

    app.import_design(json.loads((LESSONS / "11-consistent-hashing-node-joins.json")
                                 .read_text()))
    app.set_speed("100")
    app.play()
    app.select_node("router_ring")
    app.wait("() => window.playground.player.run.t > 61", timeout=60_000)
    expect(metric(app, "moved")[1]).to_have_text(re.compile(r"^[\d.,k]+ \(2\d\.\d%\)$"))
    expect(metric(app, "keys:ring_node4")[1]).not_to_have_text("0")
    app.shot("theory-shard-router", app.page.get_by_test_id("details"))
    stop(app)

    doc = json.loads((LESSONS / "13-pub-sub-fan-out.json").read_text())
    topic = next(c["id"] for c in doc["components"] if c["kind"] == "topic")
    app.import_design(doc)
    app.set_speed("10")
    app.play()
    app.select_node(topic)
    parts = app.page.get_by_test_id("live-metrics").locator('tr[data-metric^="parts:"]')
    expect(parts.first).to_be_visible(timeout=10_000)
    assert "→" in parts.first.locator("td").first.get_attribute("title")
    app.shot("theory-topic", app.page.get_by_test_id("details"))
    app.assert_clean()
