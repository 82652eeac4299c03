"""Run links: a document, a seed and a live run's command log, stored to be replayed exactly
(docs/api.md). Commands are checked as the engine checks live commands, so every stored run
link replays without an error."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from simulations import Scenario
from simulations.scenario import check_command, route_errors

from ..accounts import permissions
from ..models import RunLink
from ..models import Scenario as SavedScenario
from ..ratelimit import rate_limited
from .endpoints import Endpoint
from .jsonapi import ApiError, checked_document, not_found, parse_body
from .schemas import RunCreate, RunOut, run_out

RUN_LINK = (RunOut, "The run link.")
run_links = Endpoint("api/runs", "api-runs")
run_link = Endpoint("api/runs/<str:share_id>", "api-run", share_id="The run link's id.")


def command_errors(body: RunCreate, scenario: Scenario) -> list[str]:
    components = {c.id: c for c in scenario.components}
    links = {(link.from_, link.to) for link in scenario.links}
    errors, previous = [], 0.0
    for i, command in enumerate(body.commands):
        path = f"commands[{i}]"
        if command.at_s < previous:
            errors.append(f"{path}.at_s: commands must be in time order ({command.at_s:g} "
                          f"comes after {previous:g})")
        if command.at_s > body.until_s:
            errors.append(f"{path}.at_s: must be <= until_s ({body.until_s:g})")
        previous = max(previous, command.at_s)
        found = check_command(command.action, command.target, command.params, components,
                              links, path)
        ratio = command.params.get("read_ratio")
        if not found and command.action == "set" and ratio is not None:
            found = [f"{path}.params.read_ratio: {e}"
                     for e in route_errors(scenario, {command.target: [ratio]})]
        errors += found
    return errors


@run_links.post("Store a run link (document, seed, command log).", ok=RUN_LINK, body=RunCreate,
                status=201, errors=(400,))
@rate_limited("api_write")
def create_run_link(request: HttpRequest) -> JsonResponse:
    body = parse_body(request)
    if errors := command_errors(body, checked_document(body.document)):
        raise ApiError(400, errors)
    saved = None
    if body.scenario is not None:
        saved = SavedScenario.objects.filter(share_id=body.scenario).first()
        if not permissions.may_view_scenario(request, saved):
            raise ApiError(400, ["scenario: no scenario with this id"])
    link = RunLink(document=body.document, title=body.document["name"], seed=body.seed,
                   commands=[c.model_dump() for c in body.commands],
                   until_s=body.until_s, scenario=saved)
    permissions.set_owner(request, link)
    link.save()
    return JsonResponse(run_out(link), status=201)


def find_run_link(share_id: str) -> RunLink | None:
    link = RunLink.objects.select_related("scenario").filter(share_id=share_id).first()
    return link if permissions.may_view_run_link(link) else None


@run_link.get("A run link.", ok=RUN_LINK, errors=(404,))
def show_run_link(request: HttpRequest, share_id: str) -> JsonResponse:
    link = find_run_link(share_id)
    if link is None:
        raise not_found("run")
    return JsonResponse(run_out(link))

