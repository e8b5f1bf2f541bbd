import zoneinfo
from functools import cache

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
    """`name` if it is an IANA zone this machine knows, else ""."""
    return name if name in _zones() else ""
