"""A viewer that cannot keep up gets the newest state, never a queue (docs/protocol.md, ack)."""

import copy
import json
import time
from unittest.mock import patch

from django.test import override_settings

from playground.live import sendwindow
from playground.live.runs import registry
from playground.live.sendwindow import FrameWindow
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


def test_a_process_that_hands_frames_over_late_sends_the_newest_state_twice_a_second():
    window = FrameWindow(size=30)
    t0 = time.time()
    with patch.object(sendwindow.time, "monotonic", return_value=t0):
        assert window.offer(_frame(1, full=True, sent_at=t0)) is not None
    # This process is 2 s behind: it hands over frames published 2 s ago, 15 a second.
    sent = []
    for seq in range(2, 47):
        at = t0 + seq / 15
        with patch.object(sendwindow.time, "time", return_value=at + 2.0), \
                patch.object(sendwindow.time, "monotonic", return_value=at):
            text = window.offer(_frame(seq, full=seq % 30 == 0,
                                       components={"a": {"n": seq}}, sent_at=at))
        if text is not None:
            sent.append(json.loads(text))
            window.ack(seq)  # a viewer keeping up
    # Deltas 2..29 have no keyframe to merge into (the viewer could not apply them either);
    # from keyframe 30 on, the newest state every LAG_S (0.5 s: 8 frames), as keyframes.
    assert [m["seq"] for m in sent] == [30, 38, 46]
    assert all(m["full"] for m in sent)
    assert sent[-1]["frame"]["components"] == {"a": {"n": 46}}
    # On time again: the newest state at once, then deltas as they come.
    caught_up = json.loads(window.offer(_frame(47, components={"b": {"n": 47}})))
    assert caught_up["seq"] == 47 and caught_up["full"] is True
    assert caught_up["frame"]["components"] == {"a": {"n": 46}, "b": {"n": 47}}
    delta = json.loads(window.offer(_frame(48, components={"b": {"n": 48}})))
    assert delta["seq"] == 48 and "full" not in delta and window.held is None


def test_frames_unacked_for_2s_stall_the_window_whatever_their_number():
    window = FrameWindow(size=30)
    with patch.object(sendwindow.time, "monotonic", return_value=100.0):
        assert window.offer(_frame(1, full=True)) and window.offer(_frame(2))
    with patch.object(sendwindow.time, "monotonic", return_value=102.5):
        assert window.offer(_frame(3, full=True)) is None
        assert window.offer(_frame(4, components={"a": {"n": 4}})) is None
        assert window.ack(1) is None, "2 is still unacked since 100.0"
        assert json.loads(window.ack(2))["seq"] == 4, "the newest state once it is acked"


def test_after_a_delta_that_never_came_nothing_is_sent_until_a_keyframe():
    window = FrameWindow(size=30)
    assert window.offer(_frame(1, full=True)) and window.offer(_frame(2))
    # 3 was dropped on the way (playground/fenced/layers.py): 4 cannot be applied by the player.
    assert window.offer(_frame(4)) is None and window.offer(_frame(5)) is None
    assert json.loads(window.offer(_frame(6, full=True)))["seq"] == 6
    assert json.loads(window.offer(_frame(7)))["seq"] == 7


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


class Writer:
    """A socket writer (playground/fenced/frames.py) that records what it writes."""

    def __init__(self):
        self.sent = []

    def plainly_open(self):
        return True

    def send_text(self, text):
        self.sent.append(json.loads(text))
        return True


def test_an_ack_taken_as_daphne_reads_it_does_what_receive_does_with_it():
    from playground.live.consumers import PlayConsumer, TokenBucket

    run_id = "r" * 16
    viewer = PlayConsumer()
    viewer.writer, viewer.bucket = Writer(), TokenBucket(rate=0.01, burst=1)
    viewer.windows = {run_id: FrameWindow(size=1)}
    window = viewer.windows[run_id]
    assert window.offer(_frame(1, full=True, components={"a": {"x": 1}})) is not None
    assert window.offer(_frame(2, full=True, components={"a": {"x": 2}})) is None  # held
    assert window.offer(_frame(3, components={"a": {"x": 3}})) is None  # merged into it

    def ack(seq, run=run_id):
        return json.dumps({"type": "ack", "run_id": run, "seq": seq}).encode()

    assert viewer.take_ack(ack(1))
    [keyframe] = viewer.writer.sent  # the held state, as on_ack sends it
    assert (keyframe["seq"], keyframe["full"], keyframe["frame"]["components"]) == \
        (3, True, {"a": {"x": 3}})
    # what receive() answers otherwise is left to it: not an ack, not valid, over the rate
    assert not viewer.take_ack(json.dumps({"type": "join", "run_id": run_id}).encode())
    assert not viewer.take_ack(b'{"type": "ack", "run_id": "x", "seq": 1}')
    assert not viewer.take_ack(b'{"type": "ack", ')
    viewer.bucket.tokens = 0.1  # less than an ack costs
    assert not viewer.take_ack(ack(2))  # the rate limit refuses: receive() says so
    assert viewer.writer.sent == [keyframe]


def test_viewers_of_a_late_process_share_each_frames_parse_and_keep_their_own_state():
    """When this process is behind, every viewer of a run holds its newest state: the
    frame is parsed once for all of them (not once each: the work grew with the viewers
    just when it had to shrink), and no viewer's merges show in another's state."""
    t0 = time.time()
    late = {"sent_at": t0 - 2.0}  # published 2 s ago
    windows = [FrameWindow(size=30) for _ in range(3)]
    frames = [_frame(1, full=True, components={"a": {"n": 1}}, **late),
              _frame(2, components={"a": {"n": 2}, "b": {"n": 2}}, **late)]
    parses = []
    loads = json.loads
    with patch.object(sendwindow.json, "loads", lambda text: parses.append(text) or loads(text)):
        for frame in frames:
            for window in windows:
                window.offer(frame)
    assert len(parses) == 2, "each frame parsed once for the three viewers"
    first = windows[0].held
    assert first["seq"] == 2 and first["frame"]["components"] == {"a": {"n": 2}, "b": {"n": 2}}
    windows[1].offer(_frame(3, components={"a": {"n": 3}}, **late))  # only viewer 1 gets 3
    assert windows[0].held["frame"]["components"]["a"] == {"n": 2}
    assert windows[1].held["frame"]["components"]["a"] == {"n": 3}
