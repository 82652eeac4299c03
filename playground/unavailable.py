"""What the database and Redis raise while they are away (outages.py says what the app then
does). A leaf module: the metrics (monitoring.py) need it too, and outages.py counts in them."""

from __future__ import annotations

import redis.exceptions
from django.db import InterfaceError, OperationalError

# What redis-py raises when Redis is away (it wraps socket errors), without the OSError of
# runstore.LAYER_DOWN: an OSError in a view is not necessarily Redis.
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
              redis.exceptions.BusyLoadingError)
DATABASE_DOWN = (OperationalError, InterfaceError)
