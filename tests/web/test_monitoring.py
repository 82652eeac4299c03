"""Prometheus metrics (playground/monitoring.py): off unless PLAYGROUND_METRICS_TOKEN is set,
served only to requests with that bearer token, and the figures move with what happens."""

import asyncio
import secrets
import urllib.error
import urllib.request

import pytest
import requests
from django.core.management import CommandError, call_command
from django.test import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from playground import monitoring
from playground.classrooms import services
from tests.web.test_classroom_grading import assignment, design, grade_all  # noqa: F401
from tests.web.test_play_consumer import DESIGN, connect, receive_until
from tests.web.test_service_failures import daphne


@pytest.fixture
def token(settings):
    settings.PLAYGROUND_METRICS_TOKEN = secrets.token_urlsafe(24)
    return settings.PLAYGROUND_METRICS_TOKEN


def figures(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value of a scrape."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(token: str) -> dict[tuple[str, tuple], float]:
    response = await AsyncClient().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content[:200]
    return figures(response.content.decode())


@pytest.mark.django_db
def test_metrics_are_off_without_a_token_and_refused_without_the_right_one(client, settings,
                                                                             token):
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token},
                   {"Authorization": f"Basic {token}"}):
        refused = client.get("/metrics", headers=header)
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"].startswith("Bearer")
        assert b"playground_" not in refused.content
    settings.PLAYGROUND_METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.django_db
async def test_figures_move_when_a_run_plays_and_frames_are_sent(token, consumer_db):
    before = await scrape(token)
    owner = await connect()
    await owner.send_json_to({"type": "start", "scenario": DESIGN})
    snapshot = await receive_until(owner, lambda m: m["type"] == "snapshot")
    for _ in range(5):
        await receive_until(owner, lambda m: m["type"] == "frame")
    during = await scrape(token)
    assert during[("playground_live_runs", ())] == before[("playground_live_runs", ())] + 1
    assert during[("playground_sockets", ())] == before[("playground_sockets", ())] + 1
    for counter in ("playground_frames_published_total", "playground_frames_sent_total"):
        assert during[(counter, ())] >= before[(counter, ())] + 5, counter

    await owner.send_json_to({"type": "control", "run_id": snapshot["run_id"],
                              "action": "stop"})
    await receive_until(owner, lambda m: m["type"] == "ended")
    await owner.disconnect()
    await asyncio.sleep(0.1)
    after = await scrape(token)
    assert after[("playground_live_runs", ())] == before[("playground_live_runs", ())]
    assert after[("playground_sockets", ())] == before[("playground_sockets", ())]


@pytest.mark.django_db
def test_refusals_by_a_rate_limit_are_counted_by_limit(client, settings, token, design):
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS, "api_write": "1/60"}
    key = ("playground_quota_refusals_total", (("limit", "api_write"),))
    before = figures(client.get("/metrics", headers={
        "Authorization": f"Bearer {token}"}).content.decode()).get(key, 0)
    for _ in range(3):
        client.post("/api/scenarios", {"document": design}, content_type="application/json")
    after = figures(client.get("/metrics", headers={
        "Authorization": f"Bearer {token}"}).content.decode())
    assert after[key] == before + 2


@pytest.mark.django_db(transaction=True)
def test_the_grading_queue_and_grading_times_are_reported(client, settings, token,
                                                          assignment):  # noqa: F811
    settings.PLAYGROUND_GRADER = "worker"
    auth = {"Authorization": f"Bearer {token}"}
    before = figures(client.get("/metrics", headers=auth).content.decode())
    seat = services.join(assignment.classroom, "Ada")
    for workers in (1, 2):
        services.submit(assignment, seat, design(workers))
    queued = figures(client.get("/metrics", headers=auth).content.decode())
    assert queued[("playground_grading_queue", ())] == 2
    assert grade_all() == 2
    graded = figures(client.get("/metrics", headers=auth).content.decode())
    assert graded[("playground_grading_queue", ())] == 0
    count = ("playground_grading_seconds_count", ())
    assert graded[count] == before[count] + 2
    assert graded[("playground_grading_seconds_sum", ())] > before[
        ("playground_grading_seconds_sum", ())]


@pytest.mark.django_db(transaction=True)  # the grading queue is read in the server's thread
def test_a_worker_serves_its_metrics_on_its_own_port_to_the_token_only(token):
    server = monitoring.serve(0)
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert ("playground_live_runs", ()) in figures(answer.read().decode())
    finally:
        server.shutdown()
        server.server_close()


def test_a_metrics_port_without_a_token_is_refused(settings):
    settings.PLAYGROUND_METRICS_TOKEN = ""
    with pytest.raises(CommandError, match="needs PLAYGROUND_METRICS_TOKEN"):
        call_command("grader", "--metrics-port", "0")


def test_a_production_web_process_serves_its_metrics_over_plain_http(tmp_path):
    """Prometheus scrapes each Daphne directly, inside: no redirect to HTTPS."""
    token = secrets.token_urlsafe(24)
    with daphne(tmp_path, {"DJANGO_SSL_REDIRECT": "1", "PLAYGROUND_METRICS_TOKEN": token,
                           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}) as url:
        assert requests.get(f"{url}/", allow_redirects=False).status_code == 301
        answer = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"},
                              allow_redirects=False)
        assert answer.status_code == 200
        assert ("playground_sockets", ()) in figures(answer.text)


@pytest.mark.django_db
async def test_runs_refused_on_a_socket_are_counted(token, settings, consumer_db):
    settings.PLAYGROUND_RUNS_PER_CONNECTION = 1
    key = ("playground_quota_refusals_total", (("limit", "runs_per_connection"),))
    before = (await scrape(token)).get(key, 0)
    owner = await connect()
    await owner.send_json_to({"type": "start", "scenario": DESIGN})
    await receive_until(owner, lambda m: m["type"] == "snapshot")
    await owner.send_json_to({"type": "start", "scenario": DESIGN})
    refused = await receive_until(owner, lambda m: m["type"] == "error")
    assert refused["code"] == "too_many_runs"
    assert (await scrape(token))[key] == before + 1
    await owner.disconnect()
