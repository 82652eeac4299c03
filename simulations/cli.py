"""Command line: `python -m simulations run|validate|kinds`.

Exit codes: 0 ok, 2 invalid scenario or bad arguments (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import Simulation, load, registry_json
from .scenario import ScenarioError
from .series import run_with_series

INVALID = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulations",
                                     description="Simulate a system design scenario.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and print its report")
    run.add_argument("file", help="scenario JSON file ('-' for standard input)")
    run.add_argument("--seed", type=int, help="seed (default: the scenario's)")
    run.add_argument("--duration", type=float, metavar="S",
                     help="simulated seconds (default: the scenario's duration_s)")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.add_argument("--series", action="store_true",
                     help="add the live figures second by second to the JSON report "
                          "(report.series; implies --json)")
    check = sub.add_parser("validate", help="check a scenario and say what is wrong")
    check.add_argument("file")
    sub.add_parser("kinds", help="print the component registry as JSON")
    args = parser.parse_args(argv)

    if args.command == "kinds":
        print(json.dumps(registry_json(), indent=2))
        return 0
    try:
        scenario = load(_read(args.file))
        if args.command == "validate":
            print(f"{args.file}: valid ({len(scenario.components)} components, "
                  f"{len(scenario.links)} links)")
            return 0
        if args.seed is not None and not 0 <= args.seed <= 2**63 - 1:
            raise ScenarioError(["--seed: must be from 0 to 2**63-1"])
        if args.duration is not None and not scenario.warmup_s < args.duration <= 86_400:
            raise ScenarioError([f"--duration: must be > warmup_s ({scenario.warmup_s:g}) "
                                 "and <= 86400"])
        sim = Simulation(scenario, seed=args.seed, duration_s=args.duration)
        report = run_with_series(sim) if args.series else sim.run()
    except ScenarioError as exc:
        for line in exc.errors:
            print(f"{args.file}: {line}", file=sys.stderr)
        return INVALID
    except OSError as exc:
        print(f"{args.file}: cannot read ({exc.strerror})", file=sys.stderr)
        return INVALID
    except UnicodeDecodeError:
        print(f"{args.file}: not UTF-8 text", file=sys.stderr)
        return INVALID
    print(json.dumps(report, indent=2) if args.json or args.series else format_table(report))
    return 0


def _read(name: str) -> str:
    return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")


def format_table(report: dict[str, Any]) -> str:
    s = report["summary"]
    lat = s["latency_ms"]
    lines = [
        f"{report['scenario']}  (seed {report['seed']}, {report['duration_s']:g} s simulated, "
        f"warm-up {report['warmup_s']:g} s, {report['events_processed']} events in "
        f"{report['wall_s']:.2f} s)",
        f"requests {s['requests']}  succeeded {s['succeeded']}  failed {s['failed']}  "
        f"success {s['success_ratio']:.2%}  throughput {s['throughput_rps']:.1f} rps",
        "latency ms  " + "  ".join(f"{k} {_num(v)}" for k, v in lat.items()),
        "",
        f"{'component':<16}{'kind':<15}{'arrivals':>10}{'ok':>10}{'rejected':>10}"
        f"{'util':>7}{'queue':>8}{'wait ms':>9}{'p99 ms':>9}  predicted",
    ]
    predictions = report.get("predictions", {}).get("components", {})
    for cid, c in report["components"].items():
        pred = predictions.get(cid, {})
        hint = "  ".join(f"{k} {_num(v)}" for k, v in pred.items()
                         if k in ("utilisation", "mean_wait_ms", "hit_ratio"))
        lines.append(
            f"{cid[:15]:<16}{c['kind']:<15}{c.get('arrivals', c.get('requests', 0)):>10}"
            f"{c.get('completed', c.get('succeeded', 0)):>10}{c.get('rejected', 0):>10}"
            f"{_num(c.get('utilisation')):>7}{_num(c.get('mean_queue')):>8}"
            f"{_num(c.get('mean_wait_ms')):>9}{_num(c['latency_ms'].get('p99')):>9}  {hint}")
    return "\n".join(lines)


def _num(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}" if isinstance(v, float) else str(v)
