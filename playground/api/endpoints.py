"""One declaration per JSON endpoint, from which its URL pattern, its method dispatch (and
body model) and its OpenAPI entry (playground/api/openapi.py) are all made:

    scenario = Endpoint("api/scenarios/<str:share_id>", "api-scenario",
                        share_id="The scenario's share id.")

    @scenario.get("A scenario.", ok=(ScenarioOut, "The scenario."), errors=(404,))
    def show_scenario(request, share_id): ...

A method not declared is answered 405 in the API's error shape; ApiErrors raised by a
handler become {"errors": [...]}; a body is read with `jsonapi.parse_body(request)` as the
operation's declared model, where the handler chooses (after the rate limit, and after a
seat check that answers 404 to a stranger); a workspace created while answering is
remembered in the response's cookie.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from pydantic import BaseModel

from ..accounts import permissions
from .jsonapi import ApiError, error_response

Schema = type[BaseModel] | dict[str, Any] | None  # a model, a JSON schema, or no content
FREE = {"type": "object"}  # any JSON object
CONVERTERS = {"str": {"type": "string"}, "slug": {"type": "string"},
              "int": {"type": "integer", "minimum": 1}}


@dataclass
class Operation:
    """One method of an endpoint: its handler and what its OpenAPI entry says."""

    method: str
    handler: Callable[..., Any]
    summary: str
    ok: tuple[Schema, str]  # the success answer: its schema and description
    media: str = "application/json"  # the success answer's media type
    body: Schema = None  # a model is also what parse_body(request) reads
    write: bool = False  # takes the CSRF header (every operation with a body does)
    query: tuple[dict[str, Any], ...] = ()
    status: int = 200
    errors: tuple[int, ...] = ()


class Endpoint:
    """A URL under /api/ (a Django path pattern) and its operations, in declaration order.
    `wrap` decorates the whole view (a rate limit per endpoint); keyword arguments describe
    the pattern's parameters in the OpenAPI description."""

    def __init__(self, pattern: str, name: str,
                 wrap: Callable[[Callable], Callable] | None = None, **described: str):
        self.pattern, self.name, self.wrap = pattern, name, wrap
        self.operations: dict[str, Operation] = {}
        self.described = described

    def _declare(self, method: str, summary: str, **spec: Any) -> Callable:
        def register(handler: Callable) -> Callable:
            self.operations[method] = Operation(method, handler, summary, **spec)
            return handler

        return register

    def get(self, summary: str, **spec: Any) -> Callable:
        return self._declare("GET", summary, **spec)

    def post(self, summary: str, **spec: Any) -> Callable:
        return self._declare("POST", summary, **spec)

    def put(self, summary: str, **spec: Any) -> Callable:
        return self._declare("PUT", summary, **spec)

    def patch(self, summary: str, **spec: Any) -> Callable:
        return self._declare("PATCH", summary, **spec)

    def delete(self, summary: str, **spec: Any) -> Callable:
        return self._declare("DELETE", summary, **spec)

    # -- what the declaration makes -------------------------------------------------------
    @property
    def openapi_path(self) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.pattern)

    def path_parameters(self) -> list[dict[str, Any]]:
        out = []
        for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", self.pattern):
            param = {"name": name, "in": "path", "required": True,
                     "schema": CONVERTERS[converter or "str"]}
            if name in self.described:
                param["description"] = self.described[name]
            out.append(param)
        return out

    def url(self) -> URLPattern:
        assert self.operations, f"{self.pattern}: no operation declared yet"
        view = self._view()
        return path(self.pattern, self.wrap(view) if self.wrap else view, name=self.name)

    def _operation(self, request: HttpRequest) -> Operation | HttpResponse:
        """The operation for the request's method (its body model noted for parse_body), or
        the 405 answer."""
        operation = self.operations.get(request.method or "")
        if operation is None:
            allowed = ", ".join(self.operations)
            response = error_response(405, [f"(method): {request.method} is not allowed here; "
                                             f"use {allowed}"])
            response["Allow"] = allowed
            return response
        request.api_body = operation.body
        return operation

    def _view(self) -> Callable[..., HttpResponse]:
        done = permissions.remember_workspace
        if all(asyncio.iscoroutinefunction(op.handler) for op in self.operations.values()):
            async def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                operation = self._operation(request)
                if isinstance(operation, HttpResponse):
                    return operation
                try:
                    return done(request, await operation.handler(request, *args, **kwargs))
                except ApiError as exc:
                    return done(request, exc.response())
        else:
            def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                operation = self._operation(request)
                if isinstance(operation, HttpResponse):
                    return operation
                try:
                    return done(request, operation.handler(request, *args, **kwargs))
                except ApiError as exc:
                    return done(request, exc.response())

        view.__name__ = view.__qualname__ = self.name.replace("-", "_")
        return view
