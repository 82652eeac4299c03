from django.urls import include, path

from . import monitoring
from .accounts import views as accounts
from .api import routes
from .pages import home, views

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("metrics", monitoring.metrics, name="metrics"),
    *routes.urlpatterns,
    path("s/<str:share_id>", views.scenario_page, name="scenario-page"),
    path("s/<str:share_id>/preview.svg", views.preview_svg, name="scenario-preview-svg"),
    path("s/<str:share_id>/preview.png", views.preview_png, name="scenario-preview-png"),
    path("e/<str:token>", views.edit_page, name="edit-page"),
    path("r/<str:share_id>", views.run_page, name="run-page"),
    path("w/<str:run_id>", views.watch_page, name="watch-page"),
    path("embed/<str:share_id>", views.embed_page, name="embed-page"),
    path("lessons", views.lessons_page, name="lessons"),
    path("accounts/", include(accounts.urlpatterns)),
    path("", include("playground.classrooms.urls")),
]

handler404 = "playground.pages.views.page_not_found"
handler500 = "playground.outages.server_error"
