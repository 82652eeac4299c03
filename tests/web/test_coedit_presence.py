"""Co-editing (issue 19): where the others are. Pointers (model coordinates) and the field
each person edits, through the full ASGI application: checked and bounded by the server,
forwarded to everyone else in the room and never back to the sender, counted in the
socket's rate limit."""

import json

import pytest
from channels.db import database_sync_to_async

from tests.web.test_classroom_sockets import connect, receive_until
from tests.web.test_coedit import drain, owner_cookie, saved_design

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumer_db")]


async def room_of_two(design):
    """Ada and Bob on the edit link, each past the other's arrival."""
    owner, share_id, link = await saved_design(design)
    ada = await connect(link["socket"])
    await receive_until(ada, "welcome")
    bob = await connect(link["socket"])
    bob_welcome = await receive_until(bob, "welcome")
    await receive_until(ada, "presence")
    await receive_until(bob, "presence")
    await drain(ada, 0.2)
    await drain(bob, 0.2)
    return owner, share_id, link, ada, bob, bob_welcome


async def send(comm, message):
    await comm.send_to(text_data=message if isinstance(message, str) else json.dumps(message))


async def test_pointers_reach_the_others_bounded_and_not_the_sender(design):
    _, _, _, ada, bob, _ = await room_of_two(design)
    await send(ada, {"type": "pointer", "x": 120.26, "y": -40})
    got = await receive_until(bob, "pointer")
    assert got["x"] == 120.3 and got["y"] == -40.0 and len(got["peer"]) == 8
    await send(ada, {"type": "pointer", "x": 1e12, "y": -10**30})  # far off: clamped
    got = await receive_until(bob, "pointer")
    assert (got["x"], got["y"]) == (1_000_000.0, -1_000_000.0)
    await send(ada, {"type": "pointer"})  # left the canvas: no coordinates
    assert set(await receive_until(bob, "pointer")) == {"type", "peer"}
    assert "pointer" not in {m["type"] for m in await drain(ada, 0.3)}
    refused = ['{"type": "pointer", "x": NaN, "y": 1}', '{"type": "pointer", "x": 1e400, "y": 1}',
               '{"type": "pointer", "x": Infinity, "y": 1}',
               json.dumps({"type": "pointer", "x": 10**400, "y": 1}),
               {"type": "pointer", "x": "1", "y": 2}, {"type": "pointer", "x": True, "y": 2},
               {"type": "pointer", "x": 1}, {"type": "pointer", "x": [1], "y": 2}]
    for bad in refused:
        await send(ada, bad)
        error = await receive_until(ada, "error")
        assert (error["code"], error["ref"]) == ("bad_message", "pointer"), bad
    assert await drain(bob, 0.5) == []  # none of them reached Bob
    for comm in (ada, bob):
        await comm.disconnect()


async def test_the_field_being_edited_is_presence_checked_and_kept_for_newcomers(design):
    owner, share_id, link, ada, bob, _ = await room_of_two(design)
    editing = {"component": "app1", "field": "workers"}
    await send(ada, {"type": "presence", "name": "Ada", "selection": ["app1"], "editing": editing})
    assert (await receive_until(bob, "presence"))["peer"]["editing"] == editing
    assert "presence" not in {m["type"] for m in await drain(ada, 0.3)}
    for bad in ({"component": "app1"}, {"component": "app1", "field": "x" * 65},
                {"component": "<b>", "field": "workers"}, {"component": 1, "field": "w"},
                {"component": "a", "field": "w", "more": "x"}, "app1.workers", ["app1"]):
        await send(ada, {"type": "presence", "name": "Ada", "editing": bad})
        error = await receive_until(ada, "error")
        assert (error["code"], error["ref"]) == ("bad_message", "presence"), bad
    assert await drain(bob, 0.3) == []
    # Someone arriving later hears it in Ada's answer to their arrival.
    late = await connect(link["socket"])
    await receive_until(late, "welcome")
    peers = [(await receive_until(late, "presence"))["peer"] for _ in range(2)]
    assert {p["name"]: p["editing"] for p in peers}["Ada"] == editing
    # A viewer edits nothing, whatever it says.
    viewer = await connect(f"/ws/coedit/s/{share_id}/")
    await receive_until(viewer, "welcome")
    await drain(bob, 0.3)
    await send(viewer, {"type": "presence", "name": "Vi", "editing": editing})
    while (peer := (await receive_until(bob, "presence"))["peer"])["name"] != "Vi":
        pass
    assert peer["editing"] is None
    # Ada's edit link revoked: she edits nothing any more.
    me = await connect(f"/ws/coedit/s/{share_id}/", owner_cookie(owner))
    await receive_until(me, "welcome")
    await drain(bob, 0.3)
    await database_sync_to_async(owner.delete)(f"/api/scenarios/{share_id}/edit-link")
    while (peer := (await receive_until(me, "presence"))["peer"])["name"] != "Ada" \
            or peer["role"] != "viewer":
        pass
    assert peer["editing"] is None
    for comm in (ada, bob, late, viewer, me):
        await comm.disconnect()


async def test_pointers_count_in_the_rate_limit(design, settings):
    settings.PLAYGROUND_WS_RATE, settings.PLAYGROUND_WS_BURST = 1, 3
    _, _, _, ada, bob, _ = await room_of_two(design)
    for n in range(6):
        await send(ada, {"type": "pointer", "x": n, "y": n})
    assert (await receive_until(ada, "error"))["code"] == "rate_limited"
    assert [m["x"] for m in await drain(bob, 0.5)] == [0, 1, 2]  # the burst, no more
    for comm in (ada, bob):
        await comm.disconnect()
