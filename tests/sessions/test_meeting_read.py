"""sessions.access.meeting_for_reader: the session page's one-query read of the club, the
viewer's membership and the session. It reads with fixed SQL, so these tests hold it to
what the ORM path (`_meeting`) gives, and to the reader rule for each role."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from clubs.access import ClubAccess
from papers.services import suggest_paper
from sessions.access import _meeting, meeting_for_reader
from sessions.services import schedule_meeting


def as_user(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def a_session(club, organizer):
    paper = suggest_paper(
        club=club, suggested_by=organizer, link="1706.03762", title="A", pitch="p"
    )
    return schedule_meeting(club=club, suggestions=[paper])


@pytest.fixture
def sessions(club, organizer):
    paper = suggest_paper(
        club=club, suggested_by=organizer, link="1706.03762", title="Attention", pitch="p"
    )
    other = suggest_paper(
        club=club, suggested_by=organizer, link="2305.18290", title="DPO", pitch="p"
    )
    soon = timezone.now() + dt.timedelta(days=1)
    first = schedule_meeting(club=club, suggestions=[paper], starts_at=soon)
    second = schedule_meeting(club=club, suggestions=[other], starts_at=soon + dt.timedelta(days=7))
    # The first started an hour ago, the second 10 minutes ago: the first is not the latest.
    first.__class__.objects.filter(pk=first.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=1)
    )
    second.__class__.objects.filter(pk=second.pk).update(
        starts_at=timezone.now() - dt.timedelta(minutes=10)
    )
    return first, second


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["organizer", "member", "outsider", "anonymous"])
def test_the_session_reads_as_the_orm_reads_it(request, role, club, sessions):
    user = AnonymousUser() if role == "anonymous" else request.getfixturevalue(role)
    for meeting in sessions:
        access, got = meeting_for_reader(as_user(user), club.slug, meeting.number)
        expected = _meeting(ClubAccess(club=club, membership=None), meeting.number)

        assert fields(got) == fields(expected)
        assert isinstance(got.starts_at, dt.datetime) and got.starts_at.tzinfo is not None
        assert got.later_started == expected.later_started
        assert [s.pk for s in got.suggestions.all()] == [s.pk for s in expected.suggestions.all()]
        assert access.is_member == (role in ("organizer", "member"))
        assert access.is_organizer == (role == "organizer")
    assert [meeting_for_reader(as_user(user), club.slug, m.number)[1].later_started
            for m in sessions] == [True, False]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["outsider", "anonymous"])
def test_a_private_clubs_session_does_not_exist_for_someone_outside_it(
    request, role, private_club, organizer
):
    meeting = a_session(private_club, organizer)
    user = AnonymousUser() if role == "anonymous" else request.getfixturevalue(role)

    with pytest.raises(Http404):
        meeting_for_reader(as_user(user), private_club.slug, meeting.number)


@pytest.mark.django_db
def test_a_member_reads_a_private_clubs_session(private_club, member, organizer):
    meeting = a_session(private_club, organizer)

    access, got = meeting_for_reader(as_user(member), private_club.slug, meeting.number)

    assert access.is_member and got.pk == meeting.pk


@pytest.mark.django_db
@pytest.mark.parametrize("number", [0, -1, 999, 2**40])
def test_a_session_that_is_not_there_is_not_found(club, member, number):
    with pytest.raises(Http404):
        meeting_for_reader(as_user(member), club.slug, number)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["organizer", "member", "outsider", "anonymous"])
def test_the_read_knows_whether_the_viewer_presents(request, role, club, sessions, member):
    """Only the member made presenter is one; the read's answer is the presenters' list's."""
    user = AnonymousUser() if role == "anonymous" else request.getfixturevalue(role)
    presented = sessions[0]
    presented.presenters.set([member])

    got = [meeting_for_reader(as_user(user), club.slug, m.number)[1] for m in sessions]

    assert [m.viewer_presents for m in got] == [role == "member", False]
    assert [m.viewer_presents for m in got] == [m.presented_by(user) for m in got]
