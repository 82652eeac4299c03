"""The CPU a web process spends on a viewer's ack (issue #20), this tree against a baseline
commit in the same run: one Daphne (a fresh one per measurement, the trees alternating),
`--sockets` play sockets each sending an ack as player.js does, 4 a second, for `--seconds`;
the server's CPU time meanwhile, less what it uses as long with the sockets open and quiet,
divided by the acks. The acks name a run nobody watches: what is measured is reading and
taking an ack, not the keyframe one may release.

    .venv/bin/python bench/ack_cost.py --baseline 8aa61a9 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from common import ONE_ADDRESS_FOR_ALL, alternately, connect, print_medians, single_server

ACK = json.dumps({"type": "ack", "run_id": "GUl1MrGz9dry9F32VOlEyA", "seq": 40})
ACKS_PER_S = 4  # as player.js


def _cpu(process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def _measure(url: str, process, sockets: int, seconds: float) -> float:
    """Microseconds of server CPU per ack."""
    viewers = [await connect(url) for _ in range(sockets)]
    try:
        await asyncio.sleep(2)
        quiet = _cpu(process)
        await asyncio.sleep(seconds)
        quiet = _cpu(process) - quiet
        start, sent = _cpu(process), 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for ws in viewers:
                await ws.send(ACK)
            sent += sockets
            await asyncio.sleep(1 / ACKS_PER_S)
        await asyncio.sleep(0.5)  # the last ones read
        return 1e6 * (_cpu(process) - start - quiet) / sent
    finally:
        for ws in viewers:
            await ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REV", help="measure this revision too")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()

    def measure(tree) -> float:
        with single_server(tree, **ONE_ADDRESS_FOR_ALL) as (urls, procs, _env):
            return asyncio.run(_measure(urls[0], procs["web1"], args.sockets, args.seconds))

    figures = alternately(args.baseline, args.repeat, measure)
    print(f"{args.sockets} sockets acking {ACKS_PER_S} times a second for {args.seconds:g} s, "
          f"{args.repeat} runs per tree: server CPU per ack, median (every run)")
    print_medians(figures, "us")


if __name__ == "__main__":
    main()
