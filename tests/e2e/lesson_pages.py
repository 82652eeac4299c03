"""Opening a built-in lesson in the editor and playing it, as a learner does (shared by the
comparison and lesson tests). The page is driven with mouse and keyboard; `window.playground`
is only read."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LESSON_FILES = sorted((ROOT / "docs" / "lessons").glob("*.json"))
SHOTS = ROOT / "artifacts" / "e2e"
VIEWPORT = {"width": 1440, "height": 900}


def lesson_urls(base: str) -> dict[str, str]:
    """slug -> the lesson's page, from the lessons API (the live server loaded the files)."""
    with urllib.request.urlopen(f"{base}/api/lessons", timeout=10) as r:
        return {row["slug"]: row["url"] for row in json.load(r)["results"]}


def open_and_play(page, url: str, until_s: float, speed: str = "10") -> None:
    """Open a lesson, play it at `speed` and wait until its clock passed `until_s`."""
    page.goto(url)
    page.wait_for_function("() => document.body.classList.contains('ready')")
    page.get_by_test_id("speed").select_option(speed)
    page.get_by_test_id("play").click()
    page.wait_for_function("(t) => (window.playground.player.run?.t || 0) >= t", arg=until_s,
                           timeout=60_000)


def select_component(page, cid: str) -> None:
    """Click a component's card on the canvas (where Cytoscape drew it)."""
    box = page.get_by_test_id("canvas").bounding_box()
    x, y = page.evaluate("(id) => { const p = window.playground.cy.getElementById(id)"
                         ".renderedPosition(); return [p.x, p.y]; }", cid)
    page.mouse.click(box["x"] + x, box["y"] + y + 8)
    page.wait_for_function("(id) => window.playground.store.selection.components.has(id)"
                           " && window.playground.store.selection.components.size === 1",
                           arg=cid, timeout=5_000)
