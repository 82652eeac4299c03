"""Who a person is, for the limits and quotas that count per person (playground/ratelimit.py,
playground/live/quotas.py): an account, else a classroom seat (its key in the signed seats
cookie, which only joining gives). Neither: None, and the counts fall back on the client
address, shared by everyone there without one.
"""

from __future__ import annotations

from . import permissions


def person_of(user, cookies: dict[str, str]) -> str | None:
    """"user:<pk>", "seat:<key>" or None, from a request's or websocket scope's user and
    cookies."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    seats = permissions.seat_keys(cookies)
    return f"seat:{seats[0]}" if seats else None
