"""A service run as a group of instances (components/fleet.py): sizes, dispatch, the
autoscaler, draining, instance failures and sessions, checked against theory/scaling.py and
M/M/c with fixed seeds and stated tolerances."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import Simulation, run, theory
from simulations.engine import ScenarioError
from simulations.registry import SIZES
from tests.engine.scenarios import balanced, chain

TOL = 1e-3  # reports round to 4 decimals


def group(client: dict, service: dict, lb: dict | None = None, **doc) -> dict:
    """client -> [lb ->] svc."""
    if lb is None:
        return chain(client, [("svc", "service", service)], **doc)
    out = balanced(client, lb, [("service", service)], **doc)
    out["components"][2]["id"] = "svc"
    out["links"][1]["to"] = "svc"
    return out


def test_instances_each_behave_as_mmc():
    """Random dispatch of Poisson arrivals over 3 instances of 2 workers: each instance is
    an M/M/2 at lam/3. Utilisation within 0.02 of rho, the mean wait within 10% of Erlang C
    (seed 1, 400 s measured, about 120,000 requests)."""
    doc = group({"rate_rps": 300.0}, {"workers": 2, "service_ms": 10.0, "instances": 3},
                lb={"algorithm": "random", "health_check_s": 0}, duration_s=450, warmup_s=50)
    doc["seed"] = 1
    svc = run(doc)["components"]["svc"]
    mmc = theory.mmc(100.0, 100.0, 2)
    for inst in svc["instances"]["per_instance"]:
        assert inst["utilisation"] == pytest.approx(mmc.rho, abs=0.02)
    assert svc["utilisation"] == pytest.approx(0.5, abs=0.01)
    assert svc["mean_wait_ms"] == pytest.approx(mmc.mean_wait * 1000, rel=0.10)
    assert svc["cost_per_hour"] == pytest.approx(3 * 2 * 0.10, abs=TOL)


def test_a_named_size_sets_workers_speed_and_price():
    """A `large` instance: 8 workers at speed 1.25, 1.20 an hour."""
    workers, speed, price = SIZES["large"]
    doc = group({"rate_rps": 500.0}, {"service_ms": 10.0, "size": "large", "instances": 2},
                duration_s=120, warmup_s=20)
    report = run(doc)
    svc = report["components"]["svc"]
    assert svc["utilisation"] == pytest.approx(500 * 0.010 / speed / (2 * workers), abs=0.02)
    assert svc["latency_ms"]["mean"] == pytest.approx(10.0 / speed, rel=0.05)
    assert svc["cost_per_hour"] == pytest.approx(2 * price, abs=TOL)
    assert report["predictions"]["cost"]["cost_per_hour"] == pytest.approx(2 * price, abs=TOL)


def test_bigger_sizes_cost_more_per_unit_of_capacity():
    per_unit = [price / (workers * speed) for workers, speed, price in SIZES.values()]
    assert per_unit == sorted(per_unit) and len(set(per_unit)) == len(per_unit)


AUTOSCALED = {"workers": 4, "service_ms": 10.0, "service_dist": "constant",
              "autoscale": "utilisation", "scale_target": 0.6, "min_instances": 1,
              "max_instances": 20, "scale_period_s": 10.0, "scale_out_cooldown_s": 20.0,
              "scale_in_cooldown_s": 60.0, "boot_s": 10.0}


@pytest.mark.parametrize(("rate", "start"), [(300.0, 1), (1000.0, 1), (2300.0, 8)])
def test_the_autoscaler_settles_where_predicted(rate, start):
    """Target tracking settles at ceil(rate / (400 rps x 0.6)) and holds it for the last
    200 s (checked every 10 s). (From far below, the backlog built meanwhile keeps the
    instances busy and the count above that until it is worked off.)"""
    doc = group({"rate_rps": rate}, {**AUTOSCALED, "instances": start}, duration_s=500,
                warmup_s=300)
    expected = theory.instances_needed(rate, theory.instance_capacity(4, 1.0, 0.010), 0.6)
    sim = Simulation(doc)
    fleet = sim.components["svc"].fleet
    counts = []
    for t in range(300, 501, 10):
        sim.advance(t)
        counts.append(fleet.present())
    assert counts == [expected] * len(counts)
    report = sim.report()
    predicted = report["predictions"]["components"]["svc"]["instances"]
    assert predicted["count"] == expected
    assert report["components"]["svc"]["instances"]["mean"] == pytest.approx(expected)
    assert report["components"]["svc"]["cost_per_hour"] == pytest.approx(expected * 0.4,
                                                                          abs=TOL)


def test_a_step_builds_the_fluid_backlog_then_drains():
    """2 instances of 4 workers (800 rps) at 400 rps; at 60 s, right after an evaluation,
    the rate steps to 1200. The next evaluation (70 s) asks for 4 (the most), which serve
    after their 20 s boot: the fluid backlog (1200 - 800) x 30 s = 12,000 requests, within
    8%, drained at 1600 - 1200 = 400 rps in about 30 s (least connections sends the new
    instances the new work until the queues even out)."""
    policy = {**AUTOSCALED, "instances": 2, "max_instances": 4, "scale_target": 0.6,
              "service_dist": "exponential", "scale_out_cooldown_s": 0.0, "boot_s": 20.0}
    doc = group({"rate_rps": 400.0}, policy,
                lb={"algorithm": "least_connections", "health_check_s": 0},
                duration_s=200, warmup_s=0)
    doc["events"] = [{"at_s": 60, "action": "set", "target": "client",
                      "params": {"rate_rps": 1200.0}}]
    sim = Simulation(doc)
    svc = sim.components["svc"]
    reaction = theory.reaction_s(10.0, 0.0, 20.0)
    backlog = theory.step_backlog(1200.0, 800.0, reaction)
    drain = theory.drain_s(backlog, 1200.0, 1600.0)
    sim.advance(60 + reaction)
    assert svc.fleet.waiting_n + svc.busy == pytest.approx(backlog, rel=0.08)
    sim.advance(60 + reaction + 0.7 * drain)
    assert svc.fleet.waiting_n > 0.1 * backlog
    sim.advance(60 + reaction + 1.3 * drain)
    assert svc.fleet.waiting_n < 0.05 * backlog
    step = sim.report()["predictions"]["components"]["svc"]["instances"]["step"]
    assert step["backlog"] == pytest.approx(backlog)
    assert step["drain_s"] == pytest.approx(drain)
    assert step["count"] == 4


def test_a_step_given_as_a_schedule_is_predicted_as_the_same_step():
    """The step above as the client's schedule (issue 17's flash crowd): the group starts
    at the client's starting rate and reacts late to its peak, whatever the steady-state
    predictions take as the rate (a schedule's mean)."""
    policy = {**AUTOSCALED, "instances": 2, "max_instances": 4, "scale_target": 0.6,
              "service_dist": "exponential", "scale_out_cooldown_s": 0.0, "boot_s": 20.0}
    doc = group({"rate_rps": 400.0, "schedule": {"shape": "step", "at_s": 60,
                                                 "to_rps": 1200.0}}, policy,
                lb={"algorithm": "least_connections", "health_check_s": 0},
                duration_s=200, warmup_s=0)
    sim = Simulation(doc)
    svc = sim.components["svc"]
    reaction = theory.reaction_s(10.0, 0.0, 20.0)
    backlog = theory.step_backlog(1200.0, 800.0, reaction)
    step = sim.report()["predictions"]["components"]["svc"]["instances"]["step"]
    assert step["to_rps"] == pytest.approx(1200.0)
    assert step["backlog"] == pytest.approx(backlog)
    assert step["count"] == 4
    sim.advance(60 + reaction)
    assert svc.fleet.waiting_n + svc.busy == pytest.approx(backlog, rel=0.08)


def test_only_the_clients_that_reach_a_group_make_its_step():
    """Two clients, each with its own autoscaled group: a flash crowd on one is no step
    for the other (the clients' rates were summed over the whole design)."""
    policy = {**AUTOSCALED, "instances": 2, "max_instances": 4, "scale_target": 0.6}
    doc = group({"rate_rps": 400.0, "schedule": {"shape": "step", "at_s": 60,
                                                 "to_rps": 1200.0}}, policy,
                duration_s=200, warmup_s=0)
    doc["components"] += [{"id": "calm", "kind": "client", "params": {"rate_rps": 300.0}},
                          {"id": "other", "kind": "service", "params": dict(policy)}]
    doc["links"].append({"from": "calm", "to": "other"})
    predicted = Simulation(doc).report()["predictions"]["components"]
    assert predicted["svc"]["instances"]["step"]["to_rps"] == pytest.approx(1200.0)
    assert "step" not in predicted["other"]["instances"]


@pytest.mark.parametrize(("algorithm", "n"), [("round_robin", 4), ("random", 3),
                                              ("ip_hash", 4)])
def test_local_sessions_miss_as_predicted(algorithm, n):
    """Local sessions: a user's later request misses its session (N-1)/N of the time when
    each request picks an instance anew, never behind ip_hash (within 0.01; 200 users, 400
    rps, 100 s measured)."""
    doc = group({"rate_rps": 400.0, "keys": 200},
                {"workers": 8, "service_ms": 5.0, "instances": n, "sessions": "local",
                 "relogin_ms": 1.0}, lb={"algorithm": algorithm, "health_check_s": 0},
                duration_s=120, warmup_s=20)
    report = run(doc)
    sessions = report["components"]["svc"]["sessions"]
    expected = theory.session_miss_share(n, algorithm == "ip_hash")
    assert sessions["miss_ratio"] == pytest.approx(expected, abs=0.01)
    assert report["predictions"]["components"]["svc"]["instances"]["session_miss_ratio"] == \
        pytest.approx(expected, abs=TOL)
    assert sessions["lost"] == 0


def test_a_failed_instance_loses_its_share_of_sticky_sessions():
    """ip_hash over 4 instances, 400 users all signed in: failing instance 1 loses about a
    quarter of the sessions (within 30%: a hash splits 400 users unevenly), its work fails,
    a replacement boots and the other instances' users sign in again as the hash remaps."""
    doc = group({"rate_rps": 400.0, "keys": 400},
                {"workers": 8, "service_ms": 5.0, "instances": 4, "sessions": "local",
                 "relogin": "fail", "boot_s": 5.0},
                lb={"algorithm": "ip_hash", "health_check_s": 0}, duration_s=60, warmup_s=20)
    doc["events"] = [{"at_s": 30, "action": "fail", "target": "svc", "params": {"instance": 1}}]
    report = run(doc)
    svc = report["components"]["svc"]
    share = theory.sessions_lost_share(4)
    assert svc["sessions"]["lost"] == pytest.approx(400 * share, rel=0.3)
    assert svc["instances"]["failures"] == 1
    assert svc["instances"]["now"] == 4  # replaced
    assert [i["n"] for i in svc["instances"]["per_instance"]] == [0, 2, 3, 4]
    assert svc["sessions"]["relogins"] > svc["sessions"]["lost"]  # remapped users too
    assert report["summary"]["failures"]["failed"] == svc["sessions"]["relogins"]


def test_frames_carry_the_session_counts_so_far():
    """A group keeping sessions puts the report's re-logins and lost sessions in its frames
    (the editor's live panel shows them); one without sessions carries neither."""
    doc = group({"rate_rps": 200.0, "keys": 200},
                {"workers": 8, "service_ms": 5.0, "instances": 4, "sessions": "local",
                 "relogin": "fail", "boot_s": 5.0},
                lb={"algorithm": "ip_hash", "health_check_s": 0}, duration_s=40, warmup_s=5)
    doc["events"] = [{"at_s": 20, "action": "fail", "target": "svc", "params": {"instance": 1}}]
    sim = Simulation(doc)
    sim.advance(30)
    live = sim.frame()["components"]["svc"]
    sessions = sim.report()["components"]["svc"]["sessions"]
    assert sessions["lost"] > 0 and sessions["relogins"] > 0
    assert (live["relogins"], live["sessions_lost"]) == (sessions["relogins"], sessions["lost"])
    plain = group({"rate_rps": 200.0}, {"workers": 8, "service_ms": 5.0, "instances": 4},
                  duration_s=10, warmup_s=0)
    sim = Simulation(plain)
    sim.advance(5)
    assert not {"relogins", "sessions_lost"} & set(sim.frame()["components"]["svc"])


def test_shared_sessions_read_the_store_and_fail_with_it():
    """Shared sessions: every request reads its session from the kv_store before it takes
    a worker (its latency adds, the workers' busy time does not: utilisation is the work
    alone, 100 x 5 ms / 16 workers), and fails while the store is down; no re-logins."""
    doc = group({"rate_rps": 100.0, "keys": 100},
                {"workers": 8, "service_ms": 5.0, "service_dist": "constant",
                 "instances": 2, "sessions": "shared"}, duration_s=40, warmup_s=0)
    doc["components"].append({"id": "kv", "kind": "kv_store",
                              "params": {"replicas_n": 1, "read_quorum": 1, "write_quorum": 1,
                                         "replica_ms": 2.0}})
    doc["links"].append({"from": "svc", "to": "kv", "latency_ms": 1.0})
    doc["events"] = [{"at_s": 20, "action": "fail", "target": "kv"},
                     {"at_s": 30, "action": "recover", "target": "kv"}]
    report = run(doc)
    svc, kv = report["components"]["svc"], report["components"]["kv"]
    assert kv["arrivals"] == svc["arrivals"]
    assert svc["utilisation"] == pytest.approx(100 * 0.005 / 16 * 30 / 40, abs=0.002)
    assert svc["sessions"]["relogins"] == 0
    assert report["summary"]["failures"]["down"] == pytest.approx(100 * 10, rel=0.15)
    assert report["summary"]["latency_ms"]["p50"] > 5.0 + 2.0  # work + link both ways + kv


def test_scale_in_drains_and_the_deadline_fails_what_is_left():
    """A `set` from 3 instances to 1: the two newest drain; with 2 s of work per request and
    a 0.5 s drain deadline they still hold work, which fails; the group then costs one."""
    doc = group({"rate_rps": 3.0, "arrival_cv": 0.05},
                {"workers": 4, "service_ms": 2000.0, "service_dist": "constant",
                 "instances": 3, "drain_s": 0.5}, duration_s=40, warmup_s=0)
    doc["events"] = [{"at_s": 20, "action": "set", "target": "svc",
                      "params": {"instances": 1}}]
    sim = Simulation(doc, live=True)
    sim.advance(20.25)
    states = [i["state"] for i in sim.frame()["components"]["svc"]["instances"]]
    assert states == ["serving", "draining", "draining"]
    sim.advance(40)
    report = sim.report()
    svc = report["components"]["svc"]
    assert svc["failed"] >= 2
    assert svc["instances"]["now"] == 1 and svc["instances"]["scale_ins"] == 0
    assert svc["cost_per_hour"] == pytest.approx((3 * 20.5 + 19.5) / 40 * 0.4, abs=0.01)


def test_a_plain_service_becomes_a_group_live_and_copies_continue_alike():
    """A live `set` of instances on a one-instance service: the new instances boot (paid
    from then, serving after boot_s); a deep copy mid-run reports exactly what the original
    does; a replay of the command log too."""
    doc = group({"rate_rps": 300.0}, {"workers": 2, "service_ms": 10.0, "boot_s": 5.0},
                duration_s=60, warmup_s=0)
    sim = Simulation(doc, live=True)
    sim.advance(10)
    sim.apply({"action": "set", "target": "svc", "params": {"instances": 3}})
    assert sim.frame()["summary"]["cost_per_hour"] == pytest.approx(3 * 0.2)
    sim.advance(12)
    states = [i["state"] for i in sim.frame()["components"]["svc"]["instances"]]
    assert states == ["serving", "booting", "booting"]
    sim.apply({"action": "fail", "target": "svc", "params": {"instance": 0}})
    twin = copy.deepcopy(sim)
    for s in (sim, twin):
        s.advance(60)
    again = Simulation.replay(doc, None, sim.command_log, until=60)
    reports = [s.report() for s in (sim, twin, again)]
    for r in reports:
        r.pop("wall_s")
    assert reports[0] == reports[1] == reports[2]
    assert reports[0]["components"]["svc"]["instances"]["now"] == 3


@pytest.mark.parametrize(("params", "path", "fragment"), [
    ({"autoscale": "rps", "min_instances": 5, "max_instances": 2}, "max_instances", "<="),
    ({"autoscale": "rps", "instances": 9, "max_instances": 4}, "instances", "within"),
    ({"autoscale": "utilisation", "scale_target": 1.5}, "scale_target", "<= 1"),
    ({"sessions": "shared"}, "sessions", "kv_store"),
    ({"size": "huge"}, "size", "one of"),
    ({"instances": 0}, "instances", ">= 1"),
])
def test_bad_groups_are_refused_naming_the_field(params, path, fragment):
    doc = group({"rate_rps": 10.0}, {"workers": 2, "service_ms": 10.0, **params},
                duration_s=10)
    with pytest.raises(ScenarioError) as err:
        run(doc)
    assert any(e.startswith(f"components[1].params.{path}: ") and fragment in e
               for e in err.value.errors), err.value.errors


def test_live_sets_are_checked_naming_the_field():
    doc = group({"rate_rps": 10.0}, {"workers": 2, "service_ms": 10.0, "autoscale": "rps",
                                     "scale_target": 50.0, "max_instances": 3}, duration_s=10)
    sim = Simulation(doc)
    for params, path in (({"min_instances": 4}, "min_instances"),
                         ({"instances": 5}, "instances"), ({"sessions": "shared"}, "sessions")):
        with pytest.raises(ScenarioError) as err:
            sim.apply({"action": "set", "target": "svc", "params": params})
        assert err.value.errors[0].startswith(f"command.params.{path}: "), err.value.errors
    with pytest.raises(ScenarioError) as err:
        sim.apply({"action": "fail", "target": "svc", "params": {"instance": -1}})
    assert err.value.errors[0].startswith("command.params.instance: ")
    sim.apply({"action": "set", "target": "svc", "params": {"max_instances": 6,
                                                            "instances": 5}})
    assert sim.components["svc"].fleet.present() == 5


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(low=st.integers(1, 3), extra=st.integers(0, 4), metric=st.sampled_from(
    ["utilisation", "queue", "rps"]), period=st.sampled_from([1.0, 2.5, 5.0]),
    out_cool=st.sampled_from([0.0, 3.0]), in_cool=st.sampled_from([0.0, 5.0]),
    boot=st.sampled_from([0.0, 2.0, 7.0]), rates=st.lists(st.sampled_from(
        [0.0, 50.0, 400.0, 1500.0]), min_size=1, max_size=4), seed=st.integers(0, 99))
def test_instances_stay_within_bounds_and_never_serve_before_boot(
        low, extra, metric, period, out_cool, in_cool, boot, rates, seed):
    high = low + extra
    target = {"utilisation": 0.7, "queue": 2.0, "rps": 100.0}[metric]
    doc = group({"rate_rps": 100.0},
                {"workers": 2, "service_ms": 10.0, "autoscale": metric, "scale_target": target,
                 "instances": low, "min_instances": low, "max_instances": high,
                 "scale_period_s": period, "scale_out_cooldown_s": out_cool,
                 "scale_in_cooldown_s": in_cool, "boot_s": boot, "drain_s": 1.0},
                duration_s=60)
    doc["seed"] = seed
    doc["events"] = [{"at_s": 10.0 * (i + 1), "action": "set", "target": "client",
                      "params": {"rate_rps": r}} for i, r in enumerate(rates)]
    sim = Simulation(doc)
    fleet = sim.components["svc"].fleet
    for k in range(1, 121):
        sim.advance(k * 0.5)
        assert low <= fleet.present() <= high
        for inst in fleet.instances:
            if inst.born > 0:  # booted during the run
                assert inst.ready >= inst.born + boot - 1e-9
            assert inst.first_start >= inst.ready
