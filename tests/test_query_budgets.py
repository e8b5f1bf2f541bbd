"""Every page and htmx endpoint runs the same, small number of SQL queries for a small
club and for a large one: no N+1, counting and prefetching in the database.

BUDGETS holds each endpoint's exact count. `grow` turns the small club into a large one
(more papers, members, votes, rankings, sessions with notes and materials, track papers),
and the count must not move.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clubs.services import join_club
from papers.models import Poll
from papers.polls import open_poll
from papers.services import (
    add_to_track,
    create_track,
    set_paper_links,
    set_read_mark,
    suggest_paper,
)
from papers.votes import set_vote
from sessions.services import (
    post_notes,
    questions_for,
    schedule_meeting,
    set_materials,
    set_rsvp,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
AIM = 10  # the most queries any page may take


class World:
    """A club with every kind of row, and a way to make it larger."""

    def __init__(self, club, organizer, member, django_user_model):
        self.club, self.organizer, self.member = club, organizer, member
        self.user_model = django_user_model
        self.batch = 0
        self.track = create_track(club=club, title="Foundations")
        self.membership = club.memberships.get(user=member)
        self.grow(papers=6, people=2, sessions=2)
        self.poll = open_poll(club=club, opened_by=organizer, budget=50)
        self.suggestion = club.suggestions.backlog().first()
        self.meeting = club.meetings.order_by("starts_at").first()
        self.entry = self.track.entries.first()
        self.upcoming = club.meetings.filter(state="scheduled").first()
        self.vote(papers=3)

    def grow(self, *, papers=40, people=25, sessions=20):
        self.batch += 1
        b = self.batch
        for i in range(papers):
            s = suggest_paper(
                club=self.club,
                suggested_by=self.member,
                link=f"https://example.org/{b}/{i}",
                title=f"Paper {b}.{i}",
                authors="A. Author, B. Author",
                pitch="Worth it.",
            )
            set_paper_links(suggestion=s, links=[("Slides", f"https://e.org/{b}/{i}.pdf")])
            add_to_track(track=self.track, suggestion=s, summary="Read **this**.")
            set_read_mark(membership=self.membership, suggestion=s, read=True)
        for i in range(people):
            user = self.user_model.objects.create_user(
                email=f"p{b}-{i}@example.com", password="long-password-1", display_name=f"P{i}"
            )
            join_club(club=self.club, user=user)
        backlog = list(self.club.suggestions.backlog().reverse()[:sessions])
        for i, s in enumerate(backlog):
            meeting = schedule_meeting(
                club=self.club,
                suggestions=[s],
                starts_at=timezone.now() - dt.timedelta(days=400 * b + 7 * i),
            )
            post_notes(
                meeting=meeting,
                author=self.organizer,
                bodies=[f"Notes {i}, *marked* up." for _ in questions_for(meeting)],
                takeaways={s.pk: f"Takeaway {i}"},
            )
            set_materials(
                meeting=meeting, links=[("slides", f"https://e.org/m/{b}/{i}", "")], recorded=True
            )
        upcoming = schedule_meeting(
            club=self.club,
            suggestions=list(self.club.suggestions.backlog().reverse()[:1]),
            starts_at=timezone.now() + dt.timedelta(days=30 * b),
        )
        for membership in self.club.memberships.all()[:5]:
            set_rsvp(meeting=upcoming, membership=membership, answer="going")

    def vote(self, papers):
        poll = Poll.objects.get(pk=self.poll.pk)
        candidates = list(self.club.suggestions.backlog()[:papers])
        for membership in self.club.memberships.all():
            for s in candidates:
                set_vote(poll=poll, membership=membership, suggestion=s, approve=True)

    def make_large(self):
        self.grow()
        self.vote(papers=10)


@pytest.fixture
def world(club, organizer, member, django_user_model):
    return World(club, organizer, member, django_user_model)


def slug(w):
    return [w.club.slug]


@dataclass(frozen=True)
class Endpoint:
    role: str
    url: Callable
    budget: int
    method: str = "GET"
    data: dict | None = None
    headers: dict = field(default_factory=dict)
    cold: int | None = None  # a page with cached parts: its count with the cache empty


def region(name: str) -> dict:
    return {**HTMX, "HTTP_HX_TARGET": name}


def club_url(name: str, *more):
    return lambda w: reverse(name, args=[w.club.slug, *(m(w) for m in more)])


ENDPOINTS = {
    "home": Endpoint("member", lambda w: reverse("home"), 9),
    # Warm: session, user, membership and club, the poll with the member's votes.
    "club page": Endpoint("member", club_url("clubs:detail"), 3, cold=9),
    "club page (anonymous)": Endpoint("anonymous", club_url("clubs:detail"), 1, cold=7),
    "club page: suggestions region": Endpoint(
        "member", club_url("clubs:detail"), 5, headers=region("suggestions")
    ),
    "club page: ballot status region": Endpoint(
        "member", club_url("clubs:detail"), 4, headers=region("ballot-status")
    ),
    "club page: more papers (htmx)": Endpoint(
        "member",
        club_url("clubs:detail"),
        5,
        data={"page": "2"},
        headers=region("more-suggestions"),
    ),
    "vote (htmx)": Endpoint(
        "member",
        club_url("papers:vote", lambda w: w.poll.pk, lambda w: w.suggestion.pk),
        6,
        "POST",
        {"approve": "0"},
        HTMX,
    ),
    # Voting for a paper already voted for: the same checks and count, no new row.
    "vote again (htmx)": Endpoint(
        "member",
        club_url("papers:vote", lambda w: w.poll.pk, lambda w: w.suggestion.pk),
        6,
        "POST",
        {"approve": "1"},
        HTMX,
    ),
    "suggest check (htmx)": Endpoint(
        "member",
        club_url("papers:suggest_check"),
        6,
        "POST",
        {"link": "https://example.org/1/0"},
        HTMX,
    ),
    "members": Endpoint("member", club_url("clubs:members"), 4),
    "members (organizer)": Endpoint("organizer", club_url("clubs:members"), 5),
    # Session, user, and one read of the club, membership, poll and its people.
    "poll": Endpoint("member", club_url("papers:poll", lambda w: w.poll.pk), 3),
    "search (htmx)": Endpoint(
        "member", club_url("papers:search"), 4, data={"q": "paper"}, headers=HTMX
    ),
    "tracks": Endpoint("member", club_url("papers:tracks"), 4),
    "track": Endpoint("member", club_url("papers:track", lambda w: w.track.pk), 6),
    "track (organizer)": Endpoint("organizer", club_url("papers:track", lambda w: w.track.pk), 7),
    "read mark (htmx)": Endpoint(
        "member",
        club_url("papers:read_mark", lambda w: w.suggestion.pk),
        5,
        "POST",
        {"read": "1"},
        HTMX,
    ),
    "export markdown": Endpoint("anonymous", club_url("papers:export_markdown"), 6),
    "timeline": Endpoint("member", club_url("meetings:timeline"), 3, cold=6),
    # Warm: session, user, and one read of the club, membership and session (the papers,
    # presenters, notes and answers come from the cache); the organizer's attendance form
    # reads the members too.
    "session": Endpoint(
        "member", club_url("meetings:detail", lambda w: w.meeting.number), 3, cold=8
    ),
    "session (organizer)": Endpoint(
        "organizer", club_url("meetings:detail", lambda w: w.meeting.number), 4, cold=9
    ),
    "rsvp (htmx)": Endpoint(
        "member",
        club_url("meetings:rsvp", lambda w: w.upcoming.number),
        10,
        "POST",
        {"answer": "maybe"},
        HTMX,
    ),
    # Served from the cache while the sessions are unchanged (the first fetch takes 6).
    "calendar": Endpoint("anonymous", club_url("meetings:calendar"), 2),
    "notes feed": Endpoint("anonymous", club_url("meetings:notes_feed"), 6),
}

# Where PostgreSQL differs: a member's vote is read, locked, checked, written and counted
# in one statement there (papers.votes.vote_as_member); SQLite, with one writer, runs
# plain ORM statements.
PG_LOCKS = {"vote (htmx)": -3, "vote again (htmx)": -3}


def measure(client, w, endpoint: Endpoint, *, cold: bool = False) -> int:
    send = client.get if endpoint.method == "GET" else client.post
    send(endpoint.url(w), endpoint.data or {}, **endpoint.headers)  # warm per-process caches
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = send(endpoint.url(w), endpoint.data or {}, **endpoint.headers)
    assert response.status_code == 200, response.status_code
    # Savepoints are the test's own transaction showing through `atomic`; in production the
    # same block is BEGIN ... COMMIT, which Django does not log as queries either.
    return sum(1 for q in queries.captured_queries if "SAVEPOINT" not in q["sql"])


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_query_budget(client, world, name):
    endpoint = ENDPOINTS[name]
    if endpoint.role != "anonymous":
        client.force_login(getattr(world, endpoint.role))

    small = measure(client, world, endpoint)
    world.make_large()
    large = measure(client, world, endpoint)

    budget = endpoint.budget
    if connection.vendor == "postgresql":
        budget += PG_LOCKS.get(name, 0)
    assert (small, large) == (budget, budget)
    assert endpoint.budget <= AIM


@pytest.mark.parametrize("name", sorted(n for n, e in ENDPOINTS.items() if e.cold is not None))
def test_query_budget_with_a_cold_cache(client, world, name):
    endpoint = ENDPOINTS[name]
    if endpoint.role != "anonymous":
        client.force_login(getattr(world, endpoint.role))

    small = measure(client, world, endpoint, cold=True)
    world.make_large()
    large = measure(client, world, endpoint, cold=True)

    assert (small, large) == (endpoint.cold, endpoint.cold)
    assert endpoint.cold <= AIM
