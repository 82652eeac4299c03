"""The CPU a worker spends publishing one frame to Redis (issue #20), this tree against a
baseline commit in the same run: `group_send` of a real frame of bench/load.py's design
through the channel layer a worker uses (playground/fenced/layers.py) to a local Redis, N
times, in a fresh process per measurement, the trees alternating.

    .venv/bin/python bench/publish_cost.py --baseline 843e16a --repeat 5

CPU time (process_time) is counted, not wall time: other work on the machine moves it less,
but still some; the median and the spread of the runs are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


async def _frame_message() -> dict:
    """The message a worker publishes for one delta frame of bench/load.py's design."""
    from load import DESIGN

    from playground.live import runs

    class Keep:
        message: dict = {}

        async def group_send(self, group: str, message: dict) -> None:
            self.message = message

    runs.scheduler.budget = lambda who, tick: None
    run = await runs.scheduler.run(runs.Run, runs.RunRegistry(), DESIGN, None, 1.0, False)
    run.layer = Keep()
    for _ in range(20):
        await run._play(runs.TICK_S, keyframe=False)
    return run.layer.message


async def _measure(redis_url: str, count: int) -> dict:
    from playground.fenced.layers import FanOutRedisLayer

    message = await _frame_message()
    layer = FanOutRedisLayer(hosts=[redis_url])
    group = f"bench.{uuid.uuid4().hex}"  # nobody listens: Redis drops them
    try:
        for _ in range(200):  # connected, warm
            await layer.group_send(group, message)
        cpu = time.process_time()
        for n in range(count):
            await layer.group_send(group, message)
            if n % 16 == 0:  # as a worker does between frames: the loop turns
                await asyncio.sleep(0)
        await asyncio.sleep(0.2)  # what reads Redis's answers, where there are any
        used = time.process_time() - cpu
    finally:
        await layer.flush()
    return {"us": 1e6 * used / count, "bytes": len(message["text"])}


def _child(redis_url: str, count: int) -> None:
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")
    import django

    django.setup()
    print(json.dumps(asyncio.run(_measure(redis_url, count))))


def _run(tree: Path, args) -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "publish_cost.py"), "--child",
                          "--redis", args.redis, "--count", str(args.count)],
                         cwd=tree, capture_output=True, text=True, check=True,
                         env={**os.environ, "REDIS_URL": args.redis})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REV", help="measure this revision too")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--count", type=int, default=20_000, help="publishes per run")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.redis, args.count)
        return
    from common import alternately, print_medians

    size = 0

    def measure(tree: Path) -> float:
        nonlocal size
        result = _run(tree, args)
        size = result["bytes"]
        return result["us"]

    figures = alternately(args.baseline, args.repeat, measure)
    print(f"group_send of a frame ({size} bytes of JSON), {args.count} a run, "
          f"{args.repeat} runs per tree: CPU per publish, median (every run)")
    print_medians(figures, "us")

if __name__ == "__main__":
    main()
