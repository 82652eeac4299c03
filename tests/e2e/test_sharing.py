"""Keeping and sharing designs in a real browser: save a design, open its link as somebody
else (a second browser context: no cookies, so not the owner), see it read-only and play it,
make a copy and change it, and check that the original did not change. Also: the save
state and the unsaved-changes guard, a draft kept in the browser, a save that conflicts with
another tab, version history, My designs, picture export, the lesson panel and the embed.

Driven as a person drives it; `window.playground` is only read. The API is called directly
only to check what the server holds (or, once, to play "another tab"). Screenshots go to
artifacts/e2e/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_editor import CSP_LISTENER, VIEWPORT, XSS, App, small_design

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test (fails with --require-services)
    expect = None

SCENARIO_URL = re.compile(r"/s/([A-Za-z0-9_-]{16,32})$")


class Person(App):
    """One person: their own browser context (cookies, storage) with one editor tab."""

    def goto(self, path: str) -> Person:
        self.page.goto(f"{self.url}{path}")
        self.page.wait_for_function("() => document.body.classList.contains('ready')")
        return self

    def scenario_id(self) -> str:
        match = SCENARIO_URL.search(self.page.url)
        assert match, self.page.url
        return match.group(1)

    def save_state(self):
        return expect(self.page.get_by_test_id("save-state"))

    def save(self) -> None:
        self.page.get_by_test_id("save").click()
        self.save_state().to_have_attribute("data-state", "saved")

    def set_field(self, node_id: str, field: str, value: str) -> None:
        self.select_node(node_id)
        box = self.page.get_by_test_id(f"field-{field}")
        box.fill(value)
        box.press("Enter")

    def reload_answering_leave(self) -> list[str]:
        """Reload, saying yes to a "leave this page?" prompt; returns the prompts' types."""
        asked: list[str] = []

        def leave(dialog) -> None:
            asked.append(dialog.type)
            dialog.accept()

        self.page.remove_listener("dialog", self._dialog)
        self.page.on("dialog", leave)
        try:
            self.page.reload()
            self.page.wait_for_function("() => document.body.classList.contains('ready')")
        finally:
            self.page.remove_listener("dialog", leave)
            self.page.on("dialog", self._dialog)
        return asked

    def leave_prompted(self) -> bool:
        """Would leaving the page now ask first (the beforeunload guard)?"""
        return self.read("""() => {
          const e = new Event("beforeunload", {cancelable: true});
          window.dispatchEvent(e);
          return e.defaultPrevented;
        }""")


def open_person(browser, url: str, path: str = "/") -> Person:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(CSP_LISTENER)
    person = Person(context.new_page(), url)
    person.goto(path)
    person.wait("() => window.playground.player.online")  # the editor's and the embed's
    return person


@pytest.fixture
def people(browser, live_server_url):
    opened: list[Person] = []

    def open_one(path: str = "/") -> Person:
        opened.append(open_person(browser, live_server_url, path))
        return opened[-1]

    try:
        yield open_one
    finally:
        for person in opened:
            person.page.context.close()


# -- 1 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_save_share_view_read_only_play_and_copy(people):
    owner = people()
    page = owner.page
    owner.new_design()
    client = owner.drop_from_palette("client", 360, 360)
    svc = owner.drop_from_palette("service", 620, 360)
    owner.link_by_handle(client, svc)
    expect(page.get_by_test_id("validity")).to_have_text("Ready to run")
    owner.save_state().to_have_attribute("data-state", "draft")
    assert not owner.leave_prompted()  # a never-saved design is kept in this browser

    # the first save gives the design its own address
    owner.save()
    scenario_id = owner.scenario_id()
    status, saved = owner.api("GET", f"/api/scenarios/{scenario_id}")
    assert status == 200 and saved["version"] == 1 and saved["can_edit"]
    assert {c["id"] for c in saved["document"]["components"]} == {client, svc}

    # a change is "unsaved" until Ctrl+S, and leaving would ask first
    owner.set_field(client, "rate_rps", "120")
    owner.save_state().to_have_attribute("data-state", "unsaved")
    assert owner.leave_prompted()
    page.get_by_test_id("field-rate_rps").fill("150")  # Ctrl+S also saves from a field
    page.keyboard.press("Control+s")
    owner.save_state().to_have_attribute("data-state", "saved")
    assert not owner.leave_prompted()
    assert owner.read(f"() => window.playground.store.component('{client}').params.rate_rps") == 150
    assert owner.api("GET", f"/api/scenarios/{scenario_id}")[1]["version"] == 2

    # Share: the absolute link, an embed snippet, the pictures
    owner.dismiss_toasts()
    page.get_by_test_id("share").click()
    dialog = page.get_by_test_id("share-dialog")
    expect(dialog).to_be_visible()
    link = f"{owner.url}/s/{scenario_id}"
    expect(dialog.get_by_test_id("share-link")).to_have_value(link)
    embed = dialog.get_by_test_id("share-embed").input_value()
    assert f'src="{owner.url}/embed/{scenario_id}"' in embed and embed.startswith("<iframe ")
    expect(dialog.locator(f'a[href="/s/{scenario_id}/preview.png"]')).to_be_visible()
    owner.shot("sharing-01-share-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    original = owner.doc()

    # somebody else opens the link: read-only, but it plays
    viewer = people(f"/s/{scenario_id}")
    vpage = viewer.page
    banner = vpage.get_by_test_id("read-only-banner")
    expect(banner).to_contain_text(f"Viewing {original['name']} (read-only)")
    expect(vpage.get_by_test_id("save")).to_be_hidden()
    expect(vpage.get_by_test_id("save-state")).to_be_hidden()
    expect(vpage.get_by_test_id("palette-client")).to_be_disabled()
    viewer.select_node(client)
    expect(vpage.get_by_test_id("field-rate_rps")).to_be_disabled()
    vpage.keyboard.press("Delete")
    refused = vpage.get_by_test_id("toast").filter(has_text="This design is read-only")
    expect(refused).to_be_visible()
    before = viewer.node_xy(svc)
    viewer.drag(before, (before[0] + 120, before[1] + 80))  # nodes cannot be moved either
    assert viewer.doc() == original
    viewer.dismiss_toasts()
    vpage.keyboard.press("Escape")
    viewer.play()
    viewer.frames_later(5)
    assert viewer.stats()["framesApplied"] >= 8
    viewer.shot("sharing-02-read-only-playing")
    vpage.get_by_test_id("stop").click()

    # ... makes their own copy, changes it and saves it
    vpage.get_by_test_id("fork").click()
    vpage.wait_for_url(lambda url: SCENARIO_URL.search(url) and scenario_id not in url)
    vpage.wait_for_function("() => document.body.classList.contains('ready')")
    copy_id = viewer.scenario_id()
    assert copy_id != scenario_id
    expect(vpage.get_by_test_id("read-only-banner")).to_have_count(0)
    expect(vpage.get_by_test_id("doc-name")).to_have_text(f"Copy of {original['name']}")
    viewer.save_state().to_have_attribute("data-state", "saved")
    expect(vpage.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    db = viewer.drop_from_palette("database", 600, 500)  # below: fit() zoomed the copy in
    viewer.link_by_key(svc, db)
    viewer.save_state().to_have_attribute("data-state", "unsaved")
    viewer.save()
    status, copy = viewer.api("GET", f"/api/scenarios/{copy_id}")
    assert status == 200 and copy["forked_from"] == scenario_id and copy["can_edit"]
    assert {c["id"] for c in copy["document"]["components"]} == {client, svc, db}
    viewer.shot("sharing-03-own-copy")

    # the original is unchanged, for the API and for its owner's page
    status, now = owner.api("GET", f"/api/scenarios/{scenario_id}")
    assert now["version"] == 2 and now["document"]["components"] == original["components"]
    assert now["document"]["links"] == original["links"]
    assert viewer.api("PUT", f"/api/scenarios/{scenario_id}",
                      {"document": copy["document"]})[0] == 403
    page.reload()
    page.wait_for_function("() => document.body.classList.contains('ready')")
    expect(page.get_by_test_id("read-only-banner")).to_have_count(0)
    assert {c["id"] for c in owner.doc()["components"]} == {client, svc}
    owner.save_state().to_have_attribute("data-state", "saved")
    for person in (owner, viewer):
        assert person.console_errors == []
        assert person.csp_violations() == []


# -- 2 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_drafts_conflicts_versions_and_my_designs(people):
    me = people()
    page = me.page
    me.import_design(small_design(name="Checkout"))
    me.save()
    scenario_id = me.scenario_id()

    # an unsaved change survives a reload as a draft that can be restored
    me.set_field("app1", "workers", "9")
    me.save_state().to_have_attribute("data-state", "unsaved")
    page.wait_for_timeout(400)  # the draft is written 250 ms after the change
    assert me.reload_answering_leave() == ["beforeunload"]
    app1 = "(id) => window.playground.store.doc.components.find((c) => c.id === id).params"
    assert me.read(f"{app1}.workers", "app1") == 4  # the saved design
    me.save_state().to_have_attribute("data-state", "saved")
    offer = page.get_by_test_id("toast").filter(has_text="Unsaved changes to this design")
    offer.get_by_role("button", name="Restore them").click()
    assert me.read(f"{app1}.workers", "app1") == 9
    me.save_state().to_have_attribute("data-state", "unsaved")

    # another tab saved meanwhile: the save conflicts, and the person chooses to overwrite
    status, fresh = me.api("GET", f"/api/scenarios/{scenario_id}")
    other = fresh["document"] | {"description": "saved from another tab"}
    assert me.api("PUT", f"/api/scenarios/{scenario_id}",
                  {"document": other, "base_version": 1})[0] == 200
    page.get_by_test_id("save").click()
    conflict = page.get_by_test_id("conflict-dialog")
    expect(conflict).to_contain_text("changed elsewhere")
    me.shot("sharing-04-conflict")
    conflict.get_by_test_id("conflict-overwrite").click()
    me.save_state().to_have_attribute("data-state", "saved")
    status, now = me.api("GET", f"/api/scenarios/{scenario_id}")
    assert now["version"] == 3
    assert next(c for c in now["document"]["components"]
                if c["id"] == "app1")["params"]["workers"] == 9

    # version history: preview version 1 and restore it, as one undoable step
    me.dismiss_toasts()
    me.menu("menu-versions")
    versions = page.get_by_test_id("versions")
    expect(versions.locator(".version-row")).to_have_count(3)  # current + 2 earlier
    versions.get_by_test_id("version-1").click()
    expect(page.get_by_test_id("version-preview")).to_contain_text("5 components, 5 links")
    expect(page.get_by_test_id("version-preview").locator("svg")).to_be_visible()
    me.shot("sharing-05-versions")
    versions.get_by_test_id("version-restore-1").click()
    expect(versions).to_be_hidden()
    assert me.read(f"{app1}.workers", "app1") == 4
    me.save_state().to_have_attribute("data-state", "saved")
    assert me.api("GET", f"/api/scenarios/{scenario_id}")[1]["version"] == 4
    page.get_by_test_id("undo").click()
    assert me.read(f"{app1}.workers", "app1") == 9
    me.save_state().to_have_attribute("data-state", "unsaved")
    page.get_by_test_id("redo").click()
    me.save_state().to_have_attribute("data-state", "saved")

    # My designs: search, rename the open design, duplicate, delete the copy
    me.dismiss_toasts()
    me.menu("menu-library")
    library = page.get_by_test_id("library")
    rows = library.locator(".library-row")
    expect(rows).to_have_count(1)
    library.get_by_test_id("library-search").fill("no such thing")
    expect(library).to_contain_text("No design matches")
    library.get_by_test_id("library-search").fill("check")
    expect(rows).to_have_count(1)
    library.get_by_test_id("library-rename").click()
    library.get_by_test_id("library-rename-input").fill("Checkout, renamed")
    library.get_by_test_id("library-rename-input").press("Enter")
    expect(page.get_by_test_id("doc-name")).to_have_text("Checkout, renamed")
    me.save_state().to_have_attribute("data-state", "saved")
    library.get_by_test_id("library-search").fill("")
    library.get_by_test_id("library-duplicate").click()
    expect(rows).to_have_count(2)
    me.shot("sharing-06-my-designs")
    copy_row = rows.filter(has_text="Copy of Checkout, renamed")
    copy_row.get_by_test_id("library-delete").click()
    # The search cleared above was applied by the duplicate's reload: it does not reload
    # the list again a moment later, taking the question away.
    page.wait_for_timeout(400)
    expect(copy_row.get_by_test_id("library-delete-confirm")).to_be_visible()
    copy_row.get_by_test_id("library-delete-confirm").click()
    expect(rows).to_have_count(1)
    page.keyboard.press("Escape")
    status, listed = me.api("GET", "/api/scenarios")
    assert [s["title"] for s in listed["results"]] == ["Checkout, renamed"]
    page.keyboard.press("Control+s")  # the rename was followed: no conflict
    me.save_state().to_have_attribute("data-state", "saved")
    expect(page.get_by_test_id("conflict-dialog")).to_have_count(0)

    # New starts another design at /, whose draft is kept apart from the saved design's
    saved_doc = me.api("GET", f"/api/scenarios/{scenario_id}")[1]["document"]
    me.new_design()
    assert page.url == f"{me.url}/"
    me.save_state().to_have_attribute("data-state", "draft")
    client = me.drop_from_palette("client", 420, 400)
    page.wait_for_timeout(400)  # the draft is written 250 ms after the change
    assert not me.leave_prompted()
    me.goto(f"/s/{scenario_id}")
    assert me.doc()["components"] == saved_doc["components"]
    me.save_state().to_have_attribute("data-state", "saved")
    expect(page.get_by_test_id("toast").filter(has_text="Unsaved changes")).to_have_count(0)
    me.goto("/")
    assert me.ids() == [client]

    # the diagram as pictures
    me.goto(f"/s/{scenario_id}")
    with page.expect_download() as svg_download:
        me.menu("menu-export-svg")
    svg = Path(svg_download.value.path()).read_text()
    assert svg_download.value.suggested_filename == "checkout-renamed.svg"
    assert "<svg" in svg and ">Checkout, renamed</text>" in svg and ">app1</text>" in svg
    with page.expect_download() as png_download:
        me.menu("menu-export-png")
    assert Path(png_download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the browser logs the conflicting save's answer; nothing else went wrong
    assert [e for e in me.console_errors if "409 (Conflict)" not in e] == []
    assert len(me.console_errors) == 1
    assert me.csp_violations() == []


# -- 3 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_description_panel_and_embed(people):
    me = people()
    page = me.page
    description = (f"Why a cache helps.\n\nTry **this** with `workers`:\n- fail the db\n"
                   f"- watch {XSS}\n\nThe end.")
    me.import_design(small_design(name="Explained") | {"description": description})
    me.save()
    scenario_id = me.scenario_id()
    page.reload()
    page.wait_for_function("() => document.body.classList.contains('ready')")
    panel = page.get_by_test_id("lesson-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("p")).to_have_count(3)
    expect(panel.locator("li")).to_have_count(2)
    expect(panel.locator("strong")).to_have_text("this")
    expect(panel.locator("code")).to_have_text("workers")
    expect(panel.locator("li").nth(1)).to_have_text(f"watch {XSS}")  # text, not markup
    assert panel.locator("img").count() == 0
    me.shot("sharing-07-description-panel")
    page.get_by_test_id("lesson-toggle").click()
    expect(panel.locator(".lesson-body")).to_be_hidden()

    viewer = people(f"/embed/{scenario_id}")
    vpage = viewer.page
    expect(vpage.get_by_test_id("embed-title")).to_have_attribute("href", f"/s/{scenario_id}")
    expect(vpage.get_by_test_id("embed-title")).to_have_attribute("target", "_blank")
    vpage.get_by_test_id("play").click()
    viewer.wait("() => window.playground.player.stats.framesApplied >= 5")
    expect(vpage.get_by_test_id("clock")).not_to_have_text("00:00.0")
    viewer.shot("sharing-08-embed")
    vpage.get_by_test_id("play").click()  # pause
    expect(vpage.get_by_test_id("play")).to_have_text("Resume")
    for person in (me, viewer):
        assert person.console_errors == []
        assert person.csp_violations() == []
