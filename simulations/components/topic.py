"""Topics: partitioned logs read by consumer groups (queues are in messaging.py).

A producer is answered once its message is appended (after `append_ms`) to the partition its
key hashes to, so the messages of one key keep their order. Each consumer group -- the
workers the topic links to with the same link `group` -- receives every message. Within a
group each partition belongs to one worker component (partitions dealt round-robin over the
group's workers, in link order), which processes its messages one at a time, in order; a
worker with c slots works on up to c of its partitions at once. A group's offset moves on
delivery (at most once): a message whose processing fails is not delivered again. Messages
older than `retention_s` leave the log even if a group has not read them (`expired` for that
group); a topic that fails loses its log (`lost`).
"""

from __future__ import annotations

from collections import deque

from .._mypyc import mypyc_attr
from ..distributions import key_bucket
from ..metrics import TimeAverage
from .base import OK, Component, Job, Link
from .messaging import Delivery, Message, Worker, dead_letter

EXPIRY_SLACK_S = 1e-9  # a message due to expire now is not kept by a rounding error


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Group:
    """A consumer group: its claims (one per partition) and what it has read."""

    def __init__(self, name: str):
        self.name = name
        self.claims: list[Claim] = []
        self.lag = 0  # messages appended and not yet processed (in service included)
        self.mean_lag = TimeAverage(0.0, 0.0)
        self.delivered = self.expired = self.lost = 0
        self.wait_sum = 0.0  # from append to delivery, of counted messages delivered
        self.workers: list[Worker] = []  # its workers, in link order
        self.members: list[Worker] = []  # those its partitions are dealt over
        self.redelivered = self.dead_lettered = self.rebalances = 0
        self.paused = False  # a rebalance stops the whole group
        self.paused_s = 0.0  # time stopped by rebalances, since warm-up
        self.paused_at = 0.0  # when the current stop began
        self.rebalance_epoch = 0  # of the latest rebalance; older ones are ignored
        self.fails: dict[str, int] = {}  # per worker id: its failures, to match its timers
        self.away = False  # ephemeral: every worker down, its messages dropped

    def grow(self, now: float, change: int) -> None:
        self.lag += change
        self.mean_lag.update(now, self.lag)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # _mypyc.py
class Claim:
    """One partition as one group reads it, through the worker it was dealt to."""

    __slots__ = ("topic", "group", "partition", "worker", "next", "busy", "listed", "retry",
                 "tries")

    def __init__(self, topic: Topic, group: Group, partition: int, worker: Worker):
        self.topic = topic
        self.group = group
        self.partition = partition
        self.worker = worker
        self.next = 0  # offset of the next message to deliver
        self.busy = False  # a message of it is being processed
        self.listed = False  # in the topic's list of claims waiting for this worker
        self.retry: Message | None = None  # at least once: a failed message to deliver again
        self.tries = 0  # deliveries of the message it is on

    def processed(self, outcome: int) -> None:
        """The reply of the worker's job: the partition may go on, whatever the outcome."""
        self.topic.processed(self)


@mypyc_attr(allow_interpreted_subclasses=True)  # _mypyc.py
class Topic(Component):
    def __init__(self, sim, cid, kind, settings) -> None:
        super().__init__(sim, cid, kind, settings)
        n = settings["partitions"]
        self.logs: list[deque[Message]] = [deque() for _ in range(n)]
        self.base = [0] * n  # offset of the first message each log holds
        self.appended = [0] * n  # counted messages per partition
        self.groups: dict[str, Group] = {}
        # Per worker id: its claims with a message to deliver, in the order they got one
        # (entries whose claim has since become busy or empty are skipped).
        self.waiting: dict[str, deque[Claim]] = {}
        self._expiry_epoch = 0
        self._expiring = [False] * n  # a retention check is scheduled for the partition
        self.acks = settings["delivery"] == "at_least_once"
        self.dead_link: Link | None = None
        self.epoch = 0  # bumped when a failure loses the log (not durable)

    def wire(self):
        super().wire()
        consumers: dict[str, list[Worker]] = {}
        for link in self.out:
            spec = self.sim.scenario.links[link.index]
            if spec.dead_letter:
                self.dead_link = link
                continue
            consumers.setdefault(spec.group, []).append(link.target)
            link.target.sources.append(self)
            self.waiting[link.target.id] = deque()
        for name, workers in consumers.items():
            group = self.groups[name] = Group(name)
            group.workers, group.members = workers, list(workers)
            group.claims = [Claim(self, group, p, workers[p % len(workers)])
                            for p in range(len(self.logs))]
        # Told when a worker fails or recovers (rebalancing, ephemeral subscriptions; a `set`
        # may turn them on later): a rare event, so always.
        for worker in {w.id: w for ws in consumers.values() for w in ws}.values():
            worker.watchers.append(self)

    def warm(self, now: float):
        super().warm(now)
        for group in self.groups.values():
            group.mean_lag.mark(now)

    def apply_settings(self, changes):
        super().apply_settings(changes)
        self.acks = self.settings["delivery"] == "at_least_once"
        if "subscriptions" in changes:  # durable now: nobody is away; ephemeral: who is
            for group in self.groups.values():
                group.away = False
                if self.settings["subscriptions"] == "ephemeral":
                    self._presence(group)
        if "retention_s" in changes:  # timers armed for the old retention are ignored
            self._expiry_epoch += 1
            self._expiring = [False] * len(self.logs)
            for p in range(len(self.logs)):
                self._arm(p)

    # -- producing ------------------------------------------------------------------------
    def accept(self, req, reply) -> None:
        job = self.admit(req, reply)
        if job is None:
            return
        append_ms = self.settings["append_ms"]
        if append_ms:
            self.kernel.schedule(append_ms / 1000.0, self._append, job)
        else:
            self._append(job)

    def _append(self, job: Job) -> None:
        if not job.open:  # the topic failed meanwhile
            return
        p = key_bucket(job.req.key, len(self.logs))
        now = self.kernel.now
        self.logs[p].append(Message(job.req, now, job.counted))
        if job.counted:
            self.appended[p] += 1
        self.finish(job, OK)
        self.kernel.hand(self._appended, p)  # after the producer's answer, as it goes on

    def _appended(self, p: int) -> None:
        """A message is in partition `p`: every group may deliver it."""
        now = self.kernel.now
        away = False
        for group in self.groups.values():
            if group.away:  # ephemeral, its workers down: the message is not kept for it
                group.claims[p].next += 1
                away = True
                if now >= self.warmup:
                    group.lost += 1
                continue
            group.grow(now, 1)
            self._offer(group.claims[p])
        if away:
            self._trim(p)
        self._arm(p)

    # -- consuming: the Source protocol of workers ----------------------------------------
    def _has_message(self, claim: Claim) -> bool:
        p = claim.partition
        return not claim.busy and not claim.group.paused and (
            claim.retry is not None or claim.next < self.base[p] + len(self.logs[p]))

    def _offer(self, claim: Claim) -> None:
        """List a claim that has a message to deliver; its worker takes it if it is free."""
        if claim.listed or not self._has_message(claim):
            return
        claim.listed = True
        self.waiting[claim.worker.id].append(claim)
        claim.worker.pull()

    def ready(self, worker: Worker) -> bool:
        claims = self.waiting[worker.id]
        while claims and not self._has_message(claims[0]):
            claims.popleft().listed = False
        return bool(claims) and self.up

    def hand(self, worker: Worker) -> None:
        claim = self.waiting[worker.id].popleft()
        claim.listed = False
        claim.busy = True
        msg = claim.retry
        if msg is None:
            p = claim.partition
            msg = self.logs[p][claim.next - self.base[p]]
            claim.next += 1
            claim.tries = 0
            if msg.counted:
                claim.group.delivered += 1
                claim.group.wait_sum += self.kernel.now - msg.queued
            self._trim(p)
        else:
            claim.retry = None
            if msg.counted:
                claim.group.redelivered += 1
        if self.acks:
            claim.tries += 1
            worker.take(msg, Delivery(self, msg, worker, self.epoch, claim).done, True)
        else:
            worker.take(msg, claim.processed)

    def waited(self, worker: Worker) -> float:
        """The lag of the worker's groups over time (it counts the messages in process too)."""
        now = self.kernel.now
        return sum((group.mean_lag.integral(now) for group in self.groups.values()
                    if any(c.worker is worker for c in group.claims)), 0.0)

    def processed(self, claim: Claim) -> None:
        claim.busy = False
        claim.group.grow(self.kernel.now, -1)
        self._offer(claim)

    # -- acknowledgements (at least once) ------------------------------------------------
    def settle(self, delivery: Delivery, outcome: int) -> None:
        claim: Claim = delivery.claim
        group, msg = claim.group, delivery.msg
        claim.busy = False
        if outcome != OK:
            if delivery.epoch != self.epoch or group.away:  # the log or the group lost it
                if msg.counted:
                    group.lost += 1
            elif claim.tries < self.settings["max_deliveries"]:
                claim.retry = msg
                self._offer(claim)
                return
            else:
                if msg.counted:
                    group.dead_lettered += 1
                dead_letter(self.dead_link, msg)
        group.grow(self.kernel.now, -1)
        self._offer(claim)

    def overdue(self, delivery: Delivery) -> None:
        """Topics have no visibility timeout: a partition waits for its message's work."""

    def _trim(self, p: int) -> None:
        """Forget the messages every group has been given."""
        low = min(group.claims[p].next for group in self.groups.values())
        log = self.logs[p]
        while self.base[p] < low:
            log.popleft()
            self.base[p] += 1

    # -- retention ------------------------------------------------------------------------
    def _arm(self, p: int) -> None:
        """Check the partition again when its oldest message reaches the retention age."""
        retention = self.settings["retention_s"]
        log = self.logs[p]
        if retention is None or not log or self._expiring[p]:
            return
        self._expiring[p] = True
        self.kernel.schedule(max(log[0].queued + retention - self.kernel.now, 0.0),
                             self._expire, (p, self._expiry_epoch))

    def _expire(self, item: tuple[int, int]) -> None:
        p, epoch = item
        if epoch != self._expiry_epoch:
            return
        self._expiring[p] = False
        now = self.kernel.now
        cutoff = now - self.settings["retention_s"] + EXPIRY_SLACK_S
        log = self.logs[p]
        while log and log[0].queued <= cutoff:
            msg = log.popleft()
            offset = self.base[p]
            self.base[p] += 1
            for group in self.groups.values():
                claim = group.claims[p]
                if claim.next <= offset:  # never delivered to this group
                    claim.next = offset + 1
                    group.grow(now, -1)
                    if msg.counted:
                        group.expired += 1
        self._arm(p)

    # -- failure and reporting ------------------------------------------------------------
    def drop_state(self) -> None:
        if self.settings["durable"]:  # the log waits for the topic to be back
            return
        self.epoch += 1
        now = self.kernel.now
        for group in self.groups.values():
            for claim in group.claims:
                if claim.retry is not None:
                    claim.retry = None
                    group.grow(now, -1)
                    if now >= self.warmup:
                        group.lost += 1
        for p, log in enumerate(self.logs):
            end = self.base[p] + len(log)
            for group in self.groups.values():
                claim = group.claims[p]
                undelivered = end - claim.next
                if now >= self.warmup:
                    group.lost += undelivered
                group.grow(now, -undelivered)
                claim.next = end
            self.base[p] = end
            log.clear()

    def recover(self) -> None:
        super().recover()
        for group in self.groups.values():  # a durable log: deliver what it kept
            for claim in group.claims:
                self._offer(claim)
        for worker in {w.id: w for g in self.groups.values() for w in g.workers}.values():
            worker.pull()

    # -- group membership: rebalancing and ephemeral subscriptions -----------------------
    def target_changed(self, worker: Component) -> None:
        """A worker of some group failed or recovered."""
        timeout = self.settings["session_timeout_s"]
        for group in self.groups.values():
            if worker not in group.workers:
                continue
            if self.settings["subscriptions"] == "ephemeral":
                self._presence(group)
            if timeout is None:
                continue
            if not worker.up:
                n = group.fails[worker.id] = group.fails.get(worker.id, 0) + 1
                self.kernel.schedule(timeout, self._session_over, (group.name, worker.id, n))
            elif worker not in group.members:  # back after losing its partitions: rejoins
                self._rebalance(group)

    def _session_over(self, item: tuple[str, str, int]) -> None:
        name, wid, n = item
        group = self.groups[name]
        worker = next(w for w in group.workers if w.id == wid)
        if group.fails[wid] == n and not worker.up and worker in group.members:
            self._rebalance(group)

    def _rebalance(self, group: Group) -> None:
        """The group stops for rebalance_s, then deals its partitions anew."""
        if not group.paused:
            group.paused = True
            group.paused_at = self.kernel.now
        if self.kernel.now >= self.warmup:
            group.rebalances += 1
        group.rebalance_epoch += 1
        self.kernel.schedule(self.settings["rebalance_s"], self._rebalanced,
                             (group.name, group.rebalance_epoch))

    def _rebalanced(self, item: tuple[str, int]) -> None:
        name, epoch = item
        group = self.groups[name]
        if epoch != group.rebalance_epoch:
            return
        now = self.kernel.now
        if now > self.warmup:
            group.paused_s += now - max(group.paused_at, self.warmup)
        group.paused = False
        live = [w for w in group.workers if w.up]
        if live:
            group.members = live
            for claim in group.claims:
                claim.worker = live[claim.partition % len(live)]
                claim.listed = False
            for worker in group.workers:
                self.waiting[worker.id].clear()
        for claim in group.claims:
            self._offer(claim)

    def _presence(self, group: Group) -> None:
        """Ephemeral: a group with no worker up is away, and loses what it had not read."""
        away = not any(w.up for w in group.workers)
        if away == group.away:
            return
        group.away = away
        if not away:
            return
        now = self.kernel.now
        for claim in group.claims:
            p = claim.partition
            end = self.base[p] + len(self.logs[p])
            dropped = end - claim.next + (0 if claim.retry is None else 1)
            claim.next, claim.retry = end, None
            group.grow(now, -dropped)
            if now >= self.warmup:
                group.lost += dropped
        for p in range(len(self.logs)):
            self._trim(p)

    def report(self, now: float):
        out = super().report(now)
        out["per_partition"] = list(self.appended)
        out["groups"] = {
            name: {"lag": g.lag, "mean_lag": g.mean_lag.mean(now), "delivered": g.delivered,
                   "mean_wait_ms": g.wait_sum / g.delivered * 1000.0 if g.delivered else 0.0,
                   "expired": g.expired, "lost": g.lost}
            for name, g in self.groups.items()}
        for name, g in self.groups.items():
            if self.acks:
                out["groups"][name].update(redelivered=g.redelivered,
                                           dead_lettered=g.dead_lettered)
            if self.settings["session_timeout_s"] is not None:
                out["groups"][name].update(rebalances=g.rebalances, paused_s=g.paused_s)
        return out

    def live(self):
        out = super().live()
        out["lag"] = {name: g.lag for name, g in self.groups.items()}
        # per partition: appended and not yet processed (the one in service included)
        ends = [self.base[p] + len(log) for p, log in enumerate(self.logs)]
        out["partition_lag"] = {
            name: [ends[c.partition] - c.next + int(c.busy) for c in g.claims]
            for name, g in self.groups.items()}
        settings = self.settings
        if self.acks or settings["subscriptions"] == "ephemeral" \
                or settings["session_timeout_s"] is not None:  # counters so far, per group
            out["delivery"] = {
                name: {"lost": g.lost, "redelivered": g.redelivered,
                       "dead_lettered": g.dead_lettered, "rebalances": g.rebalances}
                for name, g in self.groups.items()}
        return out
