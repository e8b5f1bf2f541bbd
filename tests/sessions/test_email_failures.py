"""Email headers are one line whatever the data holds; a send that fails reaches the
club's organizers on the emails page, not only the log."""

import datetime as dt

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from clubs.models import Club
from papers.services import suggest_paper
from sessions.models import EmailFailure
from sessions.services import schedule_meeting, set_rsvp
from sessions.tasks import send_poll_opened, send_session_reminders

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(club, member):
    paper = suggest_paper(
        club=club, suggested_by=member, link="1706.03762", title="Attention", pitch="p"
    )
    meeting = schedule_meeting(
        club=club, suggestions=[paper], starts_at=timezone.now() + dt.timedelta(days=3)
    )
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")
    return meeting


def test_a_club_name_with_a_line_break_from_before_the_rule_still_emails(club, meeting):
    # Rows written before the input rule: the update skips the services' cleaning.
    Club.objects.filter(pk=club.pk).update(name="Asia\r\nPaper Club")

    sent = send_session_reminders.call(meeting.pk, meeting.starts_at.isoformat())

    assert sent == 1
    assert mail.outbox[0].subject == "Tomorrow: Asia Paper Club #1: Attention"
    assert not EmailFailure.objects.exists()


def test_a_form_cannot_put_a_line_break_in_a_club_name(organizer_client, club):
    response = organizer_client.post(
        reverse("clubs:edit", args=[club.slug]),
        {
            "name": "Asia\r\nBcc: everyone@example.com",
            "slug": club.slug,
            "time_zone": "UTC",
            "meeting_weekday": "2",
            "meeting_time": "18:00",
            "meeting_duration": "60",
            "discussion_questions": "Big Idea",
            "visibility": "public",
            "joining": "open",
        },
    )

    assert response.status_code == 302
    club.refresh_from_db()
    assert club.name == "Asia Bcc: everyone@example.com"


@pytest.fixture
def failed_send(club, meeting, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMessage, "send", broken)
    send_session_reminders.call(meeting.pk, meeting.starts_at.isoformat())
    return EmailFailure.objects.get()


def test_a_failed_send_is_recorded_for_the_club(club, failed_send):
    assert (failed_send.club, failed_send.failed) == (club, 1)
    assert failed_send.subject == "Tomorrow: Asia Paper Club #1: Attention"
    assert failed_send.error == "ConnectionRefusedError: mail server down"


def test_organizers_see_failed_sends_on_the_emails_page(organizer_client, club, failed_send):
    response = organizer_client.get(reverse("clubs:notifications", args=[club.slug]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Emails that could not be sent" in page
    assert "Tomorrow: Asia Paper Club #1: Attention" in page
    assert "mail server down" in page


def test_members_do_not_see_failed_sends(member_client, club, failed_send):
    response = member_client.get(reverse("clubs:notifications", args=[club.slug]))

    assert response.status_code == 200
    assert "could not be sent" not in response.content.decode()
    assert "mail server down" not in response.content.decode()


def test_outsiders_do_not_reach_the_emails_page(outsider_client, club, failed_send):
    response = outsider_client.get(reverse("clubs:notifications", args=[club.slug]))

    assert response.status_code == 403
    assert b"mail server down" not in response.content


def test_failures_of_another_club_are_not_shown(organizer_client, organizer, club, failed_send):
    from clubs.services import create_club

    other = create_club(creator=organizer, name="Other", slug="other")

    response = organizer_client.get(reverse("clubs:notifications", args=[other.slug]))

    assert "mail server down" not in response.content.decode()


def test_a_send_that_works_records_no_failure(club):
    from papers.polls import open_poll

    poll = open_poll(club=club, opened_by=club.memberships.first().user)

    assert send_poll_opened.call(poll.pk) == 2
    assert not EmailFailure.objects.exists()
