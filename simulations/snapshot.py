"""Pickling a running simulation without recursion along its chains of components.

pickle follows references depth-first, one C call level per object: a chain of 500
components (each component's link leads to the next) or of 500 requests in flight (each
job answers the job of its caller) nests thousands of levels deep and ends in
RecursionError. Here every component, link, job, answer on its way back and call is a
*node*: where pickle meets one it writes only how to make it (its class, no content) and
puts it on a work list; each node's content is then written as a record of its own. A
record refers to other nodes through pickle's memo (one Pickler writes every record), so
each record nests only as deep as one object's own content, and loading mirrors it: make
the objects as they come, then fill each in from its record.

`Simulation.__reduce__` uses it, so `pickle.dumps(sim)` and `copy.deepcopy(sim)` (replay
checkpoints, live copies) work for every design the validator accepts.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from typing import Any

from .components.base import Component, Job, Link, _Back
from .components.resilience import Call

NODES = (Component, Link, Job, _Back, Call)  # what can form chains as long as a design
PROTOCOL = pickle.HIGHEST_PROTOCOL


class _Writer(pickle.Pickler):
    def __init__(self, file: io.BytesIO, root: Any):
        super().__init__(file, PROTOCOL)
        self.root = root
        self.pending: list[tuple[Any, Any]] = []  # (node, its content) not written yet

    def reducer_override(self, obj: Any) -> Any:
        """A node is written as its making alone; its content waits on the work list.
        (Called only for objects the memo does not hold yet, so once per node.)"""
        if obj is self.root:  # a plain object whose own __reduce__ leads back here
            self.pending.append((obj, obj.__dict__))
            return copyreg.__newobj__, (type(obj),)
        if isinstance(obj, NODES):
            make, args, state = obj.__reduce_ex__(PROTOCOL)[:3]
            self.pending.append((obj, state))
            return make, args
        return NotImplemented


def dumps(root: Any) -> bytes:
    """`root` (a Simulation) and everything it refers to, as a sequence of pickles."""
    out = io.BytesIO()
    writer = _Writer(out, root)
    writer.dump(root)
    done = 0
    while done < len(writer.pending):  # grows as records meet new nodes
        writer.dump(writer.pending[done])
        done += 1
    writer.dump(None)
    return out.getvalue()


def loads(data: bytes) -> Any:
    """The root `dumps` wrote, every node filled in."""
    reader = pickle.Unpickler(io.BytesIO(data))  # one memo for every record, as written
    root = reader.load()
    while (record := reader.load()) is not None:
        _fill(*record)
    return root


def _fill(obj: Any, state: Any) -> None:
    """Set an object's content as pickle's BUILD does."""
    setstate = getattr(obj, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        obj.__dict__.update(state)
    for name, value in (slots or {}).items():
        setattr(obj, name, value)
