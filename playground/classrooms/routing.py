from django.urls import path

from .consumers import DashboardConsumer, SeatConsumer

websocket_urlpatterns = [
    path("ws/seat/<str:share_id>/", SeatConsumer.as_asgi()),
    path("ws/dashboard/<str:join_id>/", DashboardConsumer.as_asgi()),
]
