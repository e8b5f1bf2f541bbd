"""Settings for `make bench`: the production settings, plus the benchmark's floor views.

Differences from production, and why:
- "bench" is installed and ROOT_URLCONF is `bench.urls`, which mounts the two floor views
  beside the real URLs (the production URLconf never has them);
- the benchmark talks plain HTTP on loopback, with no TLS proxy in front, so the https
  redirect is off and cookies are not marked Secure (a load generator would send them
  anyway; the flags only matter to browsers);
- ALLOWED_HOSTS is the loopback address; collectstatic writes under bench/.run/;
- database connections persist (CONN_MAX_AGE 600 s), as a production deployment would
  configure them;
- the cache is Redis (`BENCH_REDIS_URL`, a database number of its own that each run
  empties), as production runs it with more than one process: every gunicorn worker must
  see the same page-cache versions and rate-limit counters;
- the vote's rate limit is lifted far above what the load sends (every request comes from
  one IP); the limiter still counts each vote, as in production.
Everything else (middleware, sessions in the database, CSRF, templates, static files
through whitenoise's manifest storage, DEBUG off) is what production runs.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from paperclub.settings import *  # noqa: F403
from paperclub.settings import BASE_DIR, DATABASES, DEBUG, INSTALLED_APPS, RATE_LIMITS

if DEBUG:
    raise ImproperlyConfigured("The benchmark measures production settings: run it with DEBUG=0.")

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

DATABASES["default"]["CONN_MAX_AGE"] = 600

# collectstatic's output for the benchmark's server, apart from the project's staticfiles/.
STATIC_ROOT = BASE_DIR / "bench" / ".run" / "staticfiles"

BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
CACHES = {
    "default": {
        "BACKEND": "paperclub.redis_cache.RedisCache",
        "LOCATION": BENCH_REDIS_URL,
    }
}
RATE_LIMITS = {**RATE_LIMITS, "vote": "100000/m/user,100000/m/ip"}
