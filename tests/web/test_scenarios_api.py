"""The scenario and run-link API of docs/api.md: saving, history, copies, run links, limits,
and its OpenAPI description."""

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def create(client, document):
    response = post(client, "/api/scenarios", {"document": document})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_returns_the_scenario_and_get_reads_it_back(client, design):
    made = create(client, design)
    assert made["title"] == design["name"] and made["description"] == design["description"]
    assert made["version"] == 1 and made["can_edit"] is True and made["document"] == design
    assert made["forked_from"] is None and made["lesson"] is None
    assert made["url"] == f"/s/{made['id']}" and made["embed_url"] == f"/embed/{made['id']}"
    assert made["preview_url"] == f"/s/{made['id']}/preview.png"
    assert made["created_at"].endswith("Z")
    got = client.get(f"/api/scenarios/{made['id']}")
    assert got.status_code == 200 and got.json() == made


def test_unknown_ids_are_json_404s(client):
    for url in ("/api/scenarios/nope", "/api/runs/nope", "/api/scenarios/nope/versions",
                "/api/no-such-endpoint"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json" and response.json()["errors"]


def test_list_pages_newest_first_and_filters_by_title(client, design):
    for i in range(27):
        create(client, design | {"name": f"Design {i}"})
    first = client.get("/api/scenarios").json()
    assert (first["count"], first["pages"], first["page"]) == (27, 2, 1)
    assert len(first["results"]) == 25 and "document" not in first["results"][0]
    assert first["results"][0]["title"] == "Design 26"
    second = client.get("/api/scenarios?page=2").json()
    assert [r["title"] for r in second["results"]] == ["Design 1", "Design 0"]
    found = client.get("/api/scenarios?q=design 1").json()
    assert found["count"] == 11  # 1 and 10..19
    assert client.get("/api/scenarios?page=0").status_code == 400
    assert client.get("/api/scenarios?page=x").json()["errors"][0].startswith("page: ")
    # PostgreSQL's text holds no NUL: a search for one finds nothing instead of failing (500)
    assert client.get("/api/scenarios?q=de%00sign").json()["count"] == 0


def test_update_keeps_the_replaced_version_and_conflicts_on_a_stale_base(client, design):
    made = create(client, design)
    url = f"/api/scenarios/{made['id']}"
    changed = design | {"name": "Bigger cache", "description": "now with more"}
    updated = put(client, url, {"document": changed, "base_version": 1})
    assert updated.status_code == 200
    body = updated.json()
    assert (body["version"], body["title"], body["description"]) == (2, "Bigger cache",
                                                                     "now with more")
    history = client.get(f"{url}/versions").json()["results"]
    assert [(v["number"], v["title"]) for v in history] == [(1, design["name"])]
    old = client.get(f"{url}/versions/1").json()
    assert old["document"] == design and old["description"] == design["description"]

    stale = put(client, url, {"document": design | {"name": "Lost"}, "base_version": 1})
    assert stale.status_code == 409 and stale.json()["version"] == 2
    assert stale.json()["errors"][0].startswith("base_version: ")
    assert client.get(url).json()["title"] == "Bigger cache"
    # Without base_version the save goes through (last writer wins).
    assert put(client, url, {"document": design}).json()["version"] == 3


def test_rename_changes_title_and_document_name_as_a_new_version(client, design):
    made = create(client, design)
    url = f"/api/scenarios/{made['id']}"
    renamed = patch(client, url, {"title": "  Read-through cache  "})
    assert renamed.status_code == 200
    body = renamed.json()
    assert body["title"] == body["document"]["name"] == "Read-through cache"
    assert body["version"] == 2
    assert patch(client, url, {"title": ""}).json()["errors"][0].startswith("title: ")
    assert patch(client, url, {"title": "   "}).json()["errors"] == ["title: must not be blank"]


def test_delete_removes_it(client, design):
    made = create(client, design)
    url = f"/api/scenarios/{made['id']}"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get("/api/scenarios").json()["count"] == 0


def test_fork_copies_for_the_forker(client, design):
    from django.test import Client

    made = create(client, design)
    other = Client()
    copied = post(other, f"/api/scenarios/{made['id']}/fork", {})
    assert copied.status_code == 201
    body = copied.json()
    assert body["id"] != made["id"] and body["forked_from"] == made["id"]
    assert body["title"] == f"Copy of {design['name']}" and body["can_edit"] is True
    assert body["document"]["components"] == design["components"]
    assert [r["id"] for r in other.get("/api/scenarios").json()["results"]] == [body["id"]]
    assert client.get(f"/api/scenarios/{made['id']}").json()["version"] == 1


def test_restore_brings_back_a_version_and_keeps_the_one_it_replaced(client, design):
    made = create(client, design)
    url = f"/api/scenarios/{made['id']}"
    put(client, url, {"document": design | {"name": "Second"}})
    restored = post(client, f"{url}/versions/1/restore", {})
    assert restored.status_code == 200
    assert restored.json()["version"] == 3 and restored.json()["document"] == design
    numbers = [v["number"] for v in client.get(f"{url}/versions").json()["results"]]
    assert numbers == [2, 1]
    assert client.get(f"{url}/versions/2").json()["title"] == "Second"
    assert post(client, f"{url}/versions/9/restore", {}).status_code == 404


def test_history_keeps_the_newest_versions_only(client, design, settings):
    settings.PLAYGROUND_MAX_VERSIONS = 3
    made = create(client, design)
    url = f"/api/scenarios/{made['id']}"
    for i in range(5):
        put(client, url, {"document": design | {"name": f"Save {i}"}})
    assert client.get(url).json()["version"] == 6
    numbers = [v["number"] for v in client.get(f"{url}/versions").json()["results"]]
    assert numbers == [5, 4, 3]


def test_saved_designs_per_owner_are_capped(client, design, settings):
    settings.PLAYGROUND_MAX_SCENARIOS_PER_OWNER = 2
    made = create(client, design)
    create(client, design)
    refused = post(client, "/api/scenarios", {"document": design})
    assert refused.status_code == 400 and refused.json()["errors"][0].startswith("scenarios: ")
    assert post(client, f"/api/scenarios/{made['id']}/fork", {}).status_code == 400


def test_invalid_documents_are_refused_naming_the_path(client, design):
    design["components"][2]["params"]["workers"] = 0
    response = post(client, "/api/scenarios", {"document": design})
    assert response.status_code == 400
    assert response.json()["errors"] == ["document.components[2].params.workers: must be >= 1"]
    assert post(client, "/api/scenarios", {"document": []}).json()["errors"] == [
        "document: input should be an object"]
    assert post(client, "/api/scenarios", {}).json()["errors"] == ["document: field required"]


def test_bodies_are_strict(client, design):
    made = create(client, design)
    extra = post(client, "/api/scenarios", {"document": design, "owner": 1})
    assert extra.json()["errors"] == ["owner: unknown key"]
    as_text = put(client, f"/api/scenarios/{made['id']}",
                  {"document": design, "base_version": "1"})
    assert as_text.status_code == 400 and as_text.json()["errors"][0].startswith("base_version")
    broken = client.post("/api/scenarios", "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["errors"][0].startswith("(body): ")
    wrong = client.post(f"/api/scenarios/{made['id']}")
    assert wrong.status_code == 405 and "GET" in wrong["Allow"]


def test_oversized_bodies_and_documents_are_413(client, design):
    huge = client.post("/api/scenarios", "x" * 2_000_000, content_type="application/json")
    assert huge.status_code == 413 and huge.json()["errors"][0].startswith("(body): larger")
    design["description"] = "x" * 1_100_000  # the body is under its limit, the document not
    big = post(client, "/api/scenarios", {"document": design})
    assert big.status_code == 413 and big.json()["errors"][0].startswith("document: larger")


def run_body(design, **changes):
    return {"document": design, "seed": 7, "until_s": 120.0, "scenario": None,
            "commands": [{"at_s": 12.5, "action": "fail", "target": "db"},
                         {"at_s": 30, "action": "set", "target": "app1",
                          "params": {"workers": 4}}]} | changes


def test_run_links_are_stored_and_read_back(client, design):
    saved = create(client, design)
    made = post(client, "/api/runs", run_body(design, scenario=saved["id"]))
    assert made.status_code == 201
    body = made.json()
    assert body["url"] == f"/r/{body['id']}" and body["scenario"] == saved["id"]
    assert body["commands"][0] == {"at_s": 12.5, "action": "fail", "target": "db",
                                   "params": {}}
    got = client.get(f"/api/runs/{body['id']}").json()
    assert got == body and got["title"] == design["name"] and got["seed"] == 7


@pytest.mark.parametrize(("change", "error"), [
    ({"commands": [{"at_s": 1, "action": "fail", "target": "nope"}]},
     "commands[0].target: no component with id 'nope'"),
    ({"commands": [{"at_s": 5, "action": "fail", "target": "db"},
                   {"at_s": 2, "action": "recover", "target": "db"}]},
     "commands[1].at_s: commands must be in time order (2 comes after 5)"),
    ({"commands": [{"at_s": 130, "action": "fail", "target": "db"}]},
     "commands[0].at_s: must be <= until_s (120)"),
    ({"commands": [{"at_s": 1, "action": "set", "target": "app1", "params": {"workers": 0}}]},
     "commands[0].params.workers: must be >= 1"),
    ({"commands": [{"at_s": 1, "action": "slow", "target": "db", "params": {}}]},
     'commands[0].params: slow takes {"factor": number in (0, 1000]}'),
    ({"commands": [{"at_s": 1, "action": "fail", "target": "db", "when": 3}]},
     "commands[0].when: unknown key"),
    ({"until_s": 90000.0}, "until_s: input should be less than or equal to 86400"),
    ({"scenario": "unknown"}, "scenario: no scenario with this id"),
])
def test_run_links_with_bad_commands_are_refused_naming_the_path(client, design, change, error):
    response = post(client, "/api/runs", run_body(design, **change))
    assert response.status_code == 400
    assert error in response.json()["errors"]


def test_run_links_check_their_document_and_size(client, design, settings):
    design["links"][0]["to"] = "ghost"
    bad = post(client, "/api/runs", run_body(design))
    assert bad.status_code == 400
    assert bad.json()["errors"][0].startswith("document.links[0].to: ")
    commands = [{"at_s": 1, "action": "fail", "target": "db"}] * 1001
    many = post(client, "/api/runs", run_body(design, commands=commands))
    assert many.json()["errors"] == ["commands: list should have at most 1000 items after "
                                     "validation, not 1001"]


def test_writes_are_rate_limited_with_retry_after(client, design, settings):
    settings.PLAYGROUND_RATE_LIMITS = {"api_write": "2/60"}
    made = create(client, design)
    assert put(client, f"/api/scenarios/{made['id']}", {"document": design}).status_code == 200
    limited = post(client, "/api/scenarios", {"document": design})
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["errors"][0].startswith("(rate limit): ")
    assert client.get(f"/api/scenarios/{made['id']}").status_code == 200  # reads are not
    settings.PLAYGROUND_RATE_LIMITS = {"api_write": "off"}
    assert post(client, "/api/scenarios", {"document": design}).status_code == 201


def test_the_rate_limit_counts_per_client_ip(client, design, settings):
    settings.PLAYGROUND_RATE_LIMITS = {"api_write": "1/60"}
    assert post(client, "/api/scenarios", {"document": design}).status_code == 201
    assert post(client, "/api/scenarios", {"document": design}).status_code == 429
    other = post(client, "/api/scenarios", {"document": design}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 201


# -- OpenAPI ---------------------------------------------------------------------------------
def api_routes() -> set[str]:
    """Every URL pattern under /api/, written as OpenAPI paths ({name} for <conv:name>)."""
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    return {"/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            for route in walk(get_resolver().url_patterns) if route.startswith("api/")}


def test_openapi_describes_every_api_url(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"]
    routes = api_routes()
    assert "/api/scenarios/{share_id}/versions/{number}/restore" in routes
    assert routes <= set(spec["paths"]), routes - set(spec["paths"])
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert method in {"get", "post", "put", "patch", "delete"}, path
            assert operation["responses"], (path, method)
            names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path)), (path, method)
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', response.content.decode()))
    assert refs <= set(schemas), refs - set(schemas)
    assert schemas["ScenarioUpdate"]["additionalProperties"] is False
    assert set(schemas["ScenarioOut"]["required"]) >= {"id", "document", "version", "can_edit"}
    put_op = spec["paths"]["/api/scenarios/{share_id}"]["put"]
    assert {"409", "413", "429"} <= set(put_op["responses"])
    assert "X-CSRFToken" in {p["name"] for p in put_op["parameters"]}
