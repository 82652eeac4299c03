"""Work is never lost for being unfinished (issue 14), in a real browser: a student's design
in progress is saved to the server as it is (another browser and the instructor's dashboard
have it), only submitting needs one that runs; while offline or while the server is away the
edits are kept in this browser and sent when it is back; two tabs never overwrite each
other's saves unasked; the save state says all of it. The same for a person's own design.

Driven as people drive it; `window.playground` is only read, the API called only to check
what the server holds. Screenshots go to artifacts/e2e/.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.test_classroom import PASSWORD, Person, open_person

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test (fails with --require-services)
    expect = None

SAVED_AT = re.compile(r"^Saved at \d\d:\d\d$")


class Student(Person):
    def state(self):
        return expect(self.page.get_by_test_id("save-state"))

    def saved(self) -> None:
        self.state().to_have_attribute("data-state", "saved")
        self.state().to_have_text(SAVED_AT)

    def work(self, assignment: str) -> dict:
        status, work = self.api("GET", f"/api/assignments/{assignment}/work")
        assert status == 200, work
        return work

    def component_ids(self, doc: dict) -> set[str]:
        return {c["id"] for c in doc["components"]}

    def add(self, kind: str, dx: float = 0, dy: float = 0) -> str:
        """Drop a component in the free upper right of the canvas."""
        stage = self.page.locator("#stage-canvas").bounding_box()
        return self.drop_from_palette(kind, stage["x"] + stage["width"] - 120 - dx,
                                      stage["y"] + 110 + dy)


def as_student(person: Person) -> Student:
    student = Student(person.page, person.url)
    student.console_errors, student.dialogs = person.console_errors, person.dialogs
    return student


def make_assignment(browser, url: str) -> tuple[Person, str, str]:
    """An instructor with a classroom and an assignment (the default brief: the client
    `users` calling the service `app`); returns (instructor, join code, dashboard path)."""
    teacher = open_person(browser, url)
    page = teacher.page
    teacher.goto("/accounts/signup")
    page.fill("#id_username", f"prof-{uuid.uuid4().hex[:8]}")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/$"))
    teacher.goto("/classes")
    page.fill("#id_name", "Drafts 101")
    page.get_by_role("button", name="Create classroom").click()
    code = page.get_by_test_id("join-code").inner_text().strip()
    page.get_by_test_id("new-assignment").click()
    page.fill("#id_title", "Serve the users")
    page.fill("#id_p99_ms_max", "80")
    page.get_by_role("button", name="Create assignment").click()
    page.wait_for_url(re.compile(r"/assignments/"))
    return teacher, code, page.url.rsplit("/assignments/", 1)[0].replace(url, "") + "/dashboard"


def join(browser, url: str, code: str, name: str) -> tuple[Student, str]:
    """A student joins by code and opens the assignment; returns them and its id."""
    student = as_student(open_person(browser, url))
    student.goto("/join")
    student.page.fill("#id_code", code)
    student.page.get_by_role("button", name="Continue").click()
    student.page.fill("#id_display_name", name)
    student.page.get_by_role("button", name="Join the class").click()
    student.page.get_by_test_id("student-assignments").get_by_role("link").click()
    student.page.wait_for_url(re.compile(r"/a/"))
    student.editor_ready()
    return student, student.page.url.rsplit("/a/", 1)[1]


def second_tab(student: Student, path: str) -> Student:
    """Another tab of the same browser (same seat, same storage)."""
    other = as_student(Person(student.page.context.new_page(), student.url))
    other.console_errors, other.dialogs = [], []
    other.page.on("console", lambda m: other.console_errors.append(m.text)
                  if m.type == "error" else None)
    other.goto(path)
    other.editor_ready()
    return other


def fresh_browser(browser, student: Student, path: str) -> Student:
    """The same seat (its cookies) in a new browser: nothing in its storage."""
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  storage_state={"cookies": student.page.context.cookies(),
                                                 "origins": []})
    other = as_student(Person(context.new_page(), student.url))
    other.goto(path)
    other.editor_ready()
    return other


@pytest.fixture
def people(browser):
    opened: list = []
    yield opened
    for person in opened:
        person.page.context.close()


# -- 1 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_unfinished_work_reaches_the_server_and_the_dashboard(browser, live_server_url,
                                                               people):
    teacher, code, dashboard = make_assignment(browser, live_server_url)
    people.append(teacher)
    ada, assignment = join(browser, live_server_url, code, "Ada")
    people.append(ada)

    # a service not linked yet: the design cannot run, and is saved all the same
    service = ada.add("service")
    expect(ada.page.get_by_test_id("validity")).to_have_attribute("data-state", "invalid")
    ada.saved()
    assert service in ada.component_ids(ada.work(assignment)["document"])

    # another browser (nothing kept in it) opens the work from the server
    elsewhere = fresh_browser(browser, ada, f"/a/{assignment}")
    people.append(elsewhere)
    assert service in elsewhere.ids()
    elsewhere.saved()

    # the instructor's dashboard shows the design in progress
    teacher.goto(dashboard)
    card = teacher.page.get_by_test_id("roster-card").filter(has_text="Ada")
    thumb = card.locator("img.thumb")
    expect(thumb).to_be_visible()
    picture = teacher.page.request.get(f"{live_server_url}{thumb.get_attribute('src')}").text()
    assert "3 components · 1 link" in picture

    # submitting needs a design that runs: refused, the validator's words on the canvas
    ada.page.get_by_test_id("submit-assignment").click()
    toast = ada.page.get_by_test_id("toast").filter(has_text="Not submitted")
    expect(toast).to_contain_text(f"'{service}' is not reachable from any client")
    ada.wait("(id) => window.playground.cy.getElementById(id).hasClass('invalid')", service)
    expect(ada.page.get_by_test_id("submission")).to_have_count(0)
    ada.saved()  # still saved as it is
    ada.shot("saving-01-submit-refused")
    # the browser logs the refused submission's answer; nothing else went wrong
    assert [e for e in ada.console_errors if "400 (Bad Request)" not in e] == []
    assert ada.csp_violations() == []


# -- 2 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_offline_edits_are_kept_here_and_sent_when_back(browser, live_server_url, people):
    teacher, code, _ = make_assignment(browser, live_server_url)
    people.append(teacher)
    ada, assignment = join(browser, live_server_url, code, "Ada")
    people.append(ada)
    ada.saved()

    # offline: the edit stays in this browser, and the state says so
    ada.page.context.set_offline(True)
    cache = ada.add("cache")
    ada.state().to_have_attribute("data-state", "offline")
    ada.state().to_have_text("Offline – kept in this browser")
    ada.shot("saving-02-offline")
    kept = ada.read("(key) => JSON.parse(localStorage.getItem(key)).doc.components"
                    ".map((c) => c.id)", f"sdp.draft.v1:assignment:{assignment}")
    assert cache in kept
    assert cache not in ada.component_ids(ada.work(assignment)["document"])
    assert ada.read("() => { const e = new Event('beforeunload', {cancelable: true});"
                    " window.dispatchEvent(e); return e.defaultPrevented; }")

    # online again: sent by itself
    ada.page.context.set_offline(False)
    ada.saved()
    assert cache in ada.component_ids(ada.work(assignment)["document"])

    # the server away (its gateway answers 503): kept here, and sent once it answers again
    ada.page.route("**/api/assignments/*/work", lambda route: route.fulfill(
        status=503, content_type="text/html", body="<h1>503</h1>"))
    queue = ada.add("queue", dy=140)
    ada.state().to_have_attribute("data-state", "offline")
    ada.state().to_have_text("Server unreachable – kept in this browser")
    ada.page.unroute("**/api/assignments/*/work")
    ada.state().to_have_attribute("data-state", "saved", timeout=15_000)  # the retry's backoff
    assert queue in ada.component_ids(ada.work(assignment)["document"])

    # too many saves at once (429): it says so, and sends it after the wait it was given
    ada.page.route("**/api/assignments/*/work", lambda route: route.fulfill(
        status=429, content_type="application/json",
        body='{"errors": ["(rate limit): too many requests; try again in 1 s"]}'))
    ada.page.get_by_test_id("undo").click()  # the queue goes again
    ada.state().to_have_text("Not saved yet – too many saves at once: sent again in 1 s")
    ada.page.unroute("**/api/assignments/*/work")
    ada.saved()
    assert queue not in ada.component_ids(ada.work(assignment)["document"])

    # closed while offline: the next visit sends what this browser kept
    ada.page.context.set_offline(True)
    worker = ada.add("worker", dx=160, dy=140)
    ada.state().to_have_attribute("data-state", "offline")
    path = f"/a/{assignment}"
    ada.page.context.set_offline(False)
    ada.page.close(run_before_unload=False)
    again = as_student(Person(ada.page.context.new_page(), live_server_url))
    again.goto(path)
    again.editor_ready()
    assert worker in again.ids()
    again.saved()
    assert worker in again.component_ids(again.work(assignment)["document"])


# -- 3 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_two_tabs_never_overwrite_each_other_unasked(browser, live_server_url, people):
    teacher, code, _ = make_assignment(browser, live_server_url)
    people.append(teacher)
    tab_a, assignment = join(browser, live_server_url, code, "Ada")
    people.append(tab_a)
    tab_b = second_tab(tab_a, f"/a/{assignment}")

    from_a = tab_a.add("service")
    tab_a.saved()
    from_b = tab_b.add("cache", dy=150)  # tab B still holds the work before tab A's save
    dialog = tab_b.page.get_by_test_id("conflict-dialog")
    expect(dialog).to_contain_text("saved from another tab or device")
    tab_b.state().to_have_attribute("data-state", "conflict")
    tab_b.shot("saving-03-conflict")
    # nothing was overwritten: the server still has tab A's
    assert tab_b.component_ids(tab_b.work(assignment)["document"]) == {"users", "app", from_a}

    # tab B opens the saved one; its own design stays in Undo
    dialog.get_by_test_id("conflict-theirs").click()
    expect(dialog).to_be_hidden()
    assert set(tab_b.ids()) == {"users", "app", from_a}
    tab_b.saved()
    tab_b.page.get_by_test_id("undo").click()
    assert from_b in tab_b.ids()
    tab_b.saved()  # that undo was an edit: sent, on top of tab A's save

    # tab A, behind now, is told in turn, and keeps its own
    tab_a.add("database", dy=150)
    dialog_a = tab_a.page.get_by_test_id("conflict-dialog")
    expect(dialog_a).to_be_visible()
    dialog_a.get_by_test_id("conflict-mine").click()
    tab_a.saved()
    assert tab_a.component_ids(tab_a.work(assignment)["document"]) == set(tab_a.ids())
    assert len(tab_a.ids()) == 4  # the brief's client and service, tab A's service and its database


# -- 4 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_ones_own_unfinished_design_saves_and_waits_out_an_outage(browser, live_server_url,
                                                                  people):
    me = as_student(open_person(browser, live_server_url))
    people.append(me)
    me.goto("/")
    me.new_design()
    me.state().to_have_attribute("data-state", "draft")
    me.state().to_have_text("Draft kept in this browser")
    client = me.drop_from_palette("client", 420, 360)  # not linked: cannot run yet
    me.page.get_by_test_id("save").click()
    me.saved()
    sid = me.page.url.rsplit("/s/", 1)[1]

    me.page.context.set_offline(True)
    svc = me.drop_from_palette("service", 680, 360)
    me.state().to_have_attribute("data-state", "offline")
    me.page.get_by_test_id("save").click()
    me.state().to_have_attribute("data-state", "offline")
    me.state().to_have_text("Offline – kept in this browser")
    me.page.context.set_offline(False)
    me.saved()  # the save asked for while offline went through once back
    status, saved = me.api("GET", f"/api/scenarios/{sid}")
    assert {c["id"] for c in saved["document"]["components"]} == {client, svc}
    assert saved["version"] == 2


# -- 5 -------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("width", [800, 1440, 2560])
def test_the_save_state_at_every_width(browser, live_server_url, people, width):
    teacher, code, _ = make_assignment(browser, live_server_url)
    people.append(teacher)
    ada, assignment = join(browser, live_server_url, code, "Ada")
    people.append(ada)
    size = {"width": width, "height": 900}
    ada.add("service")  # edits at the usual size (the palette is a strip at 800 px)
    ada.page.set_viewport_size(size)
    ada.saved()
    state = ada.page.get_by_test_id("save-state")
    expect(state).to_be_visible()
    box = state.bounding_box()
    assert box["width"] > 20 and box["x"] + box["width"] <= width
    ada.shot(f"saving-05-saved-{width}")
    ada.page.set_viewport_size({"width": 1280, "height": 800})
    ada.page.context.set_offline(True)
    ada.add("cache", dx=200)
    ada.page.set_viewport_size(size)
    ada.state().to_have_attribute("data-state", "offline")
    ada.shot(f"saving-05-offline-{width}")
    ada.page.context.set_offline(False)
    ada.saved()


# -- 6 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_two_tabs_on_the_browsers_draft_are_told(browser, live_server_url, people):
    tab_a = as_student(open_person(browser, live_server_url))
    people.append(tab_a)
    tab_a.goto("/")
    tab_a.editor_ready()
    tab_a.new_design()
    tab_b = second_tab(tab_a, "/")
    assert tab_b.ids() == tab_a.ids() == []
    client = tab_a.drop_from_palette("client", 420, 360)
    toast = tab_b.page.get_by_test_id("toast").filter(has_text="changed in another tab")
    expect(toast).to_be_visible()
    tab_b.state().to_have_attribute("data-state", "draft")
    toast.get_by_role("button", name="Open the other tab's").click()
    assert tab_b.ids() == [client]
