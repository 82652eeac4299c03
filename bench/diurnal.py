"""Diurnal autoscaled reference scenario (issue 17): how fast our engine runs traffic that
changes and a group that follows it.

    client (a daily sine from 200 to 2,000 rps, a "day" compressed to 600 s; 10,000 keys)
      -> load_balancer (least_connections, health check 5 s)
      -> app: instances of size medium (4 workers, 10 ms), autoscaled on utilisation 0.6,
         2 to 20 instances, evaluated every 10 s, boot 30 s

Two compressed days (1,200 simulated seconds, warmup 60). Prints simulated seconds per wall
second (target: at least 10x real time).

Run alone with `.venv/bin/python bench/diurnal.py [--seed S] [--print-doc]`;
bench/engine.py runs it after the six-tier scenario, in a fresh child process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TROUGH_RPS, PEAK_RPS, DAY_S = 200, 2_000, 600.0
DURATION_S = 2 * DAY_S
WARMUP_S = 60.0
TARGET_REALTIME = 10.0  # simulated seconds per wall second
TITLE = "Diurnal autoscaled scenario"
SHAPE = f"client {TROUGH_RPS:,} to {PEAK_RPS:,} rps over a {DAY_S:g} s day"


def scenario(seed: int = 1) -> dict:
    app = {"size": "medium", "service_ms": 10, "instances": 2, "autoscale": "utilisation",
           "scale_target": 0.6, "min_instances": 2, "max_instances": 20,
           "scale_period_s": 10, "boot_s": 30}
    return {"format": "playground.scenario/v1", "name": TITLE, "seed": seed,
            "duration_s": DURATION_S, "warmup_s": WARMUP_S,
            "components": [
                {"id": "users", "kind": "client", "params": {
                    "rate_rps": TROUGH_RPS, "keys": 10_000, "schedule": {
                        "shape": "diurnal", "peak_rps": PEAK_RPS, "period_s": DAY_S,
                        "peak_at_s": DAY_S / 2}}},
                {"id": "lb", "kind": "load_balancer",
                 "params": {"algorithm": "least_connections", "health_check_s": 5}},
                {"id": "app", "kind": "service", "params": app}],
            "links": [{"from": "users", "to": "lb"}, {"from": "lb", "to": "app"}]}


def main(argv: list[str] | None = None) -> int:
    import argparse

    import six_tier

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--print-doc", action="store_true", help="print the scenario JSON and exit")
    args = ap.parse_args(argv)
    if args.print_doc:
        print(json.dumps(scenario(args.seed), indent=2))
        return 0
    six_tier.print_measure(six_tier.measure(args.seed, scenario(args.seed)), TARGET_REALTIME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
