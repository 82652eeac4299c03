"""Every label says the truth about the state it shows (issue 15, item 5): a link cut from
the context menu reads as cut in the details panel and healed from the panel reads as
healed in the menu; a run that reached its end says so (not "Paused"); after Stop the clock
and the charts no longer show the old run; a replay is not called a live run, and after a
seek its charts show the run up to the play head; a card's badges never overlap.

Driven the way a person drives it; `window.playground` is only read.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_editor import CSP_LISTENER, VIEWPORT, App, small_design

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips the test
    expect = None

pytestmark = pytest.mark.browser


def edge_xy(app: App, edge_id: str) -> tuple[float, float]:
    p = app.read("""(id) => {
      const e = window.playground.cy.getElementById(id);
      const r = document.getElementById("canvas").getBoundingClientRect();
      const p = e.renderedMidpoint();
      return {x: r.left + p.x, y: r.top + p.y};
    }""", edge_id)
    return p["x"], p["y"]


def test_cut_and_heal_read_the_same_from_the_menu_and_the_panel(app):
    page = app.page
    app.import_design(small_design())
    app.set_speed("2")
    app.play()
    details = page.get_by_test_id("details")
    at = edge_xy(app, "link:lb>app2")
    page.mouse.click(*at)
    app.wait("() => window.playground.store.selection.links.has('lb>app2')")
    expect(details.get_by_test_id("cut")).to_have_text("Cut link")

    # cut from the right-click menu: the panel's button turns into Heal at once
    page.mouse.click(*at, button="right")
    page.get_by_test_id("context-menu").get_by_test_id("menu-cut").click()
    expect(details.get_by_test_id("heal")).to_have_text("Heal link")
    expect(details.get_by_test_id("cut")).to_have_count(0)
    expect(details.locator(".pill")).to_have_text("Cut")

    # healed from the panel: the menu offers to cut again
    details.get_by_test_id("heal").click()
    expect(details.get_by_test_id("cut")).to_have_text("Cut link")
    expect(details.locator(".pill")).to_have_text("Connected")
    page.mouse.click(*at, button="right")
    menu = page.get_by_test_id("context-menu")
    expect(menu.get_by_test_id("menu-cut")).to_be_visible()
    expect(menu.get_by_test_id("menu-heal")).to_have_count(0)
    page.keyboard.press("Escape")
    app.assert_clean()


def test_a_run_at_its_end_says_finished_and_stop_clears_the_clock_and_charts(app):
    page = app.page
    design = small_design()
    design["duration_s"] = 4
    app.import_design(design)
    app.set_speed("10")
    app.play()
    state, play = page.locator("#run-state"), page.get_by_test_id("play")
    expect(state).to_have_text("Finished", timeout=15_000)
    expect(play).to_have_text("Play on")
    expect(page.get_by_test_id("clock")).to_have_text("00:04.0")
    app.shot("labels-finished")

    # playing on goes past the duration: running again
    play.click()
    expect(state).to_have_text("Running")
    app.wait("() => window.playground.player.run.t > 4.5")

    # Stop: no run, so no time and no charts of one (the next starts at 0)
    throughput = page.locator('[data-chart="throughput"]')
    expect(throughput).to_have_class(re.compile(r"\bchart-has-data\b"))
    page.get_by_test_id("stop").click()
    expect(state).to_have_text("Ready")
    expect(page.get_by_test_id("clock")).to_have_text("00:00.0")
    expect(throughput).not_to_have_class(re.compile(r"\bchart-has-data\b"))
    expect(throughput.locator(".chart-value b")).to_have_text("—")
    expect(throughput.locator(".chart-empty")).to_be_visible()
    app.shot("labels-stopped")
    app.assert_clean()


def test_badges_on_one_card_never_overlap(app):
    page = app.page
    design = small_design()
    # one overloaded service: errors (a full queue rejects), a queue, and the bottleneck
    design["components"] = [
        {"id": "users", "kind": "client", "position": {"x": 100, "y": 240},
         "params": {"rate_rps": 400}},
        {"id": "app", "kind": "service", "position": {"x": 320, "y": 240},
         "params": {"workers": 2, "service_ms": 10, "queue_limit": 40}},
    ]
    design["links"] = [{"from": "users", "to": "app"}]
    app.import_design(design)
    app.set_speed("2")
    app.play()
    app.wait("""() => {
      const b = window.playground.overlay.badges.filter((x) => x.id === "app");
      return b.length >= 3;
    }""", timeout=20_000)
    badges = app.read("() => window.playground.overlay.badges.filter((b) => b.id === 'app')")
    texts = [b["text"] for b in badges]
    assert "BOTTLENECK" in texts and any(t.endswith("err/s") for t in texts)
    for i, a in enumerate(badges):
        for b in badges[i + 1:]:
            w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            assert w <= 0 or h <= 0, (a, b)
    app.shot("labels-badges", page.locator("#stage"))
    app.assert_clean()


CHART_SPAN = """() => {
  const t = window.playground.charts.t;
  let gap = 0;
  for (let i = 1; i < t.length; i++) gap = Math.max(gap, t[i] - t[i - 1]);
  return {first: t[0], last: t[t.length - 1], gap, n: t.length};
}"""


def settled_seek(viewer: App, action, not_t: float | None = None) -> float:
    """Do `action` (a key or click on the timeline); the time the seek got to (without
    `not_t`: the end of the recording)."""
    action()
    viewer.wait("(t) => { const r = window.playground.player.run;"
                " if (r.status.behind) return false;"
                " return t === null ? r.t === r.replay.until_s : r.t !== t; }", not_t,
                timeout=20_000)
    viewer.frames_later(1)
    return viewer.read("() => window.playground.player.run.t")


def test_a_replay_says_replay_and_its_charts_after_a_seek_reach_back(app, browser):
    page = app.page
    app.import_design(small_design(name="Run to replay"))
    app.set_speed("25")
    app.play()
    app.wait("() => window.playground.player.run.t > 90", timeout=30_000)
    page.get_by_test_id("pause").click()
    page.get_by_test_id("share-run").click()
    link = page.get_by_test_id("run-link")
    expect(link).to_have_value(re.compile(r"/r/[A-Za-z0-9_-]{16,}$"))
    url = link.input_value()

    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_LISTENER)
    try:
        viewer = App(context.new_page(), app.url)
        vpage = viewer.page
        vpage.goto(url)
        viewer.wait("() => document.body.classList.contains('ready')")
        viewer.wait("() => !!window.playground.player.run?.replay")
        vpage.get_by_test_id("pause").click()
        details = vpage.get_by_test_id("details")
        expect(details.locator(".details-title")).to_have_text("Replay of a shared run")
        expect(details).not_to_contain_text("Live")

        # to the end in one jump: the charts show the minute before it, without a hole
        timeline = vpage.get_by_test_id("timeline")
        timeline.focus()
        end = settled_seek(viewer, lambda: vpage.keyboard.press("End"))
        span = viewer.read(CHART_SPAN)
        assert span["last"] == pytest.approx(end, abs=1e-3)
        assert span["first"] <= end - 58 and span["gap"] <= 1.0, span
        viewer.shot("labels-replay-after-seek")
        # at the end of the recording: finished, and Play plays it again from the start
        expect(vpage.locator("#run-state")).to_have_text("Finished")
        expect(vpage.get_by_test_id("play")).to_have_text("Play again")

        # back to a third of the way: from the start of the run up to there
        box = timeline.bounding_box()
        back = settled_seek(viewer, lambda: vpage.mouse.click(
            box["x"] + box["width"] / 3, box["y"] + box["height"] / 2), end)
        assert back < end - 20
        span = viewer.read(CHART_SPAN)
        assert span["last"] == pytest.approx(back, abs=1e-3)
        assert span["first"] <= max(1.0, back - 58) and span["gap"] <= 1.0, span
        expect(vpage.locator("#run-state")).to_have_text("Paused")

        settled_seek(viewer, lambda: vpage.keyboard.press("End"), back)
        vpage.get_by_test_id("play").click()
        viewer.wait("(end) => { const r = window.playground.player.run;"
                    " return r.status.playing && r.t < 10; }", end)
        expect(vpage.locator("#run-state")).to_have_text("Running")
        viewer.assert_clean()
    finally:
        context.close()
    app.assert_clean()
