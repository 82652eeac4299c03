from django.urls import include, path

from . import monitoring
from .accounts import views as accounts
from .api import editor, openapi, run_links, scenarios
from .pages import home, views

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("api/kinds", editor.kinds, name="api-kinds"),
    path("api/validate", editor.validate, name="api-validate"),
    path("api/examples", editor.examples, name="api-examples"),
    path("api/examples/<slug:slug>", editor.example, name="api-example"),
    path("api/openapi.json", openapi.document, name="api-openapi"),
    path("api/scenarios", scenarios.scenarios, name="api-scenarios"),
    path("api/scenarios/<str:share_id>", scenarios.scenario, name="api-scenario"),
    path("api/scenarios/<str:share_id>/fork", scenarios.fork, name="api-scenario-fork"),
    path("api/scenarios/<str:share_id>/versions", scenarios.versions,
         name="api-scenario-versions"),
    path("api/scenarios/<str:share_id>/versions/<int:number>", scenarios.version,
         name="api-scenario-version"),
    path("api/scenarios/<str:share_id>/versions/<int:number>/restore", scenarios.restore,
         name="api-scenario-restore"),
    path("api/lessons", scenarios.lessons, name="api-lessons"),
    path("api/runs", run_links.runs, name="api-runs"),
    path("api/runs/<str:share_id>", run_links.run, name="api-run"),
    path("s/<str:share_id>", views.scenario_page, name="scenario-page"),
    path("s/<str:share_id>/preview.svg", views.preview_svg, name="scenario-preview-svg"),
    path("s/<str:share_id>/preview.png", views.preview_png, name="scenario-preview-png"),
    path("r/<str:share_id>", views.run_page, name="run-page"),
    path("w/<str:run_id>", views.watch_page, name="watch-page"),
    path("embed/<str:share_id>", views.embed_page, name="embed-page"),
    path("lessons", views.lessons_page, name="lessons"),
    path("accounts/", include(accounts.urlpatterns)),
    path("", include("playground.classrooms.urls")),
]

handler404 = "playground.pages.views.page_not_found"
handler500 = "playground.outages.server_error"
