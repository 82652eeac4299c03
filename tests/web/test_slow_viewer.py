"""A viewer that cannot keep up gets the newest state, never a queue (docs/protocol.md, ack)."""

import copy
import json
import time

from django.test import override_settings

from playground.runs import registry
from playground.sendwindow import FrameWindow
from tests.web.test_play_consumer import connect, receive_until, start

WINDOW = 10


async def frames_for(comm, seconds, ack):
    """Every frame received in `seconds` (acked as they come if `ack`). Polls: a receive
    that times out would cancel the consumer."""
    frames = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await comm.receive_nothing(0.02):
            continue
        message = await receive_until(comm, lambda m: True, ack=ack)
        if message["type"] == "frame":
            frames.append(message)
    return frames


async def test_a_viewer_that_never_acks_gets_a_window_then_the_newest_state_as_a_keyframe():
    with override_settings(PLAYGROUND_WS_FRAMES_IN_FLIGHT=WINDOW):
        owner = await connect()
        snap = await start(owner, speed=5)
        run_id = snap["run_id"]
        slow = await connect()
        await slow.send_json_to({"type": "join", "run_id": run_id})
        await receive_until(slow, lambda m: m["type"] == "snapshot", ack=False)
        # the owner acks everything and rebuilds the state after every seq
        state = copy.deepcopy(snap["frame"]["components"])
        states = {}
        for frame in await frames_for(owner, 2.6, ack=True):  # past a keyframe (every 2 s)
            for cid, fields in frame["frame"]["components"].items():
                state.setdefault(cid, {}).update(fields)
            states[frame["seq"]] = copy.deepcopy(state)
        stalled = await frames_for(slow, 0.3, ack=False)
        assert len(stalled) == WINDOW, "no more frames than the window while it does not ack"
        seqs = [f["seq"] for f in stalled]
        assert seqs == list(range(seqs[0], seqs[0] + WINDOW))

        await slow.send_json_to({"type": "ack", "run_id": run_id, "seq": seqs[-1]})
        caught_up = await receive_until(slow, lambda m: m["type"] == "frame", ack=False)
        assert caught_up.get("full") is True
        assert caught_up["seq"] >= max(states) > seqs[-1] + WINDOW
        # deltas merged into the last keyframe: exactly the state a keeping-up viewer has
        later = await frames_for(owner, 0.5, ack=True)
        for frame in later:
            for cid, fields in frame["frame"]["components"].items():
                state.setdefault(cid, {}).update(fields)
            states[frame["seq"]] = copy.deepcopy(state)
        assert caught_up["frame"]["components"] == states[caught_up["seq"]]
        # and deltas follow it in order again
        after = await receive_until(slow, lambda m: m["type"] == "frame", ack=False)
        assert after["seq"] == caught_up["seq"] + 1 and not after.get("full")
        await owner.disconnect()
        await slow.disconnect()
    await registry.stop_all()


def _frame(seq, full=False, components=None, sent_at=None):
    sent_at = time.time() if sent_at is None else sent_at
    message = {"type": "frame", "run_id": "r", "seq": seq, "sent_at": sent_at,
               "frame": {"t": seq, "components": components or {}, "dots": [[seq]]}}
    if full:
        message["full"] = True
    return {"kind": "frame", "seq": seq, "full": full, "sent_at": sent_at,
            "text": json.dumps(message)}


def test_window_memory_is_one_frame_however_long_the_viewer_stalls():
    window = FrameWindow(size=3)
    sent = [window.offer(_frame(seq, full=seq % 30 == 0, components={"a": {"n": seq}}))
            for seq in range(1, 1000)]
    assert sum(text is not None for text in sent) == 3 and window.dropped == 996
    assert len(window.in_flight) == 3 and window.held["seq"] == 999
    assert window.held["frame"] == {"t": 999, "components": {"a": {"n": 999}},
                                    "dots": [[999]]}
    caught_up = json.loads(window.ack(1))
    assert caught_up["seq"] == 999 and caught_up["full"] is True and window.held is None
    assert window.offer(_frame(1000)) is None, "the keyframe filled the window again"
    # The viewer cannot apply a delta across the gap 1000 left: none until a keyframe.
    assert window.ack(999) is None and window.offer(_frame(1001)) is None
    assert json.loads(window.offer(_frame(1002, full=True)))["seq"] == 1002
    assert window.offer(_frame(1003)) is not None


def test_frames_that_reach_a_process_late_are_merged_and_sent_as_one_keyframe_on_time():
    window = FrameWindow(size=30)
    now = time.time()
    assert window.offer(_frame(1, full=True, sent_at=now - 0.01)) is not None  # quickest
    # This process fell 2 s or more behind: the frames it still has to hand over are stale.
    assert window.offer(_frame(2, full=True, sent_at=now - 2.0)) is None
    for seq in range(3, 30):
        assert window.offer(_frame(seq, components={"a": {"n": seq}}, sent_at=now - 4.0
                                   + seq / 15)) is None
    # The first frame on time again brings the whole newest state.
    caught_up = json.loads(window.offer(_frame(30, components={"b": {"n": 30}},
                                               sent_at=now - 0.02)))
    assert caught_up["seq"] == 30 and caught_up["full"] is True
    assert caught_up["frame"]["components"] == {"a": {"n": 29}, "b": {"n": 30}}
    assert window.dropped == 28 and window.held is None
    assert window.offer(_frame(31, sent_at=now)) is not None


def test_a_publishers_clock_ahead_of_ours_is_not_lag():
    # The worker's clock is 5 s ahead of this web process's: frames look 5 s early.
    window = FrameWindow(size=30)
    ahead = time.time() + 5
    assert all(window.offer(_frame(seq, full=seq == 1, sent_at=ahead + seq / 15))
               for seq in range(1, 20))
    assert window.offer(_frame(20, sent_at=ahead - 1)) is None, "1 s late, on that clock"
    # A snapshot (the run moved to another worker, another clock) starts over.
    window.offer({"kind": "snapshot", "text": "{}"})
    assert window.offer(_frame(21, full=True, sent_at=time.time())) is not None


def test_a_snapshot_is_never_held_and_drops_a_stale_held_state():
    window = FrameWindow(size=1)
    window.offer(_frame(1))
    window.offer(_frame(2, full=True))
    assert window.held is not None
    snapshot = {"kind": "snapshot", "text": '{"type": "snapshot"}'}
    assert window.offer(snapshot) == snapshot["text"] and window.held is None
    assert window.offer({"text": '{"type": "status"}'}) == '{"type": "status"}'
