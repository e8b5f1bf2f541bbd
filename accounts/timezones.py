import zoneinfo
from functools import cache
from urllib.parse import unquote

from django.core.exceptions import ValidationError


@cache
def _zones() -> frozenset[str]:
    # Scanning the zone database takes milliseconds: once per process is enough.
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(_zones())]


def validate_time_zone(value: str) -> None:
    if value not in _zones():
        raise ValidationError("“%(value)s” is not a known time zone.", params={"value": value})


def known_zone(name: str) -> str:
    """`name` if it is an IANA zone this machine knows, else "".

    The `tz` cookie arrives as the browser wrote it. Django does not percent-decode cookie
    values, and older pages wrote it with encodeURIComponent ("America%2FNew_York"), so an
    encoded value is decoded once here. Anything else (junk, a quoted or doubly encoded
    value, an over-long string) is simply not a zone.
    """
    if not name or len(name) > 200:
        return ""
    if name in _zones():
        return name
    decoded = unquote(name, errors="replace") if "%" in name else ""
    return decoded if decoded in _zones() else ""


def browser_zone(request) -> str:
    """The zone the browser reported in the `tz` cookie (set by static/js/app.js), or ""."""
    return known_zone(request.COOKIES.get("tz", "")) if request is not None else ""


def zone_of(request) -> str:
    """The best guess at where the person behind `request` lives: their profile's zone,
    else their browser's, else UTC. A profile still on the "UTC" default says nothing, so
    the browser's zone wins over it."""
    user = getattr(request, "user", None)
    chosen = user.time_zone if user is not None and user.is_authenticated else ""
    if chosen and chosen != "UTC":
        return chosen
    return browser_zone(request) or chosen or "UTC"
