"""Co-editing one design in real Chromium (issue 19): the owner on the design's page and a
second person (a browser context of their own) on its edit link edit at once, on different
components and on one component; both canvases converge, and a third person on the share
link watches them read-only; each sees who is here and what the other selected; one reloads
in the middle and carries on where everyone is; revoking the edit link turns the second
person's editor read-only at once.

Driven as people drive it; `window.playground` is only read. The API is called to save the
design first, to revoke the edit link (as the owner's other tab would) and to read what the
server saved.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.test_editor import small_design
from tests.e2e.test_sharing import Person, open_person

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test (fails with --require-services)
    expect = None


@pytest.fixture
def people(browser, live_server_url):
    """Each person a browser context of their own, closed afterwards."""
    opened: list[Person] = []

    def open_one(path: str = "/") -> Person:
        opened.append(open_person(browser, live_server_url, path))
        return opened[-1]

    try:
        yield open_one
    finally:
        for person in opened:
            person.page.context.close()


def same_design(a, b) -> None:
    """Wait until both editors hold the same document."""
    b.wait("(want) => JSON.stringify(window.playground.store.doc) === want",
           a.read("() => JSON.stringify(window.playground.store.doc)"))


def param(person, node_id: str, name: str):
    return person.read("([id, name]) => window.playground.store.doc.components"
                       ".find((c) => c.id === id).params[name]", [node_id, name])


@pytest.mark.browser
def test_two_people_edit_one_design_and_the_link_is_revoked(people):
    owner = people()
    status, saved = owner.api("POST", "/api/scenarios", {"document": small_design()})
    assert status == 201
    share_id = saved["id"]
    owner.goto(f"/s/{share_id}")
    # the owner makes an edit link in the Share dialog; the page then joins the room
    owner.page.get_by_test_id("share").click()
    with owner.page.expect_navigation():
        owner.page.get_by_test_id("edit-link-make").click()
    owner.page.wait_for_function("() => document.body.classList.contains('ready')")
    owner.page.get_by_test_id("share").click()
    url = owner.page.get_by_test_id("edit-link").input_value()
    status, link = owner.api("GET", f"/api/scenarios/{share_id}/edit-link")
    assert status == 200 and url == owner.url + link["url"]
    owner.page.keyboard.press("Escape")
    ada = people(link["url"])
    watcher = people(f"/s/{share_id}")  # the share link: someone else watches, read-only
    for person in (owner, ada, watcher):
        expect(person.page.get_by_test_id("coedit-peer")).to_have_count(3)
    assert watcher.read("() => window.playground.store.readOnly")
    expect(owner.page.locator("[data-testid=coedit-peer][data-role=viewer]")).to_have_count(1)
    expect(owner.page.get_by_test_id("save")).to_be_hidden()  # the room saves

    # different components at once
    owner.set_field("app1", "workers", "9")
    ada.set_field("app2", "service_ms", "25")
    for person in (owner, ada, watcher):
        person.wait("() => { const c = window.playground.store.doc.components;"
                    " return c.find((x) => x.id === 'app1').params.workers === 9"
                    " && c.find((x) => x.id === 'app2').params.service_ms === 25; }")
    same_design(owner, ada)
    same_design(owner, watcher)
    watcher.page.context.close()

    # one component, two fields, and a move, at once
    owner.set_field("db", "workers", "12")
    ada.set_field("db", "read_ms", "3")
    ada.drag(ada.node_xy("users"), (ada.node_xy("users")[0] + 60, ada.node_xy("users")[1] + 80))
    for person in (owner, ada):
        person.wait("() => { const d = window.playground.store.doc.components"
                    ".find((x) => x.id === 'db'); return d.params.workers === 12"
                    " && d.params.read_ms === 3; }")
    owner.wait("(y) => window.playground.store.doc.components"
               ".find((x) => x.id === 'users').position.y > y", 240)
    same_design(owner, ada)
    # the owner's canvas shows the move
    owner.wait("() => { const n = window.playground.cy.getElementById('users');"
               " const c = window.playground.store.doc.components.find((x) => x.id === 'users');"
               " return n.position('y') === c.position.y; }")

    # presence: Ada's selection is drawn on the owner's canvas in her colour
    ada.select_node("app2")
    owner.wait("() => !!window.playground.cy.getElementById('app2').data('peerColour')")
    owner.shot("coedit-presence")

    # Ada reloads in the middle: the design comes back as everyone has it, and she edits on
    ada.set_field("app2", "workers", "6")
    expect(ada.page.get_by_test_id("save-state")).to_have_attribute(
        "data-state", re.compile(r"^(shared|saved)$"))
    assert ada.reload_answering_leave() == []  # the room had her edit: nothing to lose
    expect(ada.page.get_by_test_id("coedit-peer")).to_have_count(2)
    same_design(owner, ada)
    assert param(ada, "app2", "workers") == 6
    ada.set_field("app2", "workers", "7")
    owner.wait("() => window.playground.store.doc.components"
               ".find((x) => x.id === 'app2').params.workers === 7")

    # the owner revokes the edit link: Ada's editor is read-only at once
    status, _ = owner.api("DELETE", f"/api/scenarios/{share_id}/edit-link")
    assert status == 204
    ada.wait("() => window.playground.store.readOnly")
    expect(ada.page.locator("body")).to_have_class(re.compile(r"\bread-only\b"))
    expect(owner.page.locator("[data-testid=coedit-peer]")).to_have_count(2)  # the watcher left
    expect(owner.page.locator("[data-testid=coedit-peer][data-role=viewer]")).to_have_count(1)
    before = param(ada, "app1", "workers")
    owner.set_field("app1", "workers", "5")  # the owner still edits; Ada still sees it
    ada.wait("() => window.playground.store.doc.components"
             ".find((x) => x.id === 'app1').params.workers === 5")
    assert before == 9

    # what the server saved when everyone left
    for person in (ada, owner):
        person.page.close()
    owner.page = owner.page.context.new_page()
    deadline = time.monotonic() + 10
    while True:  # the last leave saves at once; the socket's close takes a moment to arrive
        status, row = owner.api("GET", f"/api/scenarios/{share_id}")
        doc = {c["id"]: c for c in row["document"]["components"]}
        if doc["app1"]["params"]["workers"] == 5 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200 and row["version"] > 1
    doc = {c["id"]: c for c in row["document"]["components"]}
    assert doc["app1"]["params"]["workers"] == 5
    assert doc["db"]["params"]["read_ms"] == 3 and doc["db"]["params"]["workers"] == 12
    for person in (owner, ada):
        assert not person.console_errors, person.console_errors
