"""Settings read from the environment.

The defaults run on one machine with nothing to install (SQLite, in-memory channel layer);
DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis when one process is not enough.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from playground.clientaddress import parse_networks
from playground.ratelimit import parse_rates

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

# Production (DJANGO_DEBUG off) is served over HTTPS only, behind a proxy that terminates TLS
# and sets X-Forwarded-Proto (docs/deploy.md). `manage.py check --deploy` passes with these.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31536000))
    # What `check --deploy` asks for; a site sharing its domain with plain-HTTP subdomains
    # turns these off (docs/deploy.md), and the check then says so.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    # The load balancer's health checks and Prometheus's scrapes come over plain HTTP from
    # inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

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
    "axes",
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
    # A view that fails because PostgreSQL or Redis is away answers 503 (playground/outages.py).
    "playground.outages.ServiceUnavailableMiddleware",
    # Last: turns a locked-out log-in into playground.accounts.views.locked_out's page.
    "axes.middleware.AxesMiddleware",
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

# Where runs are simulated (playground/live/runners.py): "inprocess" in the web process that
# started them (embedded default), or "workers": `manage.py simworker` processes, with run
# records and leases in Redis under PLAYGROUND_REDIS_PREFIX (docs/deploy.md).
PLAYGROUND_RUNNER = os.environ.get("PLAYGROUND_RUNNER", "inprocess")
if PLAYGROUND_RUNNER not in {"inprocess", "workers"}:
    raise ImproperlyConfigured("PLAYGROUND_RUNNER is 'inprocess' or 'workers'.")
if PLAYGROUND_RUNNER == "workers" and not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured("PLAYGROUND_RUNNER=workers needs REDIS_URL.")

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL and PLAYGROUND_RUNNER == "workers":
    # Every frame crosses processes: published once, fanned out by each web process to its
    # own viewers (playground/fenced/layers.py). No expiry: a pub/sub message is delivered at once
    # or never.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "playground.fenced.layers.FanOutRedisLayer",
            "CONFIG": {
                # A read timeout guards against a half-open socket to Redis.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15,
                           "socket_connect_timeout": 2}],
                # Messages queued in a process for one consumer before the oldest delta
                # frame gives way: ~1 s of frames at 15 a second, so an overloaded process
                # hands its viewers frames at most that late (playground/live/sendwindow.py).
                "capacity": 16,
            },
        }
    }
elif REDIS_URL:
    # Runs in the web processes: channels_redis's core layer, which queues messages for a
    # consumer in Redis (playground/fenced/layers.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "playground.fenced.layers.CoreRedisLayer",
            "CONFIG": {
                # It waits for a consumer's messages with a 5 s blocking pop: the read
                # timeout must be longer (redis-py's default, 5 s, made every idle socket
                # look like Redis going away, close 4013).
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15,
                           "socket_connect_timeout": 2}],
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
    CHANNEL_LAYERS = {"default": {
        "BACKEND": "playground.fenced.layers.SweepingInMemoryChannelLayer"}}

# The cache holds rate-limit counts (playground/ratelimit.py) and rendered previews: Redis
# when there is one, so limits hold across processes; else this process's memory (also
# while Redis is away: playground/outages.py).
CACHES = {"default": (
    {"BACKEND": "playground.outages.FallbackRedisCache", "LOCATION": REDIS_URL,
     # Several sites (or test servers) may share one Redis: their counts stay apart.
     "KEY_PREFIX": os.environ.get("PLAYGROUND_CACHE_PREFIX", ""),
     # A Redis that does not answer is given up on quickly: the request goes on without it.
     "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    if REDIS_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Request bodies over this are refused by the server (413) before they are read
# (playground/fenced/http_bodies.py): above the largest body the API takes (a scenario
# document and a run's commands, playground/api/jsonapi.py): Django's own limit for forms,
# 2.5 MiB.
PLAYGROUND_HTTP_MAX_BODY_BYTES = int(os.environ.get(
    "PLAYGROUND_HTTP_MAX_BODY_BYTES", global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE))

# Live runs and the play websocket (docs/protocol.md).
PLAYGROUND_WS_MAX_MESSAGE_BYTES = int(os.environ.get("PLAYGROUND_WS_MAX_MESSAGE_BYTES",
                                                     1024 * 1024))
PLAYGROUND_WS_RATE = float(os.environ.get("PLAYGROUND_WS_RATE", 20))
PLAYGROUND_WS_BURST = float(os.environ.get("PLAYGROUND_WS_BURST", 40))
PLAYGROUND_WS_FLOOD_CLOSE_S = float(os.environ.get("PLAYGROUND_WS_FLOOD_CLOSE_S", 1))
# Messages Daphne may hold for a socket before the consumer reads them (playground/fenced/).
PLAYGROUND_WS_MAX_QUEUED = int(os.environ.get("PLAYGROUND_WS_MAX_QUEUED", 100))
PLAYGROUND_WS_MAX_QUEUED_BYTES = int(os.environ.get("PLAYGROUND_WS_MAX_QUEUED_BYTES",
                                                    4 * 1024 * 1024))
# Bytes Daphne may hold unsent for a socket before it is cut: only a client that acks frames
# it does not read gets near it (a window of frames is < 1 MiB; playground/fenced/).
PLAYGROUND_WS_MAX_UNSENT_BYTES = int(os.environ.get("PLAYGROUND_WS_MAX_UNSENT_BYTES",
                                                    8 * 1024 * 1024))
# Frames sent to a viewer and not acked before it gets only the newest state (2 s at 15 Hz).
PLAYGROUND_WS_FRAMES_IN_FLIGHT = int(os.environ.get("PLAYGROUND_WS_FRAMES_IN_FLIGHT", 30))
# Co-editing one design (playground/coedit/, docs/protocol.md "Co-editing"): one Yjs update
# at most this large (the whole design sent again after a reconnect fits), the room's shared
# state (with its history of deleted entries) at most this large, and a saved version at
# most every this many seconds while people edit (and when the last one leaves).
PLAYGROUND_COEDIT_MAX_UPDATE_BYTES = int(os.environ.get("PLAYGROUND_COEDIT_MAX_UPDATE_BYTES",
                                                        256 * 1024))
PLAYGROUND_COEDIT_MAX_STATE_BYTES = int(os.environ.get("PLAYGROUND_COEDIT_MAX_STATE_BYTES",
                                                       4 * 1024 * 1024))
PLAYGROUND_COEDIT_SAVE_EVERY_S = float(os.environ.get("PLAYGROUND_COEDIT_SAVE_EVERY_S", 60))
# Checking an update copies the design's shared document (about 7 ms for 500 components;
# the Y document a crafted client builds can cost far more to copy and read): each socket
# may spend this share of a second of the event loop's CPU on its updates on average, and
# this many seconds at once; past that its updates are refused (rate_limited: the browser
# syncs them again a moment later), so one editor of a big design cannot stall the process.
PLAYGROUND_COEDIT_CHECK_SHARE = float(os.environ.get("PLAYGROUND_COEDIT_CHECK_SHARE", 0.1))
PLAYGROUND_COEDIT_CHECK_BURST_S = float(os.environ.get("PLAYGROUND_COEDIT_CHECK_BURST_S", 1.0))
PLAYGROUND_RUNS_PER_CONNECTION = int(os.environ.get("PLAYGROUND_RUNS_PER_CONNECTION", 2))
PLAYGROUND_MAX_RUNS = int(os.environ.get("PLAYGROUND_MAX_RUNS", 50))
PLAYGROUND_IDLE_RUN_S = float(os.environ.get("PLAYGROUND_IDLE_RUN_S", 60))
# Live runs (counted until they end) and open play sockets, per person (an account, a
# classroom seat, a browser), per client address, and per address for everyone without an
# account or seat (playground/live/quotas.py): a class of 60 behind one address fits.
PLAYGROUND_QUOTAS = {
    "runs": {"person": int(os.environ.get("PLAYGROUND_RUNS_PER_PERSON", 4)),
             "address": int(os.environ.get("PLAYGROUND_RUNS_PER_ADDRESS", 150)),
             "anonymous": int(os.environ.get("PLAYGROUND_ANON_RUNS_PER_ADDRESS", 10))},
    "sockets": {"person": int(os.environ.get("PLAYGROUND_SOCKETS_PER_PERSON", 12)),
                "address": int(os.environ.get("PLAYGROUND_SOCKETS_PER_ADDRESS", 300)),
                "anonymous": int(os.environ.get("PLAYGROUND_ANON_SOCKETS_PER_ADDRESS", 40))},
}
PLAYGROUND_REDIS_PREFIX = os.environ.get("PLAYGROUND_REDIS_PREFIX", "sdp:")
# Runs one simworker drives at once (PLAYGROUND_MAX_RUNS stays the limit of a web process).
PLAYGROUND_WORKER_MAX_RUNS = int(os.environ.get("PLAYGROUND_WORKER_MAX_RUNS", 50))

# Classrooms: grading submissions (playground/classrooms/grader.py). "thread" grades in a
# background thread of the web process (embedded default); "worker" leaves the queue to
# `manage.py grader` processes.
PLAYGROUND_GRADER = os.environ.get("PLAYGROUND_GRADER", "thread")
PLAYGROUND_GRADE_TIMEOUT_S = float(os.environ.get("PLAYGROUND_GRADE_TIMEOUT_S", 600))

# Saved scenarios and run links (docs/api.md).
PLAYGROUND_MAX_VERSIONS = int(os.environ.get("PLAYGROUND_MAX_VERSIONS", 200))
PLAYGROUND_MAX_SCENARIOS_PER_OWNER = int(os.environ.get("PLAYGROUND_MAX_SCENARIOS_PER_OWNER",
                                                        1000))
# Rate limits, "N/S[,N/S...]" = N in S seconds (each window must allow); "off" disables.
# Counted per client address (docs/api.md); sized so that a class of 60 behind one address
# (a school's NAT) fits.
PLAYGROUND_RATE_LIMITS = {
    # Per person (an account, else a classroom seat; everyone else on an address shares
    # one count), and per address as a whole: a class autosaving its work fits.
    "api_write": os.environ.get("PLAYGROUND_RATE_API_WRITE", "120/60"),
    "api_write_address": os.environ.get("PLAYGROUND_RATE_API_WRITE_ADDRESS", "3000/60"),
    # Failed log-ins per address, whatever the account (a password sprayer); a class's typos
    # stay far below it. Per account and address, django-axes locks out (below).
    "login": os.environ.get("PLAYGROUND_RATE_LOGIN", "50/300"),
    "password_reset": os.environ.get("PLAYGROUND_RATE_PASSWORD_RESET", "20/300"),
    # Accounts made per address: a class signs up in minutes; a bot stops at the day's cap.
    "signup": os.environ.get("PLAYGROUND_RATE_SIGNUP", "100/3600,300/86400"),
    # Wrong join codes per address: 31^8 codes at 30 wrong a 5 minutes is beyond any brute
    # force, and a right code never counts.
    "join": os.environ.get("PLAYGROUND_RATE_JOIN", "30/300"),
    # Seats taken per classroom, whoever takes them (a leaked code in a bot's hands).
    "join_classroom": os.environ.get("PLAYGROUND_RATE_JOIN_CLASSROOM", "300/300"),
    # A classroom page or dashboard asks every 5 s whether a lecture runs: 3 tabs' worth.
    "lecture_state": os.environ.get("PLAYGROUND_RATE_LECTURE_STATE", "36/60"),
}
for _rates in PLAYGROUND_RATE_LIMITS.values():
    parse_rates(_rates)  # a bad rate stops the start, naming it

# The log-in lockout (django-axes): per account and client address, so a class on one
# address logs in while one of them mistypes. Counted in Redis when there is one, else in
# the database (this process's memory would not hold across processes).
AXES_HANDLER = ("axes.handlers.cache.AxesCacheHandler" if REDIS_URL
                else "axes.handlers.database.AxesDatabaseHandler")
AXES_DISABLE_ACCESS_LOG = True  # failures are what it needs, not a row per log-in
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("PLAYGROUND_LOGIN_FAILURES", 10))
AXES_COOLOFF_TIME = timedelta(seconds=int(os.environ.get("PLAYGROUND_LOGIN_COOLOFF_S", 900)))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "playground.clientaddress.client_key"
AXES_LOCKOUT_CALLABLE = "playground.accounts.views.locked_out"
AXES_VERBOSE = False
AUTHENTICATION_BACKENDS = ["playground.accounts.views.LockoutBackend",
                           "django.contrib.auth.backends.ModelBackend"]

# Reverse proxies in front of the app (addresses or CIDRs, comma separated): only a request
# from one of them has its X-Forwarded-For read (playground/clientaddress.py).
PLAYGROUND_TRUSTED_PROXIES = [p.strip() for p in
                              os.environ.get("PLAYGROUND_TRUSTED_PROXIES", "").split(",")
                              if p.strip()]
parse_networks(PLAYGROUND_TRUSTED_PROXIES)  # a bad entry stops the start, naming it
if os.environ.get("PLAYGROUND_PROXY_HOPS", "0").strip() not in ("", "0"):
    # It let a client that reached the app directly choose its address.
    raise ImproperlyConfigured("PLAYGROUND_PROXY_HOPS is gone: list the proxies' addresses "
                               "in PLAYGROUND_TRUSTED_PROXIES instead (docs/deploy.md).")
CSRF_FAILURE_VIEW = "playground.pages.views.csrf_failure"
# Prometheus metrics (playground/monitoring.py): served only with this bearer token set.
PLAYGROUND_METRICS_TOKEN = os.environ.get("PLAYGROUND_METRICS_TOKEN", "")

# Accounts (playground/accounts/views.py); password-reset mail goes to the console by default.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in ("UserAttributeSimilarityValidator", "MinimumLengthValidator",
                 "CommonPasswordValidator", "NumericPasswordValidator")
]
LOGIN_URL = "/accounts/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND",
                               "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "playground@localhost")
