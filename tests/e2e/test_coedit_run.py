"""A co-edited design's shared run in real Chromium (issue 19): the owner (Ana) presses Play
and the editor on the edit link (Ben) and a viewer on the share link see that very run,
frames arriving and dots moving; Ben pauses it and injects a failure, and everyone's
timeline says he did; the viewer cannot steer it; someone arriving later sees the run as it
is; once the edit link is revoked, Ben watches only. Screenshots at 800, 1440 and 2560 px.

Driven as people drive it; `window.playground` is only read. The API is called to save the
design and make its edit link.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_class_flow import sign_up
from tests.e2e.test_coedit import people  # noqa: F401, F811 (a fixture)
from tests.e2e.test_editor import small_design

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test (fails with --require-services)
    expect = None


def timeline(person):
    return person.page.locator("#timeline .timeline-text")


@pytest.mark.browser
def test_one_shared_run_seen_by_all_steered_by_editors(people):  # noqa: F811
    ana = people()
    ana_name = sign_up(ana, "ana")
    status, saved = ana.api("POST", "/api/scenarios", {"document": small_design()})
    assert status == 201
    share_id = saved["id"]
    status, link = ana.api("POST", f"/api/scenarios/{share_id}/edit-link", {})
    assert status in (200, 201)
    ana.goto(f"/s/{share_id}")
    ben = people()
    ben_name = sign_up(ben, "ben")
    ben.goto(link["url"])
    vic = people(f"/s/{share_id}")  # the share link: watches
    for person in (ana, ben, vic):
        expect(person.page.get_by_test_id("coedit-peer")).to_have_count(3)

    # Ana plays: everyone's player is on her run, frames arrive and dots move
    ana.set_speed("2")
    ana.play()
    run_id = ana.read("() => window.playground.player.run.id")
    for person in (ben, vic):
        person.wait("(id) => window.playground.player.run?.id === id", run_id)
        seen = person.stats()
        person.wait("(n) => window.playground.player.stats.framesApplied > n + 10",
                    seen["framesApplied"])
        person.wait("(n) => window.playground.player.stats.dotsDrawn > n + 20",
                    seen["dotsDrawn"])
        first = person.overlay_dot_pixels()
        person.frames_later(3)
        assert set(first) != set(person.overlay_dot_pixels())
        assert not person.read("() => window.playground.player.run.token")  # never sent
    expect(ben.page.locator("#run-state")).to_have_text("Running")
    expect(vic.page.locator("#run-state")).to_have_text("Running · watching")
    expect(vic.page.get_by_test_id("pause")).to_be_disabled()
    expect(ben.page.get_by_test_id("pause")).to_be_enabled()

    # Ben pauses it: paused for everyone, and Ana's timeline says who did
    ben.page.get_by_test_id("pause").click()
    for person in (ana, ben, vic):
        expect(person.page.locator("#run-state")).to_have_text(re.compile(r"^Paused"))
        expect(timeline(person).filter(has_text=f"{ben_name} paused")).to_have_count(1)
    # and injects a failure on app1 (through the context menu, as in a run of his own)
    ben.click_node("app1", button="right")
    ben.page.get_by_test_id("context-menu").get_by_test_id("menu-fail").click()
    for person in (ana, vic):
        person.wait("() => window.playground.player.run.commands.length === 1")
        expect(timeline(person).filter(
            has_text=f"{ben_name} injected failure on app1")).to_have_count(1)

    # the viewer cannot steer: no buttons, no menu, and a key only says why
    expect(vic.page.get_by_test_id("play")).to_be_disabled()
    expect(vic.page.get_by_test_id("read-only-banner")).to_contain_text("Watch its run")
    vic.click_node("app2", button="right")
    expect(vic.page.get_by_test_id("menu-fail")).to_have_count(0)
    vic.page.keyboard.press("Escape")
    vic.page.locator("#canvas").click(position={"x": 5, "y": 5})
    vic.page.keyboard.press("Space")
    expect(vic.page.locator(".toast").filter(has_text="editors")).to_have_count(1)
    expect(ana.page.locator("#run-state")).to_have_text("Paused")

    # Ana resumes through the room too: Ben's timeline names her
    ana.page.get_by_test_id("play").click()
    expect(timeline(ben).filter(has_text=f"{ana_name} resumed")).to_have_count(1)
    expect(vic.page.locator("#run-state")).to_have_text("Running · watching")

    # someone who opens the design now attaches to the run as it is
    late = people(f"/s/{share_id}")
    late.wait("(id) => window.playground.player.run?.id === id", run_id)
    expect(late.page.locator("#run-state")).to_have_text("Running · watching")
    expect(timeline(late).filter(has_text=f"{ben_name} injected failure on app1")).to_have_count(1)

    # the edit link is revoked: Ben watches from then on, at once
    status, _ = ana.api("DELETE", f"/api/scenarios/{share_id}/edit-link")
    assert status == 204
    expect(ben.page.locator("#run-state")).to_have_text("Running · watching")
    expect(ben.page.get_by_test_id("pause")).to_be_disabled()
    expect(ana.page.get_by_test_id("pause")).to_be_enabled()

    for width in (800, 1440, 2560):
        for who, person in (("editor", ben), ("viewer", vic)):
            person.page.set_viewport_size({"width": width, "height": 900})
            person.shot(f"sharedrun-{who}-{width}")
    for person in (ana, ben, vic, late):
        assert not person.console_errors, person.console_errors
