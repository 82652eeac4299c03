"""Writes the generated parts of docs/scenario-format.md from the registry and the limits.

`python -m simulations.docgen` rewrites the block between the markers; a test checks that
the committed file is what this would write, so the docs never drift from the validator.
"""

from __future__ import annotations

import sys

from .compiled import PACKAGE
from .registry import KINDS, SIZES, Param
from .scenario import LIMITS, MAX_CLASSES

# Beside the package's sources (this module may run from the compiled copy in build/).
DOC = PACKAGE.parent / "docs" / "scenario-format.md"
BEGIN, END = "<!-- generated:registry:begin -->", "<!-- generated:registry:end -->"

LIMIT_HELP = {
    "components": "components in one scenario",
    "links": "links in one scenario",
    "events": "scheduled events in one scenario",
    "duration_s": "simulated seconds of a headless run (`duration_s`)",
    "total_rate_rps": "requests per second of all clients together",
    "name_chars": "characters of `name`",
    "label_chars": "characters of a component `label`",
    "description_chars": "characters of `description`",
    "document_bytes": "bytes of the JSON document",
}


def _num(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


def _default(p: Param) -> str:
    if p.required:
        return "required"
    if p.default is None:
        return "none"
    if isinstance(p.default, bool):
        return "true" if p.default else "false"
    return f"`{p.default}`" if isinstance(p.default, str) else _num(p.default)


def _range(p: Param) -> str:
    if p.shapes:
        return "an object, below"
    if p.type == "points":
        return f"{_num(p.minimum)} to {_num(p.maximum)} points"
    if p.type in ("classes", "class_times"):
        return f"up to {MAX_CLASSES}, see Request classes"
    if p.choices:
        return " \\| ".join(f"`{c}`" for c in p.choices)
    if p.type == "bool":
        return "true \\| false"
    low = "" if p.minimum is None else ("> " if p.exclusive_minimum else "") + _num(p.minimum)
    high = "" if p.maximum is None else _num(p.maximum)
    if low.startswith(">"):
        return f"{low}, <= {high}" if high else low
    return f"{low} to {high}" if high else f">= {low}"


def _table(params: tuple[Param, ...], what: str = "parameter") -> list[str]:
    lines = [f"| {what} | type | unit | default | allowed | meaning |",
             "|---|---|---|---|---|---|"]
    for p in params:
        lines.append(f"| `{p.name}` | {p.type} | {p.unit or '-'} | {_default(p)} | "
                     f"{_range(p)} | {p.help} |")
    return lines


def _shapes(kind: str, p: Param) -> list[str]:
    """A structured parameter: one table per shape it may take."""
    lines = [f"#### `{kind}.{p.name}`", "",
             "An object `{\"shape\": ..., ...}` with the fields of its shape:", ""]
    for shape in p.shapes:
        lines += [f"`{shape.name}`: {shape.title}. {shape.help}", "",
                  *_table(shape.params, "field"), ""]
    return lines


def render() -> str:
    lines = [BEGIN, "", "## Component kinds and parameters", "",
             "Generated from `simulations/registry.py` by `python -m simulations.docgen`.", ""]
    for kind in KINDS.values():
        lines += [f"### `{kind.name}` ({kind.group})", "", kind.help, "",
                  *_table(kind.params), ""]
        for p in kind.params:
            if p.shapes:
                lines += _shapes(kind.name, p)
    lines += _sizes()
    lines += ["## Limits", "", "| limit | value |", "|---|---|"]
    lines += [f"| {LIMIT_HELP[k]} | {v:,} |" for k, v in LIMITS.items()]
    lines += ["", END]
    return "\n".join(lines)


def _sizes() -> list[str]:
    """The named sizes a service's or worker pool's instances, or a database, run as
    (registry.SIZES)."""
    lines = ["## Instance sizes", "",
             "The `size` of a service, a worker pool (each instance) or a database: `custom` "
             "is `workers` workers at speed 1 costing `cost_per_hour` per worker; a named "
             "size replaces both. Capacity is workers x speed (speed divides each service "
             "time, a database's `read_ms` and `write_ms`); the price per unit of capacity "
             "grows with the size.", "",
             "| size | workers | speed | cost per instance-hour | cost per unit of capacity |",
             "|---|---|---|---|---|"]
    lines += [f"| `{name}` | {workers} | {speed:g} | {price:g} | {price / (workers * speed):.3f} |"
              for name, (workers, speed, price) in SIZES.items()]
    return [*lines, ""]


def updated(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + render() + tail


def main() -> int:
    DOC.write_text(updated(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
