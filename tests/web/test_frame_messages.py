"""What a run publishes stays byte for byte what it was when the frame path was made cheaper
(issue 20): the frames, keyframes, snapshots, command and prediction messages of runs of
several designs (failures, partitions, live `set`s, several clients), compared with
digests recorded from the code before (frame_messages.json).

The runs are driven as the driver plays them (`Run._play`), one frame per call, with no
wall-clock budget (each frame reaches its time) and a fixed clock for `sent_at`, so the
messages depend on the design, seed and commands alone. After a deliberate change of what
frames carry, record again: `.venv/bin/python tests/web/test_frame_messages.py --record`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).with_name("frame_messages.json")
FRAMES = 240  # 16 s of play at speed 1; keyframes every 30 frames (runs.KEYFRAME_S)
SENT_AT = 1_700_000_000.0

# design file -> (speed, {frame number: commands applied before it})
CASES: dict[str, tuple[float, dict[int, list[dict]]]] = {
    "cache-in-front-of-database.json": (4.0, {
        40: [{"action": "set", "target": "app1", "params": {"workers": 1}}],
        90: [{"action": "fail", "target": "app2"}],
        150: [{"action": "recover", "target": "app2"},
              {"action": "slow", "target": "db", "params": {"factor": 3}}]}),
    "database-failover.json": (6.0, {}),
    "quorum-consistency.json": (6.0, {
        120: [{"action": "set", "target": "users_ap", "params": {"rate_rps": 50}}]}),
    "multi-primary-conflicts.json": (3.0, {}),
    "circuit-breaker.json": (5.0, {}),
    "topic-consumer-groups.json": (2.0, {
        60: [{"action": "fail", "target": "billing-1"}]}),
    "retry-storm.json": (5.0, {}),
}


class Recorder:
    """A channel layer that keeps what is published."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def group_send(self, group: str, message: dict) -> None:
        self.texts.append(message["text"])


async def messages(name: str) -> list[str]:
    """Every message a run of `name` publishes over FRAMES frames, and its snapshots."""
    from playground.live import runs

    speed, commands = CASES[name]
    document = json.loads((ROOT / "docs" / "examples" / name).read_text())
    run = await runs.scheduler.run(runs.Run, runs.RunRegistry(), document, 3, speed, False,
                                   None, None, "recorded")
    run.layer = recorder = Recorder()
    recorder.texts.append(json.dumps(run.snapshot()))
    for n in range(1, FRAMES + 1):
        for command in commands.get(n, []):
            await run.command(command)
        await run._play(runs.TICK_S, keyframe=n % 30 == 0)
        if n % 100 == 0:
            recorder.texts.append(json.dumps(run.snapshot()))
    return recorder.texts


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fixed(monkeypatch_setattr) -> None:
    """No wall-clock budget and a fixed publish time (monkeypatch.setattr or setattr)."""
    from playground.live import runs

    monkeypatch_setattr(runs.scheduler, "budget", lambda who, tick: None)
    monkeypatch_setattr(runs.scheduler, "share", 1.0)  # no rests between slices
    monkeypatch_setattr(runs, "time", types.SimpleNamespace(time=lambda: SENT_AT,
                                                           monotonic=time.monotonic))


@pytest.mark.parametrize("name", sorted(CASES))
async def test_messages_as_recorded(name, monkeypatch):
    fixed(monkeypatch.setattr)
    got = await messages(name)
    want = json.loads(RECORDED.read_text())[name]
    for i, (text, expected) in enumerate(zip(got, want, strict=False)):
        assert digest(text) == expected, f"message {i} of {name} differs: {text[:2000]}"
    assert len(got) == len(want)
    assert sum('"full": true' in text for text in got) == FRAMES // 30  # keyframes in it


def record() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    fixed(setattr)
    out = {name: [digest(t) for t in asyncio.run(messages(name))] for name in sorted(CASES)}
    RECORDED.write_text(json.dumps(out, indent=0) + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")
    record()
