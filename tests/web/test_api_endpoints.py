"""One declaration per JSON endpoint (playground/api/endpoints.py) makes its URL, its method
dispatch and its OpenAPI entry; every JSON endpoint answers errors in one shape,
{"errors": [...]}, a wrong method and an unknown /api/ URL included."""

import pytest
from django.http import JsonResponse
from django.test import RequestFactory
from django.urls import resolve

from playground.api import routes
from playground.api.endpoints import Endpoint


@pytest.mark.parametrize("endpoint", routes.ENDPOINTS, ids=lambda e: e.pattern)
def test_each_declaration_is_the_url_and_the_openapi_entry(client, endpoint):
    spec = client.get("/api/openapi.json").json()
    described = spec["paths"][endpoint.openapi_path]
    assert list(described) == [method.lower() for method in endpoint.operations]
    url = "/" + endpoint.pattern.replace("<slug:slug>", "x").replace(
        "<int:number>", "1").replace("<str:share_id>", "x")
    assert resolve(url).url_name == endpoint.name


@pytest.mark.parametrize("url, method", [
    ("/api/kinds", "post"), ("/api/validate", "get"), ("/api/examples", "delete"),
    ("/api/openapi.json", "put"), ("/api/runs", "get"), ("/api/lessons", "post")])
def test_a_method_not_declared_is_405_in_the_error_shape(client, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0].startswith(f"(method): {method.upper()} is not allowed")
    assert response["Allow"] in response.json()["errors"][0]


def test_an_unknown_api_url_and_a_missing_example_are_404_in_the_error_shape(client):
    unknown = client.get("/api/nothing/here")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/json"
    assert unknown.json() == {"errors": ["(url): no endpoint at /api/nothing/here"]}
    missing = client.get("/api/examples/nope")
    assert missing.status_code == 404 and missing.json() == {"errors": ["example: not found"]}


def test_path_parameters_come_from_the_pattern():
    endpoint = Endpoint("api/things/<str:share_id>/parts/<int:number>", "t", share_id="Id.")
    assert endpoint.openapi_path == "/api/things/{share_id}/parts/{number}"
    assert endpoint.path_parameters() == [
        {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "Id."},
        {"name": "number", "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1}}]


def test_an_endpoint_without_operations_makes_no_url():
    with pytest.raises(AssertionError, match="no operation declared"):
        Endpoint("api/empty", "empty").url()


async def test_an_endpoint_of_async_handlers_is_served_on_the_event_loop():
    endpoint = Endpoint("api/async", "async")

    @endpoint.get("Async.", ok=(None, "Yes."))
    async def answer(request):
        return JsonResponse({"ok": True})

    view = endpoint.url().callback
    response = await view(RequestFactory().get("/api/async"))
    assert response.status_code == 200
    refused = await view(RequestFactory().post("/api/async"))
    assert refused.status_code == 405
