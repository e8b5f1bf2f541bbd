"""Reminders, announcements, preferences, unsubscribe links and the club webhook."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import icalendar
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from clubs.models import Membership
from papers.polls import open_poll
from papers.services import suggest_paper
from papers.votes import set_vote
from sessions.models import Meeting, SentEmail
from sessions.services import post_notes, schedule_meeting, set_rsvp, update_meeting
from sessions.tasks import (
    post_webhook,
    send_notes_posted,
    send_poll_closing,
    send_poll_opened,
    send_session_reminders,
    unsubscribe_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(club, member):
    paper = suggest_paper(
        club=club, suggested_by=member, link="1706.03762", title="Attention", pitch="p"
    )
    return schedule_meeting(
        club=club, suggestions=[paper], starts_at=timezone.now() + dt.timedelta(days=3)
    )


def remind(meeting):
    return send_session_reminders.call(meeting.pk, meeting.starts_at.isoformat())


def run_queued_tasks() -> None:
    """Run what the worker would run now (the worker itself closes the test's connection)."""
    for row in DBTaskResult.objects.ready():
        import_string(row.task_path).call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        row.delete()


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


# Reminders


def test_scheduling_queues_a_reminder_a_day_before(
    club, member, django_capture_on_commit_callbacks
):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    starts_at = timezone.now() + dt.timedelta(days=5)

    with django_capture_on_commit_callbacks(execute=True):
        schedule_meeting(club=club, suggestions=[paper], starts_at=starts_at)

    queued = DBTaskResult.objects.get(task_path="sessions.tasks.send_session_reminders")
    assert queued.run_after == starts_at - dt.timedelta(hours=24)
    assert queued.args_kwargs["args"][1] == starts_at.isoformat()


def test_reminder_goes_to_members_who_answered_and_to_all_reminder_fans(
    club, meeting, member, organizer, django_user_model
):
    from clubs.services import join_club

    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="maybe")
    fan = join_club(club=club, user=django_user_model.objects.create_user(email="fan@example.com"))
    Membership.objects.filter(pk=fan.pk).update(reminders="all")
    join_club(club=club, user=django_user_model.objects.create_user(email="quiet@example.com"))

    assert remind(meeting) == 2

    assert recipients() == ["fan@example.com", "member@example.com"]
    message = mail.outbox[0]
    assert message.subject == "Tomorrow: Asia Paper Club #1: Attention"
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("session-1.ics", "text/calendar")
    assert len(list(icalendar.Calendar.from_ical(content).walk("VEVENT"))) == 1
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_reminder_is_never_sent_twice(club, meeting, member):
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")

    remind(meeting)
    remind(meeting)

    assert len(mail.outbox) == 1
    assert SentEmail.objects.count() == 1


def test_reminder_follows_a_rescheduled_session(
    club, meeting, member, django_capture_on_commit_callbacks
):
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")
    old_start = meeting.starts_at.isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        update_meeting(
            meeting=meeting,
            starts_at=meeting.starts_at + dt.timedelta(days=2),
            duration=meeting.duration,
            place_name="",
            place_url="",
            presenters=[],
        )

    assert send_session_reminders.call(meeting.pk, old_start) == 0  # the old one stands down
    queued = DBTaskResult.objects.filter(task_path="sessions.tasks.send_session_reminders").get()
    assert queued.run_after == meeting.starts_at - dt.timedelta(hours=24)
    assert send_session_reminders.call(meeting.pk, meeting.starts_at.isoformat()) == 1


def test_reminder_respects_preferences(club, meeting, member):
    membership = club.memberships.get(user=member)
    set_rsvp(meeting=meeting, membership=membership, answer="going")
    Membership.objects.filter(pk=membership.pk).update(reminders="none")

    assert remind(meeting) == 0


def test_no_reminder_for_a_cancelled_session(club, meeting, member):
    from sessions.services import cancel_meeting

    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")
    cancel_meeting(meeting=meeting)

    assert remind(meeting) == 0


# Polls and notes


def test_poll_emails_when_it_opens_and_to_non_voters_before_it_closes(
    club, organizer, member, django_capture_on_commit_callbacks
):
    paper = suggest_paper(club=club, suggested_by=member, link="2401.00001", title="P", pitch="p")
    with django_capture_on_commit_callbacks(execute=True):
        poll = open_poll(
            club=club, opened_by=organizer, closes_at=timezone.now() + dt.timedelta(days=3)
        )

    assert send_poll_opened.call(poll.pk) == 2
    closing = DBTaskResult.objects.get(task_path="sessions.tasks.send_poll_closing")
    assert closing.run_after == poll.closes_at - dt.timedelta(hours=24)
    set_vote(
        poll=poll, membership=club.memberships.get(user=member), suggestion=paper, approve=True
    )
    mail.outbox.clear()

    assert send_poll_closing.call(poll.pk, poll.closes_at.isoformat()) == 1
    assert recipients() == ["organizer@example.com"]


def test_notes_email_once_to_members_who_want_it(
    club, meeting, organizer, member, django_capture_on_commit_callbacks, start_session
):
    start_session(meeting)
    Membership.objects.filter(club=club, user=organizer).update(notes_emails=False)

    with django_capture_on_commit_callbacks(execute=True):
        post_notes(meeting=meeting, author=organizer, bodies=["a", "", ""], takeaways={})
    run_queued_tasks()
    run_queued_tasks()

    assert recipients() == ["member@example.com"]
    assert send_notes_posted.call(meeting.pk) == 0


# Preferences and unsubscribe


def test_member_changes_email_preferences(member_client, club, member):
    response = member_client.post(
        reverse("clubs:notifications", args=[club.slug]),
        {"reminders": "all", "notes_emails": "on"},
    )

    membership = club.memberships.get(user=member)
    assert response.status_code == 302
    assert (membership.reminders, membership.poll_emails, membership.notes_emails) == (
        "all",
        False,
        True,
    )


def test_one_click_unsubscribe_without_signing_in(client, club, member):
    membership = club.memberships.get(user=member)
    url = reverse("unsubscribe", args=[unsubscribe_token(membership, "polls")])

    page = client.get(url)
    done = client.post(url)

    assert "Stop these emails?" in page.content.decode()
    assert done.status_code == 200
    membership.refresh_from_db()
    assert (membership.poll_emails, membership.notes_emails) == (False, True)


def test_forged_unsubscribe_token_changes_nothing(client, club, member):
    token = unsubscribe_token(club.memberships.get(user=member), "polls")

    response = client.post(reverse("unsubscribe", args=[token[:-3] + "abc"]))

    assert response.status_code == 404
    assert club.memberships.get(user=member).poll_emails is True


def test_every_email_carries_its_unsubscribe_link(club, meeting, member, client):
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")
    remind(meeting)

    link = mail.outbox[0].body.rsplit("emails from Asia Paper Club: ", 1)[1].strip()
    client.post(link.removeprefix("http://127.0.0.1:8000"))

    assert club.memberships.get(user=member).reminders == "none"


# Webhook


class Hook(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Hook.fail_first > 0:
            Hook.fail_first -= 1
            self.send_response(500)
        else:
            Hook.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_server(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    Hook.received, Hook.fail_first = [], 0
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_session_changes_are_posted_to_the_club_webhook(
    club, member, hook_server, django_capture_on_commit_callbacks
):
    club.webhook_url = hook_server
    club.save()
    paper = suggest_paper(
        club=club, suggested_by=member, link="2401.00001", title="Mamba", pitch="p"
    )

    with django_capture_on_commit_callbacks(execute=True):
        schedule_meeting(club=club, suggestions=[paper])
    run_queued_tasks()

    (message,) = Hook.received
    assert message["content"] == message["text"]
    assert message["content"].startswith("Session scheduled: #1 Mamba")


def test_failed_webhook_is_retried_later_and_logged(club, hook_server, caplog):
    club.webhook_url = hook_server
    club.save()
    Hook.fail_first = 1

    assert post_webhook.call(club.pk, "hello") is False

    retry = DBTaskResult.objects.get(task_path="sessions.tasks.post_webhook")
    assert retry.args_kwargs["args"] == [club.pk, "hello", 2]
    assert retry.run_after > timezone.now()
    assert "retrying" in caplog.text
    assert post_webhook.call(club.pk, "hello", 2) is True
    assert Hook.received == [
        {"content": "hello", "allowed_mentions": {"parse": []}, "text": "hello", "mrkdwn": False}
    ]


def test_unreachable_webhook_gives_up_quietly_after_the_last_attempt(club, caplog, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    club.webhook_url = "http://127.0.0.1:9/nothing-listens-here"
    club.save()

    assert post_webhook.call(club.pk, "hello", 4) is False

    assert "giving up" in caplog.text
    assert not DBTaskResult.objects.exists()


def test_webhook_to_a_private_address_is_not_sent_by_default(club, hook_server, settings, caplog):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    club.webhook_url = hook_server
    club.save()

    assert post_webhook.call(club.pk, "hello") is False

    assert Hook.received == []
    assert "non-public address" in caplog.text


# Found in review


def test_no_reminder_once_the_session_has_started(club, meeting, member):
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    meeting.refresh_from_db()

    assert remind(meeting) == 0


def test_members_who_said_no_get_no_reminder_even_when_they_want_all(club, meeting, member):
    membership = club.memberships.get(user=member)
    Membership.objects.filter(pk=membership.pk).update(reminders="all")
    set_rsvp(meeting=meeting, membership=membership, answer="no")

    remind(meeting)

    assert "member@example.com" not in recipients()


def test_one_moment_spelled_in_two_offsets_is_one_reminder(club, meeting, member):
    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")

    send_session_reminders.call(meeting.pk, meeting.starts_at.isoformat())
    in_singapore = meeting.starts_at.astimezone(club.tz).isoformat()
    send_session_reminders.call(meeting.pk, in_singapore)

    assert len(mail.outbox) == 1


def test_emails_that_fail_are_sent_by_a_later_attempt(club, meeting, member, monkeypatch, caplog):
    from django.core.mail import EmailMessage

    set_rsvp(meeting=meeting, membership=club.memberships.get(user=member), answer="going")
    real_send = EmailMessage.send

    def broken(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMessage, "send", broken)
    assert remind(meeting) == 0
    retry = DBTaskResult.objects.get(task_path="sessions.tasks.send_session_reminders")
    assert retry.args_kwargs["args"][-1] == 2
    assert retry.run_after > timezone.now()
    assert not SentEmail.objects.exists()

    monkeypatch.setattr(EmailMessage, "send", real_send)
    assert send_session_reminders.call(*retry.args_kwargs["args"]) == 1
    assert recipients() == ["member@example.com"]


def test_notes_feed_survives_control_characters(client, club, meeting, organizer, start_session):
    start_session(meeting)
    import feedparser

    post_notes(
        meeting=meeting, author=organizer, bodies=["pasted\x0cfrom a PDF\x00", "", ""], takeaways={}
    )

    response = client.get(reverse("meetings:notes_feed", args=[club.slug]))

    assert response.status_code == 200
    assert not feedparser.parse(response.content).bozo
    assert "pastedfrom a PDF" in response.content.decode()


class Redirecting(BaseHTTPRequestHandler):
    hits: list = []

    def do_POST(self):
        Redirecting.hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.2:1/internal")
        self.end_headers()

    do_GET = do_POST

    def log_message(self, *args):
        pass


def test_webhook_does_not_follow_redirects(club, settings, caplog):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    Redirecting.hits = []
    server = HTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    club.webhook_url = f"http://127.0.0.1:{server.server_port}/hook"
    club.save()
    try:
        assert post_webhook.call(club.pk, "hello") is False
    finally:
        server.shutdown()
        server.server_close()

    assert Redirecting.hits == ["/hook"]
    assert "redirect refused" in caplog.text
