"""Links with payloads and protocols (components/network.py) against their predictions
(predict/links.py, theory/network.py): transmission times, a direction's FIFO (M/D/1, M/G/1),
TCP's handshakes and retransmissions, UDP's losses, encodings; bytes never outrun the
bandwidth; bad input names its field; links that use none of it are written as before.

Fixed seeds; each tolerance is stated beside its check, and is at least 3 standard
deviations of the figure (from the run's length) so a check does not rely on its seed.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulations import ScenarioError, Simulation, run, validate
from simulations import theory as qt

from .scenarios import component, copy_continues_exactly, document, link

SEED = 11


def client_to_service(link_fields: dict, duration_s: float = 300.0, rate_rps: float = 60.0,
                      **client: float) -> dict:
    """A Poisson client calling a service that never queues (many workers, constant 1 ms)
    over one link: the link's forward direction sees the client's Poisson arrivals."""
    return document(
        [component("c", "client", rate_rps=rate_rps, **client),
         component("s", "service", workers=500, service_ms=1, service_dist="constant")],
        [link("c", "s", **link_fields)], duration_s, warmup_s=10.0)


def test_transmission_time_is_size_over_bandwidth():
    # 125 kB = 1 Mbit at 100 Mbps: 10 ms; 1 kB back: 0.08 ms.
    assert qt.transmission_s(125, 100) == pytest.approx(0.010)
    assert qt.transmission_s(1, 100) == pytest.approx(0.00008)
    with pytest.raises(ValueError, match="bandwidth_mbps"):
        qt.transmission_s(1, 0)


def test_one_message_alone_takes_latency_plus_transmission_each_way():
    """A single request on an idle link: exact (no randomness but the arrival)."""
    doc = client_to_service({"latency_ms": 5, "bandwidth_mbps": 8}, duration_s=20,
                            rate_rps=0.2, request_kb=10, response_kb=20)
    report = run(doc, seed=SEED)
    # 10 kB = 80 kbit at 8 Mbps: 10 ms there; 20 kB: 20 ms back; 2 x 5 ms; 1 ms of work.
    assert report["summary"]["latency_ms"]["max"] == pytest.approx(10 + 20 + 10 + 1, abs=0.01)
    # The prediction adds the FIFO's waits at 0.2 requests/s: 0.05 ms.
    assert report["predictions"]["clients"]["c"]["mean_latency_ms"] == pytest.approx(41, abs=0.1)


def test_forward_fifo_is_md1():
    """Poisson requests of one size: M/D/1. rho = 60/s x 10 ms = 0.6, Wq = rho S / 2(1 - rho)
    = 7.5 ms. Over 290 s (17,400 messages) the mean wait's relative error is about 3%
    (batch means at other seeds): tolerance 10%; utilisation within 0.03."""
    doc = client_to_service({"bandwidth_mbps": 100}, request_kb=125)
    report = run(doc, seed=SEED)
    got = report["links"]["c->s"]["forward"]
    want = report["predictions"]["links"]["c->s"]["forward"]
    assert want["utilisation"] == pytest.approx(0.6)
    assert want["mean_wait_ms"] == pytest.approx(7.5)
    assert want["mean_wait_ms"] == pytest.approx(qt.mg1(60, 0.010, 0.0).mean_wait * 1000)
    assert got["utilisation"] == pytest.approx(want["utilisation"], abs=0.03)
    assert got["mean_wait_ms"] == pytest.approx(want["mean_wait_ms"], rel=0.10)
    assert got["mean_queue"] == pytest.approx(want["mean_queue"], rel=0.12)
    # The client's latency adds the link's time: predicted within 5%.
    assert report["summary"]["latency_ms"]["mean"] == pytest.approx(
        report["predictions"]["clients"]["c"]["mean_latency_ms"], rel=0.05)


def test_shared_link_with_two_sizes_is_mg1():
    """Two Poisson clients of different request sizes through a balancer onto one link: the
    link's FIFO serves a mixture, M/G/1 by Pollaczek-Khinchine (second moment of the mix)."""
    doc = document(
        [component("small", "client", rate_rps=40, request_kb=25),
         component("big", "client", rate_rps=10, request_kb=375),
         component("lb", "load_balancer"),
         component("s", "service", workers=500, service_ms=1, service_dist="constant")],
        [link("small", "lb"), link("big", "lb"), link("lb", "s", bandwidth_mbps=100)],
        300.0, warmup_s=10.0)
    report = run(doc, seed=SEED)
    got = report["links"]["lb->s"]["forward"]
    want = report["predictions"]["links"]["lb->s"]["forward"]
    # 25 kB: 2 ms, 375 kB: 30 ms; mean 0.8 x 2 + 0.2 x 30 = 7.6 ms, rho = 50 x 7.6 ms = 0.38;
    # E[S^2] = 0.8 x 4 + 0.2 x 900 = 183.2 ms^2, Wq = lambda E[S^2] / 2(1 - rho) = 7.39 ms.
    assert want["utilisation"] == pytest.approx(0.38)
    assert want["mean_wait_ms"] == pytest.approx(50 * 183.2e-6 / (2 * 0.62) * 1000)
    assert got["utilisation"] == pytest.approx(0.38, abs=0.03)
    assert got["mean_wait_ms"] == pytest.approx(want["mean_wait_ms"], rel=0.12)


def test_request_classes_have_their_own_sizes():
    """The same mixture from one client of two request classes (issue 18: each class has its
    sizes): 80% of 25 kB and 20% of 375 kB at 50/s, as in the test above (M/G/1, rho 0.38);
    a class that gives no size takes its client's (1 kB back for both)."""
    classes = [{"name": "small", "share": 0.8, "request_kb": 25},
               {"name": "big", "share": 0.2, "request_kb": 375}]
    doc = client_to_service({"bandwidth_mbps": 100}, rate_rps=50, response_kb=1,
                            classes=classes)
    report = run(doc, seed=SEED)
    want = report["predictions"]["links"]["c->s"]
    got = report["links"]["c->s"]
    assert want["forward"]["utilisation"] == pytest.approx(0.38)
    assert want["forward"]["mean_wait_ms"] == pytest.approx(50 * 183.2e-6 / (2 * 0.62) * 1000)
    assert want["back"]["kb_per_s"] == pytest.approx(50.0)
    assert got["forward"]["utilisation"] == pytest.approx(0.38, abs=0.03)
    assert got["forward"]["mean_wait_ms"] == pytest.approx(want["forward"]["mean_wait_ms"],
                                                          rel=0.15)
    assert got["back"]["kb"] == pytest.approx(got["forward"]["kb"] / (0.8 * 25 + 0.2 * 375),
                                              rel=0.05)


def test_tcp_handshake_without_keepalive_is_one_round_trip():
    """Constant work, no loss: every request's time is exact."""
    fields = {"latency_ms": 10, "protocol": "tcp"}
    closed = run(client_to_service(fields, duration_s=30), seed=SEED)
    kept = run(client_to_service({**fields, "keepalive": True}, duration_s=30), seed=SEED)
    assert closed["summary"]["latency_ms"]["mean"] == pytest.approx(41, abs=0.01)
    assert kept["summary"]["latency_ms"]["mean"] == pytest.approx(21, abs=0.01)
    assert closed["predictions"]["links"]["c->s"]["tcp"]["handshake_ms"] == 20
    assert closed["predictions"]["clients"]["c"]["mean_latency_ms"] == pytest.approx(41)


def test_tcp_turns_loss_into_delay():
    """Each message lost with p = 0.2 is sent again after 100 ms: p/(1-p) = 0.25
    retransmissions per message, so 2 x 25 ms more per call, and nothing fails. The extra
    time's standard deviation per call is about 2 x 0.56 x 100 ms / sqrt(17,400): under 1%
    of the mean: tolerance 4%."""
    doc = client_to_service({"latency_ms": 10, "protocol": "tcp", "keepalive": True,
                             "loss": 0.2, "retransmit_ms": 100})
    report = run(doc, seed=SEED)
    assert report["summary"]["success_ratio"] == 1.0
    want = report["predictions"]["clients"]["c"]["mean_latency_ms"]
    assert want == pytest.approx(21 + 2 * 0.25 * 100)
    assert report["summary"]["latency_ms"]["mean"] == pytest.approx(want, rel=0.04)
    links = report["links"]["c->s"]
    for d in ("forward", "back"):  # transmissions lost: p of all of them, within 4 sigma
        n = links[d]["messages"]
        assert links[d]["lost"] / n == pytest.approx(0.2, abs=4 * math.sqrt(0.16 / n))
    assert report["predictions"]["links"]["c->s"]["tcp"]["retransmissions_per_message"] == \
        pytest.approx(0.25)


def test_udp_loses_calls():
    """UDP: a call succeeds when its request and its answer both arrive: (1-p)^2 = 0.81 at
    p = 0.1; binomial over 17,400 calls, tolerance 4 sigma. No retransmission: the calls
    that arrive take no longer."""
    doc = client_to_service({"latency_ms": 10, "protocol": "udp", "loss": 0.1})
    report = run(doc, seed=SEED)
    udp = report["predictions"]["links"]["c->s"]["udp"]
    assert udp["delivery_ratio"] == pytest.approx(0.9)
    assert udp["call_success_ratio"] == pytest.approx(0.81)
    n = report["summary"]["requests"]
    assert report["summary"]["success_ratio"] == pytest.approx(
        0.81, abs=4 * math.sqrt(0.81 * 0.19 / n))
    assert report["summary"]["failures"]["failed"] > 0
    assert report["summary"]["latency_ms"]["max"] == pytest.approx(21, abs=0.01)


def test_encodings_cost_time_and_bytes():
    """REST: 0.5 ms and 0.4 kB per message by default, RPC 0.1 ms and 0.05 kB; both
    editable. At 8 Mbps a kB takes 1 ms: exact times for a lone request."""
    def latency(fields: dict) -> float:
        doc = client_to_service({"bandwidth_mbps": 8, **fields}, duration_s=20, rate_rps=0.2,
                                request_kb=1, response_kb=1)
        return run(doc, seed=SEED)["summary"]["latency_ms"]["max"]

    assert latency({}) == pytest.approx(1 + 1 + 1, abs=0.01)
    assert latency({"encoding": "rest"}) == pytest.approx(3 + 2 * (0.5 + 0.4), abs=0.01)
    assert latency({"encoding": "rpc"}) == pytest.approx(3 + 2 * (0.1 + 0.05), abs=0.01)
    assert latency({"encoding": "rest", "encoding_ms": 2, "overhead_kb": 0}) == \
        pytest.approx(3 + 2 * 2, abs=0.01)


@pytest.mark.parametrize("rate_rps", [50, 120, 400])  # rho 0.5, 1.2 and 4: overload too
def test_a_link_never_carries_more_than_its_bandwidth(rate_rps):
    """Bytes are conserved: over any span a direction transmits at most bandwidth x span
    (utilisation <= 1), and all it is offered once the load is below it."""
    doc = client_to_service({"bandwidth_mbps": 10}, duration_s=40, rate_rps=rate_rps,
                            request_kb=12.5)  # 10 ms each
    sim = Simulation(doc, seed=SEED)
    for t in (15, 25, 40):
        sim.advance(t)
        fwd = sim.report()["links"]["c->s"]["forward"]
        span = t - 10.0
        assert fwd["utilisation"] <= 1.0
        assert fwd["kb"] * 8 / 1000 <= 10 * span * (1 + 1e-9)
        if rate_rps > 100:
            assert fwd["utilisation"] > 0.99  # an overloaded link is always busy
        else:
            # give or take those in the FIFO when warm-up ended and now (a few at rho 0.5)
            assert fwd["kb"] == pytest.approx(fwd["messages"] * 12.5, abs=6 * 12.5)


def test_frames_show_a_links_utilisation_and_queue():
    doc = client_to_service({"bandwidth_mbps": 10}, duration_s=40, rate_rps=150,
                            request_kb=12.5)
    sim = Simulation(doc, seed=SEED)
    sim.frame()
    sim.advance(20)
    (entry,) = sim.frame()["links"]
    extra = entry[3]
    assert extra["utilisation"][0] == pytest.approx(1.0)
    assert extra["queue"][0] > 100  # 150/s offered, 100/s sent: 50 more queued each second
    plain = Simulation(client_to_service({}, duration_s=40), seed=SEED)
    plain.frame()
    plain.advance(5)
    assert len(plain.frame()["links"][0]) == 3  # links without bandwidth: as before


def test_links_without_the_new_fields_are_written_and_reported_as_before():
    doc = client_to_service({"latency_ms": 5}, duration_s=20)
    written = validate(doc).to_document()["links"][0]
    assert set(written) == {"from", "to", "latency_ms", "route", "weight", "kind"}
    report = run(doc, seed=SEED)
    assert "links" not in report and "links" not in report["predictions"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"bandwidth_mbps": 0}, "links[0].bandwidth_mbps"),
    ({"bandwidth_mbps": 500_000}, "links[0].bandwidth_mbps"),
    ({"protocol": "tcp", "loss": 0.6}, "links[0].loss"),
    ({"loss": 0.1}, "links[0].loss: a lossy link needs a protocol"),
    ({"keepalive": True}, "links[0].keepalive"),
    ({"protocol": "quic"}, "links[0].protocol"),
    ({"encoding": "rest", "overhead_kb": -1}, "links[0].overhead_kb"),
    ({"protocol": "tcp", "retransmit_ms": 0}, "links[0].retransmit_ms"),
])
def test_bad_link_fields_are_named(fields, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate(client_to_service(fields))


@pytest.mark.parametrize("params", [{"request_kb": -1}, {"response_kb": 2_000_000}])
def test_bad_sizes_are_named(params):
    name = next(iter(params))
    with pytest.raises(ScenarioError, match=rf"components\[0\].params.{name}"):
        validate(client_to_service({}, **params))


def test_replication_links_take_no_payload_fields():
    doc = document(
        [component("c", "client", rate_rps=1),
         component("a", "database", read_ms=1, write_ms=1),
         component("b", "database", read_ms=1, write_ms=1)],
        [link("c", "a"), link("a", "b", kind="replication", bandwidth_mbps=10)], 10.0)
    with pytest.raises(ScenarioError, match=r"links\[1\].bandwidth_mbps: only call links"):
        validate(doc)


def test_a_copy_of_a_running_simulation_continues_exactly():
    """Checkpoints (replay, seeking) copy a running simulation: messages in a FIFO, waiting
    for a retransmission or on their way back continue as they would have."""
    doc = client_to_service({"latency_ms": 5, "bandwidth_mbps": 10, "protocol": "tcp",
                             "loss": 0.1, "encoding": "rest"}, duration_s=30, rate_rps=90,
                            request_kb=12.5, response_kb=5)
    sim = Simulation(doc, seed=SEED)
    sim.advance(12.3)
    assert copy_continues_exactly(sim, 30)["links"]["c->s"]["forward"]["lost"] > 0


@settings(max_examples=25, deadline=None, database=None)
@given(rate=st.floats(1, 300), request_kb=st.floats(0, 50), response_kb=st.floats(0, 50),
       bandwidth=st.floats(0.5, 50), protocol=st.sampled_from(["none", "tcp", "udp"]),
       loss=st.floats(0, 0.5), encoding=st.sampled_from(["none", "rest", "rpc"]),
       seed=st.integers(0, 2**16))
def test_links_conserve_bytes_and_requests(rate, request_kb, response_kb, bandwidth, protocol,
                                           loss, encoding, seed):
    """Whatever the load (overload included): each direction sends at most bandwidth x time,
    loses at most what it sends, and every request is answered or still in flight; over tcp
    none fails, over udp no more fail than lost a message."""
    doc = client_to_service({"latency_ms": 2, "bandwidth_mbps": bandwidth, "protocol": protocol,
                             "loss": 0.0 if protocol == "none" else loss, "encoding": encoding},
                            duration_s=20, rate_rps=rate, request_kb=request_kb,
                            response_kb=response_kb)
    sim = Simulation(doc, seed=seed)
    sim.advance(20)
    report = sim.report()
    for d in ("forward", "back"):
        fields = report["links"]["c->s"][d]
        assert fields["utilisation"] <= 1.0 + 1e-9
        # (the report rounds kB to 4 decimals: an overloaded link sends exactly the limit)
        assert fields["kb"] <= bandwidth * 10 * 1000 / 8 + 1e-3
        assert fields.get("lost", 0) <= fields["messages"]
    client = report["components"]["c"]
    assert client["succeeded"] + client["failed"] <= client["requests"]
    outcomes = {k: v for k, v in client["failures"].items() if v}
    if protocol == "udp":
        lost = sum(report["links"]["c->s"][d].get("lost", 0) for d in ("forward", "back"))
        assert set(outcomes) <= {"failed"} and client["failed"] <= lost
    else:
        assert outcomes == {}
