"""Cheap requests cross to a thread no more than Django needs. Django runs a sync view, and
each stretch of the middleware chain of another mode than its neighbour, on a thread (a new
one per request), and the event loop hands the request over and back: under load every hop
waits for the loop and the GIL (bench/abuse.py)."""

import pytest
from asgiref import sync
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

# Django's own, per request: request_started and response.close() call their sync receivers
# (closing stale database connections) through sync_to_async; and the middleware chain, run
# sync in one hop (run async, Django's own middleware would take a hop per method).
DJANGOS_OWN_HOPS = 3


@pytest.mark.parametrize("path", ["/healthz", "/api/kinds"])
async def test_a_cheap_request_needs_no_thread_of_its_own(monkeypatch, path):
    hops = []
    to_thread = sync.SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await to_thread(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)
    response = await HttpCommunicator(get_asgi_application(), "GET", path,
                                      headers=[(b"host", b"localhost")]).get_response(5)
    assert response["status"] == 200
    assert len(hops) <= DJANGOS_OWN_HOPS, hops
