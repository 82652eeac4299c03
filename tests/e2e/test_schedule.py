"""A client's schedule in the editor (issue 17): pick a flash crowd for a client, see the
sparkline of its rate change, play, and see the client's rate follow the schedule; a bad
value shows the validator's message under the field it names.

Driven the way a person drives it; `window.playground` is only read.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_editor import App
from tests.e2e.test_theory_panel import metric

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` marker then skips each test
    expect = None

pytestmark = pytest.mark.browser


def steady() -> dict:
    """users at 40 rps -> app (50 workers of 10 ms: never the bottleneck)."""
    return {
        "format": "playground.scenario/v1", "name": "Flash crowd", "seed": 3,
        "duration_s": 90, "warmup_s": 0,
        "components": [
            {"id": "users", "kind": "client", "position": {"x": 120, "y": 240},
             "params": {"rate_rps": 40}},
            {"id": "app", "kind": "service", "position": {"x": 380, "y": 240},
             "params": {"workers": 50, "service_ms": 10}},
        ],
        "links": [{"from": "users", "to": "app"}],
    }


def sparkline_peak(app: App) -> float:
    return float(app.page.get_by_test_id("schedule-sparkline").get_attribute("data-peak"))


def sent_rps(app: App) -> float:
    return app.read("() => (window.playground.player.run?.links?.['users>app'] || [0])[0]")


def test_pick_a_flash_crowd_see_it_drawn_and_played(app):
    app.import_design(steady())
    app.select_node("users")
    expect(app.page.get_by_test_id("schedule-sparkline")).to_be_visible()
    assert sparkline_peak(app) == 40  # a constant rate: a flat line

    app.page.get_by_test_id("field-schedule-shape").select_option("spike")
    # the starter spike: five times the rate from a third of the run on
    expect(app.page.get_by_test_id("schedule-sparkline")).to_have_attribute("data-peak", "200")
    schedule = app.doc()["components"][0]["params"]["schedule"]
    assert schedule == {"shape": "spike", "at_s": 30, "peak_rps": 200, "rise_s": 0,
                        "hold_s": 15, "decay_s": 15}
    for name, value in (("at_s", "4"), ("hold_s", "60"), ("peak_rps", "400")):
        field = app.page.get_by_test_id(f"field-schedule-{name}")
        field.fill(value)
        field.press("Enter")
    expect(app.page.get_by_test_id("schedule-sparkline")).to_have_attribute("data-peak", "400")
    assert app.doc()["components"][0]["params"]["schedule"]["at_s"] == 4
    app.shot("schedule-inspector", app.page.locator("#inspector"))

    app.set_speed("2")
    app.play()
    app.select_node("users")
    # before the crowd: 40 rps; from 4 s: 400, sent as scheduled
    app.wait("() => (window.playground.player.run?.t || 0) >= 6", timeout=20_000)
    app.wait("() => window.playground.player.run.components.users.target_rps === 400")
    app.wait("() => (window.playground.player.run.links['users>app'] || [0])[0] > 300",
             timeout=20_000)
    _, now, _ = metric(app, "target")
    expect(now).to_have_text("400 rps")
    assert 300 < sent_rps(app) < 500
    app.assert_clean()


def test_a_bad_schedule_value_shows_the_validators_message(app):
    app.import_design(steady())
    app.select_node("users")
    app.page.get_by_test_id("field-schedule-shape").select_option("points")
    points = app.page.get_by_test_id("field-schedule-points")
    points.fill("0, 40\n30, 900000\n60, 40")
    points.blur()
    # the validator's bound, shown under the points as the line it names
    expect(app.page.locator('.field[data-field="points"] .field-error')).to_have_text(
        "line 2 (rps): must be <= 200000")
    points.fill("0, 40\n30, 200\n20, 40")
    points.blur()
    expect(app.page.locator('.field[data-field="points"] .field-error')).to_have_text(
        "line 3: times must increase (20 after 30)")
    app.page.get_by_test_id("field-schedule-shape").select_option("")
    assert "schedule" not in app.doc()["components"][0]["params"]
    app.assert_clean()
