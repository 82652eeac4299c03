"""The rate limiter (playground/ratelimit.py): its rates, who it counts, and Redis as the
shared store when REDIS_URL is set."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from playground import ratelimit

ROOT = Path(__file__).resolve().parents[2]


def test_rates_parse_and_bad_ones_are_refused():
    assert ratelimit.parse_rate("60/60") == (60, 60)
    assert ratelimit.parse_rate(" off ") is None and ratelimit.parse_rate("") is None
    for bad in ("60", "a/b", "0/60", "5/0"):
        with pytest.raises(ImproperlyConfigured):
            ratelimit.parse_rate(bad)


def test_the_client_ip_trusts_only_the_configured_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.PLAYGROUND_PROXY_HOPS = 0
    assert ratelimit.client_ip(request) == "10.0.0.1"  # a client may forge the header
    settings.PLAYGROUND_PROXY_HOPS = 1
    assert ratelimit.client_ip(request) == "203.0.113.7"  # what our proxy saw


def test_the_window_opens_with_the_first_request_and_reports_its_end(settings):
    settings.PLAYGROUND_RATE_LIMITS = {"api_write": "2/30"}
    request = RequestFactory().post("/api/scenarios", REMOTE_ADDR="192.0.2.1")
    assert [ratelimit.wait_s("api_write", request) for _ in range(2)] == [0, 0]
    assert 29 <= ratelimit.wait_s("api_write", request) <= 30
    other = RequestFactory().post("/api/scenarios", REMOTE_ADDR="192.0.2.2")
    assert ratelimit.wait_s("api_write", other) == 0
    assert ratelimit.wait_s("login", request) == 0  # a scope without a rate is not limited


def test_redis_url_switches_the_cache_to_redis():
    code = ("import json; from playground import settings as s; "
            "print(json.dumps(s.CACHES['default']))")
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    for extra, backend in (({}, "django.core.cache.backends.locmem.LocMemCache"),
                           ({"REDIS_URL": "redis://127.0.0.1:6390/3"},
                            "playground.outages.FallbackRedisCache")):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env | extra,
                                capture_output=True, text=True, check=True)
        cache = json.loads(result.stdout)
        assert cache["BACKEND"] == backend
        assert cache.get("LOCATION") == extra.get("REDIS_URL")


@pytest.mark.redis
def test_counts_in_redis_hold_across_processes(redis_url, settings, monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    settings.PLAYGROUND_RATE_LIMITS = {"api_write": "3/60"}
    # Two caches with their own connections stand for two server processes.
    first, second = RedisCache(redis_url, {}), RedisCache(redis_url, {})
    # A client address no earlier run has counted.
    request = RequestFactory().post("/", REMOTE_ADDR=f"test-{uuid.uuid4().hex}")
    waits = []
    for store in (first, second, first, second):
        monkeypatch.setattr(ratelimit, "cache", store)
        waits.append(ratelimit.wait_s("api_write", request))
    assert waits[:3] == [0, 0, 0] and waits[3] > 0
