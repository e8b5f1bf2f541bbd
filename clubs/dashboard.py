"""The signed-in home page: what to do next across all of a member's clubs.

Built here, not in a view, because three apps contribute to it (clubs, papers, sessions);
each part is one named QuerySet read, so the page costs the same few queries for a member
of one club as for a member of twenty.
"""

from django.core.paginator import Page, Paginator

from clubs.models import Club
from papers.models import Poll
from sessions.models import Meeting, Rsvp

NEXT_SESSIONS = 5
OPEN_POLLS = 5
LATEST_NOTES = 5
CLUBS_PAGE = 12


def member_dashboard(user) -> dict:
    """My clubs, my next sessions with my RSVP, the polls waiting for my vote, and the
    latest notes from my clubs."""
    return {
        "my_clubs": list(Club.objects.of_member(user).with_member_counts()),
        "next_sessions": list(
            Meeting.objects.of_member(user)
            .upcoming()
            .with_my_rsvp(user)
            .with_titles()[:NEXT_SESSIONS]
        ),
        "open_polls": list(Poll.objects.awaiting_vote_of(user)[:OPEN_POLLS]),
        "latest_notes": list(
            Meeting.objects.of_member(user).with_notes().with_titles()[:LATEST_NOTES]
        ),
        "answers": Rsvp.Answer.choices,
    }


def public_clubs(*, query: str, page: int, exclude: list[Club]) -> Page:
    """One page of the public clubs whose name contains `query`, without `exclude`."""
    clubs = Club.objects.filter(visibility=Club.Visibility.PUBLIC).exclude(
        pk__in=[club.pk for club in exclude]
    )
    if query:
        clubs = clubs.filter(name__icontains=query)
    paginator = Paginator(clubs.with_member_counts().order_by("name", "pk"), CLUBS_PAGE)
    return paginator.get_page(page)
