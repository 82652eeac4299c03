"""Who may do what to saved scenarios (docs/api.md, playground/accounts/permissions.py), through the
API and the pages: owners, anonymous workspaces, lessons, share ids and CSRF."""

import base64
import hashlib
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from playground.accounts.permissions import WORKSPACE_COOKIE
from playground.models import RunLink, Scenario

pytestmark = pytest.mark.django_db


def send(client, method, url, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(body if body is not None else {}),
                                   content_type="application/json")


def create(client, document):
    response = send(client, "post", "/api/scenarios", {"document": document})
    assert response.status_code == 201, response.content
    return response.json()


def page_data(response):
    html, tag = response.content.decode(), '<script id="page-data" type="application/json">'
    start = html.index(tag) + len(tag)
    return json.loads(html[start:html.index("</script>", start)])


@pytest.fixture
def ada():
    return User.objects.create_user("ada", password="correct horse battery")


def test_someone_elses_scenario_cannot_be_changed(client, design):
    mine = create(client, design)
    url = f"/api/scenarios/{mine['id']}"
    send(client, "put", url, {"document": design | {"name": "v2"}})
    stranger = Client()
    attempts = [("put", url, {"document": design | {"name": "Hijacked"}}),
                ("patch", url, {"title": "Hijacked"}),
                ("delete", url, None),
                ("get", f"{url}/versions", None),
                ("get", f"{url}/versions/1", None),
                ("post", f"{url}/versions/1/restore", None)]
    for method, target, body in attempts:
        response = send(stranger, method, target, body)
        assert response.status_code == 403, (method, target)
        assert response.json()["errors"][0].startswith("scenario: not yours")
    row = Scenario.objects.get(share_id=mine["id"])
    assert (row.title, row.version) == ("v2", 2)
    assert stranger.get("/api/scenarios").json()["count"] == 0
    # Viewing and copying are open to anyone holding the id.
    seen = stranger.get(url).json()
    assert seen["can_edit"] is False and seen["title"] == "v2"
    assert send(stranger, "post", f"{url}/fork").status_code == 201
    assert page_data(stranger.get(f"/s/{mine['id']}"))["can_edit"] is False
    assert page_data(client.get(f"/s/{mine['id']}"))["can_edit"] is True


def test_a_signed_in_owner_is_the_only_editor(client, design, ada):
    client.force_login(ada)
    mine = create(client, design)
    assert Scenario.objects.get(share_id=mine["id"]).owner == ada
    bob = Client()
    bob.force_login(User.objects.create_user("bob"))
    assert send(bob, "delete", f"/api/scenarios/{mine['id']}").status_code == 403
    assert bob.get("/api/scenarios").json()["count"] == 0
    assert send(Client(), "delete", f"/api/scenarios/{mine['id']}").status_code == 403
    assert client.get("/api/scenarios").json()["count"] == 1


def test_an_anonymous_workspace_owns_what_it_saves(client, design):
    mine = create(client, design)
    cookie = client.cookies[WORKSPACE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    row = Scenario.objects.get(share_id=mine["id"])
    # Only the secret's digest is stored.
    assert row.workspace == hashlib.sha256(cookie.value.encode()).hexdigest() != cookie.value
    assert row.owner is None
    # The same browser edits it; the cookie is set once, on the first save.
    second = send(client, "post", "/api/scenarios", {"document": design})
    assert WORKSPACE_COOKIE not in second.cookies
    renamed = send(client, "patch", f"/api/scenarios/{mine['id']}", {"title": "Mine"})
    assert renamed.status_code == 200
    assert client.get("/api/scenarios").json()["count"] == 2
    # A forged cookie owns nothing.
    forger = Client()
    forger.cookies[WORKSPACE_COOKIE] = "guess"
    assert forger.get("/api/scenarios").json()["count"] == 0
    assert send(forger, "delete", f"/api/scenarios/{mine['id']}").status_code == 403


def test_logging_in_claims_the_workspace(client, design, ada):
    mine = create(client, design)
    run = send(client, "post", "/api/runs", {"document": design, "seed": 1, "until_s": 10})
    assert run.status_code == 201
    response = client.post("/accounts/login", {"username": "ada",
                                               "password": "correct horse battery"})
    assert response.status_code == 302
    row = Scenario.objects.get(share_id=mine["id"])
    assert (row.owner, row.workspace) == (ada, "")
    assert RunLink.objects.get(share_id=run.json()["id"]).owner == ada
    assert client.get("/api/scenarios").json()["count"] == 1
    # Another browser holding nothing sees nothing.
    assert Client().get("/api/scenarios").json()["count"] == 0


def test_signing_up_claims_the_workspace(client, design):
    mine = create(client, design)
    response = client.post("/accounts/signup", {"username": "grace",
                                                "password1": "a long unusual phrase 42",
                                                "password2": "a long unusual phrase 42"})
    assert response.status_code == 302
    assert Scenario.objects.get(share_id=mine["id"]).owner.username == "grace"


def test_lessons_are_read_only_for_everyone(client, design, lesson, ada):
    client.force_login(ada)
    url = f"/api/scenarios/{lesson.share_id}"
    for method, target, body in [("put", url, {"document": design}),
                                 ("patch", url, {"title": "Mine now"}),
                                 ("delete", url, None),
                                 ("post", f"{url}/versions/1/restore", None)]:
        response = send(client, method, target, body)
        assert response.status_code == 403, (method, target)
        assert "read-only" in response.json()["errors"][0]
    assert client.get(url).json()["lesson"] == "test-read-only-lesson"
    assert client.get(url).json()["can_edit"] is False
    assert client.get("/api/scenarios").json()["count"] == 0  # not listed as anyone's
    copy = send(client, "post", f"{url}/fork")
    assert copy.status_code == 201 and copy.json()["lesson"] is None
    assert copy.json()["forked_from"] == lesson.share_id
    lessons = client.get("/api/lessons").json()["results"]
    assert ("test-read-only-lesson", lesson.share_id) in [(x["slug"], x["id"]) for x in lessons]
    assert page_data(client.get(f"/s/{lesson.share_id}"))["can_edit"] is False


def test_share_ids_are_128_random_bits_and_unknown_ids_are_404(client, design):
    ids = {create(client, design)["id"] for _ in range(20)}
    ids |= {send(client, "post", "/api/runs",
                 {"document": design, "seed": 1, "until_s": 5}).json()["id"] for _ in range(5)}
    assert len(ids) == 25
    for share_id in ids:
        assert len(base64.urlsafe_b64decode(share_id + "==")) == 16
    unknown = "A" * 22
    assert client.get(f"/api/scenarios/{unknown}").status_code == 404
    assert client.get(f"/api/runs/{unknown}").status_code == 404
    for page in (f"/s/{unknown}", f"/r/{unknown}", f"/embed/{unknown}",
                 f"/s/{unknown}/preview.png"):
        response = client.get(page)
        assert response.status_code == 404, page
        assert "No design has this link" in response.content.decode()


def test_writes_need_the_csrf_token(design):
    strict = Client(enforce_csrf_checks=True)
    body = json.dumps({"document": design})
    refused = strict.post("/api/scenarios", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["errors"][0].startswith("(csrf): ")
    assert Scenario.objects.count() == 0
    strict.get("/")  # the editor page sets the csrftoken cookie
    token = strict.cookies["csrftoken"].value
    made = strict.post("/api/scenarios", body, content_type="application/json",
                       headers={"X-CSRFToken": token})
    assert made.status_code == 201
    url = f"/api/scenarios/{made.json()['id']}"
    assert strict.delete(url).status_code == 403
    assert strict.delete(url, headers={"X-CSRFToken": token}).status_code == 204
