"""Grading submissions in the background, never on a web request's thread.

The Submission table is the queue. A grader claims the oldest queued submission (or one whose
grader vanished: claimed more than LEASE_S ago and still running), runs the engine's
`simulations.grading.grade` in a child process (simulation is CPU-bound pure Python; a child
keeps it off the web process's GIL, so live runs keep their frame rate), and stores the
result. Embedded default: a daemon thread in the web process, woken on each submit. With
PLAYGROUND_GRADER=worker, web processes only enqueue and `manage.py grader` processes grade.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from simulations.grading import grade_plain

from .models import Submission

log = logging.getLogger(__name__)

LEASE_S = 300  # a running submission unclaimed for this long is graded again elsewhere


def grader_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def claim_next(name: str) -> Submission | None:
    """Atomically take the next submission to grade, or None."""
    stale = timezone.now() - timedelta(seconds=LEASE_S)
    with transaction.atomic():
        rows = Submission.objects.filter(state=Submission.QUEUED) | Submission.objects.filter(
            state=Submission.RUNNING, claimed_at__lt=stale)
        rows = rows.order_by("created_at")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        sub = rows.select_related("assignment").first()
        if sub is None:
            return None
        sub.state, sub.claimed_by, sub.claimed_at = Submission.RUNNING, name, timezone.now()
        sub.save(update_fields=["state", "claimed_by", "claimed_at"])
        return sub


def finish(sub: Submission, result: dict[str, Any]) -> None:
    sub.result = result
    sub.state = Submission.DONE
    sub.score, sub.out_of, sub.met = result["score"], result["out_of"], result["met"]
    sub.cost_per_hour = (result.get("worst") or {}).get("cost_per_hour")
    sub.finished_at = timezone.now()
    sub.save()
    from .live import submission_graded  # the dashboard hears of it

    submission_graded(sub)


def fail(sub: Submission, reason: str) -> None:
    sub.state, sub.finished_at = Submission.FAILED, timezone.now()
    sub.result = {"gradable": False, "errors": [reason], "met": False, "goals": [],
                  "score": 0, "out_of": sub.out_of}
    sub.save()


class Grader:
    """Claims and grades submissions one at a time with one child process."""

    def __init__(self) -> None:
        self.name = grader_name()
        self.wake = threading.Event()
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def grade_pending(self) -> int:
        """Grade until the queue is empty; returns how many were graded."""
        done = 0
        while (sub := claim_next(self.name)) is not None:
            a = sub.assignment
            try:
                future = self.pool().submit(grade_plain, sub.document, a.brief, a.goals)
                finish(sub, future.result(timeout=settings.PLAYGROUND_GRADE_TIMEOUT_S))
            except Exception as exc:  # a broken design or a dead child: say so, go on
                log.exception("grading submission %s failed", sub.pk)
                fail(sub, f"grading failed: {exc.__class__.__name__}")
                self._pool = None
            done += 1
        return done

    def loop(self, poll_s: float) -> None:
        while True:
            self.wake.wait(poll_s)
            self.wake.clear()
            try:
                self.grade_pending()
            except Exception:
                log.exception("grader loop")
            finally:
                close_old_connections()


_embedded: Grader | None = None
_embedded_lock = threading.Lock()


def kick() -> None:
    """After a submit: wake this process's grader thread (embedded default)."""
    global _embedded
    if settings.PLAYGROUND_GRADER != "thread":
        return  # graders are `manage.py grader` processes: they poll the table
    with _embedded_lock:
        if _embedded is None:
            _embedded = Grader()
            threading.Thread(target=_embedded.loop, args=(30.0,), name="grader",
                             daemon=True).start()
    _embedded.wake.set()
