"""Queues and the workers that consume them (competing consumers).

The caller of a queue is answered once its message is queued. Each message goes to one
free worker of the worker components the queue links to; a worker with a free slot pulls
from its sources (queues, and topics: components/topic.py) in turn. A message lost to a
failure (the queue's or the worker's) is counted as lost: nobody is waiting for its answer
any more.

With `delivery: at_least_once` a message is acknowledged only once a worker's work on it
ends OK: a failed job (a downstream error, `fail_prob`, the worker failing) or one not done
within `visibility_timeout_s` sends it back to the head of the queue, and a message
delivered `max_deliveries` times without success goes on to the dead-letter queue (the
queue's link marked `dead_letter`). A second success of one message is a duplicate. A
`durable` queue keeps its messages when it fails.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from .._mypyc import mypyc_attr
from ..kernel import stream
from ..metrics import TimeAverage
from .base import FAILED, OK, REJECTED, Component, Job, Link, Reply, Request, Unanswered, ignore
from .pool import Consumers


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Message:
    __slots__ = ("req", "queued", "counted", "tries", "acked")

    def __init__(self, req: Request, queued: float, counted: bool):
        self.req = req
        self.queued = queued
        self.counted = counted
        self.tries = 0  # deliveries so far (at least once)
        self.acked = False  # processed OK once


class Acker(Protocol):
    """What hands out messages acknowledged after the work (a queue, a topic)."""

    def settle(self, delivery: Delivery, outcome: int) -> None:
        """The worker's job on a delivered message ended with `outcome`."""

    def overdue(self, delivery: Delivery) -> None:
        """The delivery was not settled within the visibility timeout."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Delivery:
    """One delivery of a message acknowledged after the work (at least once): an object,
    not a closure, so that a running simulation can be copied."""

    __slots__ = ("source", "msg", "worker", "open", "epoch", "claim")

    def __init__(self, source: Acker, msg: Message, worker: Worker, epoch: int,
                 claim: Any = None):
        self.source = source
        self.msg = msg
        self.worker = worker
        self.open = True  # neither settled nor overdue yet
        self.epoch = epoch  # the source's, when handed: a non-durable failure bumps it
        self.claim = claim  # a topic's partition as the group reads it

    def done(self, outcome: int) -> None:
        """The reply of the worker's job."""
        self.worker.acking -= 1
        self.source.settle(self, outcome)

    def expire(self, _: Any = None) -> None:
        if self.open:
            self.source.overdue(self)


def dead_letter(link: Link | None, msg: Message) -> None:
    """A message that failed max_deliveries times goes to the dead-letter queue, if any."""
    if link is not None:
        link.send(msg.req, Unanswered())


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
        self.acks = settings["delivery"] == "at_least_once"
        self.dead_link: Link | None = None
        self.epoch = 0  # bumped when a failure loses the messages (not durable)
        # Counted messages (at least once): processed OK, delivered again, processed again,
        # sent to the dead-letter queue.
        self.processed = self.redelivered = self.duplicates = self.dead_lettered = 0

    def wire(self):
        super().wire()
        links = self.sim.scenario.links
        self.consumers = [link.target for link in self.out if not links[link.index].dead_letter]
        self.dead_link = next((link for link in self.out if links[link.index].dead_letter),
                              None)
        for worker in self.consumers:
            worker.sources.append(self)

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self.acks = self.settings["delivery"] == "at_least_once"

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
            if msg.tries:
                self.redelivered += 1
            else:
                self.delivered += 1
                self.wait_sum += now - msg.queued
        if not self.acks:
            worker.take(msg)
            return
        msg.tries += 1
        delivery = Delivery(self, msg, worker, self.epoch)
        worker.take(msg, delivery.done, True)
        timeout = self.settings["visibility_timeout_s"]
        if timeout is not None:
            self.kernel.schedule(timeout, delivery.expire, None)

    # -- acknowledgements (at least once) ------------------------------------------------
    def settle(self, delivery: Delivery, outcome: int) -> None:
        msg = delivery.msg
        if outcome == OK:
            if msg.acked:
                self.duplicates += 1 if msg.counted else 0
            else:
                msg.acked = True
                self.processed += 1 if msg.counted else 0
                if not delivery.open and msg in self.buffer:  # overdue, not yet delivered
                    self.buffer.remove(msg)  # again: the acknowledgement deletes it
                    self.depth.update(self.kernel.now, len(self.buffer))
            delivery.open = False
        elif delivery.open:
            delivery.open = False
            self.again(delivery)

    def overdue(self, delivery: Delivery) -> None:
        delivery.open = False
        self.again(delivery)

    def again(self, delivery: Delivery) -> None:
        """Deliver the message again, or dead-letter it after max_deliveries."""
        msg = delivery.msg
        if msg.acked:  # processed by an earlier delivery (overdue, yet done): deleted
            return
        if delivery.epoch != self.epoch:  # the queue lost its messages since: this one too
            self.lost += 1 if msg.counted else 0
        elif msg.tries >= self.settings["max_deliveries"]:
            self.dead_lettered += 1 if msg.counted else 0
            dead_letter(self.dead_link, msg)
        else:
            self.buffer.appendleft(msg)
            self.depth.update(self.kernel.now, len(self.buffer))
            self.kernel.hand(self.dispatch, None)

    def waited(self, worker: Worker) -> float:
        return self.depth.integral(self.kernel.now)

    def drop_state(self) -> None:
        if self.settings["durable"]:  # the messages wait for the queue to be back
            return
        self.epoch += 1
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
        if self.acks:
            out.update(processed=self.processed, redelivered=self.redelivered,
                       duplicates=self.duplicates, dead_lettered=self.dead_lettered)
        return out

    def live(self):
        out = super().live()
        out["queue"] = len(self.buffer)
        if self.acks:
            out.update(redelivered=self.redelivered, dead_lettered=self.dead_lettered)
        return out


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Worker(Consumers):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        self.sources: list[Source] = []
        self._turn = 0
        self.lost = 0
        self.acking = 0  # jobs whose message is delivered again if they fail (not lost)
        self._crash_rng = stream(sim.seed, cid, "fail_prob")
        self._crashing()

    def _crashing(self) -> None:
        """With `fail_prob`, a message's work may fail: chosen here, not per job."""
        self._on_worked = self.worked_or_crash if self.settings["fail_prob"] else self.worked

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self._crashing()

    def worked_or_crash(self, job: Job) -> None:
        if job.open and self._crash_rng.random() < self.settings["fail_prob"]:
            self.end(job, FAILED)
        else:
            self.worked(job)

    def take(self, msg: Message, reply: Reply = ignore, acked: bool = False) -> None:
        """Start processing a message. Its producer was answered already; `reply` tells the
        source when it is processed (a topic's partition waits for it); `acked`: the source
        delivers it again if the job fails."""
        if acked:
            self.acking += 1
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
            self.lost += len(self.jobs) - self.acking
        super().drop_state()

    def recover(self) -> None:
        super().recover()
        self.pull()

    def report(self, now: float):
        out = super().report(now)
        out["lost"] = self.lost
        return out
