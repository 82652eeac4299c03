"""Co-editing (issue 19): edit links through the API, and the co-editing websocket through
the full ASGI application: owner, editors by link and viewers; updates checked, applied and
forwarded; a revoked link turns its editors into viewers at once; saves coalesced and on
the last leave, through the editor's save path."""

import base64
import json

import channels.consumer
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from pycrdt import Doc, Map

from playground.asgi import application
from playground.coedit import rooms
from playground.coedit.presence import guest_name
from playground.coedit.ydoc import Reading, apply_document, to_document
from playground.models import Scenario
from tests.web.test_classroom_sockets import HOST, ORIGIN, connect, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumer_db")]

@database_sync_to_async
def saved_design(design):
    """A design saved by an owner (a browser workspace), with an edit link."""
    owner = Client()
    share_id = owner.post("/api/scenarios", {"document": design},
                          content_type="application/json").json()["id"]
    link = owner.post(f"/api/scenarios/{share_id}/edit-link", {},
                      content_type="application/json").json()
    return owner, share_id, link


async def drain(comm, seconds):
    """Every message the socket receives in the next `seconds`."""
    out = []
    while not await comm.receive_nothing(seconds):
        out.append(json.loads(await comm.receive_from()))
    return out


def replica(welcome) -> Doc:
    doc = Doc()
    doc.apply_update(base64.b64decode(welcome["state"]))
    return doc


def edit(doc: Doc, change) -> str:
    """Apply a change to the replica's document through the mapping; the update, base64."""
    before = doc.get_state()
    document = to_document(doc)
    change(document)
    apply_document(doc, document)
    return base64.b64encode(doc.get_update(before)).decode()


def owner_cookie(owner) -> bytes:
    return f"sdp_workspace={owner.cookies['sdp_workspace'].value}".encode()


# -- edit links through the API ------------------------------------------------------------
def test_the_owner_makes_shows_replaces_and_revokes_the_edit_link(client, design):
    share_id = client.post("/api/scenarios", {"document": design},
                           content_type="application/json").json()["id"]
    url = f"/api/scenarios/{share_id}/edit-link"
    assert client.get(url).status_code == 404
    first = client.post(url, {}, content_type="application/json")
    assert first.status_code == 201
    link = first.json()
    assert len(link["token"]) >= 32 and link["url"] == f"/e/{link['token']}"
    assert client.get(url).json() == link
    assert client.get(link["url"]).status_code == 200
    data = client.get(f"/s/{share_id}").content.decode()
    assert f"/ws/coedit/s/{share_id}/" in data and link["url"] in data
    second = client.post(url, {}, content_type="application/json").json()
    assert second["token"] != link["token"]
    assert client.get(link["url"]).status_code == 404  # the old link stopped working
    assert client.delete(url).status_code == 204
    assert client.get(second["url"]).status_code == 404
    assert client.get(url).status_code == 404


def test_only_the_owner_shares_an_edit_link(client, design):
    share_id = client.post("/api/scenarios", {"document": design},
                           content_type="application/json").json()["id"]
    client.post(f"/api/scenarios/{share_id}/edit-link", {}, content_type="application/json")
    other = Client()
    url = f"/api/scenarios/{share_id}/edit-link"
    assert other.get(url).status_code == 403
    assert other.post(url, {}, content_type="application/json").status_code == 403
    assert other.delete(url).status_code == 403
    # Someone else's page of the design does not carry the edit link, only the room to watch.
    page = other.get(f"/s/{share_id}").content.decode()
    assert "/e/" not in page and f"/ws/coedit/s/{share_id}/" in page


def test_lessons_have_no_edit_link(client, lesson):
    response = client.post(f"/api/scenarios/{lesson.share_id}/edit-link", {},
                           content_type="application/json")
    assert response.status_code == 403


# -- the websocket -------------------------------------------------------------------------
async def test_editors_converge_and_viewers_watch_read_only(design):
    owner, share_id, link = await saved_design(design)
    ada = await connect(link["socket"])
    bob = await connect(link["socket"])
    viewer = await connect(f"/ws/coedit/s/{share_id}/")
    me = await connect(f"/ws/coedit/s/{share_id}/", owner_cookie(owner))
    welcomes = [await receive_until(c, "welcome") for c in (ada, bob, viewer, me)]
    assert [w["role"] for w in welcomes] == ["editor", "editor", "viewer", "owner"]
    docs = [replica(w) for w in welcomes]
    assert all(to_document(d) == design for d in docs)

    def workers(n):
        return lambda d: d["components"][2]["params"].update(workers=n)

    def label(d):
        d["components"][2]["label"] = "App one"

    update_a = edit(docs[0], workers(11))
    update_b = edit(docs[1], label)  # concurrent: made before seeing Ada's
    await ada.send_to(text_data=json.dumps({"type": "update", "update": update_a}))
    await receive_until(ada, "accepted")
    from_ada = [await receive_until(c, "update") for c in (bob, viewer, me)]
    await bob.send_to(text_data=json.dumps({"type": "update", "update": update_b}))
    await receive_until(bob, "accepted")
    from_bob = [await receive_until(c, "update") for c in (ada, viewer, me)]
    for doc, message in zip(docs[1:], from_ada, strict=True):
        doc.apply_update(base64.b64decode(message["update"]))
    for doc, message in zip(docs[:1] + docs[2:], from_bob, strict=True):
        doc.apply_update(base64.b64decode(message["update"]))
    merged = [to_document(d) for d in docs]
    assert all(m == merged[0] for m in merged)
    assert merged[0]["components"][2]["params"]["workers"] == 11
    assert merged[0]["components"][2]["label"] == "App one"

    refused = edit(docs[2], workers(1))
    await viewer.send_to(text_data=json.dumps({"type": "update", "update": refused}))
    assert (await receive_until(viewer, "error"))["code"] == "read_only"
    # A late joiner gets everything that was accepted, and nothing the viewer tried.
    late = await connect(link["socket"])
    assert to_document(replica(await receive_until(late, "welcome"))) == merged[0]
    for comm in (ada, bob, viewer, me, late):
        await comm.disconnect()


async def test_malformed_and_oversized_updates_never_reach_the_others(design, settings):
    settings.PLAYGROUND_COEDIT_MAX_UPDATE_BYTES = 4096
    _, share_id, link = await saved_design(design)
    ada = await connect(link["socket"])
    bob = await connect(link["socket"])
    welcome = await receive_until(ada, "welcome")
    await receive_until(bob, "welcome")
    for bad in ("not base64!", base64.b64encode(b"\x01\x02garbage").decode()):
        await ada.send_to(text_data=json.dumps({"type": "update", "update": bad}))
        assert (await receive_until(ada, "error"))["code"] == "bad_update"
    # A well-formed update that grows the design past its limits is refused too.
    doc = replica(welcome)
    huge = edit(doc, lambda d: d.update(description="x" * 3000))
    settings.PLAYGROUND_COEDIT_MAX_STATE_BYTES = 2048
    await ada.send_to(text_data=json.dumps({"type": "update", "update": huge}))
    assert (await receive_until(ada, "error"))["code"] == "too_large"
    # A root the shared document does not have.
    stray = Doc()
    stray["junk"] = Map({"a": "1"})
    await ada.send_to(text_data=json.dumps({"type": "update", "update": base64.b64encode(
        stray.get_update()).decode()}))
    assert (await receive_until(ada, "error"))["code"] == "bad_update"
    # Bob hears of Ada (once or twice: her arrival and her answer to his, as the layer
    # delivers them), and nothing else: none of the refused updates.
    await receive_until(bob, "presence")
    assert {m["type"] for m in await drain(bob, 0.5)} <= {"presence"}
    # Over the update limit itself: refused and the socket closed (policy).
    settings.PLAYGROUND_COEDIT_MAX_STATE_BYTES = 4 * 1024 * 1024
    bigger = edit(replica(welcome), lambda d: d.update(description="x" * 5000))
    await ada.send_to(text_data=json.dumps({"type": "update", "update": bigger}))
    assert (await receive_until(ada, "error"))["code"] == "too_large"
    assert (await ada.receive_output(2))["code"] == 4008
    room_doc = rooms._rooms[share_id].doc
    assert to_document(room_doc)["description"] == design["description"]
    await bob.disconnect()


async def test_revoking_the_edit_link_makes_its_editors_viewers_at_once(design):
    owner, share_id, link = await saved_design(design)
    ada = await connect(link["socket"])
    me = await connect(f"/ws/coedit/s/{share_id}/", owner_cookie(owner))
    doc = replica(await receive_until(ada, "welcome"))
    await receive_until(me, "welcome")
    response = await database_sync_to_async(owner.delete)(
        f"/api/scenarios/{share_id}/edit-link")
    assert response.status_code == 204
    assert (await receive_until(ada, "role"))["role"] == "viewer"
    update = edit(doc, lambda d: d.update(name="mine now"))
    await ada.send_to(text_data=json.dumps({"type": "update", "update": update}))
    assert (await receive_until(ada, "error"))["code"] == "read_only"
    while (await receive_until(me, "presence"))["peer"]["role"] != "viewer":
        pass  # Ada's answer to the owner's arrival came first; then her new role
    # The owner still edits; a new socket on the old link is refused.
    await me.send_to(text_data=json.dumps({"type": "update", "update": update}))
    await receive_until(me, "accepted")
    gone = WebsocketCommunicator(application, link["socket"], headers=[ORIGIN, HOST])
    await gone.connect()
    assert (await receive_until(gone, "error"))["code"] == "not_found"
    for comm in (ada, me):
        await comm.disconnect()


async def test_presence_names_colours_and_selections(design):
    _, _, link = await saved_design(design)
    ada = await connect(link["socket"])
    ada_welcome = await receive_until(ada, "welcome")
    bob = await connect(link["socket"])
    bob_welcome = await receive_until(bob, "welcome")
    hello = await receive_until(ada, "presence")  # Bob arrived
    assert hello["peer"]["id"] == bob_welcome["you"]["id"]
    # neither is signed in: each goes by a guest's name of their own until they give one
    for welcome in (ada_welcome, bob_welcome):
        assert welcome["you"]["name"] == guest_name(welcome["you"]["id"])
    assert hello["peer"]["name"] == bob_welcome["you"]["name"]
    assert len({guest_name(f"{n:08x}") for n in range(256)}) == 256
    assert (await receive_until(bob, "presence"))["peer"]["role"] == "editor"  # Ada answered
    await ada.send_to(text_data=json.dumps({"type": "presence", "name": "Ada",
                                            "selection": ["app1"]}))
    peer = (await receive_until(bob, "presence"))["peer"]
    assert peer["name"] == "Ada" and peer["selection"] == ["app1"]
    assert peer["colour"].startswith("#")
    await ada.send_to(text_data=json.dumps({"type": "presence", "name": "x" * 41}))
    assert (await receive_until(ada, "error"))["code"] == "bad_message"
    await ada.disconnect()
    assert (await receive_until(bob, "left"))["peer"] == peer["id"]
    await bob.disconnect()


async def test_offline_edits_merge_through_sync(design):
    _, _, link = await saved_design(design)
    ada = await connect(link["socket"])
    doc = replica(await receive_until(ada, "welcome"))
    await ada.disconnect()
    edit(doc, lambda d: d.update(name="edited offline"))  # never sent
    bob = await connect(link["socket"])
    bob_doc = replica(await receive_until(bob, "welcome"))
    edit(bob_doc, lambda d: d["components"][0].update(label="Bob's users"))
    ada = await connect(link["socket"])
    await receive_until(ada, "welcome")
    await bob.send_to(text_data=json.dumps({"type": "update", "update": base64.b64encode(
        bob_doc.get_update()).decode()}))
    await receive_until(bob, "accepted")
    await ada.send_to(text_data=json.dumps({"type": "sync", "vector": base64.b64encode(
        doc.get_state()).decode()}))
    answer = await receive_until(ada, "sync")
    doc.apply_update(base64.b64decode(answer["update"]))
    mine = base64.b64encode(doc.get_update(base64.b64decode(answer["vector"]))).decode()
    await ada.send_to(text_data=json.dumps({"type": "update", "update": mine}))
    await receive_until(ada, "accepted")
    bob_doc.apply_update(base64.b64decode((await receive_until(bob, "update"))["update"]))
    assert to_document(doc) == to_document(bob_doc)
    assert to_document(doc)["name"] == "edited offline"
    assert to_document(doc)["components"][0]["label"] == "Bob's users"
    for comm in (ada, bob):
        await comm.disconnect()


async def test_saves_are_coalesced_and_the_last_leave_saves(design, settings):
    settings.PLAYGROUND_COEDIT_SAVE_EVERY_S = 0.5
    _, share_id, link = await saved_design(design)
    ada = await connect(link["socket"])
    doc = replica(await receive_until(ada, "welcome"))
    for n in range(5):
        update = edit(doc, lambda d, n=n: d["components"][2]["params"].update(workers=n + 1))
        await ada.send_to(text_data=json.dumps({"type": "update", "update": update}))
        await receive_until(ada, "accepted")
    saved = await receive_until(ada, "saved", timeout=3)
    assert saved["version"] == 2  # five edits, one version

    def unlinked(d):  # a design in progress: cannot run, still saved as a draft
        d["links"] = []
    await ada.send_to(text_data=json.dumps({"type": "update", "update": edit(doc,
                                                                            unlinked)}))
    await receive_until(ada, "accepted")
    await ada.disconnect()  # the last leave saves at once
    row = await database_sync_to_async(Scenario.objects.get)(share_id=share_id)
    assert row.version == 3 and row.document == to_document(doc)
    assert row.document["links"] == []
    assert await database_sync_to_async(row.versions.count)() == 2
    assert share_id not in rooms._rooms


async def test_rate_limited_like_other_messages(design, settings):
    settings.PLAYGROUND_WS_RATE, settings.PLAYGROUND_WS_BURST = 1, 3
    _, _, link = await saved_design(design)
    ada = await connect(link["socket"])
    await receive_until(ada, "welcome")
    for _ in range(5):
        await ada.send_to(text_data=json.dumps({"type": "presence", "name": "Ada"}))
    assert (await receive_until(ada, "error"))["code"] == "rate_limited"
    await ada.disconnect()


async def test_checking_updates_is_budgeted_per_socket(design, settings):
    """Each update is checked against the whole design (tens of milliseconds for a big
    one): past its share of CPU a socket's updates are refused as rate_limited, never
    applied or forwarded, until its budget fills again; the others edit on."""
    settings.PLAYGROUND_COEDIT_CHECK_SHARE = 1e-6  # CPU seconds a second: no refill here
    settings.PLAYGROUND_COEDIT_CHECK_BURST_S = 1e-9  # one check overdraws it
    _, share_id, link = await saved_design(design)
    ada = await connect(link["socket"])
    welcome = await receive_until(ada, "welcome")
    settings.PLAYGROUND_COEDIT_CHECK_BURST_S = 1.0
    bob = await connect(link["socket"])  # his own budget, the default
    await receive_until(bob, "welcome")
    doc = replica(welcome)
    first = edit(doc, lambda d: d.update(name="first"))
    second = edit(doc, lambda d: d.update(description="second"))
    for update in (first, second):
        await ada.send_to(text_data=json.dumps({"type": "update", "update": update}))
    # The first is accepted (its echo comes through the layer, maybe after the refusal).
    answers = {m["type"]: m for m in await drain(ada, 1.0)}
    assert "accepted" in answers
    assert (answers["error"]["code"], answers["error"]["ref"]) == ("rate_limited", "update")
    assert to_document(rooms._rooms[share_id].doc)["name"] == "first"
    assert "description" not in to_document(rooms._rooms[share_id].doc) or \
        to_document(rooms._rooms[share_id].doc)["description"] != "second"
    assert (await receive_until(bob, "update"))["update"] == first
    assert {m["type"] for m in await drain(bob, 0.5)} <= {"presence"}
    # Bob's budget is his own.
    third = edit(replica(welcome), lambda d: d.update(name="third"))
    await bob.send_to(text_data=json.dumps({"type": "update", "update": third}))
    await receive_until(bob, "accepted")
    for comm in (ada, bob):
        await comm.disconnect()


async def test_an_edit_reaches_the_room_without_a_thread_hop_per_editor(design,
                                                                      monkeypatch):
    """Channels closes stale database connections before every message, in its one sync
    thread; on a busy event loop each such hop waits for the GIL, and an edit made one per
    editor of the room (bench/coedit.py: seconds at 30 editors). The co-editing socket
    reaches the database only through database_sync_to_async, which checks them itself.
    And each member handing the edit over does not apply it to the room again."""
    _, _, link = await saved_design(design)
    editors = [await connect(link["socket"]) for _ in range(4)]
    welcomes = [await receive_until(c, "welcome") for c in editors]
    for comm in editors:
        await drain(comm, 0.2)  # the others' presence
    hops = []

    async def hop():
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", hop)
    applies = []
    apply = Reading.apply
    monkeypatch.setattr(Reading, "apply", lambda self, u: applies.append(u) or apply(self, u))
    update = edit(replica(welcomes[0]), lambda d: d.update(name="seen by all"))
    await editors[0].send_to(text_data=json.dumps({"type": "update", "update": update}))
    await receive_until(editors[0], "accepted")
    for comm in editors[1:]:
        assert (await receive_until(comm, "update"))["update"] == update
    assert hops == []
    assert len(applies) == 1  # on the check's copy; the others hand it over, applied already
    for comm in editors:
        await comm.disconnect()


async def test_an_update_for_a_socket_still_joining_waits_in_its_queue():
    """Taken at once, an update that reaches a socket before its room is open would be
    dropped; from another process, it may not be in the log the room was opened from."""
    from playground.coedit.consumer import CoeditConsumer

    joining = CoeditConsumer()
    joining._layer_down = False  # as the layer's receive set it
    update = {"type": "coedit.update", "sender": "other", "update": "", "peer": "p"}
    assert await joining.take_now(update) is False


def test_a_check_reads_again_only_what_the_update_touched(design, monkeypatch):
    """Checking an update reads the design it leaves (shape, JSON size), but only the
    entries the update touched are read again: a parameter changed in a design of 300
    components reads a few fields, not every field of every component (milliseconds per
    ten components each time: the event loop's main cost per edit in bench/coedit.py)."""
    big = design | {"components": [
        {"id": f"app{i}", "kind": "service", "label": f"App {i}",
         "position": {"x": i, "y": i}, "params": {"workers": 4, "service_ms": 10}}
        for i in range(300)], "links": [{"from": f"app{i}", "to": f"app{i + 1}"}
                                        for i in range(299)]}
    doc = Doc()
    apply_document(doc, big)
    room = rooms.Room("bench", doc, announce=None)
    editor = Doc()
    editor.apply_update(doc.get_update())
    warm = base64.b64decode(edit(editor, lambda d: d.update(name="warm")))
    room.checked(warm)  # the room's document read once, whole
    room.apply_remote(warm)
    update = base64.b64decode(edit(editor, lambda d: d["components"][7]["params"]
                                   .update(workers=9)))
    reads = []
    read = Map.get
    monkeypatch.setattr(Map, "get", lambda self, *args: reads.append(args) or read(self,
                                                                                   *args))
    checked = room.checked(update)
    assert len(reads) < 30
    monkeypatch.undo()
    document = checked.document()
    assert document["components"][7]["params"]["workers"] == 9
    assert document == to_document(editor) != to_document(room.doc)  # the room untouched


async def test_co_editing_sockets_count_in_the_socket_quotas(design, settings):
    settings.PLAYGROUND_QUOTAS = settings.PLAYGROUND_QUOTAS | {
        "sockets": {"person": 12, "address": 300, "anonymous": 2}}
    _, _, link = await saved_design(design)
    kept = [await connect(link["socket"]) for _ in range(2)]
    for comm in kept:
        await receive_until(comm, "welcome")
    third = await connect(link["socket"])
    assert (await receive_until(third, "error"))["code"] == "too_many_sockets"
    assert (await third.receive_output(2))["code"] == 4029
    await kept[0].disconnect()
    again = await connect(link["socket"])  # a place freed by a closed socket
    await receive_until(again, "welcome")
    for comm in (kept[1], again):
        await comm.disconnect()
