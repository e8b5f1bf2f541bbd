"""Rendered parts of pages kept in the Django cache (Redis in production, shared by every
web process), keyed by versions of the data they show.

A *scope* names one kind of data of one club: `club_scope(club_id)` (the club's own
settings: name, rules, slot), `ballot_scope(club_id)` (its suggestions and polls),
`sessions_scope(club_id)` (its sessions, skipped weeks, notes, answers). Each scope has a
version in the cache; a write that changes what a scope covers calls `bump(scope, ...)`,
and every fragment keyed by the old version is never read again.

- `bump(*scopes)`: new versions now, and inside a transaction again when it commits (a
  page rendered meanwhile from the data as it was before the commit is cached under the
  in-between version, which the second bump leaves behind).
- `Scopes(club_id)`: a club's versions, read once per page; `.key(name, uses, *vary)` is
  a fragment's key: the versions of the scopes it shows, the viewer's language and time
  zone, and whatever else its text depends on (`vary`).
- `get_many({key: build})`: the cached values, in one round trip, built where missing;
  `fragment(key, build)` for one piece of HTML. On Redis the first call of a page also
  reads its scopes' versions in that round trip (a Lua script computes the keys).
- `markdown_html(text)`: Markdown rendered once per version of its source.
- `CSRF_SLOT` / `fill_csrf(html, request)`: forms in a shared fragment carry a slot that
  each request fills with its own CSRF token.

Versions live in the cache, never in a process's memory, so every process sees a write at
once; with the default in-memory cache (one process, development) that is the same thing.
"""

import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache, caches
from django.db import connection, transaction
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from paperclub.redis_cache import decode, redis_client
from paperclub.when import viewer_zone, viewer_zone_known

FRAGMENT_TIMEOUT = 24 * 3600  # unused fragments leave the cache in a day
MARKDOWN_RULES = 1  # raise when paperclub.markdown renders differently
CSRF_SLOT = "\x00csrf-token\x00"  # not a character a page can contain otherwise


def club_scope(club_id: int) -> str:
    return f"v:club:{club_id}"


def ballot_scope(club_id: int) -> str:
    return f"v:ballot:{club_id}"


def sessions_scope(club_id: int) -> str:
    return f"v:sessions:{club_id}"


def club_scopes(club_id: int) -> tuple[str, str, str]:
    """Every scope of a club: for a write that touches all of its pages."""
    return club_scope(club_id), ballot_scope(club_id), sessions_scope(club_id)


def bump(*scopes: str) -> None:
    """The data under these scopes changed: fragments keyed by their versions are stale."""

    def new_versions():
        cache.set_many({scope: _new_version() for scope in scopes}, timeout=None)

    new_versions()
    if connection.in_atomic_block:  # else the write is committed already: once is enough
        transaction.on_commit(new_versions)


def _new_version() -> int:
    # A random number, not a counter: a version evicted from the cache and made again
    # must not repeat one that fragments still in the cache were keyed by. An int, which
    # Django's Redis cache stores as its digits (read as such by _READ below).
    return secrets.randbits(62)


def versions(scopes: Iterable[str]) -> list[int]:
    """The current version of each scope (a scope never seen gets one now)."""
    scopes = list(scopes)
    found = cache.get_many(scopes)
    missing = [scope for scope in scopes if type(found.get(scope)) is not int]
    if missing:
        for scope in missing:
            if scope in found:  # a version of another form (an older release's): replaced
                cache.set(scope, _new_version(), timeout=None)
            else:
                cache.add(scope, _new_version(), timeout=None)
        found.update(cache.get_many(missing))
    return [found.get(scope, 0) for scope in scopes]


def viewer_key() -> str:
    """What a fragment's text depends on besides the data: language and time zone (an
    unknown zone is written differently, for the browser to rewrite)."""
    zone = viewer_zone().key if viewer_zone_known() else "?"
    return f"{get_language()}|{zone}"


ALL = ("club", "ballot", "sessions")  # a fragment showing all of a club's data


class Scopes:
    """A club's scope versions, read from the cache once for every fragment of a page:
    `Scopes(club_id).key("ballot", CLUB, BALLOT, vary=...)`. They are read with the
    page's first fragments (`get_many`), in the same round trip on Redis."""

    def __init__(self, club_id: int):
        self.scopes = dict(zip(ALL, club_scopes(club_id), strict=True))
        self.versions: dict[str, int] | None = None
        self.viewer = viewer_key()

    def key(self, name: str, uses: Iterable[str], *vary) -> "Key":
        """The key of fragment `name` showing the data of scopes `uses` ("club", "ballot",
        "sessions"), as the viewer's language and zone and `vary` write it."""
        return Key(self, "|".join([name, self.viewer, *map(str, vary)]), tuple(uses))

    def read(self) -> dict[str, int]:
        if self.versions is None:
            self.versions = dict(zip(self.scopes, versions(self.scopes.values()), strict=True))
        return self.versions


@dataclass(frozen=True)
class Key:
    """A fragment's key before its scopes' versions are known: the text it depends on
    (`static`) and the scopes it shows (`uses`). As a string (`str(key)`), "frag:" and a
    hash of both, which _READ computes the same way."""

    scopes: Scopes  # compared as itself: keys of two clubs never meet
    static: str
    uses: tuple[str, ...]

    def with_versions(self, versions: dict[str, int]) -> str:
        text = "|".join([self.static, *(str(versions[scope]) for scope in self.uses)])
        return "frag:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def __str__(self) -> str:
        return self.with_versions(self.scopes.read())


# One round trip for a page's first fragments on Redis: its scopes' versions (KEYS) and
# the fragments they key. ARGV: the stored keys' prefix for "frag:", then per fragment its
# static text and the 1-based indexes of the scopes it uses ("1,2"). Returns the versions
# and the fragments found; the versions alone when one is missing or not a number (the
# caller makes it).
# The fragments' keys are computed here, so they are not declared: a single Redis, not a
# cluster.
_READ = """
local versions = redis.call('MGET', unpack(KEYS))
for i = 1, #KEYS do
  if not versions[i] or not string.match(versions[i], '^%d+$') then return {versions} end
end
local keys = {}
for f = 2, #ARGV, 2 do
  local text = {ARGV[f]}
  for index in string.gmatch(ARGV[f + 1], '%d+') do
    text[#text + 1] = versions[tonumber(index)]
  end
  keys[#keys + 1] = ARGV[1] .. redis.sha1hex(table.concat(text, '|'))
end
return {versions, redis.call('MGET', unpack(keys))}
"""


def _read_with_versions(scopes: Scopes, keys: list[Key]) -> dict[str, Any] | None:
    """The fragments of `keys` found, by their keys as strings, with `scopes`' versions
    read in the same Redis round trip. None where the cache is not Redis, or when a
    version had to be made (`scopes` then holds them; the caller reads the fragments)."""
    client = redis_client(caches["default"])
    prefix = cache.make_key("frag:")
    if client is None or cache.make_key("frag:0") != prefix + "0":  # a KEY_FUNCTION of its own
        return None
    names = list(scopes.scopes)
    args = [prefix]
    for key in keys:
        args += [key.static, ",".join(str(names.index(scope) + 1) for scope in key.uses)]
    stored = [cache.make_key(scope) for scope in scopes.scopes.values()]
    reply = _read_script(client)(keys=stored, args=args)
    if len(reply) == 1:  # a scope without a version yet, or of an older form
        scopes.read()
        return None
    scopes.versions = {name: int(v) for name, v in zip(names, reply[0], strict=True)}
    return {
        key.with_versions(scopes.versions): decode(caches["default"], value)
        for key, value in zip(keys, reply[1], strict=True)
        if value is not None
    }


@functools.cache
def _read_script(client):
    return client.register_script(_READ)


def get_many(builds: dict[Any, Callable[[], Any]]) -> list:
    """The cached value of each key (a string, or a Scopes' `Key`), in order, in one round
    trip, the keys' scope versions included when not read yet; a missing one is built by
    its function and stored (in one more)."""
    unread = {key.scopes for key in builds if isinstance(key, Key) and key.scopes.versions is None}
    found = None
    if len(unread) == 1 and all(isinstance(key, Key) for key in builds):
        found = _read_with_versions(unread.pop(), list(builds))
    names = [str(key) for key in builds]
    if found is None:
        found = cache.get_many(names)
    missing = {
        name: build()
        for name, build in zip(names, builds.values(), strict=True)
        if name not in found
    }
    if missing:
        cache.set_many(missing, FRAGMENT_TIMEOUT)
        found.update(missing)
    return [found[name] for name in names]


def fragment(key: str, build: Callable[[], str]) -> SafeString:
    """The cached HTML `build()` rendered (safe as built), built on a miss."""
    (html,) = get_many({key: lambda: str(build())})
    return mark_safe(html)


def markdown_html(text: str) -> SafeString:
    """`text` rendered from Markdown and sanitized, once per version of the source."""
    from paperclub.markdown import render_markdown

    if not text:
        return mark_safe("")
    key = f"md:{MARKDOWN_RULES}:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    html = cache.get(key)
    if html is None:
        html = str(render_markdown(text))
        cache.set(key, html, FRAGMENT_TIMEOUT)
    return mark_safe(html)


def fill_csrf(html: str, request) -> SafeString:
    """Put this request's CSRF token in the forms of shared fragments."""
    if CSRF_SLOT not in html:
        return mark_safe(html)
    return mark_safe(html.replace(CSRF_SLOT, csrf_token(request)))


def csrf_token(request) -> str:
    """The request's CSRF token for its forms, masked once however many fragments it fills
    (get_token masks it anew at each call)."""
    token = getattr(request, "_fragment_csrf_token", None)
    if token is None:
        token = request._fragment_csrf_token = get_token(request)
    return token


def bump_clubs(club_ids: Iterable[int]) -> None:
    """Every scope of these clubs: for a write whose effects show on all of their pages (a
    shared paper's details, a member's name)."""
    bump(*(scope for club_id in set(club_ids) for scope in club_scopes(club_id)))
