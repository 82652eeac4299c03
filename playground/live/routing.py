from django.urls import path

from playground.classrooms.routing import websocket_urlpatterns as classroom_sockets
from playground.coedit.routing import websocket_urlpatterns as coedit_sockets

from .consumers import PlayConsumer

websocket_urlpatterns = [
    path("ws/play/", PlayConsumer.as_asgi()),
    *classroom_sockets,
    *coedit_sockets,
]
