"""Pages and the instructor's flow in a real browser (issue 14): every page owns its state (a
run stays on the page that started it, also across the back button), an instructor reaches
their classes from the editor, the dashboard's chaos drill is a picker of the brief's parts,
and a cost reads the same on every page.

Driven as people drive it; `window.playground` and `window.dashboard` are only read.
Screenshots go to artifacts/e2e/.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.test_classroom import PASSWORD, Person, open_person

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips the test (fails with --require-services)
    expect = None

WIDTHS = (800, 1440, 2560)


def sign_up(person: Person) -> str:
    name = f"prof-{uuid.uuid4().hex[:8]}"  # CI's PostgreSQL keeps earlier runs' accounts
    page = person.page
    person.goto("/accounts/signup")
    page.fill("#id_username", name)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/$"))
    return name


def open_lesson(person: Person, n: int) -> str:
    """From /lessons, the n-th lesson (0-based) by its card; returns its title."""
    person.goto("/lessons")
    card = person.page.locator(".lesson-link").nth(n)
    title = card.locator(".lesson-title").inner_text().strip()
    card.click()
    person.editor_ready()
    return title


def screenshots(person: Person, name: str, height: int = 900) -> None:
    for width in WIDTHS:
        person.page.set_viewport_size({"width": width, "height": height})
        person.page.wait_for_timeout(150)  # a layout pass; no assertion depends on it
        person.shot(f"{name}-{width}")


@pytest.mark.browser
def test_a_run_stays_on_the_page_that_started_it(browser, live_server_url):
    """Play lesson 1, go to /lessons, open lesson 2: lesson 2 shows its own design, idle,
    with nothing of lesson 1's run. Back to lesson 1: its run is still its own."""
    me = open_person(browser, live_server_url)
    try:
        page = me.page
        first = open_lesson(me, 0)
        me.play()
        run_id = me.read("() => window.playground.player.run.id")

        me.menu("menu-lessons")
        page.wait_for_url(re.compile(r"/lessons$"))
        second = page.locator(".lesson-link").nth(1)
        second_title = second.locator(".lesson-title").inner_text().strip()
        assert second_title != first
        second.click()
        me.editor_ready()
        expect(page.get_by_test_id("lesson-panel").locator(".lesson-title")).to_have_text(
            second_title)
        me.frames_later(0)
        assert me.read("() => window.playground.store.doc.name") == second_title
        assert me.read("() => window.playground.player.phase") == "idle"
        assert me.read("() => window.playground.player.run") is None
        expect(page.get_by_test_id("play")).to_be_enabled()
        expect(page.get_by_test_id("clock")).to_have_text("00:00.0")
        expect(page.get_by_test_id("timeline")).to_be_hidden()
        expect(page.get_by_test_id("toast").filter(has_text="running scenario")).to_have_count(0)

        # back (twice: /lessons, then lesson 1): lesson 1 and its run, still steered from here
        page.go_back()
        page.wait_for_url(re.compile(r"/lessons$"))
        page.go_back()
        me.editor_ready()
        me.wait("(id) => window.playground.player.run?.id === id", run_id)
        assert me.read("() => window.playground.store.doc.name") == first
        assert me.read("() => window.playground.player.owner") is True
        expect(page.locator("#run-state")).to_have_text(re.compile("^(Running|Paused)$"))

        # forward to lesson 2 again: still nothing of lesson 1's run there
        page.go_forward()
        page.wait_for_url(re.compile(r"/lessons$"))
        page.go_forward()
        me.editor_ready()
        assert me.read("() => window.playground.store.doc.name") == second_title
        assert me.read("() => window.playground.player.run") is None
        expect(page.get_by_test_id("play")).to_be_enabled()
        me.assert_clean()
    finally:
        me.page.context.close()


@pytest.mark.browser
def test_an_instructor_reaches_their_classes_from_the_editor(browser, live_server_url):
    """Signing up lands in the editor; its top bar leads to the classrooms."""
    me = open_person(browser, live_server_url)
    try:
        sign_up(me)
        me.editor_ready()
        link = me.page.get_by_test_id("classrooms-link")
        expect(link).to_be_visible()
        screenshots(me, "editor-top-bar-signed-in", height=700)
        me.page.set_viewport_size({"width": 1280, "height": 800})
        link.click()
        me.page.wait_for_url(re.compile(r"/classes$"))
        expect(me.page.get_by_role("heading", level=1)).to_have_text("Your classrooms")
        me.assert_clean()
    finally:
        me.page.context.close()


@pytest.mark.browser
def test_money_reads_the_same_in_the_browser_and_on_the_server(browser, live_server_url):
    from playground.classrooms.services import money

    values = [0.825, 0.125, 2.675, 1.005, 0.004999, 1234.5, 1e-7, 0.0, 99.995, 1_000_000.125,
              0.1 + 0.2, 7.0]
    me = open_person(browser, live_server_url)
    try:
        me.goto("/lessons")
        shown = me.read("""async (values) => {
          const { money } = await import("/static/playground/format.js");
          return values.map(money);
        }""", values)
        assert shown == [money(v) for v in values]
        assert shown[0] == "0.83"
    finally:
        me.page.context.close()
