"""POST /api/picture.svg: the editor's pictures (SVG and PNG export, version previews) come
from the renderer of the share previews (preview.py), at the design's own size."""

import xml.etree.ElementTree as ET

from django.test import Client

from playground.pages import preview

SVG = "{http://www.w3.org/2000/svg}"


def picture(client, document) -> ET.Element:
    response = client.post("/api/picture.svg", {"document": document},
                           content_type="application/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    return ET.fromstring(response.content)


def texts(svg: ET.Element) -> list[str]:
    return [t.text for t in svg.iter(f"{SVG}text")]


def test_the_picture_is_the_share_cards_drawing_at_the_designs_own_size(client, design):
    design["components"][0]["label"] = "<b>&'"
    svg = picture(client, design)
    card = ET.fromstring(preview.svg(design))
    assert (card.get("width"), card.get("height")) == ("1200", "630")
    xs = [c["position"]["x"] for c in design["components"]]
    ys = [c["position"]["y"] for c in design["components"]]
    assert int(svg.get("width")) == max(preview.NATURAL_MIN_WIDTH, round(
        max(xs) - min(xs) + preview.CARD_W + 2 * preview.MARGIN))
    assert int(svg.get("height")) == round(max(ys) - min(ys) + preview.CARD_H
                                           + preview.TITLE_BAND + preview.MARGIN)
    # the same drawing: title, subtitle, a card per component, an arrow per link
    assert texts(svg)[:2] == texts(card)[:2] == [design["name"], texts(card)[1]]
    assert "<b>&'" in texts(svg)
    assert sum(1 for _ in svg.iter(f"{SVG}line")) == len(design["links"])
    assert len(list(svg.iter(f"{SVG}g"))) == len(list(card.iter(f"{SVG}g"))) == \
        len(design["components"])


def test_a_design_far_larger_than_a_screen_is_drawn_at_most_8000_pixels(client, design):
    design["components"][1]["position"] = {"x": 1e7, "y": 0}
    svg = picture(client, design)
    assert int(svg.get("width")) <= preview.NATURAL_MAX_SIDE


def test_any_json_object_draws_and_what_is_not_one_is_refused(client):
    junk = {"name": 5, "components": [7, {"id": ["x"], "kind": "nope",
                                          "position": {"x": "1", "y": True}},
                                      {"id": "b", "position": {"x": 1e400, "y": 0}}],
            "links": [1, {"from": ["x"], "to": "b"}, {"from": "b"}]}
    svg = picture(client, junk)
    assert len(list(svg.iter(f"{SVG}g"))) == 2
    assert picture(client, {}).get("width") == str(preview.NATURAL_MIN_WIDTH)
    bad = client.post("/api/picture.svg", {"document": []}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["errors"][0].startswith("document:")
    assert client.post("/api/picture.svg", {}, content_type="application/json"
                       ).json()["errors"] == ["document: field required"]
    big = client.post("/api/picture.svg", '{"document": {"name": "' + "x" * 2_000_000 + '"}}',
                      content_type="application/json")
    assert big.status_code == 413 and "errors" in big.json()
    assert client.get("/api/picture.svg").status_code == 405


def test_the_picture_needs_the_csrf_token(design):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/api/picture.svg", {"document": design},
                           content_type="application/json")
    assert response.status_code == 403
