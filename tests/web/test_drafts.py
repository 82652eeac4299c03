"""Designs in progress are drafts (issue 14): kept by the server whatever state they are in,
their structure and limits still checked; only running, run links and submitting need a
design the validator passes. Saves of a student's work carry a version, as scenarios do."""

import copy
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings

from playground.asgi import application
from playground.classrooms.models import Work
from simulations import LIMITS, ScenarioError, check_draft, validate
from tests.engine.strategies import invalid_scenarios, valid_scenarios
from tests.web import test_classrooms as classrooms
from tests.web.test_classrooms import BRIEF, logged_in, seated

pytestmark = pytest.mark.django_db
# the classroom tests' fixtures: an instructor, a classroom, an assignment, no grader
teacher, room, assignment = classrooms.teacher, classrooms.room, classrooms.assignment
graded_elsewhere = classrooms.graded_elsewhere

# The brief's client before it is linked to anything: the design the issue lost.
UNLINKED = {"format": "playground.scenario/v1", "name": "In progress", "duration_s": 60,
            "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 100},
                            "position": {"x": 0, "y": 0}},
                           {"id": "app", "kind": "service",
                            "params": {"workers": 2, "service_ms": 5},
                            "position": {"x": 240, "y": 0}}]}


def unfinished():
    """Designs a person has on the way to a runnable one; the validator refuses each."""
    yield "a client not linked yet", copy.deepcopy(UNLINKED)
    yield "nothing on the canvas", dict(copy.deepcopy(UNLINKED), components=[])
    cut = copy.deepcopy(BRIEF)
    cut["events"] = [{"at_s": 5, "action": "fail", "target": "db"}]  # db was deleted
    yield "an event naming a deleted part", cut
    cycle = copy.deepcopy(BRIEF)
    cycle["components"].append({"id": "app2", "kind": "service",
                                "params": {"workers": 1, "service_ms": 5}})
    cycle["links"] += [{"from": "app", "to": "app2"}, {"from": "app2", "to": "app"}]
    yield "a call cycle", cycle


def malformed():
    """Documents that are not designs at all: refused as drafts, with the validator's words."""
    kind = copy.deepcopy(UNLINKED)
    kind["components"][1]["kind"] = "mainframe"
    yield kind, "components[1].kind: must be one of "
    typed = copy.deepcopy(UNLINKED)
    typed["components"][1]["params"]["workers"] = "two"
    yield typed, "components[1].params.workers: must be a whole number"
    extra = dict(copy.deepcopy(UNLINKED), owner="me")
    yield extra, "owner: unknown key"
    dangling = dict(copy.deepcopy(UNLINKED), links=[{"from": "users", "to": "ghost"}])
    yield dangling, "links[0].to: no component with id 'ghost'"
    many = dict(copy.deepcopy(UNLINKED), components=[
        {"id": f"c{i}", "kind": "client", "params": {"rate_rps": 1}}
        for i in range(LIMITS["components"] + 1)])
    yield many, f"components: must have at most {LIMITS['components']} items"


UNFINISHED = list(unfinished())
MALFORMED = list(malformed())


@pytest.mark.parametrize(("what", "doc"), UNFINISHED, ids=[w for w, _ in UNFINISHED])
def test_an_unfinished_design_is_a_valid_draft(what, doc):
    with pytest.raises(ScenarioError):
        validate(copy.deepcopy(doc))
    check_draft(doc)


@pytest.mark.parametrize(("doc", "error"), MALFORMED, ids=[e.split(":")[0] for _, e in MALFORMED])
def test_a_draft_is_checked_with_the_validators_rules_and_words(doc, error):
    with pytest.raises(ScenarioError) as as_draft:
        check_draft(doc)
    assert any(line.startswith(error) for line in as_draft.value.errors), as_draft.value.errors
    with pytest.raises(ScenarioError) as as_design:
        validate(copy.deepcopy(doc))
    assert as_draft.value.errors[0] in as_design.value.errors


SOME = settings(max_examples=50, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SOME
@given(valid_scenarios())
def test_every_valid_design_is_a_valid_draft(doc):
    check_draft(doc)


@SOME
@given(invalid_scenarios())
def test_a_draft_is_refused_only_for_what_the_validator_refuses_in_its_words(doc):
    try:
        validate(copy.deepcopy(doc))
    except ScenarioError as exc:
        full = exc.errors
    try:
        check_draft(doc)
    except ScenarioError as exc:
        assert set(exc.errors) <= set(full)


def put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


# -- a student's work ------------------------------------------------------------------------
@pytest.fixture
def work_url(assignment):
    return f"/api/assignments/{assignment.share_id}"


def test_unfinished_work_is_kept_and_the_instructor_sees_it(teacher, room, assignment,
                                                            work_url):
    ada = seated(room, "Ada")
    start = ada.get(f"{work_url}/work").json()
    assert start["document"] == BRIEF and start["version"] == 1
    saved = put(ada, f"{work_url}/work", {"document": UNLINKED, "base_version": 1})
    assert saved.status_code == 200, saved.content
    assert saved.json()["version"] == 2
    # another device (a fresh browser on the same seat) gets it from the server
    assert ada.get(f"{work_url}/work").json() == saved.json()
    # and the instructor's thumbnail of it draws what she made
    work = Work.objects.get(assignment=assignment, student__display_name="Ada")
    picture = logged_in(teacher).get(f"/works/{work.pk}/preview.svg").content.decode()
    assert "2 components · 0 links" in picture


@pytest.mark.parametrize(("doc", "error"), MALFORMED, ids=[e.split(":")[0] for _, e in MALFORMED])
def test_work_that_is_not_a_design_is_refused_naming_the_field(room, work_url, doc, error):
    ada = seated(room, "Ada")
    refused = put(ada, f"{work_url}/work", {"document": doc})
    assert refused.status_code == 400
    assert any(e.startswith(f"document.{error}") for e in refused.json()["errors"])
    assert ada.get(f"{work_url}/work").json()["version"] == 1  # nothing changed


def test_oversized_work_is_413(room, work_url):
    doc = dict(UNLINKED, description="x" * (LIMITS["document_bytes"] + 1))
    refused = put(seated(room, "Ada"), f"{work_url}/work", {"document": doc})
    assert refused.status_code == 413
    assert refused.json()["errors"] == [f"document: larger than {LIMITS['document_bytes']} bytes"]


def test_an_unfinished_design_is_not_submitted_and_says_why(room, work_url):
    ada = seated(room, "Ada")
    refused = post(ada, f"{work_url}/submissions", {"document": UNLINKED})
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        "document.components[0]: client 'users' has no outgoing link to send requests to",
        "document.components[1]: 'app' is not reachable from any client"]


def test_a_stale_save_of_work_is_a_conflict_and_changes_nothing(room, work_url):
    tab_a = tab_b = seated(room, "Ada")  # the same seat in two tabs
    assert put(tab_a, f"{work_url}/work", {"document": UNLINKED, "base_version": 1}
               ).json()["version"] == 2
    older = dict(UNLINKED, name="From the older tab")
    refused = put(tab_b, f"{work_url}/work", {"document": older, "base_version": 1})
    assert refused.status_code == 409
    assert refused.json()["version"] == 2
    assert refused.json()["errors"][0].startswith("base_version: your work is at version 2")
    assert tab_a.get(f"{work_url}/work").json()["document"] == UNLINKED
    # told, the person may still choose to overwrite: with the current version as its base
    assert put(tab_b, f"{work_url}/work", {"document": older, "base_version": 2}
               ).json()["version"] == 3


def test_saving_the_same_work_again_is_no_new_version(room, work_url):
    ada = seated(room, "Ada")
    first = put(ada, f"{work_url}/work", {"document": UNLINKED, "base_version": 1}).json()
    again = put(ada, f"{work_url}/work", {"document": UNLINKED, "base_version": 2}).json()
    assert first["version"] == again["version"] == 2


def test_a_submission_becomes_the_work_as_a_new_version(room, work_url):
    ada = seated(room, "Ada")
    mine = dict(BRIEF, name="Mine")
    assert post(ada, f"{work_url}/submissions", {"document": mine}).status_code == 202
    now = ada.get(f"{work_url}/work").json()
    assert now["document"] == mine and now["version"] == 2


def test_a_submission_never_replaces_newer_work(room, work_url):
    """The editor saves, then submits; an autosave of a later edit may land before the
    submission does: the older design handed in must not overwrite it."""
    ada = seated(room, "Ada")
    handed_in = dict(BRIEF, name="Handed in")
    put(ada, f"{work_url}/work", {"document": handed_in, "base_version": 1})
    later = dict(UNLINKED, name="Later edit")
    put(ada, f"{work_url}/work", {"document": later, "base_version": 2})
    assert post(ada, f"{work_url}/submissions", {"document": handed_in}).status_code == 202
    now = ada.get(f"{work_url}/work").json()
    assert now["document"] == later and now["version"] == 3


def test_the_assignment_page_carries_the_works_version(room, assignment, work_url):
    ada = seated(room, "Ada")
    put(ada, f"{work_url}/work", {"document": UNLINKED, "base_version": 1})
    page = ada.get(f"/a/{assignment.share_id}").content.decode()
    data = json.loads(page.split('id="page-data" type="application/json">')[1]
                      .split("</script>")[0])
    assert data["assignment"]["document"] == UNLINKED
    assert data["assignment"]["version"] == 2


# -- a person's own designs ------------------------------------------------------------------
def test_an_unfinished_design_of_ones_own_is_saved_and_updated(client):
    made = post(client, "/api/scenarios", {"document": UNLINKED})
    assert made.status_code == 201, made.content
    sid = made.json()["id"]
    empty = dict(UNLINKED, components=[])
    updated = put(client, f"/api/scenarios/{sid}", {"document": empty, "base_version": 1})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    renamed = client.patch(f"/api/scenarios/{sid}", json.dumps({"title": "Later"}),
                           content_type="application/json")
    assert renamed.status_code == 200


@pytest.mark.parametrize(("doc", "error"), MALFORMED, ids=[e.split(":")[0] for _, e in MALFORMED])
def test_a_saved_design_must_still_be_a_design(client, doc, error):
    refused = post(client, "/api/scenarios", {"document": doc})
    assert refused.status_code == 400
    assert any(e.startswith(f"document.{error}") for e in refused.json()["errors"])


def test_a_run_link_of_an_unfinished_design_is_refused_with_the_validators_words(client):
    refused = post(client, "/api/runs", {"document": UNLINKED, "seed": 1, "commands": [],
                                         "until_s": 10.0, "scenario": None})
    assert refused.status_code == 400
    assert refused.json()["errors"][0] == (
        "document.components[0]: client 'users' has no outgoing link to send requests to")


def test_another_persons_seat_cannot_save_my_work(room, assignment, work_url):
    seated(room, "Ada").get(f"{work_url}/work")
    bob = seated(room, "Bob")
    put(bob, f"{work_url}/work", {"document": UNLINKED})
    ada_work = Work.objects.get(assignment=assignment, student__display_name="Ada")
    assert ada_work.document == BRIEF
    stranger = logged_in(User.objects.create_user("x", password="pw-12345678"))
    assert put(stranger, f"{work_url}/work", {"document": UNLINKED}).status_code == 404


async def test_playing_an_unfinished_design_is_refused_with_the_validators_words():
    comm = WebsocketCommunicator(application, "/ws/play/",
                                 headers=[(b"origin", b"http://127.0.0.1"),
                                          (b"host", b"127.0.0.1")])
    assert (await comm.connect())[0]
    await comm.send_json_to({"type": "start", "scenario": UNLINKED})
    error = json.loads(await comm.receive_from())
    assert error["type"] == "error" and error["code"] == "invalid_scenario"
    assert "components[0]: client 'users' has no outgoing link to send requests to" in \
        error["errors"]
    await comm.disconnect()
