"""Settings for `make bench`: the production settings, plus the benchmark's floor views.

Differences from production, and why:
- "bench" is installed and ROOT_URLCONF is `bench.urls`, which mounts the two floor views
  beside the real URLs (the production URLconf never has them);
- the benchmark talks plain HTTP on loopback, with no TLS proxy in front, so the https
  redirect is off and cookies are not marked Secure (a load generator would send them
  anyway; the flags only matter to browsers);
- ALLOWED_HOSTS is the loopback address; collectstatic writes under bench/.run/;
- database connections persist (CONN_MAX_AGE 600 s), as a production deployment would
  configure them.
Everything else (middleware, sessions in the database, CSRF, templates, static files
through whitenoise's manifest storage, DEBUG off) is what production runs.
"""

from django.core.exceptions import ImproperlyConfigured

from paperclub.settings import *  # noqa: F403
from paperclub.settings import BASE_DIR, DATABASES, DEBUG, INSTALLED_APPS

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
