import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("“%(value)s” is not a known time zone.", params={"value": value})


def known_zone(name: str) -> str:
    """`name` if it is an IANA zone this machine knows, else ""."""
    return name if name in zoneinfo.available_timezones() else ""
