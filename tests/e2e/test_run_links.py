"""Run links in a real browser: play a design, break it, share the run, open the link in
another browser and see the same numbers at the same simulated times, scrubbing back and
forth on the replay's timeline.

Driven the way a person drives it (mouse and keyboard); `window.playground` is only read.
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

# The last applied frame of the player: its time and what every number shows.
LAST_FRAME = """() => {
  const r = window.playground.player.run;
  return r && {t: r.t, summary: r.summary, components: r.components,
               playing: !!r.status?.playing, replay: r.replay};
}"""


def settle_paused(app: App) -> dict:
    """Pause and wait for a frame sent while paused (a keyframe): the numbers at that time."""
    app.page.get_by_test_id("pause").click()
    app.wait("() => window.playground.player.run && !window.playground.player.run.status.playing")
    app.frames_later(1)
    return app.read(LAST_FRAME)


def seek_frame(viewer: App, action, *, not_t: float | None = None) -> dict:
    """Do `action` (a click or key on the timeline) and return the frame it brought: the
    one at the seek's target (`behind` false; a busy server sends frames on the way)."""
    seen = viewer.stats()["framesApplied"]
    action()
    viewer.wait("([n, t]) => { const p = window.playground.player;"
                " return p.stats.framesApplied > n && p.run.t !== t"
                " && !p.run.status?.behind; }", [seen, not_t])
    viewer.frames_later(1)  # what a paused replay shows there stays the same
    return viewer.read(LAST_FRAME)


def test_a_shared_run_replays_the_same_frames_with_a_timeline(app, browser):
    page = app.page
    app.import_design(small_design(name="Run to share", health_check_s=60))
    app.set_speed("5")
    app.play()
    app.wait("() => window.playground.player.run.t > 2")
    # a failure injected through the UI, at whatever time it happens to be
    app.click_node("app1", button="right")
    page.get_by_test_id("context-menu").get_by_test_id("menu-fail").click()
    app.wait("() => window.playground.cy.getElementById('app1').hasClass('down')")
    failed_at = app.read("() => window.playground.player.run.commands[0].at_s")
    app.wait("(t) => window.playground.player.run.t > t + 4", failed_at)
    original = settle_paused(app)
    assert original["summary"]["error_ratio"] > 0.1  # app1 down, still sent its share

    page.get_by_test_id("share-run").click()
    link = page.get_by_test_id("run-link")
    expect(link).to_have_value(re.compile(r"/r/[A-Za-z0-9_-]{16,}$"))
    url = link.input_value()
    app.shot("run-link-shared", page.get_by_test_id("share-run-dialog"))

    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_LISTENER)
    try:
        viewer = App(context.new_page(), app.url)
        vpage = viewer.page
        vpage.goto(url)
        viewer.wait("() => document.body.classList.contains('ready')")
        viewer.wait("() => !!window.playground.player.run?.replay")
        expect(vpage.get_by_test_id("replay-banner")).to_contain_text(
            "Replay of a shared run")
        assert viewer.read("() => window.playground.store.readOnly") is True
        assert viewer.ids() == app.ids()
        timeline = vpage.get_by_test_id("timeline")
        expect(timeline).to_be_visible()
        markers = timeline.locator(".scrub-marker")
        expect(markers).to_have_count(1)
        expect(markers.first).to_have_attribute("title", re.compile(r"fail app1"))
        vpage.get_by_test_id("pause").click()

        # the end of the timeline is the time the run was shared at: the same numbers
        timeline.focus()
        at_end = seek_frame(viewer, lambda: vpage.keyboard.press("End"))
        assert at_end["t"] == pytest.approx(original["t"], abs=1e-4)
        assert at_end["summary"] == original["summary"]
        viewer.shot("run-link-replay-at-end")

        # back to a third of the way (before the failure), forth to the end, back again
        box = timeline.bounding_box()
        third = (box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
        before = seek_frame(viewer, lambda: vpage.mouse.click(*third), not_t=at_end["t"])
        assert before["t"] < failed_at
        assert before["summary"]["error_ratio"] == 0
        again_end = seek_frame(viewer, lambda: vpage.keyboard.press("End"), not_t=before["t"])
        assert again_end["summary"] == original["summary"]
        again = seek_frame(viewer, lambda: vpage.mouse.click(*third), not_t=again_end["t"])
        assert again["t"] == before["t"] and again["summary"] == before["summary"]
        # the arrow keys step a second at a time
        step = seek_frame(viewer, lambda: vpage.keyboard.press("ArrowRight"), not_t=again["t"])
        assert step["t"] == pytest.approx(before["t"] + 1, abs=1e-3)

        # a replay is fixed: no failing things in it
        viewer.click_node("app2", button="right")
        expect(vpage.get_by_test_id("menu-fail")).to_have_count(0)
        vpage.keyboard.press("Escape")
        viewer.assert_clean()
    finally:
        context.close()
    app.assert_clean()
