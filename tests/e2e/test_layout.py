"""The editor's layout from 800 to 2560 px wide (issue 15, item 4): the top bar's controls
never overlap one another, none is cut off by its group or the window, the canvas's banners
do not overlap, the canvas keeps at
least 45 % of the width, the design's title shows at least 12 characters, and the charts'
headings stay on one line. Checked idle, while a run plays, and with the connection lost
(the status pill then says so in words and is widest).

Screenshots of each width go to artifacts/e2e/ (layout-<state>-<width>.png).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_editor import CSP_LISTENER, App, small_design

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips the test
    expect = None

pytestmark = pytest.mark.browser

WIDTHS = (800, 1024, 1440, 2560)
# between the widths the issue names, where a breakpoint could leave a gap
MORE_WIDTHS = (900, 1180, 1280, 1366, 1600, 1920)
TITLE = "Cache in front of a database"

GEOMETRY = (Path(__file__).parent / "layout_geometry.js").read_text()


def check(app: App, state: str, width: int) -> list[str]:
    """What is wrong with the layout at `width` (nothing, when all is well)."""
    app.page.set_viewport_size({"width": width, "height": 900})
    app.page.wait_for_function("(w) => innerWidth === w", arg=width)
    app.page.evaluate("() => new Promise((r) => requestAnimationFrame("
                      "() => requestAnimationFrame(r)))")
    g = app.read(GEOMETRY)
    if width in WIDTHS:
        app.shot(f"layout-{state}-{width}")
    assert g["controls"] >= 10  # the probe found the bar's controls
    problems = [f"overlap {o}" for o in g["overlaps"]] + [f"cut {c}" for c in g["clipped"]]
    if g["canvasShare"] < 0.45:
        problems.append(f"canvas {g['canvasShare']:.0%} of the width")
    if g["titleChars"] < min(12, len(TITLE)):
        problems.append(f"title shows {g['titleChars']} characters")
    problems += [f"chart heading on two lines: {h}" for h in g["wrappedHeads"]]
    if g["scrollsSideways"]:
        problems.append("the page scrolls sideways")
    return [f"{state} at {width} px: {p}" for p in problems]


@pytest.fixture
def app(browser, live_server_url):
    """The editor with its play socket routed through the test, which can cut it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    sockets = {"cut": False, "open": []}

    def route(ws):
        if sockets["cut"]:
            ws.close()
            return
        ws.connect_to_server()
        sockets["open"].append(ws)

    page.route_web_socket(re.compile(r"/ws/play/"), route)
    try:
        editor = App(page, live_server_url).open()
        editor.sockets = sockets
        yield editor
    finally:
        context.close()


def test_the_editor_fits_every_width_idle_running_and_offline(app):
    page = app.page
    app.import_design(small_design(name=TITLE))
    problems = []
    for width in WIDTHS + MORE_WIDTHS:
        problems += check(app, "idle", width)

    page.set_viewport_size({"width": 1280, "height": 900})
    app.play()
    for width in WIDTHS + MORE_WIDTHS:
        problems += check(app, "running", width)

    # the connection drops: the pill says "Offline · retry in N s", its widest text
    app.sockets["cut"] = True
    for ws in app.sockets["open"]:
        ws.close()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "offline")
    for width in WIDTHS + MORE_WIDTHS:
        problems += check(app, "offline", width)
    assert problems == [], "\n".join(problems)


def test_a_lesson_on_a_narrow_window_is_a_drawer_over_the_canvas(app):
    page = app.page
    page.goto(f"{app.url}/lessons")
    page.locator(".lesson-link").first.click()
    page.wait_for_function("() => document.body.classList.contains('ready')")
    problems = []
    for width in (800, 1024, 1440):
        problems += check(app, "lesson", width)
        canvas = page.locator("#stage-canvas").bounding_box()
        panel = page.get_by_test_id("lesson-panel").bounding_box()
        fork = page.get_by_test_id("fork").bounding_box()
        # "Make a copy" in view, on the canvas, clear of the open lesson
        if not (fork["x"] >= panel["x"] + panel["width"]
                and fork["x"] + fork["width"] <= canvas["x"] + canvas["width"]):
            problems.append(f"lesson at {width} px: Make a copy is hidden")
    assert problems == [], "\n".join(problems)
