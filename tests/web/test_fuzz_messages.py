"""Fuzzing the play websocket: whatever a browser sends, the answer is a clean error naming
what is wrong (or the message works), never a crash or a closed socket for a bad message."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.asgi import application
from playground.live import protocol
from playground.live.runs import registry
from tests.engine.strategies import invalid_scenarios, json_values

TYPES = ["start", "replay", "join", "leave", "control", "command", "ack", "ping", "nonsense"]
FIELDS = ["scenario", "seed", "speed", "paused", "run_id", "token", "action", "seconds", "t",
          "command", "id", "run_link", "seq", "extra"]


def messages():
    """Objects shaped like messages: a known or unknown type and fields of any JSON value."""
    return st.one_of(
        json_values(),
        st.builds(lambda kind, fields: {"type": kind, **fields}, st.sampled_from(TYPES),
                  st.dictionaries(st.sampled_from(FIELDS), json_values(6), max_size=4)),
        st.builds(lambda doc: {"type": "start", "scenario": doc}, invalid_scenarios()),
    )


@settings(max_examples=400, deadline=None)
@given(messages())
def test_parse_accepts_or_names_every_wrong_field(data):
    try:
        message = protocol.parse(data)
    except protocol.BadMessage as exc:
        assert exc.errors and all(isinstance(e, str) and ": " in e for e in exc.errors)
    else:
        assert message.type in TYPES


def _valid(data) -> bool:
    try:
        protocol.parse(data)
    except protocol.BadMessage:
        return False
    return True


@pytest.fixture(autouse=True)
async def stop_runs():
    yield
    await registry.stop_all()


@pytest.mark.django_db(transaction=True)  # a replay message looks its run link up
@pytest.mark.usefixtures("consumer_db")
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(messages(), min_size=1, max_size=5))
async def test_the_socket_answers_every_bad_message_and_stays_open(batch):
    comm = WebsocketCommunicator(application, "/ws/play/",
                                 headers=[(b"origin", b"http://127.0.0.1"),
                                          (b"host", b"127.0.0.1")])
    connected, _ = await comm.connect()
    assert connected
    try:
        for data in batch:
            await comm.send_to(text_data=json.dumps(data))
            if isinstance(data, dict) and data.get("type") == "ack" and _valid(data):
                continue  # a well-formed ack is not answered
            reply = json.loads(await comm.receive_from(timeout=5))
            # A start that happens to be valid gets its snapshot; anything else an error.
            assert reply["type"] in ("error", "snapshot", "pong"), reply
            if reply["type"] == "error":
                assert reply["code"] and reply["message"]
        await comm.send_json_to({"type": "ping", "id": 1})
        reply = await comm.receive_json_from(timeout=5)
        while reply["type"] != "pong":  # frames of a run a valid start began
            reply = await comm.receive_json_from(timeout=5)
    finally:
        await comm.disconnect()
        await registry.stop_all()


ACK = {"type": "ack", "run_id": "r" * 16, "seq": 3}


@pytest.mark.parametrize("data", [
    ACK, {**ACK, "seq": 0}, {**ACK, "seq": 2**53}, {**ACK, "run_id": "a-_Z9" * 12 + "abcd"},
    {**ACK, "seq": True}, {**ACK, "seq": 3.0}, {**ACK, "seq": "3"}, {**ACK, "seq": -1},
    {**ACK, "seq": 2**53 + 1}, {**ACK, "run_id": "r" * 15}, {**ACK, "run_id": "r" * 65},
    {**ACK, "run_id": "r" * 16 + "\n"}, {**ACK, "run_id": "r" * 15 + "!"}, {**ACK, "x": 1},
    {"type": "ack", "seq": 3}, {**ACK, "type": "Ack"}, [ACK], "ack", None])
def test_a_plain_ack_is_exactly_what_the_model_takes_as_an_ack(data):
    # the ack a web process takes as Daphne reads it (playground/live/consumers.py, take_ack)
    try:
        parsed = protocol.parse(data)
    except protocol.BadMessage:
        parsed = None
    plain = protocol.plain_ack(data)
    if isinstance(parsed, protocol.Ack):
        assert plain == (parsed.run_id, parsed.seq)
    else:
        assert plain is None


@given(messages())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_a_plain_ack_never_takes_what_the_model_refuses(data):
    plain = protocol.plain_ack(data)
    if plain is not None:
        parsed = protocol.parse(data)
        assert isinstance(parsed, protocol.Ack) and (parsed.run_id, parsed.seq) == plain
