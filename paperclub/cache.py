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
  `fragment(key, build)` for one piece of HTML.
- `markdown_html(text)`: Markdown rendered once per version of its source.
- `CSRF_SLOT` / `fill_csrf(html, request)`: forms in a shared fragment carry a slot that
  each request fills with its own CSRF token.

Versions live in the cache, never in a process's memory, so every process sees a write at
once; with the default in-memory cache (one process, development) that is the same thing.
"""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

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
        cache.set_many({scope: secrets.token_hex(8) for scope in scopes}, timeout=None)

    new_versions()
    if connection.in_atomic_block:  # else the write is committed already: once is enough
        transaction.on_commit(new_versions)


def versions(scopes: Iterable[str]) -> list[str]:
    """The current version of each scope (a scope never seen gets one now)."""
    scopes = list(scopes)
    found = cache.get_many(scopes)
    missing = [scope for scope in scopes if scope not in found]
    if missing:
        for scope in missing:
            cache.add(scope, secrets.token_hex(8), timeout=None)
        found.update(cache.get_many(missing))
    return [found.get(scope, "") for scope in scopes]


def viewer_key() -> str:
    """What a fragment's text depends on besides the data: language and time zone (an
    unknown zone is written differently, for the browser to rewrite)."""
    zone = viewer_zone().key if viewer_zone_known() else "?"
    return f"{get_language()}|{zone}"


ALL = ("club", "ballot", "sessions")  # a fragment showing all of a club's data


class Scopes:
    """A club's scope versions, read from the cache once (one round trip) for every
    fragment of a page: `Scopes(club_id).key("ballot", CLUB, BALLOT, vary=...)`."""

    def __init__(self, club_id: int):
        self.scopes = dict(zip(("club", "ballot", "sessions"), club_scopes(club_id), strict=True))
        self.versions = dict(zip(self.scopes, versions(self.scopes.values()), strict=True))
        self.viewer = viewer_key()

    def key(self, name: str, uses: Iterable[str], *vary) -> str:
        """The key of fragment `name` showing the data of scopes `uses` ("club", "ballot",
        "sessions"), as the viewer's language and zone and `vary` write it."""
        parts = [name, *(self.versions[scope] for scope in uses), self.viewer, *map(str, vary)]
        return "frag:" + hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()


def get_many(builds: dict[str, Callable[[], Any]]) -> list:
    """The cached value of each key, in order, in one round trip; a missing one is built
    by its function and stored (in one more)."""
    found = cache.get_many(list(builds))
    missing = {key: build() for key, build in builds.items() if key not in found}
    if missing:
        cache.set_many(missing, FRAGMENT_TIMEOUT)
        found.update(missing)
    return [found[key] for key in builds]


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
    return mark_safe(html.replace(CSRF_SLOT, get_token(request)))


def bump_clubs(club_ids: Iterable[int]) -> None:
    """Every scope of these clubs: for a write whose effects show on all of their pages (a
    shared paper's details, a member's name)."""
    bump(*(scope for club_id in set(club_ids) for scope in club_scopes(club_id)))
