"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers."""

import os

from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")
# Set up Django before importing anything that touches models (auth, consumers).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from playground import collector, fenced  # noqa: E402
from playground.live.routing import websocket_urlpatterns  # noqa: E402
from playground.live.wsorigin import SameOriginValidator  # noqa: E402
from playground.outages import DatabaseAwareWebsockets  # noqa: E402

# Limits Daphne itself must keep: request bodies, websocket messages and queues
# (playground/fenced/).
fenced.install()

# Daphne serves no static files; in debug Django does, as runserver would.
http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.DEBUG else django_asgi_app

# Start-up is over: what it made stays for good (playground/collector.py).
collector.settle()

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": SameOriginValidator(
            DatabaseAwareWebsockets(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
