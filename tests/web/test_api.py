"""The editor's JSON endpoints."""

import json
from pathlib import Path

import pytest
from django.test import Client

from simulations import KINDS

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / \
    "cache-in-front-of-database.json"


def test_kinds_lists_every_registry_kind_with_its_params(client):
    body = client.get("/api/kinds").json()
    assert set(body["kinds"]) == set(KINDS)
    workers = next(p for p in body["kinds"]["service"]["params"] if p["name"] == "workers")
    assert workers["type"] == "int" and workers["minimum"] == 1 and workers["default"] == 1
    assert body["limits"]["components"] > 0


def test_validate_accepts_a_valid_design_and_names_the_paths_of_errors(client):
    doc = json.loads(EXAMPLE.read_text())
    ok = client.post("/api/validate", doc, content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"ok": True, "errors": []}
    doc["components"][2]["params"]["workers"] = 0
    bad = client.post("/api/validate", doc, content_type="application/json")
    assert bad.status_code == 200 and bad.json()["ok"] is False
    assert bad.json()["errors"] == ["components[2].params.workers: must be >= 1"]


def test_validate_refuses_oversized_documents(client):
    response = client.post("/api/validate", "x" * 1_000_001, content_type="application/json")
    assert response.status_code == 413


def test_validate_needs_the_csrf_token():
    strict = Client(enforce_csrf_checks=True)
    doc = EXAMPLE.read_text()
    assert strict.post("/api/validate", doc, content_type="application/json").status_code \
        == 403
    strict.get("/")  # sets the csrftoken cookie, as the editor page does
    token = strict.cookies["csrftoken"].value
    response = strict.post("/api/validate", doc, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200


@pytest.mark.parametrize("slug", ["cache-in-front-of-database"])
def test_examples_are_listed_and_served(client, slug):
    listed = client.get("/api/examples").json()["examples"]
    assert slug in [e["slug"] for e in listed]
    assert client.get(f"/api/examples/{slug}").json()["format"] == "playground.scenario/v1"
    assert client.get("/api/examples/nope").status_code == 404
