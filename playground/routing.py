"""Websocket routes, kept apart from urls.py as Channels expects."""

websocket_urlpatterns = []
