"""Prometheus metrics of this process (docs/deploy.md, "Metrics").

Each process counts its own: a web process its sockets, the frames it sent and shed, the
requests it refused and the services it found away; a simulation worker (or a web process
with the in-process runner) its live runs and frames published; a grader its gradings. Every
process also reports the grading queue's length (a database count). A web process serves
them at `GET /metrics`, a `manage.py simworker` or `grader` on its own `--metrics-port`; an
operator's Prometheus scrapes each process (a web process by its own port, not through the
load balancer). Both need `Authorization: Bearer <PLAYGROUND_METRICS_TOKEN>`, and neither is
served unless that token is set.

Call sites are one line each, e.g. `monitoring.FRAMES_SENT.inc()`.
"""

from __future__ import annotations

import hmac
import logging
import threading
import weakref
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily

from .unavailable import DATABASE_DOWN

log = logging.getLogger(__name__)

FRAMES_PUBLISHED = Counter("playground_frames_published",
                           "Frames the runs driven by this process published")
FRAMES_SENT = Counter("playground_frames_sent", "Frames this web process sent to viewers")
FRAMES_SHED = Counter(
    "playground_frames_shed", "Frames a viewer did not get as they came because it fell "
    "behind (it got the newest state instead): where = viewer (its send window) or queue "
    "(this process handed frames over late)", ["where"])
SOCKETS = Gauge("playground_sockets", "Open play websockets of this web process")
QUOTA_REFUSALS = Counter(
    "playground_quota_refusals", "Requests refused by a rate limit or quota, by limit "
    "(a rate-limit scope such as api_write, or a quota's name)", ["limit"])
SERVICE_ERRORS = Counter(
    "playground_service_errors", "Requests (or cache calls) that found a service away: "
    "service = database or redis", ["service"])
GRADING_SECONDS = Histogram(
    "playground_grading_seconds", "Time from a grader claiming a submission to its result",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))

_runs: weakref.WeakSet = weakref.WeakSet()


def track_run(run: Any) -> None:
    """Count `run` (a runs.Run being driven) in the live-run gauges while it lives."""
    _runs.add(run)


def _live_runs() -> list[Any]:
    for _ in range(5):  # a scrape thread reads while the event loop adds runs
        try:
            runs = list(_runs)
        except RuntimeError:
            continue
        return [r for r in runs if r.ended is None and r.task is not None
                and not r.task.done()]
    return []


class _RunsAndQueue:
    """Gauges read when scraped: live runs, runs behind, the grading queue."""

    def describe(self):
        """Names only (else registering would collect, and query the database)."""
        return [GaugeMetricFamily(name, help_text) for name, help_text in _GAUGES.items()]

    def collect(self):
        live = _live_runs()
        values = {"playground_live_runs": len(live),
                  "playground_runs_behind": sum(1 for r in live if r.behind),
                  "playground_grading_queue": _grading_queue()}
        for name, help_text in _GAUGES.items():
            if values[name] is not None:  # the queue is absent while the database is away
                yield GaugeMetricFamily(name, help_text, value=values[name])


_GAUGES = {
    "playground_live_runs": "Runs this process drives",
    "playground_runs_behind": "Runs this process drives that cannot keep up with their speed",
    "playground_grading_queue": "Submissions waiting to be graded (the whole site's)",
}


def _grading_queue() -> int | None:
    from django.db import close_old_connections

    from .classrooms.models import Submission

    close_old_connections()  # a scrape thread has no request cycle to do it
    try:
        return Submission.objects.filter(state=Submission.QUEUED).count()
    except DATABASE_DOWN:
        return None


REGISTRY.register(_RunsAndQueue())


def authorized(header: str) -> bool:
    """Whether an Authorization header carries the metrics token (constant-time compare)."""
    token = settings.PLAYGROUND_METRICS_TOKEN
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode())


def metrics(request: HttpRequest) -> HttpResponse:
    """GET /metrics: this web process's metrics; no such page unless the token is set."""
    if not settings.PLAYGROUND_METRICS_TOKEN:
        raise Http404("metrics are off")
    if not authorized(request.headers.get("Authorization", "")):
        response = HttpResponse("a bearer token is needed\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the worker's log."""


def add_port_options(parser) -> None:
    """--metrics-port and --metrics-address of `manage.py simworker` and `grader`."""
    parser.add_argument("--metrics-port", type=int, help="serve this process's Prometheus "
                        "metrics on this port (needs PLAYGROUND_METRICS_TOKEN)")
    parser.add_argument("--metrics-address", default="127.0.0.1",
                        help="the address to serve them on (default 127.0.0.1)")


def serve_if_asked(options: dict[str, Any]) -> None:
    """Serve the metrics if the command was given --metrics-port."""
    from django.core.management.base import CommandError

    if options.get("metrics_port") is None:
        return
    try:
        serve(options["metrics_port"], options["metrics_address"])
    except (ValueError, OSError) as exc:
        raise CommandError(f"--metrics-port: {exc}") from None


def serve(port: int, address: str = "127.0.0.1") -> WSGIServer:
    """Serve this process's metrics on `port` (simworkers and graders), in a daemon
    thread, to requests with the token."""
    if not settings.PLAYGROUND_METRICS_TOKEN:
        raise ValueError("--metrics-port needs PLAYGROUND_METRICS_TOKEN (the metrics are "
                         "only served to requests that carry it)")
    exposition = make_wsgi_app(REGISTRY)

    def app(environ, start_response):
        if not authorized(environ.get("HTTP_AUTHORIZATION", "")):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Bearer realm="metrics"')])
            return [b"a bearer token is needed\n"]
        return exposition(environ, start_response)

    server = make_server(address, port, app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on http://%s:%d/metrics", address, server.server_port)
    return server
