"""The document's own fields as the editor needs them: the run settings, a component's
label, a link's settings. Read from the validator's pydantic models (their bounds, choices,
defaults, help and unit) into the shape of the registry's parameters, so GET /api/kinds
carries them beside the kinds' parameters and the editor's on-the-spot checks use the
validator's numbers, never a copy.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from .registry import NETWORK_DEFAULTS, NETWORK_FIELDS
from .scenario import REPLICATION_DEFAULTS, Component, Link, Scenario

# Which fields the editor shows, in its order.
SCENARIO = ("name", "description", "duration_s", "warmup_s", "seed")
COMPONENT = ("id", "label")
LINK = ("latency_ms", "route", "weight", "kind", "classes")
REPLICATION = tuple(REPLICATION_DEFAULTS)  # a replication link's own fields
NETWORK = NETWORK_FIELDS  # a call link's payload and protocol fields
EXCHANGE = ("binding",)  # a link out of an exchange

_TYPES = {"number": "float", "integer": "int", "string": "text", "array": "names",
          "boolean": "bool"}


def _spec(name: str, prop: dict[str, Any], required: bool) -> dict[str, Any]:
    # `X | None` (a replication link's fields: None means the default) is described as X.
    inner = next((p for p in prop.get("anyOf", ()) if p.get("type") != "null"), prop)
    spec: dict[str, Any] = {
        "name": name, "type": "choice" if "enum" in inner else _TYPES[inner["type"]],
        "help": prop.get("description", ""), "unit": prop.get("unit", ""),
        "default": prop.get("default"), "required": required,
    }
    if "enum" in inner:
        spec["choices"] = inner["enum"]
    if "exclusiveMinimum" in inner:
        spec |= {"minimum": inner["exclusiveMinimum"], "exclusive_minimum": True}
    elif "minimum" in inner:
        spec["minimum"] = inner["minimum"]
    for key, ours in (("maximum", "maximum"), ("minLength", "min_length"),
                      ("maxLength", "max_length"), ("pattern", "pattern"),
                      ("maxItems", "max_items")):
        if key in inner:
            spec[ours] = inner[key]
    return spec


def _specs(model: type[BaseModel], names: tuple[str, ...],
           defaults: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    out = [_spec(n, schema["properties"][n], n in required) for n in names]
    for spec in out:
        if defaults and spec["name"] in defaults:
            spec["default"] = defaults[spec["name"]]
            if spec["default"] is None:  # a meaningful none (no bandwidth limit)
                spec["nullable"] = True
    return out


@cache
def document_fields() -> dict[str, list[dict[str, Any]]]:
    """{"scenario", "component", "link", "replication", "network", "exchange"}: each a list
    of field specs ({name, type, help, unit, default, required, minimum, exclusive_minimum,
    maximum, choices, min_length, max_length, pattern} as they apply)."""
    return {
        "scenario": _specs(Scenario, SCENARIO),
        "component": _specs(Component, COMPONENT),
        "link": _specs(Link, LINK),
        "replication": _specs(Link, REPLICATION, REPLICATION_DEFAULTS),
        "network": _specs(Link, NETWORK, NETWORK_DEFAULTS),
        "exchange": _specs(Link, EXCHANGE),
    }
