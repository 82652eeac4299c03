"""Timeouts, retries with backoff and jitter, and circuit breakers, on clients and services.

Expected values come from first principles stated in each test; seeds are fixed and the
tolerances are several standard deviations of the estimate (each test says which).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from simulations import Simulation
from tests.engine.scenarios import chain, component, document, link, plain_python_only

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
LN2 = math.log(2)


def arrivals_at(sim: Simulation, cid: str) -> dict:
    """Record the arrival times of every request at `cid`, per request (retries included)."""
    target = sim.components[cid]
    times: dict = {}
    accept = target.accept

    def recording(req, reply):
        times.setdefault(req, []).append(sim.now)
        accept(req, reply)

    target.accept = recording
    return times


def ks_distance(samples: list[float], cdf) -> float:
    """Kolmogorov-Smirnov distance between the samples' empirical CDF and `cdf`."""
    xs = sorted(samples)
    n = len(xs)
    return max(max((i + 1) / n - cdf(x), cdf(x) - i / n) for i, x in enumerate(xs))


# --- retries multiply arrivals -----------------------------------------------------------------

# The dependency has 2000 workers for about 4 busy ones: no request ever waits, so an attempt's
# response time is its own exponential service time (mean 10 ms), independent of every other.
# A timeout of 10 ln 2 ms fails an attempt with probability p = exp(-ln 2) = 1/2, independently;
# with r retries, attempts per request = 1 + p + ... + p^r = (1 - p^(r+1)) / (1 - p) and a
# request fails with probability p^(r+1). For r = 3: 1.875 attempts, 6.25% failed.
# 100 s at 200 rps = 20,000 requests. The attempts of one request have sd 1.05, so the mean
# has sd 0.4%: tolerance 2%. The failed share has sd 0.17 points: tolerance 1 point.
RETRY_P, RETRIES, RATE, SECONDS = 0.5, 3, 200.0, 100.0
TIMEOUT_MS = -10.0 * math.log(RETRY_P)
DEPENDENCY = {"workers": 2000, "service_ms": 10.0}
POLICY = {"timeout_ms": TIMEOUT_MS, "retries": RETRIES, "backoff_ms": 0.0}


def retry_doc(caller: str) -> dict:
    if caller == "client":
        return chain({"rate_rps": RATE, **POLICY}, [("dep", "service", DEPENDENCY)],
                     duration_s=SECONDS)
    return chain({"rate_rps": RATE}, [("api", "service", {"workers": 2000, "service_ms": 0.0,
                                                          **POLICY}),
                                      ("dep", "service", DEPENDENCY)], duration_s=SECONDS)


@pytest.mark.parametrize("caller", ["client", "service"])
def test_retries_multiply_attempts_as_independent_failures_predict(caller):
    report = Simulation(retry_doc(caller), seed=3).run()
    requests = report["summary"]["requests"]
    policy = report["components"]["client" if caller == "client" else "api"]
    attempts = report["components"]["dep"]["arrivals"]
    expected = (1 - RETRY_P ** (RETRIES + 1)) / (1 - RETRY_P)
    assert attempts / requests == pytest.approx(expected, rel=0.02)
    assert 1 - report["summary"]["success_ratio"] == pytest.approx(RETRY_P ** (RETRIES + 1),
                                                                   abs=0.01)
    # Every attempt beyond the first is a retry; every failed attempt timed out.
    calls = requests if caller == "client" else policy["arrivals"]
    assert policy["retries_made"] == pytest.approx(attempts - calls, abs=5)
    assert policy["timeouts"] == pytest.approx(attempts - report["summary"]["succeeded"], abs=5)
    assert policy["breaker_opens"] == policy["short_circuited"] == 0


# --- backoff and jitter ------------------------------------------------------------------------

# Every attempt fails at once (the callee is down), so the gap between two arrivals of one
# request at the callee is exactly the backoff before that retry: wait = 100 ms x 2^n, then
# none: wait; full: uniform in [0, wait]; equal: uniform in [wait / 2, wait] (AWS's
# "Exponential Backoff And Jitter"). About 2,000 requests: the KS distance of 2,000 samples
# from their own distribution exceeds 1.63 / sqrt(n) = 0.036 with probability 1%; tolerance 0.05.
JITTER_CDFS = {
    "full": lambda x, wait: min(max(x / wait, 0.0), 1.0),
    "equal": lambda x, wait: min(max((x - wait / 2) / (wait / 2), 0.0), 1.0),
}


@pytest.mark.parametrize("jitter", ["none", "full", "equal"])
@plain_python_only
def test_jitter_spreads_the_backoff(jitter):
    doc = chain({"rate_rps": 20.0, "retries": 2, "backoff_ms": 100.0, "jitter": jitter},
                [("dep", "service", {"service_ms": 1.0})], duration_s=100.0)
    doc["events"] = [{"at_s": 0, "action": "fail", "target": "dep"}]
    sim = Simulation(doc, seed=5)
    times = arrivals_at(sim, "dep")
    sim.advance(doc["duration_s"])
    tries = [t for t in times.values() if len(t) == 3]
    assert len(tries) > 1800
    for n, wait in ((0, 0.1), (1, 0.2)):
        gaps = [t[n + 1] - t[n] for t in tries]
        if jitter == "none":
            assert gaps == pytest.approx([wait] * len(gaps), abs=1e-9)
        else:
            assert ks_distance(gaps, lambda x, w=wait: JITTER_CDFS[jitter](x, w)) < 0.05


# --- the circuit breaker -----------------------------------------------------------------------

BREAKER = {"breaker_errors": 5, "breaker_window_s": 1.0, "breaker_open_s": 4.0}
# Nearly regular arrivals (gaps 10 ms +- 0.5 ms): the request after a moment comes within
# 15 ms of it.
REGULAR = {"rate_rps": 100.0, "arrival_cv": 0.05}
SLACK = 0.015


@plain_python_only
def test_breaker_opens_short_circuits_then_half_opens_with_one_trial():
    """dep is down from 10 s to 30 s. The 5th failure (within 1 s) opens the breaker; for
    4 s nothing reaches dep; then one trial goes through, fails and opens it again, until a
    trial after 30 s succeeds and closes it."""
    doc = chain({**REGULAR, **BREAKER}, [("dep", "service", {"service_ms": 1.0,
                                                             "workers": 10})],
                duration_s=40.0)
    doc["events"] = [{"at_s": 10, "action": "fail", "target": "dep"},
                     {"at_s": 30, "action": "recover", "target": "dep"}]
    sim = Simulation(doc, seed=2)
    per_request = arrivals_at(sim, "dep")
    sim.advance(doc["duration_s"])
    times = sorted(t for ts in per_request.values() for t in ts)
    down = [t for t in times if 10 <= t < 30]
    after = [t for t in times if t >= 30]
    assert down[4] - down[0] < 0.05  # five requests in a row; the fifth failure opens it
    # It opens at down[4] and again at each failed trial; trials come after 4 s open.
    opened, trials = down[4:], down[5:] + after[:1]
    for was_opened, trial in zip(opened, trials, strict=True):
        assert 4.0 <= trial - was_opened < 4.0 + SLACK
    assert len(trials) == 5  # at about 14, 18, 22, 26 (failed) and 30 s (succeeded)
    assert after[1] - after[0] < SLACK  # closed again: every request goes through
    report = sim.report()
    client = report["components"]["client"]
    assert client["breaker_opens"] == len(opened)
    # Open from the fifth failure until the successful trial's answer (1 ms on average).
    assert client["breaker_open_time_s"] == pytest.approx(trials[-1] - down[4], abs=0.01)
    # Every request reaches dep unless short-circuited: one every 10 ms while open, but the
    # trials.
    assert client["short_circuited"] == client["requests"] - len(times)
    assert client["short_circuited"] == pytest.approx(
        (trials[-1] - down[4]) * REGULAR["rate_rps"] - (len(trials) - 1), abs=5)
    assert client["failures"]["breaker_open"] == client["short_circuited"]
    assert client["failures"]["down"] == len(down)


@pytest.mark.parametrize(("window_s", "opens"), [(1.5, False), (3.0, True)])
def test_breaker_counts_failures_within_its_window(window_s, opens):
    """Failures every 0.5 s: five of them span 2 s, so a 1.5 s window never holds five."""
    doc = chain({"rate_rps": 2.0, "arrival_cv": 0.05, "breaker_errors": 5,
                 "breaker_window_s": window_s, "breaker_open_s": 1.0},
                [("dep", "service", {"service_ms": 1.0})], duration_s=60.0)
    doc["events"] = [{"at_s": 0, "action": "fail", "target": "dep"}]
    client = Simulation(doc, seed=4).run()["components"]["client"]
    assert (client["breaker_opens"] > 0) is opens
    assert (client["short_circuited"] > 0) is opens


def test_a_service_breaker_guards_each_downstream_link():
    """api sends reads to `reads` and writes to `writes`; writes is down. Its breaker on the
    write link opens; reads never notice, and nobody retries a breaker_open answer."""
    doc = document(
        [component("client", "client", rate_rps=100.0, read_ratio=0.5, retries=2,
                   backoff_ms=0.0),
         component("api", "service", workers=50, service_ms=1.0, breaker_errors=5,
                   breaker_window_s=1.0, breaker_open_s=5.0),
         component("reads", "service", workers=10, service_ms=1.0),
         component("writes", "service", workers=10, service_ms=1.0)],
        [link("client", "api"), link("api", "reads", route="read"),
         link("api", "writes", route="write")],
        duration_s=60.0, events=[{"at_s": 0, "action": "fail", "target": "writes"}])
    report = Simulation(doc, seed=6).run()
    comps = report["components"]
    assert comps["client"]["succeeded"] == pytest.approx(comps["reads"]["arrivals"], abs=3)
    assert comps["reads"]["rejected"] == 0
    api = comps["api"]
    assert api["breaker_opens"] >= 60 / 5 - 1  # open, then a failed trial every 5 s
    assert api["breaker_open_time_s"] == pytest.approx(60, abs=1)
    # Writes reach `writes` only as the first five failures and the trials (one per 5 s).
    assert comps["writes"]["arrivals"] <= 5 + 60 / 5 + 1
    assert comps["client"]["failures"]["breaker_open"] > 0.9 * comps["client"]["failed"]
    # A short-circuited write is not retried by the client: its retries follow only `down`s.
    assert comps["client"]["retries_made"] <= comps["writes"]["arrivals"]


def test_a_set_turns_resilience_on_and_resets_breakers():
    doc = retry_doc("service")
    doc["components"][1]["params"] = {"workers": 2000, "service_ms": 0.0}
    sim = Simulation(doc, seed=1)
    sim.advance(10)
    assert sim.components["api"].calls is None
    sim.apply({"action": "set", "target": "api", "params": POLICY})
    sim.advance(20)
    api = sim.report()["components"]["api"]
    assert api["retries_made"] > 0 and api["timeouts"] > 0
    sim.apply({"action": "set", "target": "api", "params": {"breaker_errors": 1,
                                                            "breaker_open_s": 100.0}})
    sim.advance(21)
    assert sim.frame()["components"]["api"]["breakers_open"] == 1
    sim.apply({"action": "set", "target": "api", "params": {"breaker_open_s": 0.0}})
    assert sim.frame()["components"]["api"]["breakers_open"] == 0


# --- the examples ------------------------------------------------------------------------------

def windows(doc: dict, cuts: list[float]) -> list[tuple[float, float]]:
    """(load amplification, success ratio) in each span between cuts: the inventory's
    arrivals over the users' requests, and the users' successes over their finished requests."""
    sim = Simulation(doc)
    users, inventory = sim.components["users"], sim.components["inventory"]
    last = (0, 0, 0, 0)
    out = []
    for t in cuts:
        sim.advance(t)
        now = (users.total_in, inventory.total_in, users.total_ok, users.total_failed)
        req, arr, ok, bad = (a - b for a, b in zip(now, last, strict=True))
        last = now
        out.append((arr / req, ok / (ok + bad)))
    return out


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


# Spans: healthy (0-60 s), inventory slowed 1.8x (60-120 s), fast again (120-180 s), and after
# the users' retries change at 180 s (from 190 s). The thresholds hold at every seed from 1 to
# 8 with a wide margin (slowed: amplification 2.9 to 4.0, success 2% to 38% in the storm;
# 0.96 to 1.06 and 83% to 98% with the breaker).
CUTS = [60, 120, 180, 190, 240]


def test_retry_storm_amplifies_load_and_outlives_its_cause():
    storm = example("retry-storm.json")
    healthy, slowed, after, _, fixed = windows(storm, CUTS)
    calm = example("retry-storm.json")
    calm["components"][0]["params"]["retries"] = 0
    _, slowed_alone, _, _, _ = windows(calm, CUTS)
    assert healthy[0] == pytest.approx(1.0, abs=0.02) and healthy[1] > 0.98
    assert slowed[0] > 1.8  # retries at least double the load on inventory
    assert slowed_alone[1] > 0.85  # the slowdown alone fails few requests ...
    assert slowed[1] < 0.5  # ... the storm most of them
    assert after[0] > 3.5 and after[1] < 0.05  # inventory is fast again: the storm goes on
    assert fixed[0] < 1.1 and fixed[1] > 0.98  # fewer retries with backoff: recovered


def test_circuit_breaker_prevents_the_retry_storm():
    healthy, slowed, after, _, _ = windows(example("circuit-breaker.json"), CUTS)
    assert healthy[1] > 0.98
    assert slowed[0] < 1.1  # no amplification
    assert slowed[1] > 0.7
    assert after[0] < 1.1 and after[1] > 0.95


def test_requests_sent_before_a_set_of_retries_are_retried():
    """A client with no timeout, retries or breaker sends its requests without a Call (the
    fast path); a `set` of retries still covers the requests already out, as a Call would."""
    doc = chain({"rate_rps": 50.0}, [("service", {"workers": 1, "service_ms": 1000.0})])
    sim = Simulation(doc, seed=3)
    client = sim.components["client"]
    sim.advance(5)
    assert client.calls.uncalled
    out = client.in_flight()
    assert out > 10  # one slow worker: the queue holds most of what was sent
    sim.apply({"action": "set", "target": "client", "params": {"retries": 1, "backoff_ms": 0}})
    assert not client.calls.uncalled
    sim.apply({"action": "fail", "target": "s1"})
    sim.advance(5.0001)  # the retries land while s1 is still down, and fail for good
    report = sim.report()["components"]["client"]
    assert report["retries_made"] == out
    assert report["failures"]["down"] == out
