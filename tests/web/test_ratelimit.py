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

from playground import clientaddress, ratelimit

ROOT = Path(__file__).resolve().parents[2]


def test_rates_parse_and_bad_ones_are_refused():
    assert ratelimit.parse_rates("60/60") == [(60, 60)]
    assert ratelimit.parse_rates("100/3600, 300/86400") == [(100, 3600), (300, 86400)]
    assert ratelimit.parse_rates(" off ") == [] and ratelimit.parse_rates("") == []
    for bad in ("60", "a/b", "0/60", "5/0", "60/60,"):
        with pytest.raises(ImproperlyConfigured, match="rate"):
            ratelimit.parse_rates(bad)


def test_forwarded_for_is_read_only_from_trusted_proxies(settings):
    settings.PLAYGROUND_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::1"]

    def ip(peer, forwarded=""):
        return clientaddress.client_ip(RequestFactory().get(
            "/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded))

    # A direct client forges what it likes: its own address counts.
    assert ip("203.0.113.9", "6.6.6.6") == "203.0.113.9"
    # Through our proxy: what it saw. Entries left of it are the client's own words.
    assert ip("10.0.0.1", "6.6.6.6, 203.0.113.7") == "203.0.113.7"
    # Several proxies (a load balancer, then nginx): skipped from the right.
    assert ip("10.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.2") == "203.0.113.7"
    assert ip("2001:db8::1", "198.51.100.4") == "198.51.100.4"
    # Only proxies, or nothing forwarded: the furthest one known.
    assert ip("10.0.0.1", "10.0.0.3, 10.0.0.2") == "10.0.0.3"
    assert ip("10.0.0.1") == "10.0.0.1"
    scope = {"client": ["10.0.0.1", 5000],
             "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.7")]}
    assert clientaddress.scope_ip(scope) == "203.0.113.7"
    assert clientaddress.scope_ip({"client": ["203.0.113.9", 5000],
                                   "headers": scope["headers"]}) == "203.0.113.9"


def test_ipv6_clients_count_by_their_64(settings):
    assert clientaddress.counted_as("2001:db8:1:2:aaaa::1") == \
        clientaddress.counted_as("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64"
    assert clientaddress.counted_as("::ffff:192.0.2.1") == "192.0.2.1"
    assert clientaddress.counted_as("192.0.2.1") == "192.0.2.1"


def test_bad_trusted_proxies_and_the_old_hops_setting_stop_the_start():
    code = "import playground.settings"
    for extra, error in (({"PLAYGROUND_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "'nginx'"),
                         ({"PLAYGROUND_PROXY_HOPS": "1"}, "PLAYGROUND_TRUSTED_PROXIES")):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                                env=os.environ | extra, capture_output=True, text=True)
        assert result.returncode != 0 and error in result.stderr


def test_several_windows_must_each_allow(settings):
    settings.PLAYGROUND_RATE_LIMITS = {"signup": "2/60,3/3600"}
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.77")
    assert [ratelimit.wait_s("signup", request) for _ in range(2)] == [0, 0]
    assert 59 <= ratelimit.wait_s("signup", request) <= 60


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
