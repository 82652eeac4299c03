"""The cost of a run's frames in a worker, in process and deterministic: N frames of
bench/load.py's design played by the run driver (`Run._play`, each frame reaching its time,
no wall-clock budget), published to a layer that drops them. For instructions, count them
with callgrind at two frame counts (bench/README.md, "The cost of a frame"):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python bench/frame_cost.py 600
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Dropping:
    async def group_send(self, group: str, message: dict) -> None:
        pass


async def play(frames: int) -> None:
    from load import DESIGN

    from playground.live import runs

    runs.scheduler.budget = lambda who, tick: None
    runs.scheduler.share = 1.0  # no rests between slices
    run = await runs.scheduler.run(runs.Run, runs.RunRegistry(), DESIGN, None, 1.0, False)
    run.layer = Dropping()
    for n in range(1, frames + 1):
        await run._play(runs.TICK_S, keyframe=n % 30 == 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("frames", type=int, nargs="?", default=3000)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")
    import django

    django.setup()
    start, cpu = time.perf_counter(), time.process_time()
    asyncio.run(play(args.frames))
    if args.frames:
        print(f"{args.frames} frames: {1e6 * (time.process_time() - cpu) / args.frames:.0f} us "
              f"of CPU each ({1e6 * (time.perf_counter() - start) / args.frames:.0f} us wall)")


if __name__ == "__main__":
    main()
