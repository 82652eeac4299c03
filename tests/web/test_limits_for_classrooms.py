"""Limits that fit a class behind one address (a school's NAT) and still stop an attacker
from that address: sign-ups, log-ins (django-axes per account and address), join codes, and
the client address itself (PLAYGROUND_TRUSTED_PROXIES)."""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from playground.classrooms.models import Assignment, Classroom

pytestmark = pytest.mark.django_db
BRIEF = {"format": "playground.scenario/v1", "name": "Serve 100 rps", "duration_s": 60,
         "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 100}},
                        {"id": "app", "kind": "service",
                         "params": {"workers": 2, "service_ms": 5}}],
         "links": [{"from": "users", "to": "app"}]}
ROOT = Path(__file__).resolve().parents[2]

SCHOOL = "198.51.100.1"  # a school's NAT: every request of a test's class comes from it
_addresses = (f"192.0.2.{n}" for n in itertools.count(1))  # everyone else


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Hashing is not what is measured here: 120 PBKDF2 hashes would take a minute.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def room():
    return Classroom.objects.create(name="Scalability 101")


def log_in(client, name, password):
    return client.post("/accounts/login", {"username": name, "password": password})


def test_a_class_of_60_behind_one_address_signs_up_logs_in_and_joins(room):
    for n in range(60):
        student = Client(REMOTE_ADDR=SCHOOL)
        name, password = f"student{n}", f"a long phrase {n}!"
        assert student.get("/accounts/signup").status_code == 200
        if n % 5 == 0:  # some pick a password the validators refuse, then a better one
            weak = student.post("/accounts/signup", {"username": name, "password1": "123",
                                                     "password2": "123"})
            assert weak.status_code == 200
        made = student.post("/accounts/signup", {"username": name, "password1": password,
                                                 "password2": password})
        assert made.status_code == 302, n
        assert student.post("/accounts/logout").status_code == 302
        if n % 4 == 0:  # a typo first
            assert log_in(student, name, "wrong").status_code == 200
        assert log_in(student, name, password).status_code == 302, n
        assert student.get("/join").status_code == 200
        if n % 6 == 0:  # a mistyped code
            assert student.post("/join", {"code": "ZZZZZZZZ"}).status_code == 200
        assert student.post("/join", {"code": room.code}).status_code == 302, n
        joined = student.post(f"/join/{room.join_id}", {"display_name": name})
        assert joined.status_code == 302, n
    assert room.students.count() == 60


def test_a_seated_class_behind_one_address_saves_its_work_and_an_anonymous_flood_stops(
        room, settings):
    """Writes count per person (account, else classroom seat); everyone else on an address
    shares one count, and the whole address has a cap (seats can be made up)."""
    assignment = Assignment.objects.create(classroom=room, title="Serve it", brief=BRIEF,
                                           goals={"p99_ms_max": 50})
    url = f"/api/assignments/{assignment.share_id}/work"
    students = []
    for n in range(60):
        student = Client(REMOTE_ADDR=SCHOOL)
        assert student.post(f"/join/{room.join_id}", {"display_name": f"s{n}"}).status_code \
            == 302
        students.append(student)
    for round_ in range(3):  # autosaves: 180 writes from one address in well under a minute
        for student in students:
            saved = student.put(url, {"document": dict(BRIEF, name=f"v{round_}")},
                                content_type="application/json")
            assert saved.status_code == 200, saved.content
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS,
                                       "api_write": "5/60", "api_write_address": "400/60"}
    anonymous = Client(REMOTE_ADDR=SCHOOL)
    answers = [anonymous.post("/api/scenarios", {"document": BRIEF},
                              content_type="application/json").status_code for _ in range(6)]
    assert answers == [201] * 5 + [429]
    refused = anonymous.post("/api/scenarios", {"document": BRIEF},
                             content_type="application/json")
    assert refused.json()["errors"] == [f"(rate limit): too many changes; try again in "
                                        f"{refused['Retry-After']} s"]
    # Made-up seats get a count each, but the address as a whole stops.
    for student in students:
        for _ in range(5):
            student.put(url, {"document": BRIEF}, content_type="application/json")
    assert students[0].put(url, {"document": BRIEF},
                           content_type="application/json").status_code == 429


def test_a_guesser_at_one_account_is_locked_out_and_the_class_logs_in(settings):
    User.objects.create_user("ada", password="ada's phrase 1")
    User.objects.create_user("bob", password="bob's phrase 2")
    guesser = Client(REMOTE_ADDR=SCHOOL)
    limit = settings.AXES_FAILURE_LIMIT = 5
    answers = [log_in(guesser, "ada", f"guess {n}").status_code for n in range(limit + 1)]
    assert answers == [200] * (limit - 1) + [429] * 2  # the limit-th failure locks
    # Locked: the right password from this address no longer tells the guesser anything.
    locked = log_in(guesser, "ada", "ada's phrase 1")
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "Too many wrong passwords" in locked.content.decode()
    # Hammering on the locked account does not use up the address's budget of failures.
    for n in range(60):
        log_in(guesser, "ada", f"more {n}")
    # A classmate on the same address logs in, and so does Ada from elsewhere.
    assert log_in(Client(REMOTE_ADDR=SCHOOL), "bob", "bob's phrase 2").status_code == 302
    assert log_in(Client(REMOTE_ADDR=next(_addresses)), "ada", "ada's phrase 1").status_code \
        == 302


def test_a_password_sprayer_is_stopped_per_address(settings):
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS, "login": "5/300"}
    sprayer = Client(REMOTE_ADDR=SCHOOL)
    answers = [log_in(sprayer, f"user{n}", "123456").status_code for n in range(7)]
    assert answers == [200] * 5 + [429] * 2
    refused = log_in(sprayer, "user9", "123456")
    assert "failed log-ins from your network" in refused.content.decode()
    # Right passwords never count: a class logging in does not use the budget up.
    User.objects.create_user("cy", password="cy's phrase 3")
    other = next(_addresses)
    for _ in range(8):
        assert log_in(Client(REMOTE_ADDR=other), "cy", "cy's phrase 3").status_code == 302


def test_a_sign_up_bot_stops_at_the_cap(settings):
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS,
                                       "signup": "3/3600,4/86400"}
    answers = []
    for n in range(5):
        bot = Client(REMOTE_ADDR=SCHOOL)
        answers.append(bot.post("/accounts/signup", {
            "username": f"bot{n}", "password1": "a long phrase 9!",
            "password2": "a long phrase 9!"}).status_code)
    assert answers == [302] * 3 + [429] * 2
    assert User.objects.filter(username__startswith="bot").count() == 3


def test_wrong_join_codes_are_limited_per_address_and_right_ones_never_count(room,
                                                                             settings):
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS, "join": "3/300"}
    guesser = Client(REMOTE_ADDR=SCHOOL)
    for _ in range(10):  # the form and right codes are not attempts to guess
        assert guesser.get("/join").status_code == 200
        assert guesser.get("/join", {"code": room.code}).status_code == 302
    wrong = [guesser.post("/join", {"code": "ZZZZZZZZ"}).status_code for _ in range(4)]
    assert wrong == [200, 200, 200, 429]
    refused = guesser.get("/join", {"code": "YYYYYYYY"})
    assert refused.status_code == 429 and "wrong join codes" in refused.content.decode()
    assert guesser.get("/join").status_code == 200  # the form itself still shows


def test_joining_a_classroom_is_limited_per_classroom(room, settings):
    settings.PLAYGROUND_RATE_LIMITS = {**settings.PLAYGROUND_RATE_LIMITS,
                                       "join_classroom": "2/300"}
    answers = [Client(REMOTE_ADDR=next(_addresses)).post(
        f"/join/{room.join_id}", {"display_name": f"bot {n}"}).status_code for n in range(3)]
    assert answers == [302, 302, 429]
    other = Classroom.objects.create(name="Another class")
    assert Client().post(f"/join/{other.join_id}", {"display_name": "Ada"}).status_code == 302


def test_a_forged_forwarded_for_from_a_direct_client_is_ignored(settings):
    """The deployment of docs/deploy.md, reached directly: forging X-Forwarded-For anew on
    every attempt must not reset the lockout."""
    settings.PLAYGROUND_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.PLAYGROUND_PROXY_HOPS = 1  # what the old setting said; it no longer counts
    settings.AXES_FAILURE_LIMIT = 5
    User.objects.create_user("ada", password="ada's phrase 1")
    attacker = Client(REMOTE_ADDR=SCHOOL)
    for n in range(30):  # more than any per-address limit allows
        attacker.post("/accounts/login", {"username": "ada", "password": f"guess {n}"},
                      HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    right = attacker.post("/accounts/login", {"username": "ada", "password": "ada's phrase 1"},
                          HTTP_X_FORWARDED_FOR="203.0.113.250")
    assert right.status_code == 429


def test_the_lockout_is_counted_in_redis_when_there_is_one_else_in_the_database():
    code = "from playground import settings as s; print(s.AXES_HANDLER)"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    for extra, handler in (({}, "database.AxesDatabaseHandler"),
                           ({"REDIS_URL": "redis://127.0.0.1:6390/3"}, "cache.AxesCacheHandler")):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env | extra,
                                capture_output=True, text=True, check=True)
        assert result.stdout.strip() == f"axes.handlers.{handler}"
