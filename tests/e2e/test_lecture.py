"""A lecture in real Chromium (issue 19): an instructor presents a design of theirs to a
classroom from the dashboard; two students open it from their classroom page and follow the
instructor's viewport and selection; one looks around on her own (the dashboard sees her
stop following), and "Follow" brings her back; the instructor hands her the pen from the
dashboard, she edits, the pen is taken back and her editor is read-only again; the lecture
ends and everyone in it is told.

Driven as people drive it; `window.playground` and `window.dashboard` are only read. The
API is called once, to save the instructor's design. Screenshots go to artifacts/e2e/.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_class_flow import sign_up
from tests.e2e.test_classroom import Person, open_person
from tests.e2e.test_editor import small_design

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips the test (fails with --require-services)
    expect = None

VIEW = """() => { const cy = window.playground.cy; const e = cy.extent();
  return {x: (e.x1 + e.x2) / 2, y: (e.y1 + e.y2) / 2, zoom: cy.zoom()}; }"""


PEER_SELECTED = "() => window.playground.cy.nodes('.peer-selected').map((n) => n.id())"


def overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def same_view(leader: Person, follower: Person) -> None:
    """Wait until the follower's view is centred where the leader's is, at its zoom."""
    follower.wait(f"""(want) => {{ const v = ({VIEW})();
      return Math.abs(v.zoom - want.zoom) < 1e-6 && Math.abs(v.x - want.x) < 1
        && Math.abs(v.y - want.y) < 1; }}""", leader.read(VIEW))


def zoom(person: Person, test_id: str, times: int = 1) -> None:
    for _ in range(times):
        person.page.locator(f"#{test_id}").click()


def shots(person: Person, name: str) -> None:
    for width in (800, 1440, 2560):
        person.page.set_viewport_size({"width": width, "height": 900})
        person.page.wait_for_timeout(300)
        person.shot(f"lecture-{name}-{width}")
    person.page.set_viewport_size({"width": 1280, "height": 800})


@pytest.mark.browser
def test_students_follow_the_instructor_and_take_the_pen(browser, live_server_url):
    teacher = open_person(browser, live_server_url)
    ada = open_person(browser, live_server_url)
    bob = open_person(browser, live_server_url)
    try:
        # -- the instructor: an account, a classroom, a design of theirs -------------------
        page = teacher.page
        sign_up(teacher)
        teacher.goto("/classes")
        page.fill("#id_name", "Distributed systems")
        page.get_by_role("button", name="Create classroom").click()
        code = page.get_by_test_id("join-code").inner_text().strip()
        status, _ = teacher.api("POST", "/api/scenarios",
                                {"document": small_design(name="Two services")})
        assert status == 201
        for student, name in ((ada, "Ada"), (bob, "<b>Bob</b>")):
            student.goto(f"/join?code={code}")
            student.page.fill("#id_display_name", name)
            student.page.get_by_role("button", name="Join the class").click()
            expect(student.page.get_by_test_id("student-lecture")).to_be_hidden()

        # -- the lecture starts from the dashboard; the open pages show it, no reload -----
        page.get_by_test_id("open-dashboard").click()
        dashboard_url = page.url
        dash = Person(page.context.new_page(), live_server_url)  # the instructor's other tab
        dash.page.goto(dashboard_url)
        expect(dash.page.get_by_test_id("dashboard-status")).to_have_text("Live")
        expect(dash.page.get_by_test_id("lecture-open")).to_be_hidden()
        expect(page.get_by_test_id("lecture-design")).to_contain_text("Two services")
        page.get_by_test_id("lecture-start").click()
        teacher.editor_ready()
        expect(page.get_by_test_id("lecture-state")).to_have_text(
            "Presenting: nobody has joined yet")
        lecture_path = re.sub(r"^https?://[^/]+", "", page.url)
        for person, test_id in ((ada, "join-lecture"), (bob, "join-lecture"),
                                (dash, "lecture-open")):
            link = person.page.get_by_test_id(test_id)  # polled every 5 s
            expect(link).to_be_visible(timeout=15000)
            expect(link).to_have_attribute("href", lecture_path)
        expect(ada.page.get_by_test_id("student-lecture")).to_contain_text("Two services")
        expect(dash.page.get_by_test_id("lecture-start")).to_be_hidden()
        shots(ada, "classroom-page")
        for student in (ada, bob):
            student.page.get_by_test_id("join-lecture").click()
            student.editor_ready()
            expect(student.page.get_by_test_id("lecture-state")).to_have_text(
                "Following the presenter's view")
            assert student.read("() => window.playground.store.readOnly")
            expect(student.page.get_by_test_id("coedit-name")).to_have_count(0)  # the seat's name
        expect(page.get_by_test_id("lecture-state")).to_have_text("Presenting: 2 of 2 following")

        # -- they follow the viewport and the selection -----------------------------------
        zoom(teacher, "zoom-in", 2)
        teacher.drag((640, 600), (560, 520))  # pan on the canvas's empty background
        for student in (ada, bob):
            same_view(teacher, student)
        teacher.select_node("app1")
        for student in (ada, bob):
            student.wait("() => window.playground.store.selection.components.has('app1')")
        # a selection followed is not the students' own: the presenter sees no colour of theirs
        page.wait_for_timeout(1000)  # presence goes out within 0.2 s
        assert teacher.read(PEER_SELECTED) == []

        # -- Ada looks around on her own, then follows again ------------------------------
        people = dash.page.get_by_test_id("lecture-person")
        expect(people).to_have_count(2)
        expect(people.get_by_text("<b>Bob</b>", exact=True)).to_be_visible()  # text, not HTML
        expect(people.filter(has_text="Ada")).to_have_attribute("data-following", "true")
        zoom(ada, "zoom-out", 3)
        expect(ada.page.get_by_test_id("lecture-state")).to_have_text("Looking around on your own")
        expect(ada.page.get_by_test_id("lecture-follow")).to_be_visible()
        expect(page.get_by_test_id("lecture-state")).to_have_text("Presenting: 1 of 2 following")
        expect(people.filter(has_text="Ada")).to_have_attribute("data-following", "false")
        expect(people.filter(has_text="Ada").get_by_test_id("lecture-following")).to_have_text(
            "Looking around")
        expect(people.filter(has_text="Bob")).to_have_attribute("data-following", "true")
        shots(dash, "dashboard")
        zoom(teacher, "zoom-in")
        same_view(teacher, bob)
        assert ada.read(VIEW)["zoom"] < teacher.read(VIEW)["zoom"]
        shots(ada, "student-looking-around")
        ada.page.get_by_test_id("lecture-follow").click()
        same_view(teacher, ada)
        expect(ada.page.get_by_test_id("lecture-state")).to_have_text(
            "Following the presenter's view")
        expect(ada.page.get_by_test_id("lecture-follow")).to_be_hidden()
        shots(ada, "student-following")
        shots(teacher, "presenter")
        expect(people.filter(has_text="Ada")).to_have_attribute("data-following", "true")

        # -- the pen: Ada edits, then watches again ---------------------------------------
        people.filter(has_text="Ada").get_by_test_id("lecture-pen").click()
        ada.wait("() => !window.playground.store.readOnly")
        # the toast saying so and the lecture's bar are both readable
        toast = ada.page.get_by_test_id("toast").filter(has_text="You can edit")
        bar = ada.page.get_by_test_id("lecture-bar")
        for width in (800, 1440, 2560):
            ada.page.set_viewport_size({"width": width, "height": 900})
            ada.page.wait_for_timeout(300)  # the canvas takes its new size
            expect(toast).to_be_visible()
            assert not overlap(toast.bounding_box(), bar.bounding_box()), width
            ada.shot(f"lecture-toast-{width}")
        ada.page.set_viewport_size({"width": 1280, "height": 800})
        ada.page.wait_for_timeout(300)
        toast.get_by_role("button", name="Dismiss").click()  # read: out of her way
        expect(toast).to_have_count(0)
        expect(ada.page.get_by_test_id("read-only-banner")).to_have_count(0)
        expect(people.filter(has_text="Ada")).to_have_attribute("data-pen", "true")
        expect(people.filter(has_text="Ada").get_by_test_id("lecture-pen")).to_have_text(
            "Take the pen back")
        ada.select_node("app2")  # her own selection: she looks around, and the others see it
        teacher.wait(f"() => ({PEER_SELECTED})().includes('app2')")
        box = ada.page.get_by_test_id("field-workers")
        box.fill("7")
        box.press("Enter")
        for person in (teacher, bob):
            person.wait("() => window.playground.store.doc.components"
                        ".find((c) => c.id === 'app2').params.workers === 7")
        assert bob.read("() => window.playground.store.readOnly")
        shots(ada, "student-with-pen")
        people.filter(has_text="Ada").get_by_test_id("lecture-pen").click()
        ada.wait("() => window.playground.store.readOnly")
        expect(ada.page.get_by_test_id("read-only-banner")).to_be_visible()
        expect(people.filter(has_text="Ada")).to_have_attribute("data-pen", "false")

        # -- the run: the presenter's is everyone's; Follow brings a student back to it ---
        teacher.play()
        run_id = teacher.read("() => window.playground.player.run.id")
        for student in (ada, bob):
            student.wait("(id) => window.playground.player.run?.id === id", run_id)
            student.frames_later()
        zoom(ada, "zoom-out", 2)  # Ada looks around, and leaves the run
        expect(ada.page.get_by_test_id("lecture-state")).to_have_text("Looking around on your own")
        stop = ada.page.get_by_test_id("stop")  # she watches the run: her Stop leaves it
        expect(stop).to_have_attribute("aria-label", "Leave the run")
        expect(stop).to_have_attribute("title",
                                       "Leave the run: it goes on for the design's editors")
        expect(page.get_by_test_id("stop")).to_have_attribute("aria-label", "Stop")
        stop.click()
        ada.wait("() => !window.playground.player.run")
        ada.page.get_by_test_id("lecture-follow").click()
        ada.wait("(id) => window.playground.player.run?.id === id", run_id)
        ada.frames_later()
        same_view(teacher, ada)

        # -- the lecture ends: everyone is told ---------------------------------------------
        dash.page.get_by_test_id("lecture-end").click()
        expect(dash.page.get_by_test_id("lecture-start")).to_be_visible()
        for person in (teacher, ada, bob):
            expect(person.page.get_by_test_id("lecture-state")).to_have_text("The lecture is over")
        expect(ada.page.get_by_test_id("lecture-follow")).to_be_hidden()
        for person in (teacher, ada, bob, dash):
            assert not person.console_errors, person.console_errors
    finally:
        for person in (teacher, ada, bob):
            person.page.context.close()
