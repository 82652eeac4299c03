"""Schemathesis against /api/openapi.json, in process (Django's WSGI app, no server): for
requests generated from the description, valid and not, the API never answers 5xx, and every
answer has a status, content type and body the description allows.

Requests carry a signed-in user's session and a CSRF token (cookie and X-CSRFToken header),
so writes reach the endpoints' own checks; without the token a write is a documented 403.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
CSRF_TOKEN = "fuzz" * 8  # Django takes any 32 letters, if cookie and header agree


@pytest.fixture(autouse=True)
def connections_stay_open():
    """The raw WSGI app closes "old" database connections at each request's start and end;
    in a test that is the test's own transaction (on PostgreSQL it goes away). Django's
    test client switches that off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def signed_in(django_user_model) -> dict[str, str]:
    client = Client()
    client.force_login(django_user_model.objects.create_user("fuzz", password="x" * 12))
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_TOKEN}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_answer_matches_the_description(case, signed_in):
    case.call_and_validate(checks=CHECKS, cookies=signed_in, headers={"X-CSRFToken": CSRF_TOKEN})
