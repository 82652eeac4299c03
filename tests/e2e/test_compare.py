"""Issue #15, item 2: a lesson that compares groups opens with one chart line per group, so
the comparison it is about is on screen (before, its charts added the four groups together),
and the components it names are marked on the canvas."""

from __future__ import annotations

import json
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips the test
    expect = None

from tests.e2e.lesson_pages import LESSON_FILES, SHOTS, VIEWPORT, lesson_urls, open_and_play

LB_LESSON = next(p for p in LESSON_FILES if p.name.startswith("03-"))


@pytest.mark.browser
def test_the_load_balancing_lesson_compares_its_four_groups(browser, live_server_url):
    doc = json.loads(LB_LESSON.read_text())
    users = [c for c in doc["components"] if c["kind"] == "client"]
    url = live_server_url + lesson_urls(live_server_url)["load-balancing-algorithms"]
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        open_and_play(page, url, until_s=doc["warmup_s"] + 20)
        charts = page.get_by_test_id("charts")
        expect(page.get_by_test_id("charts-mode-clients")).to_have_attribute("aria-pressed", "true")
        for card in ("latency", "throughput", "errors"):
            series = charts.locator(f"[data-chart={card}] .chart-value")
            expect(series).to_have_count(len(users))
            # each line is a group, named after it (the full label in its tooltip)
            titles = [series.nth(i).get_attribute("title") for i in range(len(users))]
            assert titles == [c["label"] for c in users]
        # the groups' own p99s, live: round robin and random well above the dynamic algorithms
        page.wait_for_timeout(1500)
        p99 = {}
        for c in users:
            text = charts.locator(f"[data-series='{c['id']}:p99'] b").inner_text()
            assert re.fullmatch(r"[\d,.]+", text), (c["id"], text)
            p99[c["id"]] = float(text.replace(",", ""))
        assert min(p99["users_rr"], p99["users_rnd"]) > max(p99["users_lc"], p99["users_p2c"])
        # the figures the lesson is about: their components are marked on the canvas
        watched = page.evaluate("() => window.playground.cy.nodes('.watched').map((n) => n.id())")
        assert sorted(watched) == sorted(doc["view"]["watch"])
        # "Figures to watch" in the lesson panel: a click opens the component's live panel,
        # where the lesson's figures are highlighted
        watch = page.get_by_test_id("lesson-watch")
        expect(watch.locator(".lesson-watch-item")).to_have_count(len(doc["view"]["watch"]))
        watch.locator(".lesson-watch-item[data-component=rr_old]").click()
        metrics = page.get_by_test_id("live-metrics")
        for figure in doc["view"]["watch"]["rr_old"]:
            expect(metrics.locator(f"tr.watched[data-figure={figure}]")).to_be_visible()
        expect(metrics.locator("tr.watched")).to_have_count(len(doc["view"]["watch"]["rr_old"]))
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "compare-lesson-03-per-client.png"))

        # all requests together is one click away, and back
        page.get_by_test_id("charts-mode-total").click()
        expect(charts.locator("[data-chart=latency] .chart-value")).to_have_count(3)
        expect(page.get_by_test_id("charts-caption")).to_have_text(
            "Every request of the design together")
        # the component selected on the canvas (the watch list's click) is one click away too
        page.get_by_test_id("charts-mode-components").click()
        expect(page.get_by_test_id("charts-mode-components")).to_have_attribute(
            "aria-pressed", "true")
        util = charts.locator("[data-chart=util] .chart-value")
        expect(util).to_have_count(1)
        expect(util).to_have_attribute("title", "Old server (rr)")
    finally:
        context.close()


@pytest.mark.browser
def test_a_lesson_can_open_with_chosen_components_compared(browser, live_server_url):
    """The sharding lesson's view lists its four shards: one utilisation line per shard."""
    doc = json.loads(next(p for p in LESSON_FILES if p.name.startswith("10-")).read_text())
    shards = doc["view"]["compare"]
    url = live_server_url + lesson_urls(live_server_url)["sharding-hot-key"]
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        open_and_play(page, url, until_s=doc["warmup_s"] + 15)
        mode = page.get_by_test_id("charts-mode-components")
        expect(mode).to_have_attribute("aria-pressed", "true")
        util = page.get_by_test_id("charts").locator("[data-chart=util] .chart-value")
        expect(util).to_have_count(len(shards))
        page.wait_for_timeout(1000)
        busy = [float(util.nth(i).locator("b").inner_text().rstrip("%"))
                for i in range(len(shards))]
        # the hot key's shard stands out before the celebrity's moment passes (60 s)
        assert max(busy) > 2 * sorted(busy)[1], busy
    finally:
        context.close()
