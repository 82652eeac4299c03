"""Who is online and what they last ran, per student, kept in the cache (Redis with
REDIS_URL) so that a dashboard connecting to any process sees the class as it is.

The bottom of the classroom modules' chain: presence <- live <- grader <- services <- roster.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

DIGEST_TTL_S = 10  # a run that has not reported for this long is shown as stopped


def key(kind: str, classroom_id: int, student_id: int) -> str:
    return f"class:{classroom_id}:{kind}:{student_id}"


async def set_presence(classroom_id: int, student_id: int, online: bool, run_id: str | None,
                       ttl_s: int) -> dict[str, Any]:
    state = {"online": online, "run_id": run_id if online else None}
    if online:
        await cache.aset(key("presence", classroom_id, student_id), state, ttl_s)
    else:
        await cache.adelete(key("presence", classroom_id, student_id))
    return state


async def remember_digest(classroom_id: int, student_id: int, digest: dict[str, Any]) -> None:
    await cache.aset(key("digest", classroom_id, student_id), digest, DIGEST_TTL_S)
