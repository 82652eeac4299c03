"""Bad input never does something silently (issue 15, item 6): a JSON file that is not a
scenario is refused with a reason and the design on screen stays; a field holding a value it
refused keeps Play from running the old value and says which field; the palette's items are
reached with the arrow keys (the list does not scroll instead).

Driven the way a person drives it; `window.playground` is only read.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_editor import App, small_design

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips the test
    expect = None

pytestmark = pytest.mark.browser


def import_file(app: App, data: bytes, name: str) -> None:
    with app.page.expect_file_chooser() as chooser:
        app.menu("menu-import")
    chooser.value.set_files(files=[{"name": name, "mimeType": "application/json", "buffer": data}])


def test_a_file_that_is_not_a_scenario_is_refused_and_the_design_stays(app):
    page = app.page
    app.import_design(small_design(name="Mine"))
    before = app.doc()

    import_file(app, json.dumps({"hello": "world"}).encode(), "hello.json")
    toast = page.get_by_test_id("toast").filter(has_text="Could not import that file")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("not a scenario")
    expect(toast).to_contain_text("hello")  # what the file has instead
    assert app.doc() == before
    expect(page.get_by_test_id("doc-name")).to_have_text("Mine")
    expect(page.get_by_test_id("validity")).to_have_text("Ready to run")
    app.dismiss_toasts()

    # a list where the components should be is no scenario either
    import_file(app, json.dumps({"format": "playground.scenario/v1", "components": {"a": 1}}
                                ).encode(), "odd.json")
    expect(page.get_by_test_id("toast").filter(has_text="Could not import that file")
           ).to_contain_text("components")
    assert app.doc() == before
    app.assert_clean()


def test_a_refused_value_in_a_field_blocks_play_and_says_which_field(app):
    page = app.page
    app.import_design(small_design())
    app.select_node("users")
    rate = page.get_by_test_id("field-rate_rps")
    rate.fill("abc")
    rate.press("Enter")
    field = page.locator('[data-field="rate_rps"]')
    expect(field.locator(".field-error")).to_be_visible()
    message = field.locator(".field-error").text_content()

    validity = page.get_by_test_id("validity")
    expect(validity).to_have_attribute("data-state", "invalid")
    expect(validity).not_to_have_text("Ready to run")
    expect(validity).to_have_attribute("title", f"users · Rate: {message} (not applied)")

    page.get_by_test_id("play").click()
    toast = page.get_by_test_id("toast").filter(
        has_text="A field holds a value that was not applied")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(f"users · Rate: {message}")
    assert app.read("() => window.playground.player.phase") == "idle"
    expect(page.locator("#run-state")).to_have_text("Ready")
    expect(rate).to_be_focused()  # where to fix it
    app.shot("bad-input-field-blocks-play")

    # fixed: the pill is green again and Play runs the value on screen
    rate.fill("120")
    rate.press("Enter")
    expect(validity).to_have_text("Ready to run")
    app.dismiss_toasts()
    app.play()
    assert app.read("() => window.playground.player.run.scenario.components[0].params.rate_rps"
                    ) == 120
    app.assert_clean()


def test_arrow_keys_move_between_palette_items(app):
    page = app.page
    first = page.locator(".palette-item").first
    first.focus()
    kinds = app.read("() => [...document.querySelectorAll('.palette-item')]"
                     ".map((b) => b.dataset.kind)")
    scroll = app.read("() => document.querySelector('.palette').scrollTop")
    page.keyboard.press("ArrowDown")
    expect(page.locator(f'[data-testid="palette-{kinds[1]}"]')).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator(f'[data-testid="palette-{kinds[2]}"]')).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator(f'[data-testid="palette-{kinds[1]}"]')).to_be_focused()
    page.keyboard.press("End")
    expect(page.locator(f'[data-testid="palette-{kinds[-1]}"]')).to_be_focused()
    page.keyboard.press("Home")
    expect(first).to_be_focused()
    assert app.read("() => document.querySelector('.palette').scrollTop") == scroll
    page.keyboard.press("ArrowUp")  # the first item stays where it is
    expect(first).to_be_focused()
    app.assert_clean()
