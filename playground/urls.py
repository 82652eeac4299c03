from django.urls import include, path

from playground import (
    accounts,
    api,
    api_runs,
    api_scenarios,
    monitoring,
    openapi,
    pages,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("api/kinds", api.kinds, name="api-kinds"),
    path("api/validate", api.validate, name="api-validate"),
    path("api/examples", api.examples, name="api-examples"),
    path("api/examples/<slug:slug>", api.example, name="api-example"),
    path("api/picture.svg", api.picture, name="api-picture"),
    path("api/openapi.json", openapi.document, name="api-openapi"),
    path("api/scenarios", api_scenarios.scenarios, name="api-scenarios"),
    path("api/scenarios/<str:share_id>", api_scenarios.scenario, name="api-scenario"),
    path("api/scenarios/<str:share_id>/fork", api_scenarios.fork, name="api-scenario-fork"),
    path("api/scenarios/<str:share_id>/versions", api_scenarios.versions,
         name="api-scenario-versions"),
    path("api/scenarios/<str:share_id>/versions/<int:number>", api_scenarios.version,
         name="api-scenario-version"),
    path("api/scenarios/<str:share_id>/versions/<int:number>/restore", api_scenarios.restore,
         name="api-scenario-restore"),
    path("api/lessons", api_scenarios.lessons, name="api-lessons"),
    path("api/runs", api_runs.runs, name="api-runs"),
    path("api/runs/<str:share_id>", api_runs.run, name="api-run"),
    path("s/<str:share_id>", pages.scenario_page, name="scenario-page"),
    path("s/<str:share_id>/preview.svg", pages.preview_svg, name="scenario-preview-svg"),
    path("s/<str:share_id>/preview.png", pages.preview_png, name="scenario-preview-png"),
    path("r/<str:share_id>", pages.run_page, name="run-page"),
    path("w/<str:run_id>", pages.watch_page, name="watch-page"),
    path("embed/<str:share_id>", pages.embed_page, name="embed-page"),
    path("lessons", pages.lessons_page, name="lessons"),
    path("accounts/", include(accounts.urlpatterns)),
    path("", include("playground.classrooms.urls")),
]

handler404 = "playground.pages.page_not_found"
handler500 = "playground.outages.server_error"
