"""Fixtures of the web tests: a valid design, lesson rows, and a fresh cache per test."""

import copy
import json
import uuid
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from axes.handlers.proxy import AxesProxyHandler
from channels.layers import channel_layers
from django.db import connections

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / \
    "cache-in-front-of-database.json"


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test its own channel layer: a Redis layer keeps connections and receive state
    bound to the event loop that made them, and every async test has a loop of its own."""
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test its own empty in-process cache: rate-limit counts do not carry over, and a
    Redis at REDIS_URL is never flushed by a test."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": uuid.uuid4().hex}}
    # django-axes keeps the cache it first used: with REDIS_URL set (CI) it counts failed
    # log-ins there, and must take this test's.
    AxesProxyHandler.implementation = None


@pytest.fixture(autouse=True)
def _fresh_quotas():
    """Each test its own in-process quota counts: a test's communicator that is never
    disconnected (as Daphne always does) must not hold a place in the next test."""
    from playground.live import quotas

    quotas._memory.counts.clear()


@pytest.fixture
def design():
    """A fresh copy of a valid design (docs/examples), to change at will."""
    return copy.deepcopy(json.loads(EXAMPLE.read_text()))


@pytest.fixture
def lesson(db, design):
    """A built-in lesson row, as the lessons loader makes them (beside those it loaded)."""
    from playground.models import Scenario

    return Scenario.objects.create(document=design, title=design["name"],
                                   description=design["description"],
                                   lesson_slug="test-read-only-lesson", lesson_order=1)


def _forget_connections() -> None:
    """Drop this thread's database connections without closing them."""
    for conn in connections.all(initialized_only=True):
        del connections[conn.alias]


@pytest.fixture
async def consumer_db():
    """For async tests whose consumers read the database: that happens in asgiref's shared
    thread, whose connection to the in-memory test database cannot be closed, and the next
    test without database access would trip over it there (channels checks old connections
    on every message). Afterwards, drop it from that thread."""
    yield
    await sync_to_async(_forget_connections)()
