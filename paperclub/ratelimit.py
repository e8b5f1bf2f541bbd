"""Rate limits on every action: a limit per member and one per client IP, for each action.

Each limit is a sliding window: a request is refused while the window behind it already
holds as many counted requests as the limit allows, and a refused request is not counted.
With Redis (production) the counters are sorted sets, checked and written by one Lua script
in one round trip, atomically, so every web process sees the same counts; with another
cache (the in-memory one of development and the tests, one process) the same rule runs
under a lock. The client IP is the one allauth computes (`TRUSTED_PROXY_COUNT` hops of
X-Forwarded-For), and the keys are allauth's.

Limits are written as allauth writes them: "60/m/user,120/m/ip" is 60 a minute per member
and 120 a minute per IP. `RATE_LIMITS` in settings replaces entries of the table below.
"""

import functools
import math
import secrets
import threading
import time
from functools import wraps

from allauth.core.internal.ratelimit import Rate, get_cache_key, get_rates
from django.conf import settings
from django.core.cache import cache, caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from paperclub.http import htmx_refusal
from paperclub.redis_cache import redis_client

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


def rate_limit(action: str, *, where=None):
    """Count each POST to the view against `action`'s limits; over a limit, answer 429.

    Put it below `login_required`, so only requests that reach the view are counted. An
    anonymous POST (the one-click unsubscribe) counts against the IP limit alone. htmx
    shows the refusal in `#messages`, or in the region `where(**view_kwargs)` names (the
    row the button sits in, say, where the member is looking).
    """
    if action not in ACTIONS:
        raise ImproperlyConfigured(f"No rate limit is defined for {action!r}.")

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                wait = _consume(request, action)
                if wait is not None:
                    target = where(**kwargs) if where else "#messages"
                    return refusal(request, action, wait, target=target)
            return view(request, *args, **kwargs)

        wrapper.rate_limit_action = action
        return wrapper

    return decorator


def _rates(request: HttpRequest, action: str) -> list[Rate]:
    rates = get_rates(app=APP, action=action, config={action: limits(action)})
    if not request.user.is_authenticated:
        rates = [rate for rate in rates if rate.per != "user"]
    return rates


def _consume(request: HttpRequest, action: str) -> float | None:
    """None when the request is within every limit (and is now counted against each), else
    the seconds until it would be (and nothing is counted)."""
    rates = _rates(request, action)
    if not rates:
        return None
    keys = [get_cache_key(request, app=APP, action=action, rate=rate) for rate in rates]
    return take(keys, rates)


def take(keys: list[str], rates: list[Rate]) -> float | None:
    """Count one request in each key's sliding window, the nth key held to the nth rate.

    None when every window had room (and each now counts the request), else the seconds
    until all would (and nothing is counted). The web's limits and the Discord handler's
    both count here, so a member is held to the same rule whichever way they come.
    """
    # Any Redis cache counts atomically across processes, Django's own backend as well.
    client = redis_client(caches["default"])
    if client is not None:
        return _take_redis(client, [cache.make_key(k) for k in keys], rates)
    return _take_local(keys, rates)


# KEYS: one sorted set per limit, of the counted requests' times (ms, Redis's clock);
# ARGV: each limit's amount and window (ms), then a token unique to this request.
# Returns 0 when counted, else the ms until the fullest window has room.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local amount, span = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local count = redis.call('ZCARD', key)
  if count >= amount then
    local free = now + span
    if amount > 0 then
      local nth = count - amount  -- the oldest entry whose going frees a place
      free = tonumber(redis.call('ZRANGE', key, nth, nth, 'WITHSCORES')[2]) + span
    end
    wait = math.max(wait, free - now)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[#ARGV] .. ':' .. now)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i]))
end
return 0
"""


@functools.cache
def _take_script(client):
    return client.register_script(_TAKE)


def _take_redis(client, keys: list[str], rates: list[Rate]) -> float | None:
    args = [n for rate in rates for n in (rate.amount, max(int(rate.duration * 1000), 1))]
    wait_ms = int(_take_script(client)(keys=keys, args=[*args, secrets.token_hex(6)]))
    return wait_ms / 1000 if wait_ms > 0 else None


_local = threading.Lock()  # the in-memory cache is one process's: a lock of its own suffices


def _take_local(keys: list[str], rates: list[Rate]) -> float | None:
    with _local:
        now = time.time()
        windows = [
            [t for t in cache.get(key, []) if t > now - rate.duration]
            for key, rate in zip(keys, rates, strict=True)
        ]
        waits = [
            window[-rate.amount] + rate.duration - now if rate.amount > 0 else rate.duration
            for window, rate in zip(windows, rates, strict=True)
            if len(window) >= rate.amount
        ]
        if waits:
            return max(waits)
        for key, window, rate in zip(keys, windows, rates, strict=True):
            cache.set(key, [*window, now], math.ceil(rate.duration))
    return None


def _duration(seconds: float) -> str:
    seconds = max(math.ceil(seconds), 1)
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def refusal(
    request: HttpRequest, action: str, wait: float, *, target: str = "#messages"
) -> HttpResponse:
    """429 with what was refused and how long to wait: in place (`target`) for htmx, else
    a page."""
    message = f"Too many {ACTIONS[action][1]} in a short time. Try again in {_duration(wait)}."
    if request.htmx:
        response = htmx_refusal(message, status=429, target=target)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(max(math.ceil(wait), 1))
    return response
