"""Who may do what with a club. Every club view asks one of these helpers.

- a private club does not exist (404) for anyone who is not a member;
- a club that exists for you but where your role does not allow the action is a 403.
Views that need a signed-in person are wrapped in `paperclub.http.login_required` first.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from clubs.models import Club, Membership


@dataclass(frozen=True)
class ClubAccess:
    club: Club
    membership: Membership | None

    @property
    def is_member(self) -> bool:
        return self.membership is not None

    @property
    def is_organizer(self) -> bool:
        return self.membership is not None and self.membership.is_organizer


def _access(request, slug: str) -> ClubAccess:
    # A member's club comes with their membership: one query on every club page.
    if request.user.is_authenticated:
        membership = (
            Membership.objects.select_related("club")
            .filter(club__slug=slug, user=request.user)
            .first()
        )
        if membership is not None:
            return ClubAccess(club=membership.club, membership=membership)
    return ClubAccess(club=get_object_or_404(Club, slug=slug), membership=None)


def club_for_reader(request, slug: str) -> ClubAccess:
    """Anyone for a public club; members only for a private one (404 otherwise)."""
    access = _access(request, slug)
    return readable(access.club, access.membership)


def readable(club: Club, membership: Membership | None) -> ClubAccess:
    """The rule of club_for_reader, for a club and the viewer's membership read some other
    way (the fixed reads of the club, session and poll pages); the membership gets its
    club."""
    if membership is not None:
        membership.club = club
    if not club.is_public and membership is None:
        raise Http404("No such club.")
    return ClubAccess(club=club, membership=membership)


def club_for_member(request, slug: str) -> ClubAccess:
    access = club_for_reader(request, slug)
    if not access.is_member:
        raise PermissionDenied("Only members of this club can do that. Join the club first.")
    return access


def club_for_organizer(request, slug: str) -> ClubAccess:
    access = club_for_member(request, slug)
    if not access.is_organizer:
        raise PermissionDenied("Only the club's organizers can do that.")
    return access


FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what secrets.token_urlsafe makes


def is_feed_token(token: str) -> bool:
    """Whether `token` could be a feed secret at all: anything else (a NUL byte, which
    PostgreSQL refuses in a query) is not looked up."""
    return FEED_TOKEN.fullmatch(token) is not None


def club_for_feed(request, slug: str, token: str | None = None) -> Club:
    """Feeds are fetched without cookies: a public club's by anyone, a private club's only
    with a member's secret feed token in the URL (404 otherwise)."""
    club = get_object_or_404(Club, slug=slug)
    if token is not None:
        if (
            not is_feed_token(token)
            or not Membership.objects.filter(club=club, feed_token=token).exists()
        ):
            raise Http404("No such feed.")
        return club
    if not club.is_public:
        raise Http404("No such club.")
    return club
