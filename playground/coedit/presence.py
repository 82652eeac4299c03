"""What a co-editor tells the others about where they are (docs/protocol.md, "Co-editing:
pointers and fields"), checked and bounded before it is forwarded: their mouse pointer on
the design, in model coordinates, and the inspector field they are editing; and the name a
person who is not signed in goes by until they give one."""

from __future__ import annotations

import math
import re
from typing import Any

from simulations.scenario import ID_PATTERN

POINTER_BOUND = 1_000_000.0  # model units either way: far past any design; beyond, clamped
NAME = re.compile(ID_PATTERN)  # component ids and field names alike: [A-Za-z0-9_.-]{1,64}


# 16 x 16 names: two guests in a room share one once in 256 (their colours differ too)
ADJECTIVES = ("Amber", "Brisk", "Calm", "Deft", "Eager", "Fair", "Gentle", "Hardy", "Keen",
              "Lucky", "Merry", "Nimble", "Quiet", "Swift", "Tidy", "Witty")
ANIMALS = ("otter", "heron", "lynx", "panda", "robin", "koala", "falcon", "badger", "gecko",
           "ibis", "marten", "newt", "puffin", "quokka", "stoat", "wren")


def guest_name(peer_id: str) -> str:
    """A guest's name from their peer id (hex), so that two guests are told apart."""
    n = int(peer_id, 16)
    return f"Guest {ADJECTIVES[n % 16].lower()} {ANIMALS[n // 16 % 16]}"


class Invalid(ValueError):
    pass


def pointer(data: dict[str, Any]) -> dict[str, float] | None:
    """{"x", "y"} clamped to the bound and rounded to a tenth, or None when the message has
    neither (the pointer left the canvas)."""
    if "x" not in data and "y" not in data:
        return None
    at = {}
    for axis in ("x", "y"):
        value = data.get(axis)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"{axis}: a number")
        try:
            value = float(value)
        except OverflowError:  # an integer of hundreds of digits
            value = math.inf
        if not math.isfinite(value):
            raise Invalid(f"{axis}: a finite number")
        at[axis] = round(min(max(value, -POINTER_BOUND), POINTER_BOUND), 1)
    return at


def editing(value: Any) -> dict[str, str] | None:
    """{"component": id, "field": name} of the field being edited, or None: none."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"component", "field"} or not all(
            isinstance(v, str) and NAME.fullmatch(v) for v in value.values()):
        raise Invalid("editing: null or {component, field}, each 1 to 64 of A-Z a-z 0-9 _ . -")
    return {"component": value["component"], "field": value["field"]}
