"""Settings read from the environment.

The defaults run on one machine with nothing to install (SQLite, in-memory channel layer);
DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis when one process is not enough.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # A known key would let anyone forge sessions, so it is only acceptable on a dev machine.
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-system-design-playground"

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    # First, so that runserver is Daphne's ASGI server rather than Django's WSGI one.
    "daphne",
    "channels",
    "django.contrib.staticfiles",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "playground",
    "playground.classrooms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "playground.middleware.content_security_policy",
]

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

ROOT_URLCONF = "playground.urls"
ASGI_APPLICATION = "playground.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL := os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                # Messages queued per channel before sends to it fail: 25 s of frames at
                # 20 per second, so a stalled viewer costs bounded memory, not the whole run.
                "capacity": 500,
                # Seconds an undelivered message lives: a frame older than this is stale,
                # better dropped than replayed.
                "expiry": 10,
            },
        }
    }
else:
    # Only reaches consumers in this one process: fine for a single Daphne.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Live runs and the play websocket (docs/protocol.md).
PLAYGROUND_WS_MAX_MESSAGE_BYTES = int(os.environ.get("PLAYGROUND_WS_MAX_MESSAGE_BYTES",
                                                     1024 * 1024))
PLAYGROUND_WS_RATE = float(os.environ.get("PLAYGROUND_WS_RATE", 20))
PLAYGROUND_WS_BURST = float(os.environ.get("PLAYGROUND_WS_BURST", 40))
PLAYGROUND_WS_FLOOD_CLOSE_S = float(os.environ.get("PLAYGROUND_WS_FLOOD_CLOSE_S", 3))
PLAYGROUND_RUNS_PER_CONNECTION = int(os.environ.get("PLAYGROUND_RUNS_PER_CONNECTION", 2))
PLAYGROUND_MAX_RUNS = int(os.environ.get("PLAYGROUND_MAX_RUNS", 50))
PLAYGROUND_IDLE_RUN_S = float(os.environ.get("PLAYGROUND_IDLE_RUN_S", 60))

# Classrooms: grading submissions (playground/classrooms/grader.py). "thread" grades in a
# background thread of the web process (embedded default); "worker" leaves the queue to
# `manage.py grader` processes.
PLAYGROUND_GRADER = os.environ.get("PLAYGROUND_GRADER", "thread")
PLAYGROUND_GRADE_TIMEOUT_S = float(os.environ.get("PLAYGROUND_GRADE_TIMEOUT_S", 600))
