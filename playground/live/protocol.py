"""Messages a browser may send over the play websocket (docs/protocol.md), checked by pydantic.

Only the envelope is checked here; a scenario or a live command inside it is checked by the
engine's own validator, so there is one set of rules for every entry point.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

# Close code of a socket that broke the rules (too large, flooding): 1008 in the app range.
POLICY_VIOLATION = 4008

RUN_ID = r"^[A-Za-z0-9_-]{16,64}$"
RunId = Annotated[str, Field(pattern=RUN_ID)]
ShareId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,32}$")]
Speed = Annotated[float, Field(ge=0.1, le=100, allow_inf_nan=False)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Start(_Message):
    type: Literal["start"]
    scenario: dict[str, Any]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    speed: Speed = 1.0
    paused: bool = False
    # A student's run on an assignment: its digests go to the classroom's dashboard.
    assignment: ShareId | None = None


class Replay(_Message):
    """Replay a shared run (a run link): its id is the RunLink's share id."""

    type: Literal["replay"]
    run_link: ShareId
    speed: Speed = 1.0
    paused: bool = False


class Join(_Message):
    type: Literal["join"]
    run_id: RunId
    token: Annotated[str, Field(max_length=128)] | None = None


class Leave(_Message):
    type: Literal["leave"]
    run_id: RunId


class Control(_Message):
    type: Literal["control"]
    run_id: RunId
    action: Literal["play", "pause", "step", "speed", "reset", "stop", "seek"]
    speed: Speed | None = None
    seconds: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] | None = None
    t: Annotated[float, Field(ge=0, le=10**7, allow_inf_nan=False)] | None = None  # seek


class Command(_Message):
    type: Literal["command"]
    run_id: RunId
    command: dict[str, Any]


class Ack(_Message):
    """The last frame seq a viewer received: a viewer too far behind gets only the newest
    state (playground/live/sendwindow.py)."""

    type: Literal["ack"]
    run_id: RunId
    seq: Annotated[int, Field(ge=0, le=2**53)]


ACK_FIELDS = frozenset(Ack.model_fields)
_run_id = re.compile(RUN_ID)


def plain_ack(data: Any) -> tuple[str, int] | None:
    """The run id and seq of `data` if it is an Ack as plainly as a browser sends it,
    checked as the model checks it (strict, no other field) at a fraction of the cost, and
    with no model made (a fifth of an ack's cost): a web process takes thousands of acks a
    second. None: anything else, for parse()."""
    if type(data) is dict and data.keys() == ACK_FIELDS and data["type"] == "ack":
        run_id, seq = data["run_id"], data["seq"]
        if type(seq) is int and 0 <= seq <= 2**53 and type(run_id) is str \
                and _run_id.match(run_id) and "\n" not in run_id:
            return run_id, seq
    return None


class Ping(_Message):
    type: Literal["ping"]
    id: Annotated[int, Field(ge=0, le=2**53)] | Annotated[str, Field(max_length=64)] = 0


Incoming = Annotated[Start | Replay | Join | Leave | Control | Command | Ack | Ping,
                     Field(discriminator="type")]
_adapter = TypeAdapter(Incoming)


class BadMessage(ValueError):
    def __init__(self, errors: list[str], ref: str | None):
        super().__init__("; ".join(errors))
        self.errors = errors
        self.ref = ref


def parse(data: Any) -> Start | Replay | Join | Leave | Control | Command | Ack | Ping:
    """The message as a model, or BadMessage naming each wrong field."""
    ref = data.get("type") if isinstance(data, dict) and isinstance(data.get("type"), str) \
        else None
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            # The discriminated union prefixes the path with the tag; drop it.
            if loc and loc[0] == ref:
                loc = loc[1:]
            path = ".".join(loc) or "(message)"
            if err["type"] == "union_tag_invalid":
                msg = "type must be one of start, replay, join, leave, control, " \
                    "command, ack, ping"
            elif err["type"] == "union_tag_not_found":
                msg = "a message needs a type"
            else:
                msg = err["msg"][:1].lower() + err["msg"][1:]
            errors.append(f"{path}: {msg}")
        raise BadMessage(errors, ref) from None
