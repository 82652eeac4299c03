"""The pages of shared designs: page data for each mode, share cards, preview pictures,
embeds, the lessons gallery and accounts."""

import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image

from playground.models import RunLink, Scenario

pytestmark = pytest.mark.django_db
NASTY = '<script>alert("x")</script> & "quotes"'


def page_data(response):
    html, tag = response.content.decode(), '<script id="page-data" type="application/json">'
    start = html.index(tag) + len(tag)
    return json.loads(html[start:html.index("</script>", start)])


def saved(document, **fields):
    return Scenario.objects.create(document=document, title=document["name"],
                                   description=document.get("description", ""), **fields)


def test_the_editor_page_data(client):
    response = client.get("/")
    assert page_data(response) == {"mode": "editor", "scenario": None, "can_edit": True,
                                   "run": None, "user": None}
    client.force_login(User.objects.create_user("ada"))
    assert page_data(client.get("/"))["user"] == {"name": "ada"}


def test_the_scenario_page_data(client, design):
    row = saved(design)
    response = client.get(f"/s/{row.share_id}")
    assert response.status_code == 200 and "csrftoken" in response.cookies
    data = page_data(response)
    assert (data["mode"], data["can_edit"], data["run"], data["user"]) == (
        "scenario", False, None, None)
    assert data["scenario"]["id"] == row.share_id and data["scenario"]["document"] == design
    assert data["scenario"] == client.get(f"/api/scenarios/{row.share_id}").json()


def test_the_run_page_data(client, design):
    made = client.post("/api/runs", {"document": design, "seed": 3, "until_s": 60,
                                     "commands": [{"at_s": 2, "action": "fail",
                                                   "target": "db"}]},
                       content_type="application/json").json()
    data = page_data(client.get(f"/r/{made['id']}"))
    assert (data["mode"], data["scenario"], data["can_edit"]) == ("run", None, False)
    assert data["run"] == made == client.get(f"/api/runs/{made['id']}").json()
    assert RunLink.objects.get(share_id=made["id"]).seed == 3


def test_share_card_tags_are_escaped_and_absolute(client, design):
    design["name"] = NASTY
    design["description"] = "# Heading\n\nA *very* long story. " + "word " * 100
    row = saved(design)
    html = client.get(f"/s/{row.share_id}").content.decode()
    assert "<script>alert" not in html
    assert ('<meta property="og:title" content="&lt;script&gt;alert(&quot;x&quot;)'
            '&lt;/script&gt; &amp; &quot;quotes&quot;">') in html
    image = f"http://testserver/s/{row.share_id}/preview.png"
    assert f'<meta property="og:image" content="{image}">' in html
    assert f'<meta name="twitter:image" content="{image}">' in html
    assert f'<meta property="og:url" content="http://testserver/s/{row.share_id}">' in html
    start = html.index('<meta property="og:description" content="') + 41
    description = html[start:html.index('"', start)]
    assert description.startswith("Heading A very long story.") and len(description) <= 200
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_the_page_data_of_a_nasty_title_cannot_close_its_script(client, design):
    design["name"] = NASTY
    row = saved(design)
    html = client.get(f"/s/{row.share_id}").content.decode()
    assert page_data(client.get(f"/s/{row.share_id}"))["scenario"]["title"] == NASTY
    assert "\\u003Cscript\\u003Ealert" in html


def test_svg_preview_escapes_labels(client, design):
    design["name"] = NASTY
    design["components"][0]["label"] = "<b>&'"
    design["components"][1]["label"] = "<script>alert(1)</script>"
    row = saved(design)
    response = client.get(f"/s/{row.share_id}/preview.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    body = response.content.decode()
    assert "<script" not in body and "<b>" not in body and "&lt;script&gt;" in body
    texts = [t.text for t in ET.fromstring(body).iter("{http://www.w3.org/2000/svg}text")]
    assert "<b>&'" in texts  # well-formed XML, and the label reads as written
    assert any(t.startswith('<script>alert("x")') for t in texts)
    assert sum(1 for _ in ET.fromstring(body).iter("{http://www.w3.org/2000/svg}line")) == \
        len(design["links"])


def test_png_preview_is_a_1200x630_png_with_cache_headers(client, design):
    row = saved(design)
    response = client.get(f"/s/{row.share_id}/preview.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    # Not a blank card: the diagram's cards and title are drawn.
    assert len(image.convert("L").getcolors(maxcolors=1 << 16)) > 20
    assert "max-age" in response["Cache-Control"]
    etag = response["ETag"]
    assert row.share_id in etag
    again = client.get(f"/s/{row.share_id}/preview.png", headers={"If-None-Match": etag})
    assert again.status_code == 304
    row.version += 1
    row.save()
    assert client.get(f"/s/{row.share_id}/preview.png",
                      headers={"If-None-Match": etag}).status_code == 200


def test_previews_draw_designs_without_positions(client, design):
    for component in design["components"]:
        component.pop("position")
    row = saved(design)
    svg = client.get(f"/s/{row.share_id}/preview.svg").content.decode()
    xs = {r.get("x") for r in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}rect")}
    assert len(xs) > len(design["components"])  # cards spread out, not piled on one spot


def test_the_embed_may_be_framed_by_any_site_and_other_pages_not(client, design):
    row = saved(design)
    embed = client.get(f"/embed/{row.share_id}")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    assert "script-src 'self'" in embed["Content-Security-Policy"]
    data = page_data(embed)
    assert (data["mode"], data["can_edit"]) == ("embed", False)
    assert data["scenario"]["id"] == row.share_id
    assert "playground/embed.js" in embed.content.decode()
    for url in ("/", f"/s/{row.share_id}", "/lessons", "/accounts/login"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


def test_the_lessons_page_lists_lessons_in_order(client, design):
    second = saved(design | {"name": "Second lesson", "description": NASTY + "\n\nMore."},
                   lesson_slug="test-second", lesson_order=1002)
    first = saved(design | {"name": "First lesson"}, lesson_slug="test-first", lesson_order=1001)
    saved(design | {"name": "Not a lesson"})
    html = client.get("/lessons").content.decode()
    assert html.index("First lesson") < html.index("Second lesson")
    assert "Not a lesson" not in html
    assert f'href="/s/{first.share_id}"' in html
    assert f'src="/s/{second.share_id}/preview.svg"' in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "More." not in html  # the first paragraph only


def test_sign_up_log_out_and_log_in(client):
    form = client.get("/accounts/signup")
    assert form.status_code == 200 and 'name="password1"' in form.content.decode()
    weak = client.post("/accounts/signup", {"username": "ada", "password1": "123",
                                            "password2": "123"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    made = client.post("/accounts/signup", {"username": "ada", "password1": "a long phrase 42!",
                                            "password2": "a long phrase 42!"})
    assert made.status_code == 302 and made["Location"] == "/"
    assert page_data(client.get("/"))["user"] == {"name": "ada"}
    assert client.get("/accounts/logout").status_code == 405  # log-out is a POST
    assert client.post("/accounts/logout").status_code == 302
    assert page_data(client.get("/"))["user"] is None
    wrong = client.post("/accounts/login", {"username": "ada", "password": "nope"})
    assert wrong.status_code == 200 and "correct username and password" in \
        wrong.content.decode()
    right = client.post("/accounts/login", {"username": "ada", "password": "a long phrase 42!"})
    assert right.status_code == 302
    assert page_data(client.get("/"))["user"] == {"name": "ada"}


def test_log_in_and_sign_up_are_rate_limited(client, settings):
    settings.PLAYGROUND_RATE_LIMITS = {"login": "2/300", "signup": "1/3600"}
    for _ in range(2):
        assert client.post("/accounts/login", {"username": "x", "password": "y"}).status_code \
            == 200
    limited = client.post("/accounts/login", {"username": "x", "password": "y"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Slow down" in limited.content.decode()
    assert client.get("/accounts/login").status_code == 200  # the form itself still shows
    # Sign-ups count the accounts made (tests/web/test_limits_for_classrooms.py).
    for name, status in (("a", 302), ("b", 429)):
        made = Client().post("/accounts/signup", {"username": name,
                                                  "password1": "a long phrase 42!",
                                                  "password2": "a long phrase 42!"})
        assert made.status_code == status


def test_password_reset_mails_a_working_link(client, mailoutbox):
    User.objects.create_user("ada", email="ada@example.com", password="old phrase 1234")
    sent = client.post("/accounts/password-reset", {"email": "ada@example.com"})
    assert sent.status_code == 302 and len(mailoutbox) == 1
    link = next(w for w in mailoutbox[0].body.split() if "/accounts/reset/" in w)
    confirm = client.get(link.removeprefix("http://testserver"), follow=True)
    assert confirm.status_code == 200 and "new_password1" in confirm.content.decode()
    done = client.post(confirm.redirect_chain[-1][0], {"new_password1": "new phrase 5678!",
                                                       "new_password2": "new phrase 5678!"})
    assert done.status_code == 302
    assert Client().login(username="ada", password="new phrase 5678!")


def test_unknown_pages_are_friendly(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "There is no page at this address" in \
        response.content.decode()
