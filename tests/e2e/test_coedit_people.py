"""Co-editing in real Chromium (issue 19), each person by themselves: Ada (the owner) and Bob
(on the edit link) edit different components; Ada's undo takes back only her edit, in both
tabs, and Bob's stays; Bob's edit, made after hers, left her history in place; redo puts
hers back. Each sees the other's mouse pointer on the same spot of the design whatever
their zoom, until it rests or its person leaves, and which field of which component the
other is editing.

Driven as people drive it; `window.playground` is only read. Screenshots (800, 1440 and
2560 px wide) go to artifacts/e2e/.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_class_flow import WIDTHS, sign_up
from tests.e2e.test_coedit import param, people  # noqa: F401 (a fixture)
from tests.e2e.test_editor import small_design

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test (fails with --require-services)
    expect = None


def everywhere(people_, js: str, arg=None) -> None:
    for person in people_:
        person.wait(js, arg)


def params_are(app1_workers: int, app2_service_ms: int) -> str:
    return ("() => { const c = window.playground.store.doc.components;"
            f" return c.find((x) => x.id === 'app1').params.workers === {app1_workers}"
            f" && c.find((x) => x.id === 'app2').params.service_ms === {app2_service_ms}; }}")


def on_canvas(person) -> None:
    """Keyboard focus on the canvas (shortcuts are not for a focused field)."""
    person.page.get_by_test_id("canvas").focus()


@pytest.mark.browser
def test_undo_is_per_person_and_the_others_pointers_and_fields_show(people):  # noqa: F811
    ada = people()
    ada_name = sign_up(ada, "ada")
    status, saved = ada.api("POST", "/api/scenarios", {"document": small_design()})
    assert status == 201
    share_id = saved["id"]
    status, link = ada.api("POST", f"/api/scenarios/{share_id}/edit-link", {})
    assert status == 201
    ada.goto(f"/s/{share_id}")
    bob = people()
    bob_name = sign_up(bob, "bob")
    bob.goto(link["url"])
    for person in (ada, bob):
        expect(person.page.get_by_test_id("coedit-peer")).to_have_count(2)

    # -- undo per person ---------------------------------------------------------------
    ada.set_field("app1", "workers", "9")
    everywhere((ada, bob), "() => window.playground.store.doc.components"
               ".find((x) => x.id === 'app1').params.workers === 9")
    bob.set_field("app2", "service_ms", "25")  # after Ada's: it leaves her history alone
    everywhere((ada, bob), params_are(9, 25))
    undo = ada.page.locator("#undo")
    expect(undo).to_be_enabled()
    expect(undo).to_have_attribute("title", "Undo: Change workers of app1 (Ctrl+Z)")
    undo.click()
    everywhere((ada, bob), params_are(4, 25))  # hers undone in both tabs, his kept
    redo = ada.page.locator("#redo")
    expect(redo).to_have_attribute("title", "Redo: Change workers of app1 (Ctrl+Shift+Z)")
    expect(undo).to_be_disabled()  # Bob's edit is not hers to undo
    on_canvas(ada)
    ada.page.keyboard.press("Control+Shift+Z")
    everywhere((ada, bob), params_are(9, 25))
    on_canvas(bob)
    bob.page.keyboard.press("Control+Z")  # Bob's own undo: his edit only
    everywhere((ada, bob), params_are(9, 10))
    expect(ada.page.locator("#undo")).to_be_enabled()
    assert param(ada, "app1", "workers") == param(bob, "app1", "workers") == 9

    # -- pointers, in design coordinates whatever the zoom --------------------------------
    on_canvas(ada)
    for _ in range(2):
        ada.page.keyboard.press("+")  # Ada looks closer than Bob
    ada.wait("(z) => window.playground.cy.zoom() > z * 1.2",
             bob.read("() => window.playground.cy.zoom()"))
    bob.page.mouse.move(*bob.node_xy("app1"), steps=4)
    pointer = ada.page.get_by_test_id("coedit-pointer")
    expect(pointer).to_have_count(1)
    expect(pointer).to_contain_text(bob_name)
    ada.wait("""() => {  // the arrow's tip on app1's centre on Ada's canvas
      const tip = document.querySelector("[data-testid=coedit-pointer]").getBoundingClientRect();
      const n = window.playground.cy.getElementById("app1").renderedPosition();
      const r = document.getElementById("canvas").getBoundingClientRect();
      return Math.abs(tip.left - (r.left + n.x)) < 3 && Math.abs(tip.top - (r.top + n.y)) < 3;
    }""")
    expect(pointer).to_have_count(0, timeout=8000)  # resting: hidden after a few seconds
    bob.page.mouse.move(*bob.node_xy("db"), steps=3)
    expect(pointer).to_have_count(1)
    bob.page.mouse.move(2, 2)  # off the canvas: gone at once
    expect(pointer).to_have_count(0, timeout=2000)

    # -- who edits which field ----------------------------------------------------------
    bob.select_node("app1")
    bob.page.get_by_test_id("field-workers").click()
    ada.select_node("app1")
    field = ada.page.locator("#inspector .field[data-field=workers]")
    expect(field).to_have_class(re.compile(r"\bcoedit-editing\b"))
    expect(field).to_have_attribute("data-editors", f"{bob_name} is editing")
    expect(ada.page.locator("#inspector .coedit-editing")).to_have_count(1)
    tag = ada.page.get_by_test_id("coedit-tag")
    expect(tag).to_have_text(f"{bob_name} · Workers")
    expect(bob.page.locator("#inspector .coedit-editing")).to_have_count(0)  # only others'
    # Ada edits a field herself: Bob sees her there, with her name
    ada.page.get_by_test_id("field-service_ms").click()
    bob_field = bob.page.locator("#inspector .field[data-field=service_ms]")
    expect(bob_field).to_have_attribute("data-editors", f"{ada_name} is editing")

    # Bob's selection moved from app2 to app1: only app1 is drawn in his colour
    ada.wait("() => ['app1', 'app2'].map((id) => window.playground.cy.getElementById(id)"
             ".style('underlay-opacity')).join() === '0.35,0'")

    for width in WIDTHS:  # two people at work
        for person in (ada, bob):
            person.page.set_viewport_size({"width": width, "height": 900})
        on_canvas(ada)
        ada.page.keyboard.press("f")  # the whole design in view
        ada.page.get_by_test_id("field-service_ms").click()
        expect(bob_field).to_have_attribute("data-editors", f"{ada_name} is editing")
        bob.page.mouse.move(*bob.node_xy("lb"), steps=3)
        expect(pointer).to_have_count(1)
        ada.page.wait_for_timeout(400)  # the fit's animation
        ada.shot(f"coedit-people-{width}")
        bob.shot(f"coedit-people-bob-{width}")

    bob.page.get_by_test_id("canvas").focus()  # Bob leaves the field: his ring goes
    expect(field).not_to_have_class(re.compile(r"\bcoedit-editing\b"))
    expect(tag).to_have_count(0)
    bob.page.mouse.move(*bob.node_xy("db"), steps=3)
    expect(pointer).to_have_count(1)
    bob.page.close()  # Bob leaves: his pointer goes with him (before it would rest, 4 s)
    expect(pointer).to_have_count(0, timeout=3000)
    expect(ada.page.get_by_test_id("coedit-peer")).to_have_count(1)
    assert not ada.console_errors, ada.console_errors


# Records the page's websockets, so that a test can act at a chosen message (below).
SOCKETS = """(() => { const Native = window.WebSocket; window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); } }; })()"""

# Ada commits a field in the very task that brings her someone else's update, before any
# timer runs: the moment a remote edit and hers are nearest.
EDIT_AS_AN_UPDATE_ARRIVES = """() => {
  const ws = window.__sockets.find((s) => s.url.includes("/ws/coedit/") && s.readyState === 1);
  const handle = ws.onmessage;
  ws.onmessage = (e) => {
    handle.call(ws, e);
    if (window.__edited || JSON.parse(e.data).type !== "update") return;
    window.__edited = true;
    const box = document.querySelector("[data-testid=field-workers]");
    box.value = "7";
    box.dispatchEvent(new Event("change", { bubbles: true }));
  };
  return true;
}"""


@pytest.mark.browser
def test_an_edit_made_as_someone_elses_arrives_keeps_both(people):  # noqa: F811
    """Others' updates reach this tab's design at once: an edit of Ada's committed right
    after Bob's update arrived used to write her tab's older copy of the design back into
    the shared one, taking Bob's edit back for everyone."""
    ada = people()
    ada.page.add_init_script(SOCKETS)
    status, saved = ada.api("POST", "/api/scenarios", {"document": small_design()})
    assert status == 201
    status, link = ada.api("POST", f"/api/scenarios/{saved['id']}/edit-link", {})
    assert status == 201
    ada.goto(f"/s/{saved['id']}")
    bob = people(link["url"])
    for person in (ada, bob):
        expect(person.page.get_by_test_id("coedit-peer")).to_have_count(2)
    ada.select_node("app1")
    ada.wait(EDIT_AS_AN_UPDATE_ARRIVES)
    bob.set_field("app2", "service_ms", "25")
    everywhere((ada, bob), params_are(7, 25))
    assert ada.read("() => window.__edited")


@pytest.mark.browser
def test_guests_are_told_apart_and_say_their_name(people):  # noqa: F811
    """Nobody signed in: each goes by a guest's name of their own, not "Guest" for all, and
    types their own name once where it shows (kept in this browser); the others see it."""
    owner = people()
    status, saved = owner.api("POST", "/api/scenarios", {"document": small_design()})
    assert status == 201
    status, link = owner.api("POST", f"/api/scenarios/{saved['id']}/edit-link", {})
    assert status == 201
    owner.goto(f"/s/{saved['id']}")
    ada = people(link["url"])
    for person in (owner, ada):
        expect(person.page.get_by_test_id("coedit-peer")).to_have_count(2)
    field = ada.page.get_by_test_id("coedit-name")
    guest = field.input_value()
    assert re.fullmatch(r"Guest \w+ \w+", guest), guest
    owner_list = owner.page.get_by_test_id("coedit-presence")
    expect(owner_list.get_by_text(guest, exact=True)).to_be_visible()
    assert owner.page.get_by_test_id("coedit-name").input_value() != guest  # two guests, two names

    # Ada types her name; the others' comings and goings meanwhile leave her field alone
    field.click()
    field.press("Control+a")
    field.type("Ad")
    owner.select_node("app1")  # a presence reaches Ada's tab as she types
    ada.wait("() => !!window.playground.cy.getElementById('app1').data('peerColour')")
    field.type("a <i>L</i>")
    field.press("Enter")
    name = "Ada <i>L</i>"
    expect(owner_list.get_by_text(name, exact=True)).to_be_visible()  # text, not HTML
    expect(ada.page.get_by_test_id("coedit-presence")).to_contain_text("(you)")
    for width in WIDTHS:
        for person, who in ((ada, "guest"), (owner, "owner")):
            person.page.set_viewport_size({"width": width, "height": 900})
            person.page.wait_for_timeout(300)
            person.shot(f"coedit-guest-name-{who}-{width}")

    # kept in this browser: the next visit goes by it at once
    ada.page.reload()
    expect(ada.page.get_by_test_id("coedit-name")).to_have_value(name)
    expect(owner_list.get_by_text(name, exact=True)).to_be_visible()
    expect(owner_list.get_by_text(guest, exact=True)).to_have_count(0)
    for person in (owner, ada):
        assert not person.console_errors, person.console_errors
