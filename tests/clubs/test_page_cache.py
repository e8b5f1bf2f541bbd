"""The club page's cached parts (clubs/page.py, paperclub/cache.py) never show a state
older than the database: after each write, the page served with a warm cache is the page
built with an empty one, and the write's effect is on it."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clubs.forms import ClubForm
from papers.polls import close_poll, open_poll, override_winner
from papers.services import suggest_paper, withdraw_suggestion
from papers.votes import set_vote
from sessions.models import Meeting
from sessions.services import post_notes, questions_for, schedule_meeting, set_rsvp

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


class Club:
    """A club with a poll showing live counts, papers, a held and a coming session."""

    def __init__(self, club, organizer, member):
        self.club, self.organizer, self.member = club, organizer, member
        self.membership = club.memberships.get(user=member)
        club.rules = "We read **one paper** a week."
        club.save()
        self.papers = [
            suggest_paper(
                club=club, suggested_by=member, link=f"2401.0000{i}", title=f"Paper {i}", pitch="p"
            )
            for i in range(4)
        ]
        self.poll = open_poll(club=club, opened_by=organizer, budget=3, show_live_results=True)
        set_vote(
            poll=self.poll, membership=self.membership, suggestion=self.papers[0], approve=True
        )
        self.held = Meeting.objects.create(
            club=club, number=1, starts_at=timezone.now() - dt.timedelta(days=1)
        )
        self.coming = schedule_meeting(
            club=club, suggestions=[self.papers[3]], starts_at=timezone.now() + dt.timedelta(days=3)
        )


def _vote(w):
    set_vote(poll=w.poll, membership=w.membership, suggestion=w.papers[1], approve=True)


def _unvote(w):
    set_vote(poll=w.poll, membership=w.membership, suggestion=w.papers[0], approve=False)


def _suggest(w):
    suggest_paper(club=w.club, suggested_by=w.member, link="2402.00009", title="New", pitch="p")


def _withdraw(w):
    withdraw_suggestion(suggestion=w.papers[1])


def _close(w):
    close_poll(poll=w.poll, closed_by=w.organizer)


def _override(w):
    poll = close_poll(poll=w.poll, closed_by=w.organizer)
    cache.clear()  # the page is warmed again below, after the close, before the override
    return lambda: override_winner(
        poll=poll, suggestion=w.papers[2], overridden_by=w.organizer, reason="We read it already"
    )


def _rename(w):
    w.club.name = "Renamed Club"
    w.club.save()


def _settings(w):
    data = {
        **ClubForm(instance=w.club).initial,
        "rules": "Bring **questions**.",
        "place_name": "Room 101",
        "meeting_time": "19:30",
    }
    form = ClubForm(data, instance=w.club)
    assert form.is_valid(), form.errors
    form.save()


def _notes(w):
    post_notes(
        meeting=w.held,
        author=w.organizer,
        bodies=["Good *talk*." for _ in questions_for(w.held)],
        takeaways={},
    )


def _rsvp(w):
    set_rsvp(meeting=w.coming, membership=w.membership, answer="going")


# write: (what it does, whether the member's club page shows a difference afterwards)
WRITES = {
    "vote": (_vote, True),
    "unvote": (_unvote, True),
    "suggest": (_suggest, True),
    "withdraw": (_withdraw, True),
    "close": (_close, True),
    "override": (_override, True),
    "rename": (_rename, True),
    "settings change": (_settings, True),
    "notes": (_notes, True),  # the held session now lists its paper-less notes as held
    "rsvp": (_rsvp, False),  # the club page does not show answers; the session page does
}


def page(client, club) -> str:
    return CSRF.sub(r"\1…", client.get(reverse("clubs:detail", args=[club.slug])).content.decode())


@pytest.mark.parametrize("viewer", ["member", "organizer", "anonymous"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_each_write_shows_on_the_cached_club_page(client, club, organizer, member, viewer, write):
    w = Club(club, organizer, member)
    if viewer != "anonymous":
        client.force_login(member if viewer == "member" else organizer)
    action, shows = WRITES[write]
    prepared = action(w) if write == "override" else None
    before = page(client, club)
    assert page(client, club) == before  # served from the cache now

    (prepared or (lambda: action(w)))()
    after = page(client, club)
    cache.clear()
    fresh = page(client, club)

    assert after == fresh
    if shows and viewer == "member":
        assert after != before


def test_the_warm_page_is_the_page_built_without_the_cache(member_client, club, organizer, member):
    Club(club, organizer, member)

    cold = page(member_client, club)
    warm = page(member_client, club)

    assert warm == cold


def test_rows_carry_each_viewers_own_marks(client, club, organizer, member):
    w = Club(club, organizer, member)
    page(client, club)  # anonymous first: the rows are cached without marks
    client.force_login(member)

    body = page(client, club)

    assert f'<li class="suggestion voted" id="suggestion-{w.papers[0].pk}"' in body
    assert f'<li class="suggestion" id="suggestion-{w.papers[1].pk}"' in body
    assert "2 votes left" in body


def test_a_changed_display_name_shows_on_the_cached_rows(member_client, club, organizer, member):
    Club(club, organizer, member)
    page(member_client, club)

    member_client.post(
        reverse("profile"), {"display_name": "Maxine", "time_zone": member.time_zone}
    )

    assert "Suggested by Maxine" in page(member_client, club)


def timeline(client, club) -> str:
    body = client.get(reverse("meetings:timeline", args=[club.slug])).content.decode()
    return CSRF.sub(r"\1…", body)


@pytest.mark.parametrize("write", sorted(WRITES))
def test_each_write_shows_on_the_cached_timeline(member_client, club, organizer, member, write):
    w = Club(club, organizer, member)
    action, _ = WRITES[write]
    prepared = action(w) if write == "override" else None
    timeline(member_client, club)

    (prepared or (lambda: action(w)))()
    after = timeline(member_client, club)
    cache.clear()

    assert after == timeline(member_client, club)


def _rename_member(member, name: str) -> None:
    """The member changes their display name on their profile page, signed in themselves."""
    own = Client()
    own.force_login(member)
    own.post(reverse("profile"), {"display_name": name, "time_zone": member.time_zone})


def _retitle(suggestion, title: str) -> None:
    from papers import catalog
    from papers.services import edit_suggestion

    edit_suggestion(
        suggestion=suggestion,
        pitch="p",
        details=catalog.ClubDetails(title=title, authors="", year=None),
    )


def session_page(client, meeting) -> str:
    body = client.get(meeting.get_absolute_url()).content.decode()
    return CSRF.sub(r"\1…", body)


@pytest.mark.parametrize("viewer", ["member", "organizer"])
@pytest.mark.parametrize("write", ["notes", "draft", "materials", "rsvp", "rename"])
def test_each_write_shows_on_the_cached_session_page(
    client, club, organizer, member, viewer, write
):
    from sessions.services import save_notes_draft, set_materials

    w = Club(club, organizer, member)
    client.force_login(member if viewer == "member" else organizer)
    actions = {
        "notes": lambda: _notes(w),
        "draft": lambda: save_notes_draft(
            meeting=w.held,
            author=w.organizer,
            bodies=["A *draft*." for _ in questions_for(w.held)],
            takeaways={},
        ),
        "materials": lambda: set_materials(
            meeting=w.held,
            links=[("slides", "https://example.org/slides", "Slides")],
            recorded=False,
        ),
        "rsvp": lambda: set_rsvp(meeting=w.coming, membership=w.membership, answer="going"),
        "rename": lambda: _rename(w),
    }
    meeting = w.coming if write == "rsvp" else w.held
    before = session_page(client, meeting)

    actions[write]()
    after = session_page(client, meeting)
    cache.clear()

    assert after == session_page(client, meeting)
    if write != "draft" or viewer == "organizer":
        assert after != before


@pytest.mark.parametrize("viewer", ["member", "organizer"])
@pytest.mark.parametrize("change", ["edit", "presenters", "presenter renamed"])
def test_the_cached_session_page_follows_its_papers_and_presenters(
    client, club, organizer, member, viewer, change
):
    """The session page keeps its papers and presenters in the cache: a paper's new title,
    new presenters and a presenter's new name show at once, and a member made presenter
    may write the notes at once."""
    from sessions.services import update_meeting

    w = Club(club, organizer, member)
    meeting = w.coming

    def present(presenters):
        update_meeting(
            meeting=meeting,
            starts_at=meeting.starts_at,
            duration=dt.timedelta(minutes=meeting.duration_minutes),
            place_name="",
            place_url="",
            presenters=presenters,
        )

    if change == "presenter renamed":
        present([member])
    client.force_login(member if viewer == "member" else organizer)
    before = session_page(client, meeting)

    if change == "edit":
        _retitle(w.papers[3], "A better title")
    elif change == "presenters":
        present([member])
    else:
        _rename_member(member, "Maxine")
    after = session_page(client, meeting)
    cache.clear()

    assert after == session_page(client, meeting)
    assert after != before
    if change == "edit":
        assert "A better title" in after and "Paper 3" not in after
    if change == "presenters":
        assert "<dt>Presented by</dt><dd>Max Member</dd>" in after
        assert "Write the notes" in after  # organizers always may; the member now presents
        assert ("Write the notes" in before) == (viewer == "organizer")
    if change == "presenter renamed":
        assert "<dt>Presented by</dt><dd>Maxine</dd>" in after


@pytest.mark.parametrize("change", ["rename", "leave", "attendance"])
def test_who_is_coming_follows_the_members_on_the_cached_session_page(
    client, club, organizer, member, change
):
    """The session page keeps its answers in the cache: a coming member's new name, their
    leaving the club and the attendance the organizer records show at once."""
    from clubs.services import leave_club
    from sessions.services import mark_attendance

    w = Club(club, organizer, member)
    set_rsvp(meeting=w.coming, membership=w.membership, answer="going")
    client.force_login(organizer)
    meeting = w.held if change == "attendance" else w.coming
    before = session_page(client, meeting)

    if change == "rename":
        _rename_member(member, "Maxine")
    elif change == "leave":
        leave_club(membership=w.membership)
    else:
        mark_attendance(meeting=w.held, attended_memberships=[w.membership])
    after = session_page(client, meeting)
    cache.clear()

    assert after == session_page(client, meeting)
    assert after != before
    if change == "rename":
        assert "Coming: Maxine" in after
    if change == "leave":
        assert "Coming:" not in after


def poll_page(client, poll) -> str:
    body = client.get(reverse("papers:poll", args=[poll.club.slug, poll.pk])).content.decode()
    return CSRF.sub(r"\1…", body)


@pytest.mark.parametrize("viewer", ["member", "organizer"])
@pytest.mark.parametrize("write", ["override", "edit", "move", "cancel"])
def test_each_write_shows_on_the_cached_poll_result(client, club, organizer, member, viewer, write):
    """A closed poll's result is cached for every reader: an override, an edit of a paper
    it counted and a change to the session it scheduled each show at once."""
    from sessions.services import cancel_meeting, update_meeting

    w = Club(club, organizer, member)
    poll = close_poll(poll=w.poll, closed_by=organizer)
    meeting = poll.meeting
    client.force_login(member if viewer == "member" else organizer)
    before = poll_page(client, poll)
    assert poll_page(client, poll) == before  # served from the cache now

    if write == "override":
        override_winner(
            poll=poll, suggestion=w.papers[2], overridden_by=organizer, reason="Read it already"
        )
    elif write == "edit":
        _retitle(w.papers[1], "A better title")
    elif write == "move":
        update_meeting(
            meeting=meeting,
            starts_at=meeting.starts_at + dt.timedelta(days=2),
            duration=dt.timedelta(minutes=meeting.duration_minutes),
            place_name="",
            place_url="",
            presenters=[],
        )
    else:
        cancel_meeting(meeting=meeting)
    after = poll_page(client, poll)
    cache.clear()

    assert after == poll_page(client, poll)
    if write != "cancel":  # the result still names the session, cancelled or not
        assert after != before
