from django.urls import path

from playground import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("api/kinds", api.kinds, name="api-kinds"),
    path("api/validate", api.validate, name="api-validate"),
    path("api/examples", api.examples, name="api-examples"),
    path("api/examples/<slug:slug>", api.example, name="api-example"),
]
