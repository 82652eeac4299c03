"""Grading submissions in the background, never on a web request's thread.

The Submission table is the queue. A grader claims the oldest queued submission (or one whose
grader vanished: claimed more than LEASE_S ago and still running), runs the engine's
`simulations.grading.grade` in a child process (simulation is CPU-bound pure Python; a child
keeps it off the web process's GIL, so live runs keep their frame rate; it runs at a low
priority, `nice` NICE, so it takes only the CPU they leave), and stores the result. A
grading longer than PLAYGROUND_GRADE_TIMEOUT_S is failed and its child killed. Embedded
default: a daemon thread in the web process, started by a submit and ended when the queue is
empty. With PLAYGROUND_GRADER=worker, web processes only enqueue and `manage.py grader`
processes grade.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.pool
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from simulations.grading import grade_plain

from .. import monitoring
from .live import submission_graded
from .models import Submission

log = logging.getLogger(__name__)

LEASE_S = 300  # a running submission unclaimed for this long is graded again elsewhere
# The grading child's niceness: on a machine shared with live runs, the scheduler gives it
# the CPU they leave (a grading waits; a frame cannot).
NICE = 10


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
    monitoring.GRADING_SECONDS.observe((sub.finished_at - sub.claimed_at).total_seconds())
    submission_graded(sub)  # the dashboard hears of it


def fail(sub: Submission, reason: str) -> None:
    sub.state, sub.finished_at = Submission.FAILED, timezone.now()
    sub.result = {"gradable": False, "errors": [reason], "met": False, "goals": [],
                  "score": 0, "out_of": sub.out_of}
    sub.save()


class Grader:
    """Claims and grades submissions one at a time in one child process, which is replaced
    when a grading fails or overruns its time."""

    def __init__(self) -> None:
        self.name = grader_name()
        self._pool: multiprocessing.pool.Pool | None = None

    def pool(self) -> multiprocessing.pool.Pool:
        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(
                processes=1, initializer=os.nice, initargs=(NICE,))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def grade_pending(self) -> int:
        """Grade until the queue is empty; returns how many were graded."""
        done = 0
        while (sub := claim_next(self.name)) is not None:
            a = sub.assignment
            try:
                job = self.pool().apply_async(grade_plain, (sub.document, a.brief, a.goals))
                finish(sub, job.get(timeout=settings.PLAYGROUND_GRADE_TIMEOUT_S))
            except multiprocessing.TimeoutError:
                self.close()  # stop the overrunning child
                fail(sub, f"grading took longer than {settings.PLAYGROUND_GRADE_TIMEOUT_S:g} s")
            except Exception as exc:  # a broken design or a dead child: say so, go on
                log.exception("grading submission %s failed", sub.pk)
                self.close()
                fail(sub, f"grading failed: {exc.__class__.__name__}")
            done += 1
        return done

    def loop(self, poll_s: float) -> None:
        """`manage.py grader`: look at the queue every poll_s seconds, for ever."""
        try:
            while True:
                try:
                    self.grade_pending()
                except Exception:
                    log.exception("grader loop")
                finally:
                    close_old_connections()
                time.sleep(poll_s)
        finally:
            self.close()


_embedded_lock = threading.Lock()
_embedded_wake = threading.Event()
_embedded_thread: threading.Thread | None = None


def _grade_in_background() -> None:
    """The embedded grader thread: grades until no submit woke it since, then ends (the next
    kick starts another), so an idle web process holds no thread."""
    global _embedded_thread
    grader = Grader()
    try:
        while True:
            try:
                grader.grade_pending()
            except Exception:
                log.exception("embedded grader")
            finally:
                close_old_connections()
            with _embedded_lock:
                if not _embedded_wake.is_set():
                    _embedded_thread = None
                    return
                _embedded_wake.clear()
    finally:
        grader.close()


def kick() -> None:
    """A submission is queued (or was found waiting): grade it in this process's background
    thread (embedded default). With PLAYGROUND_GRADER=worker, `manage.py grader` processes
    poll the table instead."""
    global _embedded_thread
    if settings.PLAYGROUND_GRADER != "thread":
        return
    with _embedded_lock:
        _embedded_wake.set()
        if _embedded_thread is None:
            _embedded_wake.clear()
            _embedded_thread = threading.Thread(target=_grade_in_background, name="grader",
                                                daemon=True)
            _embedded_thread.start()
