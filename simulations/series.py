"""A run's figures second by second, for plotting from a notebook (`run --series`).

The live frames' figures (docs/protocol.md: rates, utilisation, waits, latencies, ratios,
lags) taken at every multiple of `every_s`, in columns: `t`, the end-to-end `summary`, and
per component each field's values, None where the frame had none (warm-up, nothing to
measure). A nested field (a topic's lag per group) becomes one column per key, `lag.billing`.
Taking frames only observes the run: its report is the same with or without a series.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Simulation


def run_with_series(sim: Simulation, every_s: float = 1.0) -> dict[str, Any]:
    """Run `sim` to its end and return its report with `series` added."""
    times: list[float] = []
    summary: dict[str, list[Any]] = {}
    components: dict[str, dict[str, list[Any]]] = {cid: {} for cid in sim.components}
    for k in range(1, math.floor(sim.duration_s / every_s + 1e-9) + 1):
        sim.advance(k * every_s)
        frame = sim.frame()
        times.append(frame["t"])
        _put(summary, frame["summary"], len(times))
        for cid, state in frame["components"].items():
            _put(components[cid], _flat(state), len(times))
    sim.advance(sim.duration_s)
    report = sim.report()
    report["series"] = {"every_s": every_s, "t": times, "summary": summary,
                        "components": components}
    return report


def _flat(state: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        elif isinstance(value, list):
            out.update({f"{key}.{i}": v for i, v in enumerate(value)})
        else:
            out[key] = value
    return out


def _put(columns: dict[str, list[Any]], row: dict[str, Any], n: int) -> None:
    """Append one row; a column first seen now is None before, one missing now is None."""
    for key, value in row.items():
        column = columns.setdefault(key, [None] * (n - 1))
        column.append(value)
    for column in columns.values():
        if len(column) < n:
            column.append(None)
