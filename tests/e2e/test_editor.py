"""The editor in a real browser (headless Debian Chromium against a real Daphne): what a
person sees when they build a design, play it, break it, undo, use only the keyboard, type
something wrong, watch someone else's run, or type markup into a label.

The page is driven only the way a person drives it (mouse, keyboard, the Design menu's file
picker); `window.playground` is only read. Screenshots of the key moments go to
artifacts/e2e/. Every page evaluation is a function (never a string of code): the page's
Content Security Policy forbids eval, and a violation would fail the test that caused it.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Page, expect
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError:  # the `browser` marker then skips each test (fails with --require-services)
    Page = expect = None
    PlaywrightTimeoutError = TimeoutError

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "e2e"
VIEWPORT = {"width": 1280, "height": 800}
RUN_KEY = "sdp.run.v1:/"  # persistence.js: the run the editor at / watches, re-joined on reload
XSS = "<img src=x onerror=alert(1)>"

# Collects what the page's own CSP reports, before any of the app's scripts run.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def small_design(*, health_check_s: float = 5.0, name: str = "Two services") -> dict:
    """users -> lb -> app1, app2 -> db, small enough to run at a few times real time."""
    return {
        "format": "playground.scenario/v1",
        "name": name,
        "seed": 7,
        "duration_s": 600,
        "warmup_s": 0,
        "components": [
            {"id": "users", "kind": "client", "position": {"x": 100, "y": 240},
             "params": {"rate_rps": 200}},
            {"id": "lb", "kind": "load_balancer", "position": {"x": 300, "y": 240},
             "params": {"health_check_s": health_check_s}},
            {"id": "app1", "kind": "service", "position": {"x": 500, "y": 140},
             "params": {"workers": 4, "service_ms": 10}},
            {"id": "app2", "kind": "service", "position": {"x": 500, "y": 340},
             "params": {"workers": 4, "service_ms": 10}},
            {"id": "db", "kind": "database", "position": {"x": 700, "y": 240},
             "params": {"workers": 8, "read_ms": 2, "write_ms": 5}},
        ],
        "links": [
            {"from": "users", "to": "lb"},
            {"from": "lb", "to": "app1"},
            {"from": "lb", "to": "app2"},
            {"from": "app1", "to": "db"},
            {"from": "app2", "to": "db"},
        ],
        "events": [],
    }


class App:
    """One editor tab in its own browser context, with what it reported along the way."""

    def __init__(self, page: Page, url: str):
        self.page = page
        self.url = url
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error"
                else None)
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        page.on("dialog", self._dialog)

    def api(self, method: str, path: str, body: dict | None = None):
        """The JSON API with this person's cookies (and CSRF token for writes)."""
        cookies = {c["name"]: c["value"] for c in self.page.context.cookies()}
        response = self.page.request.fetch(
            f"{self.url}{path}", method=method,
            headers={"X-CSRFToken": cookies.get("csrftoken", ""),
                     "Content-Type": "application/json"},
            data=json.dumps(body) if body is not None else None)
        return response.status, (response.json() if response.text() else None)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    # -- page ------------------------------------------------------------------------------
    def open(self) -> App:
        self.page.goto(f"{self.url}/")
        self.page.wait_for_function("() => document.body.classList.contains('ready')")
        expect(self.page.get_by_test_id("connection-status")).to_have_attribute(
            "data-state", "online")
        return self

    def shot(self, name: str, locator=None) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        (locator or self.page).screenshot(path=path)
        return path

    def read(self, js: str, arg=None):
        return self.page.evaluate(js, arg)

    def wait(self, js: str, arg=None, timeout: float = 10_000) -> None:
        self.page.wait_for_function(js, arg=arg, timeout=timeout)

    def doc(self) -> dict:
        return self.read("() => window.playground.store.doc")

    def stats(self) -> dict:
        return self.read("() => ({...window.playground.player.stats})")

    def run(self) -> dict | None:
        return self.read("""() => {
          const r = window.playground.player.run;
          return r && {id: r.id, t: r.t, owner: r.owner, components: r.components,
                       summary: r.summary};
        }""")

    def csp_violations(self) -> list[str]:
        return self.read("() => window.__cspViolations || []")

    def assert_clean(self) -> None:
        assert self.console_errors == []
        assert self.csp_violations() == []
        assert self.dialogs == []

    # -- design menu -----------------------------------------------------------------------
    def menu(self, testid: str) -> None:
        self.page.get_by_test_id("file-menu").click()
        self.page.get_by_test_id(testid).click()

    def dismiss_toasts(self) -> None:
        """Close every toast (they may sit over the canvas), oldest first."""
        toasts = self.page.locator('[data-testid="toast"]:not(.toast-leaving)')
        for _ in range(10):
            if not toasts.count():
                break
            with contextlib.suppress(PlaywrightTimeoutError):  # it may go by itself meanwhile
                toasts.first.locator(".toast-close").click(timeout=2000)
        expect(self.page.get_by_test_id("toast")).to_have_count(0)

    def new_design(self) -> None:
        self.menu("menu-new")
        expect(self.page.get_by_test_id("validity")).to_have_text("Empty design")
        self.dismiss_toasts()

    def import_design(self, doc: dict, file_name: str = "design.json") -> None:
        with self.page.expect_file_chooser() as chooser:
            self.menu("menu-import")
        chooser.value.set_files(files=[{"name": file_name, "mimeType": "application/json",
                                        "buffer": json.dumps(doc).encode()}])
        expect(self.page.get_by_test_id("toast").filter(has_text=f"Imported {file_name}")
               ).to_be_visible()
        expect(self.page.get_by_test_id("validity")).to_have_text("Ready to run")
        self.dismiss_toasts()

    # -- canvas ----------------------------------------------------------------------------
    def ids(self) -> list[str]:
        return [c["id"] for c in self.doc()["components"]]

    def links(self) -> set[tuple[str, str]]:
        return {(lk["from"], lk["to"]) for lk in self.doc()["links"]}

    def node_xy(self, node_id: str) -> tuple[float, float]:
        """Where a component's centre is on the screen."""
        p = self.read("""(id) => {
          const n = window.playground.cy.getElementById(id);
          const r = document.getElementById("canvas").getBoundingClientRect();
          const p = n.renderedPosition();
          return {x: r.left + p.x, y: r.top + p.y};
        }""", node_id)
        return p["x"], p["y"]

    def has_class(self, node_id: str, cls: str) -> bool:
        return self.read("([id, cls]) => window.playground.cy.getElementById(id).hasClass(cls)",
                         [node_id, cls])

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        mouse = self.page.mouse
        mouse.move(*start)
        mouse.down()
        mouse.move(*end, steps=12)
        mouse.up()

    def drop_from_palette(self, kind: str, x: float, y: float) -> str:
        """Drag a palette item onto the canvas at (x, y); returns the new component's id."""
        before = set(self.ids())
        item = self.page.get_by_test_id(f"palette-{kind}")
        item.scroll_into_view_if_needed()  # the palette scrolls when it holds many kinds
        box = item.bounding_box()
        self.drag((box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), (x, y))
        self.wait("(n) => window.playground.store.doc.components.length === n", len(before) + 1)
        (new,) = set(self.ids()) - before
        return new

    def click_node(self, node_id: str, **kwargs) -> None:
        self.page.mouse.click(*self.node_xy(node_id), **kwargs)

    def select_node(self, node_id: str) -> None:
        self.click_node(node_id)
        self.wait("(id) => { const s = window.playground.store.selection;"
                  " return s.components.size === 1 && s.components.has(id); }", node_id)

    def wait_link(self, a: str, b: str) -> None:
        self.wait("([a, b]) => window.playground.store.doc.links"
                  ".some((l) => l.from === a && l.to === b)", [a, b])

    def link_by_handle(self, a: str, b: str) -> None:
        """Select `a`, drag its round connect handle onto `b`."""
        self.select_node(a)
        handle = self.page.get_by_test_id("connect-handle")
        expect(handle).to_be_visible()
        box = handle.bounding_box()
        self.drag((box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), self.node_xy(b))
        self.wait_link(a, b)

    def link_by_key(self, a: str, b: str) -> None:
        """Select `a`, press L, click `b`."""
        self.select_node(a)
        self.page.keyboard.press("l")
        expect(self.page.locator("#stage-canvas")).to_have_class(re.compile(r"\bconnecting\b"))
        self.click_node(b)
        self.wait_link(a, b)

    # -- running ---------------------------------------------------------------------------
    def set_speed(self, speed: str) -> None:
        self.page.get_by_test_id("speed").select_option(speed)

    def play(self) -> None:
        self.page.get_by_test_id("play").click()
        expect(self.page.locator("#run-state")).to_have_text("Running")
        self.wait("() => window.playground.player.stats.framesApplied >= 3")

    def frames_later(self, n: int = 3) -> None:
        """Wait until `n` more frames were applied (the explicit 'a moment later')."""
        seen = self.stats()["framesApplied"]
        self.wait("(n) => window.playground.player.stats.framesApplied >= n", seen + n)

    def overlay_dot_pixels(self) -> list[int]:
        """Pixel offsets of the overlay canvas painted exactly in a request dot's colour
        (dots.js OUTCOME_COLORS; the card text and bars use other colours)."""
        return self.read("""() => {
          const c = document.querySelector(".overlay-canvas");
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          const want = new Set(["100,116,139", "22,163,74", "8,145,178", "220,38,38"]);
          const out = [];
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] === 255 && want.has(`${d[i]},${d[i + 1]},${d[i + 2]}`)) out.push(i / 4);
          }
          return out;
        }""")


# -- 1 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_build_a_design_from_scratch(app):
    page = app.page
    app.new_design()
    expect(page.locator("#empty-hint")).to_be_visible()

    client = app.drop_from_palette("client", 320, 380)
    lb = app.drop_from_palette("load_balancer", 500, 380)
    svc1 = app.drop_from_palette("service", 680, 280)
    svc2 = app.drop_from_palette("service", 680, 480)
    db = app.drop_from_palette("database", 860, 380)
    expect(page.locator("#empty-hint")).to_be_hidden()
    # each one landed where it was dropped (the pan/zoom is the identity after "New")
    x, y = app.node_xy(lb)
    assert abs(x - 500) <= 12 and abs(y - 380) <= 12

    app.link_by_handle(client, lb)
    app.link_by_key(lb, svc1)
    app.link_by_handle(lb, svc2)
    app.link_by_key(svc1, db)
    app.link_by_handle(svc2, db)

    app.select_node(client)
    expect(page.get_by_test_id("inspector").locator(".panel-title")).to_have_text(client)
    rate = page.get_by_test_id("field-rate_rps")
    rate.fill("250")
    rate.press("Enter")
    app.wait("(id) => window.playground.store.doc.components"
             ".find((c) => c.id === id).params.rate_rps === 250", client)

    expect(page.get_by_test_id("validity")).to_have_attribute("data-state", "valid")
    expect(page.get_by_test_id("validity")).to_have_text("Ready to run")
    page.keyboard.press("Escape")  # clear the selection for the picture
    app.shot("01-built-from-scratch")

    doc = app.doc()
    kinds = {c["id"]: c["kind"] for c in doc["components"]}
    assert kinds == {client: "client", lb: "load_balancer", svc1: "service",
                     svc2: "service", db: "database"}
    assert app.links() == {(client, lb), (lb, svc1), (lb, svc2), (svc1, db), (svc2, db)}
    assert all(lk.get("kind", "call") == "call" for lk in doc["links"])
    assert app.read("() => window.playground.cy.nodes('.invalid').length") == 0
    app.assert_clean()


# -- 2 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_play_streams_frames_and_moves_dots(app):
    page = app.page
    app.import_design(small_design())
    app.set_speed("2")
    clock = page.get_by_test_id("clock")
    expect(clock).to_have_text("00:00.0")
    app.play()

    expect(clock).not_to_have_text("00:00.0")
    t0 = float(clock.get_attribute("data-t"))
    app.wait("(t) => Number(document.getElementById('clock').dataset.t) > t + 1", t0)
    before = app.stats()
    app.wait("(n) => window.playground.player.stats.framesApplied > n + 10",
             before["framesApplied"])
    app.wait("(n) => window.playground.player.stats.dotsDrawn > n + 20", before["dotsDrawn"])

    # the dots are on the overlay and they move: two pictures a few frames apart differ
    overlay = page.locator(".overlay-canvas")
    first_png = app.shot("02-overlay-a", overlay).read_bytes()
    first_dots = app.overlay_dot_pixels()
    app.frames_later(3)
    second_png = app.shot("02-overlay-b", overlay).read_bytes()
    second_dots = app.overlay_dot_pixels()
    assert first_png != second_png
    assert len(first_dots) > 50 and len(second_dots) > 50
    assert set(first_dots) != set(second_dots)

    throughput = page.locator('[data-chart="throughput"] .chart-value b')
    expect(throughput).to_have_text(re.compile(r"^[1-9][\d,]* rps$"))
    # frames keep coming past the server's window of 30 unacked ones: the page acks them
    app.wait("() => window.playground.player.stats.framesApplied > 70")
    assert page.evaluate("() => window.playground.player.stats.framesSkipped") == 0
    run = app.run()
    assert run["owner"] and run["summary"]["ok_rps"] > 0
    # the client's live panel: what it sends, next to the rate it was given
    app.select_node("users")
    sent = page.get_by_test_id("live-metrics").locator('[data-metric="rps"]')
    expect(sent).to_contain_text("Sent")
    expect(sent.locator("td").first).to_have_text(re.compile(r"^[1-9][\d,.]* rps$"))
    expect(sent.locator("td").last).to_have_text("200 rps")
    app.shot("02-playing")
    app.assert_clean()


# -- 3 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_failing_a_service_raises_errors_until_it_recovers(app):
    page = app.page
    # health checks once a minute: the balancer keeps sending app1 its share while it is down
    app.import_design(small_design(health_check_s=60))
    app.set_speed("5")
    app.play()

    app.click_node("app1", button="right")
    menu = page.get_by_test_id("context-menu")
    expect(menu).to_be_visible()
    menu.get_by_test_id("menu-fail").click()

    app.wait("() => window.playground.cy.getElementById('app1').hasClass('down')")
    details = page.get_by_test_id("details")
    expect(details.locator(".pill")).to_have_text("Down")
    expect(page.get_by_test_id("command-log")).to_contain_text("fail app1")
    app.wait("() => (window.playground.player.run.components.lb.err_rps || 0) > 10")
    errors = page.locator('[data-chart="errors"] .chart-value b')
    expect(errors).not_to_have_text(re.compile(r"^(0(\.0)?%|—)$"))
    assert app.run()["summary"]["error_ratio"] > 0.1
    app.shot("03-app1-down")

    details.get_by_test_id("recover").click()
    expect(details.locator(".pill")).to_have_text("Up")
    assert not app.has_class("app1", "down")
    expect(page.get_by_test_id("command-log")).to_contain_text("recover app1")
    app.wait("() => { const r = window.playground.player.run;"
             " return r.components.lb.err_rps === 0 && r.summary.error_ratio === 0; }")
    expect(errors).to_have_text(re.compile(r"^0(\.0)?%$"), timeout=20_000)
    app.shot("03-app1-recovered")
    app.assert_clean()


# -- 4 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_undo_and_redo_a_move_and_a_delete(app):
    page = app.page
    undo, redo = page.get_by_test_id("undo"), page.get_by_test_id("redo")
    expect(undo).to_be_disabled()  # the first document is not an edit

    def position(node_id):
        return next(c["position"] for c in app.doc()["components"] if c["id"] == node_id)

    start = position("db")
    x, y = app.node_xy("db")
    app.drag((x, y), (x, y + 120))
    app.wait("(y) => window.playground.store.doc.components.find((c) => c.id === 'db')"
             ".position.y > y + 40", start["y"])
    moved = position("db")
    expect(undo).to_be_enabled()
    undo.click()
    app.wait("(p) => { const q = window.playground.store.doc.components"
             ".find((c) => c.id === 'db').position; return q.x === p.x && q.y === p.y; }", start)
    assert app.node_xy("db") == pytest.approx((x, y), abs=1)
    redo.click()
    app.wait("(p) => { const q = window.playground.store.doc.components"
             ".find((c) => c.id === 'db').position; return q.x === p.x && q.y === p.y; }", moved)

    links_before = app.links()
    events_before = app.doc()["events"]
    app.select_node("app2")
    page.keyboard.press("Delete")
    app.wait("() => !window.playground.store.component('app2')")
    assert not any("app2" in pair for pair in app.links())
    app.shot("04-app2-deleted")
    page.keyboard.press("Control+z")
    app.wait("() => !!window.playground.store.component('app2')")
    assert app.links() == links_before
    assert app.doc()["events"] == events_before
    expect(redo).to_have_attribute("title", re.compile("^Redo: "))
    page.keyboard.press("Control+Shift+z")
    app.wait("() => !window.playground.store.component('app2')")
    undo.click()
    app.wait("() => !!window.playground.store.component('app2')")
    app.shot("04-app2-restored")
    app.assert_clean()


# -- 5 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_keyboard_only_editing(app):
    page = app.page
    app.new_design()
    focus_note = page.locator("#canvas-focus-note")

    page.get_by_test_id("palette-client").focus()
    page.keyboard.press("Enter")
    app.wait("() => window.playground.store.doc.components.length === 1")
    page.get_by_test_id("palette-service").focus()
    page.keyboard.press("Enter")
    app.wait("() => window.playground.store.doc.components.length === 2")
    assert app.ids() == ["client-1", "service-1"]
    expect(page.get_by_test_id("canvas")).to_be_focused()  # Enter hands focus to the canvas

    # Shift+Tab / Tab walk the components in document order
    page.keyboard.press("Shift+Tab")
    expect(focus_note).to_have_text(re.compile(r"^client-1, Client\. 0 links in, 0 out\."))
    assert app.has_class("client-1", "kbd-focus")
    page.keyboard.press("Tab")
    expect(focus_note).to_have_text(re.compile(r"^service-1, Service\."))
    # an arrow key goes to the nearest component that way
    pos = {c["id"]: c["position"] for c in app.doc()["components"]}
    dx = pos["client-1"]["x"] - pos["service-1"]["x"]
    dy = pos["client-1"]["y"] - pos["service-1"]["y"]
    arrow = (("ArrowRight" if dx > 0 else "ArrowLeft") if abs(dx) >= abs(dy)
             else ("ArrowDown" if dy > 0 else "ArrowUp"))
    page.keyboard.press(arrow)
    expect(focus_note).to_have_text(re.compile(r"^client-1, Client\."))

    # Enter selects, L + Enter links to the component the arrows picked
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("inspector").locator(".panel-title")).to_have_text("client-1")
    page.keyboard.press("l")
    app.wait("() => document.querySelector('#stage-canvas').classList.contains('connecting')")
    page.keyboard.press("Enter")
    app.wait_link("client-1", "service-1")
    expect(page.get_by_test_id("validity")).to_have_text("Ready to run")

    page.keyboard.press("?")
    help_dialog = page.get_by_test_id("help")
    expect(help_dialog).to_be_visible()
    for line in ("Play / pause", "Undo", "Focus the next / previous component",
                 "Link the selected component to another", "Show this help"):
        expect(help_dialog).to_contain_text(line)
    app.shot("05-help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    app.assert_clean()


# -- 6 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_invalid_input_is_refused_and_invalid_designs_do_not_run(app):
    page = app.page
    app.select_node("app1")  # the first example: app1 has 8 workers
    workers = page.get_by_test_id("field-workers")
    expect(workers).to_have_value("8")
    workers.fill("0")
    field = page.locator('[data-field="workers"]')
    expect(field.locator(".field-error")).to_have_text("must be >= 1")
    expect(workers).to_have_attribute("aria-invalid", "true")
    workers.press("Enter")
    app.shot("06-workers-zero")
    assert next(c for c in app.doc()["components"] if c["id"] == "app1")["params"]["workers"] == 8
    expect(page.get_by_test_id("undo")).to_be_disabled()  # nothing was committed
    workers.press("Escape")
    expect(workers).to_have_value("8")
    expect(field.locator(".field-error")).to_be_hidden()

    # cut app2 off from the balancer: it is then reachable from no client
    edge = app.read("""() => {
      const e = window.playground.cy.getElementById("link:lb>app2");
      const r = document.getElementById("canvas").getBoundingClientRect();
      const p = e.renderedMidpoint();
      return {x: r.left + p.x, y: r.top + p.y};
    }""")
    page.mouse.click(edge["x"], edge["y"])
    app.wait("() => window.playground.store.selection.links.has('lb>app2')")
    page.keyboard.press("Delete")
    app.wait("() => !window.playground.store.link('lb>app2')")
    validity = page.get_by_test_id("validity")
    expect(validity).to_have_attribute("data-state", "invalid")
    expect(validity).to_have_text("1 problem")
    expect(validity).to_have_attribute("title",
                                       re.compile("'app2' is not reachable from any client"))
    assert app.has_class("app2", "invalid")

    page.get_by_test_id("play").click()
    toast = page.get_by_test_id("toast").filter(has_text="The design cannot run yet")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("app2: 'app2' is not reachable from any client")
    expect(page.locator("#run-state")).to_have_text("Ready")
    assert app.read("() => window.playground.player.phase") == "idle"
    app.shot("06-play-refused")
    app.assert_clean()


# -- 7 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_second_viewer_sees_the_run_but_cannot_steer(app, browser):
    """There is no share link yet. The second tab joins the way the editor re-joins its run
    after a reload (the run id in sessionStorage), and a raw socket in that tab also tries
    to steer through the protocol."""
    owner = app
    owner.import_design(small_design(name="Shared run"))
    owner.play()
    run_id = owner.run()["id"]

    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_LISTENER)
    context.add_init_script(
        f"sessionStorage.setItem({json.dumps(RUN_KEY)}, {json.dumps(json.dumps({'id': run_id}))})")
    try:
        viewer = App(context.new_page(), owner.url).open()
        page = viewer.page
        viewer.wait("(id) => window.playground.player.run?.id === id", run_id)
        expect(page.locator("#run-state")).to_have_text("Running · watching")
        # its editor shows the running design (it had the first example before)
        expect(page.get_by_test_id("toast").filter(has_text="Showing the running scenario")
               ).to_be_visible()
        assert viewer.ids() == owner.ids()
        seen = viewer.stats()["framesApplied"]
        viewer.wait("(n) => window.playground.player.stats.framesApplied > n + 10", seen)
        t0 = viewer.run()["t"]
        viewer.wait("(t) => window.playground.player.run.t > t + 0.5", t0)
        assert viewer.run()["owner"] is False

        for control in ("play", "pause", "step", "reset", "speed"):
            expect(page.get_by_test_id(control)).to_be_disabled()
        viewer.select_node("app1")
        details = page.get_by_test_id("details")
        expect(details).to_contain_text(
            "Watching: only the person who started it can change the run")
        expect(details.get_by_test_id("fail")).to_have_count(0)
        # the play/pause key does not steer either: it says why instead of asking the server
        page.keyboard.press("Space")
        expect(page.get_by_test_id("toast").filter(has_text="You are watching this run")
               ).to_be_visible()
        viewer.frames_later(3)  # time for a refusal from the server, if one had been asked
        expect(page.get_by_test_id("toast").filter(has_text="Only the person who started this"
                                                   " run can change it")).to_have_count(0)
        expect(page.locator("#run-state")).to_have_text("Running · watching")
        viewer.dismiss_toasts()
        viewer.click_node("app1", button="right")
        expect(page.get_by_test_id("context-menu")).to_be_visible()
        expect(page.get_by_test_id("menu-fail")).to_have_count(0)
        page.keyboard.press("Escape")
        viewer.shot("07-viewer")

        # through the protocol itself: a join without the owner token is read-only
        answer = page.evaluate("""async (runId) => {
          const ws = new WebSocket(`ws://${location.host}/ws/play/`);
          const got = [];
          const waitFor = (pred) => new Promise((resolve, reject) => {
            const t0 = Date.now();
            const poll = () => {
              const m = got.find(pred);
              if (m) resolve(m);
              else if (Date.now() - t0 > 8000) reject(new Error("no answer"));
              else setTimeout(poll, 20);
            };
            poll();
          });
          ws.addEventListener("message", (e) => got.push(JSON.parse(e.data)));
          await new Promise((resolve) => ws.addEventListener("open", resolve));
          ws.send(JSON.stringify({type: "join", run_id: runId}));
          const snap = await waitFor((m) => m.type === "snapshot");
          await waitFor((m) => m.type === "frame");
          ws.send(JSON.stringify({type: "control", run_id: runId, action: "pause"}));
          ws.send(JSON.stringify({type: "command", run_id: runId,
                                  command: {action: "fail", target: "app1"}}));
          await waitFor((m) => m.type === "error" && m.ref === "command");
          const errors = got.filter((m) => m.type === "error").map((m) => [m.ref, m.code]);
          ws.close();
          return {owner: snap.owner, token: snap.token ?? null, errors};
        }""", run_id)
        assert answer == {"owner": False, "token": None,
                          "errors": [["control", "forbidden"], ["command", "forbidden"]]}

        # Stop, for a viewer, means stop watching: it leaves the run (which goes on)
        page.get_by_test_id("stop").click()
        expect(page.locator("#run-state")).to_have_text("Ready")
        expect(page.get_by_test_id("lock-banner")).to_be_hidden()
        expect(page.get_by_test_id("toast").filter(has_text="You stopped watching the run")
               ).to_be_visible()
        owner.frames_later(3)  # a refusal from the server would have arrived by now
        expect(page.get_by_test_id("toast").filter(has_text="Only the person who started this"
                                                   " run can change it")).to_have_count(0)
        viewer.assert_clean()
    finally:
        context.close()

    # the owner's run went on, unpaused and with nothing failed
    expect(owner.page.locator("#run-state")).to_have_text("Running")
    t0 = owner.run()["t"]
    owner.wait("(t) => window.playground.player.run.t > t + 0.5", t0)
    assert owner.run()["components"]["app1"]["up"] is True
    owner.assert_clean()


# -- 8 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_labels_are_text_never_html(app):
    page = app.page
    requests = []
    page.on("request", lambda r: requests.append(r.url))

    app.select_node("users")
    label = page.get_by_test_id("field-label")
    label.fill(XSS)
    label.press("Enter")
    app.wait("(v) => window.playground.store.component('users').label === v", XSS)
    expect(page.get_by_test_id("inspector").locator(".panel-title")).to_have_text(XSS)

    page.get_by_test_id("doc-name").click()
    name = page.get_by_test_id("field-name")
    name.fill("<b onmouseover=alert(2)>bold</b>")
    name.press("Enter")
    expect(page.get_by_test_id("doc-name")).to_have_text("<b onmouseover=alert(2)>bold</b>")
    assert page.title().startswith("<b onmouseover=alert(2)>bold</b>")

    # the focus note (screen readers) says the label as text too
    app.select_node("users")
    expect(page.locator("#canvas-focus-note")).to_contain_text(f"{XSS}, Client.")

    # and so does a live run (details panel, the card's painted text)
    app.play()
    app.select_node("users")
    expect(page.get_by_test_id("inspector").locator(".panel-title")).to_have_text(XSS)
    app.frames_later(5)
    app.shot("08-label-as-text")
    app.shot("08-label-card", page.locator("#stage-canvas"))

    assert page.locator("img[src='x']").count() == 0
    assert page.locator("b[onmouseover]").count() == 0
    assert not [u for u in requests if u.rstrip("/").endswith("/x")]
    page.wait_for_timeout(200)  # an onerror handler would have fired by now
    assert app.dialogs == []
    app.assert_clean()


# -- 9 -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_whole_session_has_no_console_errors_or_csp_violations(app):
    page = app.page
    # a run of the first example with every run control, a live change and a stop
    app.play()
    page.get_by_test_id("pause").click()
    expect(page.locator("#run-state")).to_have_text("Paused")
    t = app.run()["t"]
    page.get_by_test_id("step").click()
    app.wait("(t) => window.playground.player.run.t > t", t)
    app.set_speed("10")
    page.get_by_test_id("play").click()
    expect(page.locator("#run-state")).to_have_text("Running")
    app.select_node("app1")
    page.get_by_test_id("details").get_by_test_id("fail").click()
    expect(page.get_by_test_id("details").locator(".pill")).to_have_text("Down")
    page.get_by_test_id("details").get_by_test_id("recover").click()
    workers = page.get_by_test_id("field-workers")  # a live parameter change
    workers.fill("12")
    workers.press("Enter")
    expect(page.get_by_test_id("command-log")).to_contain_text("set app1")
    page.get_by_test_id("reset").click()
    app.wait("() => window.playground.player.stats.snapshots >= 2")
    page.get_by_test_id("stop").click()
    expect(page.locator("#run-state")).to_have_text("Ready")

    # editing: help, zoom, fit, a palette drag, a link, undo, the other Design menu items
    page.keyboard.press("?")
    expect(page.get_by_test_id("help")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("#zoom-in").click()
    page.get_by_test_id("fit").click()
    app.new_design()
    client = app.drop_from_palette("client", 400, 400)
    svc = app.drop_from_palette("service", 640, 400)
    app.link_by_handle(client, svc)
    expect(page.get_by_test_id("validity")).to_have_text("Ready to run")
    page.get_by_test_id("undo").click()
    app.wait("() => window.playground.store.doc.links.length === 0")
    with page.expect_download() as download:
        app.menu("menu-export")
    assert json.loads(Path(download.value.path()).read_text())["components"]
    app.menu("example-cache-in-front-of-database")
    expect(page.get_by_test_id("doc-name")).to_have_text("Cache in front of a database")
    app.shot("09-session-end")

    assert app.console_errors == []
    assert app.csp_violations() == []
    assert app.dialogs == []
