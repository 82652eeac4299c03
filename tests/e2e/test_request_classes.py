"""Request classes in the editor (issue 18): type a client's classes as lines, see a bad
line's message under the field, route a class along a link by ticking it, and see the
validator name a class left with nowhere to go; play and chart each class apart.

Driven the way a person drives it; `window.playground` is only read.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_editor import App

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test
    expect = None

pytestmark = pytest.mark.browser


def two_services() -> dict:
    """users -> proxy -> feed, photo."""
    return {
        "format": "playground.scenario/v1", "name": "Layer 7", "seed": 3,
        "duration_s": 60, "warmup_s": 0,
        "components": [
            {"id": "users", "kind": "client", "position": {"x": 100, "y": 240},
             "params": {"rate_rps": 40}},
            {"id": "proxy", "kind": "reverse_proxy", "position": {"x": 340, "y": 240}},
            {"id": "feed", "kind": "service", "position": {"x": 580, "y": 160},
             "params": {"service_ms": 5}},
            {"id": "photo", "kind": "service", "position": {"x": 580, "y": 320},
             "params": {"service_ms": 40}},
        ],
        "links": [{"from": "users", "to": "proxy"}, {"from": "proxy", "to": "feed"},
                  {"from": "proxy", "to": "photo"}],
    }


def select_link(app: App, a: str, b: str) -> None:
    app.select_node(a)
    app.page.get_by_title(f"Select the link {a} → {b}").click()


def test_type_classes_and_route_them_by_link(app):
    app.import_design(two_services())
    app.select_node("users")
    classes = app.page.get_by_test_id("field-classes")
    classes.fill("GET /feed, 0.9\nPOST /photo, 0")
    classes.blur()
    error = app.page.locator('.field[data-field="classes"] .field-error')
    expect(error).to_have_text("line 2: share must be > 0")
    assert "classes" not in app.doc()["components"][0]["params"]
    classes.fill("GET /feed, 0.9\nPOST /photo, 0.1, write")
    classes.blur()
    expect(error).to_be_hidden()
    app.shot("request-classes-client", app.page.locator('.field[data-field="classes"]'))
    assert app.doc()["components"][0]["params"]["classes"] == [
        {"name": "GET /feed", "share": 0.9}, {"name": "POST /photo", "share": 0.1, "op": "write"}]

    # the photo link carries uploads only: untick "all", tick POST /photo
    select_link(app, "proxy", "photo")
    app.page.get_by_test_id("field-classes-all").uncheck()
    app.page.get_by_test_id("field-class-GET /feed").uncheck()
    links = {(link["from"], link["to"]): link for link in app.doc()["links"]}
    assert links[("proxy", "photo")]["classes"] == ["POST /photo"]
    app.shot("request-classes-link", app.page.locator('.field[data-field="classes"]'))
    # and the feed link the feed only: then uploads still reach photo, feeds feed
    select_link(app, "proxy", "feed")
    app.page.get_by_test_id("field-classes-all").uncheck()
    app.page.get_by_test_id("field-class-POST /photo").uncheck()
    links = {(link["from"], link["to"]): link for link in app.doc()["links"]}
    assert links[("proxy", "feed")]["classes"] == ["GET /feed"]
    expect(app.page.get_by_test_id("validity")).to_have_text("Ready to run")

    # no link carries the uploads any more: the validator names the class and the proxy
    select_link(app, "proxy", "photo")
    app.page.get_by_test_id("field-class-POST /photo").uncheck()
    expect(app.page.get_by_test_id("validity")).to_have_attribute("data-state", "invalid")
    app.select_node("proxy")
    expect(app.page.locator(".panel-problems")).to_contain_text(
        "reverse_proxy 'proxy' receives class 'POST /photo' (writes) but none of its links "
        "carries it")
    app.assert_clean()


def test_play_and_chart_each_class(app):
    doc = two_services()
    doc["components"][0]["params"]["classes"] = [
        {"name": "GET /feed", "share": 0.9}, {"name": "POST /photo", "share": 0.1, "op": "write"}]
    doc["links"][1]["classes"] = ["GET /feed"]
    doc["links"][2]["classes"] = ["POST /photo"]
    app.import_design(doc)
    app.set_speed("5")
    app.play()
    app.wait("() => (window.playground.player.run?.t || 0) >= 8", timeout=30_000)
    app.page.get_by_test_id("charts-mode-classes").click()
    charts = app.page.get_by_test_id("charts")
    series = charts.locator("[data-chart=throughput] .chart-value")
    expect(series).to_have_count(2)
    assert [series.nth(i).get_attribute("title") for i in range(2)] == [
        "users: GET /feed", "users: POST /photo"]
    # 40 rps split 9:1, each class's own line
    app.page.wait_for_timeout(1000)
    def ok_rps(name: str) -> float:
        text = charts.locator(f"[data-series='users/{name}:ok_rps'] b").inner_text()
        return float(text.split()[0])

    feed, photo = ok_rps("GET /feed"), ok_rps("POST /photo")
    assert 20 < feed < 50 and 0 < photo < 10, (feed, photo)
    p99 = charts.locator("[data-series='users/POST /photo:p99'] b").inner_text()
    assert p99 != "—"
    app.shot("request-classes-charts", charts)
    app.assert_clean()
