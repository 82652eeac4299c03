"""Issue #15: no lesson sends the reader to the command line. Every figure a lesson names (its
`view.watch`, docs/lessons.md) is on screen in the editor: a learner opens the lesson, plays
it, clicks each named component and finds the figure's row in the live panel, with a live
value in its "now" column, marked as one the lesson is about. One test per lesson."""

from __future__ import annotations

import json

import pytest

from tests.e2e.lesson_pages import (
    LESSON_FILES,
    VIEWPORT,
    lesson_urls,
    open_and_play,
    select_component,
)

# Lessons whose figures exist only between two of their events: lesson 14's stale reads and
# refusals are per side of the partition, which lasts from 40 to 80 s.
DURING = {"14": 60.0}


def moment(doc: dict, number: str) -> float:
    """When to look: after the warm-up, and after the scheduled events of the components the
    lesson names (a cache node that joins at 60 s has a hit ratio only from then on)."""
    if number in DURING:
        return DURING[number]
    watched = set(doc["view"]["watch"])
    touching = [ev["at_s"] for ev in doc.get("events", [])
                if set(ev["target"] if isinstance(ev["target"], list) else [ev["target"]])
                & watched]
    return max([doc.get("warmup_s", 0) + 8, *(t + 5 for t in touching)])


def shown_figures(page, cid: str, figures: list[str]) -> dict[str, list[str]]:
    """figure -> the live panel's "now" texts of its rows (one figure may have several: the
    requests to each target, the steps of a failover); absent: no such row. A row of several
    may be empty ("—": no read served on a side cut off) only if its tooltip says why."""
    select_component(page, cid)
    panel = page.get_by_test_id("live-metrics")
    panel.wait_for()
    page.wait_for_timeout(600)  # the panel refreshes every 250 ms
    out = {}
    for figure in figures:
        rows = panel.locator(f"tr[data-figure='{figure}']")
        for i in range(rows.count()):
            row = rows.nth(i)
            assert "watched" in (row.get_attribute("class") or ""), (cid, figure)
            now = row.locator("td").first
            text = now.inner_text().strip()
            if text in ("", "—") and rows.count() > 1:
                assert now.get_attribute("title"), (cid, figure, "empty without a reason")
                continue
            out.setdefault(figure, []).append(text)
    return out


@pytest.mark.browser
@pytest.mark.parametrize("path", LESSON_FILES, ids=[p.stem[:2] for p in LESSON_FILES])
def test_every_figure_a_lesson_names_is_live_in_the_editor(browser, live_server_url, path):
    doc = json.loads(path.read_text())
    text = doc["description"]
    assert "--json" not in text and "python -m" not in text, "sends the reader to the command line"
    watch = doc.get("view", {}).get("watch", {})
    assert watch, "a lesson names the figures it is about (view.watch)"
    url = live_server_url + lesson_urls(live_server_url)[path.stem[3:]]
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        open_and_play(page, url, until_s=moment(doc, path.stem[:2]), speed="25")
        page.get_by_test_id("pause").click()
        missing = []
        for cid, figures in watch.items():
            now = shown_figures(page, cid, figures)
            missing += [(cid, f) for f in figures
                        if not now.get(f) or any(text in ("", "—") for text in now[f])]
    finally:
        context.close()
    assert not missing, f"named by the lesson, not live in the editor: {missing}"
