"""A link's payload and protocol fields in the editor (issue 18): set in the link inspector,
then shown live on the canvas and in the details panel as a busy link with a queue."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_editor import App

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips the test
    expect = None


def sized_design() -> dict:
    """250 kB answers at 60/s: 120 Mbit/s, over a link that will get 100."""
    return {
        "format": "playground.scenario/v1", "name": "Big answers", "duration_s": 300,
        "components": [
            {"id": "users", "kind": "client", "label": "Users", "position": {"x": 100, "y": 200},
             "params": {"rate_rps": 60, "response_kb": 250}},
            {"id": "origin", "kind": "service", "label": "Origin",
             "position": {"x": 600, "y": 200}, "params": {"workers": 16, "service_ms": 20}}],
        "links": [{"from": "users", "to": "origin", "latency_ms": 20}],
    }


def click_link(app: App, a: str, b: str) -> None:
    """Click the middle of the arrow from a to b (between the cards, off its label)."""
    (ax, ay), (bx, by) = app.node_xy(a), app.node_xy(b)
    app.page.mouse.click(ax + (bx - ax) * 0.35, ay + (by - ay) * 0.35)
    app.wait("(k) => window.playground.store.selection.links.has(k)", f"{a}>{b}")


@pytest.mark.browser
def test_a_links_bandwidth_is_set_in_the_inspector_and_shows_live(app):
    page = app.page
    app.import_design(sized_design())
    click_link(app, "users", "origin")
    for name in ("bandwidth_mbps", "protocol", "loss", "keepalive", "retransmit_ms",
                 "encoding", "encoding_ms", "overhead_kb"):
        expect(page.get_by_test_id(f"field-{name}")).to_be_visible()
    bandwidth = page.get_by_test_id("field-bandwidth_mbps")  # the input itself
    bandwidth.fill("100")
    bandwidth.press("Enter")
    app.wait("() => window.playground.store.doc.links[0].bandwidth_mbps === 100")
    # A value out of range is refused on the spot, naming the range.
    loss = page.get_by_test_id("field-loss")
    loss.fill("0.9")
    loss.press("Enter")
    expect(page.locator(".field", has=loss)).to_contain_text(re.compile(r"0\.5"))
    assert "loss" not in app.doc()["links"][0]
    loss.fill("")
    loss.press("Enter")

    app.set_speed("5")
    app.play()
    # 120 Mbit/s offered to 100: the link is always busy and its queue grows.
    app.wait("() => { const v = window.playground.player.run.links['users>origin'];"
             " return v && v[2] && v[2].utilisation[1] > 0.95 && v[2].queue[1] > 5; }")
    app.wait("() => window.playground.cy.getElementById('users->origin').hasClass('busy')"
             " || window.playground.cy.edges().some((e) => e.hasClass('busy'))")
    click_link(app, "users", "origin")
    expect(page.get_by_test_id("link-busy")).to_have_text(re.compile(r"^\d+% · (9\d|100)%$"))
    expect(page.get_by_test_id("link-queue")).to_have_text(re.compile(r"^\d+ · [1-9][\d,.k]*$"))
    app.shot("net-busy-link")
    app.assert_clean()
