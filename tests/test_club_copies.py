"""What one club typed about a paper is seen by that club alone (issue: the shared catalog
is nobody's to rewrite).

Two clubs, one private, suggest the same arXiv paper and the same web link while arXiv
cannot be reached, each typing its own title and authors; the private club types first,
so the shared rows were made from its typing. Then every output that prints a paper's
details (pages, htmx partials, poll results, sessions, timeline, tracks, feeds, calendars,
exports, emails, webhook payloads, search) is rendered for each club: each shows its own
copy and never the other club's. A new output belongs in OUTPUTS.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clubs.models import Club
from papers.models import Paper, Suggestion
from papers.polls import close_poll, open_poll
from papers.services import add_to_track, create_track, suggest_paper
from papers.votes import set_vote
from sessions.services import post_notes, questions_for, schedule_meeting, set_rsvp
from sessions.tasks import send_notes_posted, send_session_reminders

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ATTENTION = "1706.03762"
GPT3 = "2005.14165"
BLOG = "https://example.org/posts/a-blog-paper"

# What each club types. The private club's copy is the planted one.
TYPED = {
    "secret": {
        ATTENTION: ("Attention deal at buy-now.example", "Sam Secretive"),
        GPT3: ("Few shot offer buy-now.example", "Sue Secretive"),
        BLOG: ("Hidden blog paper", "Hank Hidden"),
    },
    "asia": {
        ATTENTION: ("Transformers, the public copy", "Pat Publicson"),
        GPT3: ("GPT-3, the public copy", "Paula Publicson"),
        BLOG: ("Blog paper, the public copy", "Bob Publicson"),
    },
}
OTHER = {"secret": "asia", "asia": "secret"}
SEARCHED = {"secret": "buy-now", "asia": "copy"}  # a word of the club's typed titles


@dataclass
class ClubWorld:
    club: Club
    suggestions: dict[str, Suggestion]
    poll: object  # the closed poll
    open_poll: object
    read_meeting: object
    next_meeting: object
    track: object
    webhook_texts: list[str]


def typed_strings(slug: str) -> list[str]:
    return [text for title, authors in TYPED[slug].values() for text in (title, authors)]


def build(club, organizer, member, capture) -> ClubWorld:
    club.webhook_url = "https://hooks.example.org/paperclub"
    club.save()
    typed = TYPED[club.slug]
    with capture(execute=True):
        suggestions = {
            link: suggest_paper(
                club=club,
                suggested_by=member,
                link=link,
                title=title,
                authors=authors,
                year=2017,
                pitch="Worth a read.",
            )
            for link, (title, authors) in typed.items()
        }
        organizer_ship = club.memberships.get(user=organizer)
        member_ship = club.memberships.get(user=member)
        track = create_track(club=club, title="Foundations")
        for suggestion in suggestions.values():
            add_to_track(track=track, suggestion=suggestion, summary="Read it.")
        poll = open_poll(club=club, opened_by=organizer, budget=2)
        set_vote(
            poll=poll, membership=organizer_ship, suggestion=suggestions[ATTENTION], approve=True
        )
        set_vote(poll=poll, membership=member_ship, suggestion=suggestions[ATTENTION], approve=True)
        set_vote(poll=poll, membership=member_ship, suggestion=suggestions[BLOG], approve=True)
        poll = close_poll(poll=poll, closed_by=organizer)  # Attention wins: session #1
        read_meeting = poll.meeting
        read_meeting.starts_at = timezone.now() - dt.timedelta(days=1)
        read_meeting.save()
        post_notes(
            meeting=read_meeting,
            author=organizer,
            bodies=["We read it."] * len(questions_for(read_meeting)),
            takeaways={suggestions[ATTENTION].pk: "Attention works."},
        )
        next_meeting = schedule_meeting(
            club=club,
            suggestions=[suggestions[BLOG]],
            starts_at=timezone.now() + dt.timedelta(hours=12),
        )
        set_rsvp(meeting=next_meeting, membership=organizer_ship, answer="going")
        live = open_poll(club=club, opened_by=organizer, budget=2, show_live_results=True)
        set_vote(poll=live, membership=member_ship, suggestion=suggestions[GPT3], approve=True)
    texts = [
        row.args_kwargs["args"][1]
        for row in DBTaskResult.objects.filter(task_path="sessions.tasks.post_webhook")
        if row.args_kwargs["args"][0] == club.pk
    ]
    return ClubWorld(
        club, suggestions, poll, live, read_meeting, next_meeting, track, webhook_texts=texts
    )


@pytest.fixture
def worlds(club, private_club, organizer, member, django_capture_on_commit_callbacks):
    # The private club first: the shared rows are made from what it typed.
    secret = build(private_club, organizer, member, django_capture_on_commit_callbacks)
    asia = build(club, organizer, member, django_capture_on_commit_callbacks)
    return {"secret": secret, "asia": asia}


def get(client, url: str, **extra) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def post(client, url: str, data: dict, **extra) -> str:
    response = client.post(url, data, **extra)
    assert response.status_code < 400, (url, response.status_code)
    return response.content.decode()


def feed_token(world: ClubWorld, user) -> str:
    return world.club.memberships.get(user=user).feed_token


def emails(world: ClubWorld) -> str:
    mail.outbox.clear()
    send_session_reminders.call(world.next_meeting.pk, world.next_meeting.starts_at.isoformat())
    send_notes_posted.call(world.read_meeting.pk)
    parts = []
    for message in mail.outbox:
        parts += [message.subject, message.body]
        parts += [
            content.decode() if isinstance(content, bytes) else content
            for _name, content, _type in message.attachments
        ]
    assert parts, "no email was sent"
    return "\n".join(parts)


def calendar_url(world: ClubWorld, user) -> str:
    if world.club.is_public:
        return reverse("meetings:calendar", args=[world.club.slug])
    return reverse("meetings:private_calendar", args=[world.club.slug, feed_token(world, user)])


def feed_url(world: ClubWorld, user) -> str:
    if world.club.is_public:
        return reverse("meetings:notes_feed", args=[world.club.slug])
    return reverse("meetings:private_notes_feed", args=[world.club.slug, feed_token(world, user)])


def unfold(ics: str) -> str:
    """iCalendar folds long lines and escapes commas; read it as text."""
    return re.sub(r"\r?\n[ \t]", "", ics).replace("\\,", ",").replace("\\;", ";")


# Each output, as a function of (client, world, user) returning the text it sends.
OUTPUTS: dict[str, Callable] = {
    "club page": lambda c, w, u: get(c, w.club.get_absolute_url()),
    "club page, more papers (htmx)": lambda c, w, u: get(
        c, w.club.get_absolute_url() + "?page=1", **HTMX
    ),
    "ballot row after a vote (htmx)": lambda c, w, u: post(
        c,
        reverse("papers:vote", args=[w.club.slug, w.open_poll.pk, w.suggestions[GPT3].pk]),
        {"approve": "1"},
        **HTMX,
    ),
    "search results (htmx)": lambda c, w, u: get(
        c, reverse("papers:search", args=[w.club.slug]) + f"?q={SEARCHED[w.club.slug]}", **HTMX
    ),
    "search page": lambda c, w, u: get(
        c, reverse("papers:search", args=[w.club.slug]) + f"?q={SEARCHED[w.club.slug]}"
    ),
    "poll result page": lambda c, w, u: get(c, w.poll.get_absolute_url()),
    "live poll page": lambda c, w, u: get(c, w.open_poll.get_absolute_url()),
    "session page (read)": lambda c, w, u: get(c, w.read_meeting.get_absolute_url()),
    "session page (next)": lambda c, w, u: get(c, w.next_meeting.get_absolute_url()),
    "timeline": lambda c, w, u: get(c, reverse("meetings:timeline", args=[w.club.slug])),
    "track page": lambda c, w, u: get(c, w.track.get_absolute_url()),
    "track entry page": lambda c, w, u: get(
        c,
        reverse(
            "papers:track_entry_edit",
            args=[w.club.slug, w.track.pk, w.track.entries.first().pk],
        ),
    ),
    "suggestion edit page": lambda c, w, u: get(
        c, reverse("papers:suggestion_edit", args=[w.club.slug, w.suggestions[BLOG].pk])
    ),
    "link check, arXiv paper (htmx)": lambda c, w, u: post(
        c, reverse("papers:suggest_check", args=[w.club.slug]), {"link": ATTENTION}, **HTMX
    ),
    "link check, web link (htmx)": lambda c, w, u: post(
        c, reverse("papers:suggest_check", args=[w.club.slug]), {"link": BLOG}, **HTMX
    ),
    "session form": lambda c, w, u: get(c, reverse("meetings:new", args=[w.club.slug])),
    "notes form": lambda c, w, u: get(
        c, reverse("meetings:notes", args=[w.club.slug, w.read_meeting.number])
    ),
    "Atom feed": lambda c, w, u: get(c, feed_url(w, u)),
    "iCalendar, club": lambda c, w, u: unfold(get(c, calendar_url(w, u))),
    "iCalendar, session": lambda c, w, u: unfold(
        get(c, reverse("meetings:meeting_calendar", args=[w.club.slug, w.next_meeting.number]))
    ),
    "Markdown export": lambda c, w, u: get(
        c, reverse("papers:export_markdown", args=[w.club.slug])
    ),
    "BibTeX export": lambda c, w, u: get(c, reverse("papers:export_bibtex", args=[w.club.slug])),
    "emails": lambda c, w, u: unfold(emails(w)),
    "webhook payloads": lambda c, w, u: "\n".join(w.webhook_texts),
}
# Outputs that show only some of the papers: the titles they must show.
SHOWS = {
    "ballot row after a vote (htmx)": [GPT3],
    "live poll page": [GPT3],
    "poll result page": [ATTENTION, BLOG],
    "session page (read)": [ATTENTION],
    "session page (next)": [BLOG],
    "iCalendar, session": [BLOG],
    "Atom feed": [ATTENTION],
    "suggestion edit page": [BLOG],
    "track entry page": [ATTENTION],
    # The club has the paper: the check says so, and names no title.
    "link check, arXiv paper (htmx)": [],
    "link check, web link (htmx)": [],
    "iCalendar, club": [ATTENTION, BLOG],
    "timeline": [ATTENTION, BLOG],
    "notes form": [ATTENTION],
    "session form": [GPT3],
    "club page, more papers (htmx)": [],
    "emails": [ATTENTION, BLOG],
    "webhook payloads": [ATTENTION, BLOG],
}


@pytest.mark.parametrize("slug", ["secret", "asia"])
def test_every_output_shows_the_clubs_own_copy_and_never_the_others(
    client, organizer, worlds, slug
):
    client.force_login(organizer)
    world = worlds[slug]
    leaks, missing = {}, {}
    for name, render in OUTPUTS.items():
        text = render(client, world, organizer)
        leaked = [s for s in typed_strings(OTHER[slug]) if s.casefold() in text.casefold()]
        if leaked:
            leaks[name] = leaked
        wanted = [TYPED[slug][link][0] for link in SHOWS.get(name, TYPED[slug])]
        if name.startswith("search"):
            wanted = [t for t in wanted if SEARCHED[slug].casefold() in t.casefold()]
        absent = [title for title in wanted if title not in text]
        if absent:
            missing[name] = absent
    assert leaks == {}
    assert missing == {}


def test_search_for_another_clubs_typed_words_finds_nothing(client, organizer, worlds):
    client.force_login(organizer)
    for slug, world in worlds.items():
        for word in ("buy-now", "Secretive", "Hidden", "Publicson", "public copy"):
            if any(word.casefold() in s.casefold() for s in typed_strings(slug)):
                continue
            url = reverse("papers:search", args=[world.club.slug]) + f"?q={word}"
            assert client.get(url, **HTMX).context["results"] == [], (slug, word)


def test_the_shared_rows_keep_nothing_typed_but_a_stand_in_title(worlds):
    for paper in Paper.objects.all():
        assert (paper.authors, paper.year, paper.fetched_at) == ("", None, None)
    assert Paper.objects.count() == 3
