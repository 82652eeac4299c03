"""CPU per simulated second of bench/abuse.py's heavy design (a client at 200,000 rps -> a
balancer -> 400 services), this tree against a baseline commit, alternating, each run in a
fresh process:

    .venv/bin/python bench/wide_balancer.py --baseline HEAD~1 [--repeat 5] [--plain]

It is the work one attacker's run asks of the simulation thread (issue #13): the less each
simulated second costs, the more of it fits in the run's fair share.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from abuse import heavy_design
from common import ROOT, known_commit, table, worktree

CHILD = """
import json, sys, time
from simulations.engine import Simulation
sim = Simulation(json.loads(sys.argv[1]))
sim.advance({warm})
t = time.process_time()
sim.advance({warm} + {span})
print(time.process_time() - t)
"""


def cpu_per_sim_second(tree: Path, design: dict, plain: bool, warm=0.05, span=0.3) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
    if plain:
        env["SIMULATIONS_PURE"] = "1"
    out = subprocess.run([sys.executable, "-c", CHILD.format(warm=warm, span=span),
                          json.dumps(design)],
                         cwd=tree, env=env, check=True, capture_output=True, text=True)
    return float(out.stdout) / span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="a commit to compare with")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--services", type=int, default=400)
    parser.add_argument("--rps", type=float, default=200_000)
    parser.add_argument("--plain", action="store_true", help="both sides on plain Python")
    args = parser.parse_args()
    if not known_commit(args.baseline):
        sys.exit(f"unknown commit: {args.baseline}")
    design = heavy_design(args.services, args.rps)
    runs: dict[str, list[float]] = {"baseline": [], "this tree": []}
    with worktree(args.baseline) as base:
        for _ in range(args.repeat):
            runs["baseline"].append(cpu_per_sim_second(base, design, args.plain))
            runs["this tree"].append(cpu_per_sim_second(ROOT, design, args.plain))
    base_median = statistics.median(runs["baseline"])
    table(["tree", "CPU s per simulated s (median)", "each run", "ratio"],
          [(name, f"{statistics.median(v):.2f}", " ".join(f"{x:.2f}" for x in v),
            f"{statistics.median(v) / base_median:.2f}") for name, v in runs.items()])


if __name__ == "__main__":
    main()
