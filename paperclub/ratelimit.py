"""Rate limits on every action: a limit per member and one per client IP, for each action.

Counted with allauth's limiter (the one that guards sign-in), so the counters live in the
shared Django cache (Redis in production) and every web process sees the same counts, and
the client IP is the one allauth computes (`TRUSTED_PROXY_COUNT` hops of X-Forwarded-For).

Limits are written as allauth writes them: "60/m/user,120/m/ip" is 60 a minute per member
and 120 a minute per IP. `RATE_LIMITS` in settings replaces entries of the table below.
"""

import math
import time
from functools import wraps

from allauth.core.internal.ratelimit import consume, get_cache_key, parse_rates
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from paperclub.http import htmx_refusal

APP = "paperclub"

# action: (limits, what the refusal calls it). Generous for real use; a burst from a script
# or a stuck key stops. Listed in the README ("Security and reliability").
ACTIONS: dict[str, tuple[str, str]] = {
    # A member marks a few papers in a minute; 30 toggles in a burst is a script.
    "vote": ("20/m/user,120/m/ip", "votes"),
    # Reordering a ranked ballot takes a click per step.
    "rank": ("60/m/user,120/m/ip", "changes to your ranking"),
    "suggest": ("20/10m/user,40/10m/ip", "suggestions"),
    "link_check": ("30/m/user,60/m/ip", "link checks"),
    "import": ("10/h/user,20/h/ip", "imports"),
    "invite": ("20/h/user,40/h/ip", "invitations"),
    "join": ("10/10m/user,30/10m/ip", "joins and leaves"),
    "rsvp": ("30/m/user,60/m/ip", "answers"),
    "read_mark": ("60/m/user,120/m/ip", "read marks"),
    "create_club": ("5/h/user,10/h/ip", "new clubs"),
    "announce": ("20/h/user,40/h/ip", "announcements"),
    "organize": ("120/m/user,240/m/ip", "changes"),
    "settings": ("20/m/user,40/m/ip", "changes to settings"),
    # Discord sends every interaction from its own few addresses; each Discord user is also
    # held to integrations.interactions.USER_LIMIT.
    "discord": ("1200/m/ip", "Discord interactions"),
    # One-click unsubscribes come from mail providers' servers, many members to one IP.
    "unsubscribe": ("120/m/ip", "unsubscribe requests"),
}


def limits(action: str) -> str:
    return settings.RATE_LIMITS.get(action, ACTIONS[action][0])


def rate_limit(action: str):
    """Count each POST to the view against `action`'s limits; over a limit, answer 429.

    Put it below `login_required`, so only requests that reach the view are counted. An
    anonymous POST (the one-click unsubscribe) counts against the IP limit alone.
    """
    if action not in ACTIONS:
        raise ImproperlyConfigured(f"No rate limit is defined for {action!r}.")

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                wait = _consume(request, action)
                if wait is not None:
                    return refusal(request, action, wait)
            return view(request, *args, **kwargs)

        wrapper.rate_limit_action = action
        return wrapper

    return decorator


def _rates(request: HttpRequest, action: str) -> str:
    rates = [part.strip() for part in limits(action).split(",") if part.strip()]
    if not request.user.is_authenticated:
        rates = [rate for rate in rates if parse_rates(rate)[0].per != "user"]
    return ",".join(rates)


def _consume(request: HttpRequest, action: str) -> float | None:
    """None when the request is within every limit (and is now counted), else the seconds
    until it would be."""
    config = {action: _rates(request, action)}
    if consume(request, app=APP, action=action, config=config):
        return None
    now, waits = time.time(), []
    for rate in parse_rates(config[action]):
        key = get_cache_key(request, app=APP, action=action, rate=rate)
        recent = [t for t in cache.get(key, []) if t > now - rate.duration]
        if len(recent) >= rate.amount > 0:
            waits.append(recent[rate.amount - 1] + rate.duration - now)
        elif rate.amount == 0:
            waits.append(rate.duration)
    return max(waits, default=1.0)  # the cache lock was busy: try again in a second


def _duration(seconds: float) -> str:
    seconds = max(math.ceil(seconds), 1)
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def refusal(request: HttpRequest, action: str, wait: float) -> HttpResponse:
    """429 with what was refused and how long to wait: in place for htmx, else a page."""
    message = f"Too many {ACTIONS[action][1]} in a short time. Try again in {_duration(wait)}."
    if request.htmx:
        response = htmx_refusal(message, status=429, target="#messages")
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(max(math.ceil(wait), 1))
    return response
