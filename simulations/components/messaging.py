"""Queues and the workers that consume them (competing consumers).

The caller of a queue is answered once its message is queued. Each message goes to one
free worker of the worker components the queue links to; a worker with a free slot pulls
from its sources (queues, and topics: components/topic.py) in turn. A message lost to a
failure (the queue's or the worker's) is counted as lost: nobody is waiting for its answer
any more.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from .._mypyc import mypyc_attr
from ..metrics import TimeAverage
from .base import OK, REJECTED, Component, Job, Reply, Request, ignore
from .pool import Consumers


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Message:
    __slots__ = ("req", "queued", "counted")

    def __init__(self, req: Request, queued: float, counted: bool):
        self.req = req
        self.queued = queued
        self.counted = counted


class Source(Protocol):
    """What a worker pulls messages from."""

    def ready(self, worker: Worker) -> bool:
        """Whether a message is waiting for this worker."""

    def hand(self, worker: Worker) -> None:
        """Give the worker one waiting message (`worker.take`)."""

    def waited(self, worker: Worker) -> float:
        """Message-seconds waiting for this worker since the start, or since warm-up: what an
        autoscaled worker pool tracks (components/fleet.py)."""


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Queue(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.buffer: deque[Message] = deque()
        self.depth = TimeAverage(0.0, 0.0)
        self.consumers: list[Worker] = []
        self._next = 0
        self.delivered = self.lost = 0
        self.wait_sum = 0.0
        self.total_delivered = 0

    def wire(self):
        super().wire()
        self.consumers = [link.target for link in self.out]
        for worker in self.consumers:
            worker.sources.append(self)

    def warm(self, now: float):
        super().warm(now)
        self.depth.mark(now)

    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        enqueue_ms = self.settings["enqueue_ms"]
        if enqueue_ms:
            self.kernel.schedule(enqueue_ms / 1000.0, self._enqueue, job)
        else:
            self._enqueue(job)

    def _enqueue(self, job: Job) -> None:
        if not job.open:
            return
        capacity = self.settings["capacity"]
        if capacity is not None and len(self.buffer) >= capacity:
            self.jobs.pop(job, None)
            job.open = False
            self.refuse(job.counted, job.reply, REJECTED)
            return
        self.buffer.append(Message(job.req, self.kernel.now, job.counted))
        self.depth.update(self.kernel.now, len(self.buffer))
        self.finish(job, OK)
        self.kernel.hand(self.dispatch, None)  # after the producer's answer, as it goes on

    def dispatch(self, _: Any = None) -> None:
        """Hand messages to free workers, taking the consumers in turn."""
        n = len(self.consumers)
        while self.buffer and self.up:
            for k in range(n):
                worker = self.consumers[(self._next + k) % n]
                if worker.up and worker.busy < worker.workers:
                    self._next = (self._next + k + 1) % n
                    self.hand(worker)
                    break
            else:
                return

    def ready(self, worker: Worker) -> bool:
        return bool(self.buffer) and self.up

    def hand(self, worker: Worker) -> None:
        msg = self.buffer.popleft()
        now = self.kernel.now
        self.depth.update(now, len(self.buffer))
        self.total_delivered += 1
        if msg.counted:
            self.delivered += 1
            self.wait_sum += now - msg.queued
        worker.take(msg)

    def waited(self, worker: Worker) -> float:
        return self.depth.integral(self.kernel.now)

    def drop_state(self) -> None:
        if self.kernel.now >= self.warmup:
            self.lost += len(self.buffer)
        self.buffer.clear()
        self.depth.update(self.kernel.now, 0)

    def recover(self) -> None:
        super().recover()
        self.dispatch()

    def report(self, now: float):
        out = super().report(now)
        out.update(mean_queue=self.depth.mean(now), delivered=self.delivered,
                   mean_wait_ms=self.wait_sum / self.delivered * 1000.0 if self.delivered
                   else 0.0, lost=self.lost)
        return out

    def live(self):
        out = super().live()
        out["queue"] = len(self.buffer)
        return out


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Worker(Consumers):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.sources: list[Source] = []
        self._turn = 0
        self.lost = 0

    def take(self, msg: Message, reply: Reply = ignore) -> None:
        """Start processing a message. Its producer was answered already; `reply` tells the
        source when it is processed (a topic's partition waits for it)."""
        counted = self.kernel.now >= self.warmup
        self.total_in += 1
        if counted:
            self.arrivals += 1
        job = Job(self, msg.req, reply, self.kernel.now, counted)
        self.jobs[job] = None
        self.start(job)

    def pull(self) -> None:
        """Free slots take messages from the sources in turn."""
        n = len(self.sources)
        while self.up and self.busy < self.workers:
            for k in range(n):
                source = self.sources[(self._turn + k) % n]
                if source.ready(self):
                    self._turn = (self._turn + k + 1) % n
                    source.hand(self)
                    break
            else:
                return

    def drop_state(self) -> None:
        if self.kernel.now >= self.warmup:
            self.lost += len(self.jobs)
        super().drop_state()

    def recover(self) -> None:
        super().recover()
        self.pull()

    def report(self, now: float):
        out = super().report(now)
        out["lost"] = self.lost
        return out
