"""The palette's named sizes (issue 17): a service, database or worker can be dropped with a
size chosen in the palette, which shows each size's workers, speed and price from /api/kinds
`sizes`; the new component's inspector shows that size. Screenshots at 800 and 1440 px wide
go to artifacts/e2e/.

Driven the way a person drives it; `window.playground` is only read.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_editor import App

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test
    expect = None

pytestmark = pytest.mark.browser


def open_sizes(app: App, kind: str) -> None:
    toggle = app.page.get_by_test_id(f"palette-sizes-{kind}")
    toggle.scroll_into_view_if_needed()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def test_drop_a_sized_component_from_the_palette(app):
    sizes = app.read("() => window.playground.registry.sizes")
    large = sizes["large"]
    open_sizes(app, "service")
    item = app.page.get_by_test_id("palette-service-large")
    expect(item).to_be_visible()
    expect(item).to_have_attribute("aria-label", re.compile(
        f"{large['workers']} workers at speed {large['speed']:g}, "
        f"{large['cost_per_hour']:.2f} an hour"))
    expect(item.locator(".palette-size-figure").first).to_have_text(str(large["workers"]))

    svc = app.drop_from_palette("service-large", 620, 360)
    component = next(c for c in app.doc()["components"] if c["id"] == svc)
    assert component["kind"] == "service" and component["params"]["size"] == "large"
    app.select_node(svc)
    expect(app.page.get_by_test_id("field-size")).to_have_value("large")

    open_sizes(app, "database")
    db = app.drop_from_palette("database-xlarge", 820, 360)
    component = next(c for c in app.doc()["components"] if c["id"] == db)
    assert component["kind"] == "database" and component["params"]["size"] == "xlarge"
    app.select_node(db)
    expect(app.page.get_by_test_id("field-size")).to_have_value("xlarge")

    # a plain drag of the kind itself still adds it at the custom size
    worker = app.drop_from_palette("worker", 620, 520)
    component = next(c for c in app.doc()["components"] if c["id"] == worker)
    assert "size" not in component["params"]


@pytest.mark.parametrize("width", [800, 1440])
def test_the_sizes_fit_the_palette(app, width):
    """At 800 px the palette is a rail of icons (no sizes); at 1440 the sizes list fits the
    palette's width (no figures cut off)."""
    app.page.set_viewport_size({"width": width, "height": 900})
    toggle = app.page.get_by_test_id("palette-sizes-worker")
    if width < 1180:
        expect(toggle).to_be_hidden()
        app.shot(f"palette-sizes-{width}")
        return
    open_sizes(app, "worker")
    app.page.locator("#palette-sizes-worker").scroll_into_view_if_needed()
    app.shot(f"palette-sizes-{width}")
    palette = app.page.locator(".palette").bounding_box()
    for item in app.page.locator("#palette-sizes-worker .palette-size").all():
        box = item.bounding_box()
        assert box["x"] + box["width"] <= palette["x"] + palette["width"]
        for cell in item.locator("span").all():
            assert cell.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
