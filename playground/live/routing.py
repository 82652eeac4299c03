from django.urls import path

from playground.classrooms.routing import websocket_urlpatterns as classroom_sockets

from .consumers import PlayConsumer

websocket_urlpatterns = [
    path("ws/play/", PlayConsumer.as_asgi()),
    *classroom_sockets,
]
